/** A control's own copy of a value whose source catches up late. */
import { useCallback, useEffect, useRef, useState } from "react";

/**
 * The value a control shows, and its change handler.
 *
 * URL state changes in a transition (React Router wraps its navigations), so a controlled input
 * bound straight to it shows the old value until the transition renders — a slider moved by
 * several key presses in quick succession steps from the stale value and loses presses. The
 * draft shows each change at once and still follows the source when it changes elsewhere (a new
 * smoothing kind, back navigation); the values this control sent itself are not echoed back.
 */
export function useDraft<T>(value: T, commit: (next: T) => void): [T, (next: T) => void] {
  const [draft, setDraft] = useState(value);
  const sent = useRef<T[]>([]);
  useEffect(() => {
    const at = sent.current.indexOf(value);
    if (at >= 0) {
      sent.current.splice(0, at + 1);
      return;
    }
    sent.current = [];
    setDraft(value);
  }, [value]);
  const change = useCallback(
    (next: T) => {
      sent.current.push(next);
      setDraft(next);
      commit(next);
    },
    [commit],
  );
  return [draft, change];
}
