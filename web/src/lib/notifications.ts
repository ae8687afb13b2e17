/**
 * The bell's data: the signed-in user's notifications, newest first, and the live stream that says
 * new ones arrived (`GET /notifications/events`: `notification` `{"ids"}`). The stream carries ids
 * only and is not replayed, so on each event, and after a reconnect, the bell refetches the count
 * (and the list, when it is open).
 */
import { useEffect, useRef } from "react";
import { notificationEvents } from "../api/endpoints";
import type { Notification, RunRef } from "../api/types";

/** `older` (a page fetched with `before`) after `shown`, each notification once, newest first. */
export function appendOlder(shown: readonly Notification[], older: readonly Notification[]): Notification[] {
  const seen = new Set(shown.map((n) => n.id));
  return [...shown, ...older.filter((n) => !seen.has(n.id))].sort((a, b) => b.id - a.id);
}

/** `list` with `ids` (null: every one) marked read. */
export function markedRead(list: readonly Notification[], ids: readonly number[] | null): Notification[] {
  const which = ids === null ? null : new Set(ids);
  return list.map((n) => (n.read || (which !== null && !which.has(n.id)) ? n : { ...n, read: true }));
}

/** The run page a notification leads to, or null when it names no run. */
export function runPath(run: Notification["run"]): string | null {
  if (!run) return null;
  const ref: RunRef = run;
  return `/${[ref.entity, ref.project, "runs", ref.run_id].map(encodeURIComponent).join("/")}`;
}

/** The badge's text: the count, capped so it stays small. */
export function badgeText(unread: number): string {
  return unread > 99 ? "99+" : String(unread);
}

/**
 * Call `onChange` when new notifications arrive or the stream (re)connects (anything may have
 * arrived meanwhile); events that come together are handed over once, after `delay` ms.
 */
export function useNotificationStream(onChange: () => void, delay = 200): void {
  const handler = useRef(onChange);
  handler.current = onChange;
  useEffect(() => {
    const source = new EventSource(`/api/v1${notificationEvents()}`, { withCredentials: true });
    let timer: ReturnType<typeof setTimeout> | null = null;
    const changed = () => {
      timer ??= setTimeout(() => {
        timer = null;
        handler.current();
      }, delay);
    };
    // Each `ready` (the first too) means the subscription is in place: what arrived before it is
    // fetched then, what arrives after is announced, so nothing falls between the two.
    source.addEventListener("ready", changed);
    source.addEventListener("notification", changed);
    // The session ended: the app's next request finds out and shows the sign-in page.
    source.addEventListener("denied", () => source.close());
    return () => {
      source.close();
      if (timer !== null) clearTimeout(timer);
    };
  }, [delay]);
}
