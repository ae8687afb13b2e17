/**
 * A plain textarea for a sweep's YAML with a gutter of line numbers and, beside each line that
 * holds an offending key, the server's message. No editor library: a sweep configuration is a few
 * dozen lines, and a textarea keeps typing, undo, IME input (中文) and screen readers as the
 * browser does them. Lines do not wrap, so line n sits at n × line height.
 */
import { useMemo, useRef, useState } from "react";
import type { SweepConfigError } from "../../api/types";
import { keyLines, lineOfKey } from "../../lib/yamlKeys";

/** px; the same as `.yaml-editor` line-height in styles.css. */
const LINE_HEIGHT = 20;

export interface PlacedError extends SweepConfigError {
  line: number | null;
}

/** The errors with the line each belongs on (null: not placed, listed under the editor only). */
export function placeErrors(text: string, errors: SweepConfigError[]): PlacedError[] {
  const lines = keyLines(text);
  return errors.map((e) => ({ ...e, line: lineOfKey(lines, e.key, e.message) }));
}

interface Props {
  id: string;
  value: string;
  onChange: (text: string) => void;
  errors: PlacedError[];
  /** The id of the element that lists the errors (the textarea's description). */
  describedBy: string;
  label: string;
}

export function YamlEditor({ id, value, onChange, errors, describedBy, label }: Props) {
  const [scrollTop, setScrollTop] = useState(0);
  const area = useRef<HTMLTextAreaElement>(null);
  const lineCount = useMemo(() => value.split("\n").length, [value]);
  const byLine = useMemo(() => {
    const map = new Map<number, PlacedError[]>();
    for (const e of errors) if (e.line !== null && e.line <= lineCount) map.set(e.line, [...(map.get(e.line) ?? []), e]);
    return map;
  }, [errors, lineCount]);
  const rows = Math.max(18, Math.min(40, lineCount + 2));
  const offset = { transform: `translateY(${-scrollTop}px)` };
  return (
    <div className="yaml-editor" style={{ height: rows * LINE_HEIGHT + 12 }}>
      <div className="yaml-gutter" aria-hidden="true">
        <div style={offset}>
          {Array.from({ length: lineCount }, (_, i) => (
            <div key={i} className={byLine.has(i + 1) ? "bad" : undefined}>
              {i + 1}
            </div>
          ))}
        </div>
      </div>
      <textarea
        ref={area}
        id={id}
        value={value}
        wrap="off"
        spellCheck={false}
        autoCapitalize="off"
        autoComplete="off"
        aria-label={label}
        aria-describedby={describedBy}
        aria-invalid={errors.length > 0}
        onChange={(e) => onChange(e.target.value)}
        onScroll={(e) => setScrollTop(e.currentTarget.scrollTop)}
      />
      {/* The messages beside their lines; the list under the editor says the same to screen readers. */}
      <div className="yaml-notes" aria-hidden="true">
        <div style={offset}>
          {[...byLine.entries()].map(([line, list]) => (
            <div key={line} className="yaml-note" style={{ top: (line - 1) * LINE_HEIGHT }} data-testid="yaml-note" data-line={line} title={list.map((e) => `${e.key}: ${e.message}`).join("\n")}>
              ⚠ {list.map((e) => e.message).join("; ")}
            </div>
          ))}
        </div>
      </div>
    </div>
  );
}
