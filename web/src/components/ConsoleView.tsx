/**
 * The console log: the last page first, newer lines as they arrive, older pages when scrolled to
 * the top; at most `MAX_HELD_LINES` lines are held (lib/useConsoleLines.ts), so a run with millions
 * of lines never loads them all and a page following a run for days stays the same size. Drawn
 * virtualised (only the lines in view exist in the DOM), ANSI colours rendered as styled spans
 * (never as HTML), searchable (in the lines held), and following new output.
 */
import { useVirtualizer } from "@tanstack/react-virtual";
import Anser from "anser";
import { useEffect, useId, useLayoutEffect, useMemo, useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import type { ConsoleLine, RunRef } from "../api/types";
import { readableOn, type Rgb } from "../lib/colors";
import { useConsoleLines } from "../lib/useConsoleLines";

const LINE_HEIGHT = 18;
/** Rows from the top or bottom edge at which the next page is fetched. */
const EDGE_ROWS = 5;

/** The console's text and background colours, as in styles.css (`.console-scroll`, `.console-line.stderr`). */
const CONSOLE_FG: Rgb = [230, 237, 243];
const STDOUT_BG: Rgb = [13, 17, 23];
const STDERR_BG: Rgb = [37, 23, 28];

/** Anser's "r, g, b". */
function rgb(text: string): Rgb {
  const [r = 0, g = 0, b = 0] = text.split(",").map(Number);
  return [r, g, b];
}
const css = (color: Rgb): string => `rgb(${color.join(", ")})`;

/** A line's ANSI colours, each lightened or darkened where needed to stay readable on its background. */
function AnsiLine({ text, stderr }: { text: string; stderr: boolean }) {
  const parts = useMemo(() => Anser.ansiToJson(text, { remove_empty: true, use_classes: false }), [text]);
  const lineBg = stderr ? STDERR_BG : STDOUT_BG;
  return (
    <>
      {parts.map((p, i) => (
        <span
          key={i}
          style={{
            color: p.fg || p.bg ? css(readableOn(p.fg ? rgb(p.fg) : CONSOLE_FG, p.bg ? rgb(p.bg) : lineBg)) : undefined,
            backgroundColor: p.bg ? `rgb(${p.bg})` : undefined,
            fontWeight: p.decorations.includes("bold") ? 600 : undefined,
            fontStyle: p.decorations.includes("italic") ? "italic" : undefined,
            textDecoration: p.decorations.includes("underline") ? "underline" : undefined,
          }}
        >
          {p.content}
        </span>
      ))}
    </>
  );
}

export function ConsoleView({ runRef, version }: { runRef: RunRef; version: number }) {
  const { t } = useTranslation();
  const [needle, setNeedle] = useState("");
  const [follow, setFollow] = useState(true);
  const { held, loaded, loadOlder, loadNewer } = useConsoleLines(runRef, version, follow);
  const lines = held.lines;
  const scroller = useRef<HTMLDivElement>(null);
  const searchId = useId();

  // Lines put in front or let go there: scroll by as many rows, so the same lines stay in view.
  // Each change of the held lines shifts once, not again when the search text changes.
  const shifted = useRef(held);
  useLayoutEffect(() => {
    if (shifted.current === held) return;
    shifted.current = held;
    const element = scroller.current;
    if (element && held.shift !== 0 && !needle) element.scrollTop += held.shift * LINE_HEIGHT;
  }, [held, needle]);

  function onScroll(element: HTMLDivElement) {
    if (needle) return;
    if (element.scrollTop < LINE_HEIGHT * EDGE_ROWS && (lines[0]?.line ?? 0) > 0) {
      setFollow(false); // reading back: stop jumping to the end
      loadOlder();
    } else if (!held.atEnd && element.scrollTop + element.clientHeight > element.scrollHeight - LINE_HEIGHT * EDGE_ROWS) {
      loadNewer();
    }
  }

  const shown = useMemo(() => {
    if (!needle) return lines;
    const n = needle.toLowerCase();
    // Search the text without its escape codes.
    return lines.filter((l) => Anser.ansiToText(l.text).toLowerCase().includes(n));
  }, [lines, needle]);

  const virtualizer = useVirtualizer({ count: shown.length, getScrollElement: () => scroller.current, estimateSize: () => LINE_HEIGHT, overscan: 30 });
  // Follow the end when new lines arrive there (not when older ones are put in front).
  const lastLine = lines.length > 0 ? (lines[lines.length - 1] as ConsoleLine).line : -1;
  // Without a search the shown lines are the held ones, so the last row is `lines.length - 1`.
  const lineCount = lines.length;
  useEffect(() => {
    if (follow && !needle && lineCount > 0) virtualizer.scrollToIndex(lineCount - 1, { align: "end" });
  }, [lastLine, lineCount, follow, needle, virtualizer]);

  return (
    <div className="console" data-testid="console">
      <div className="chart-controls">
        <label htmlFor={searchId}>{t("run.searchLogs")}</label>
        <input id={searchId} type="search" value={needle} onChange={(e) => setNeedle(e.target.value)} data-testid="console-search" />
        {needle && <span role="status">{t("run.matches", { count: shown.length })}</span>}
        <label className="check">
          <input type="checkbox" checked={follow} onChange={(e) => setFollow(e.target.checked)} />
          {t("run.follow")}
        </label>
      </div>
      {loaded && lines.length === 0 ? (
        <p className="muted">{t("run.noLogs")}</p>
      ) : (
        <div
          className="console-scroll"
          ref={scroller}
          tabIndex={0}
          role="log"
          aria-label={t("run.logs")}
          onScroll={(e) => onScroll(e.currentTarget)}
          data-held-lines={lines.length}
        >
          <div style={{ height: virtualizer.getTotalSize(), position: "relative" }}>
            {virtualizer.getVirtualItems().map((v) => {
              const line = shown[v.index];
              if (!line) return null;
              return (
                <div key={v.key} className={`console-line ${line.stream}`} style={{ transform: `translateY(${v.start}px)` }}>
                  <span className="ln" aria-hidden="true">
                    {line.line + 1}
                  </span>
                  <AnsiLine text={line.text} stderr={line.stream === "stderr"} />
                </div>
              );
            })}
          </div>
        </div>
      )}
    </div>
  );
}
