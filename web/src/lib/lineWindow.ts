/**
 * The console's window onto a run's log: consecutive lines, at most `cap` of them, so a page left
 * open on a run that prints for days holds a bounded number of lines. The window grows at one end
 * and is trimmed at the other: while following the output, new lines push the oldest out (scrolling
 * up fetches them again); while reading back, older lines push the newest out, and the window no
 * longer reaches the end of the log until it is scrolled back down.
 */

export interface NumberedLine {
  /** The line's number in the log, from 0. */
  line: number;
}

export interface LineWindow<T extends NumberedLine> {
  lines: T[];
  /** The last line held is the log's last line: new output may be appended. */
  atEnd: boolean;
  /**
   * Lines put in front of (+) or taken from the front of (−) the lines held before this change:
   * the view scrolls by as many rows to keep showing the same lines.
   */
  shift: number;
}

/** Which lines stay when the window is over its cap: the reader is at that end. */
export type Keep = "newest" | "oldest";

export function emptyWindow<T extends NumberedLine>(): LineWindow<T> {
  return { lines: [], atEnd: true, shift: 0 };
}

/** A window of the log's last lines (its tail), trimmed to `cap`. */
export function tailWindow<T extends NumberedLine>(tail: T[], cap: number): LineWindow<T> {
  return { lines: tail.length > cap ? tail.slice(tail.length - cap) : tail, atEnd: true, shift: 0 };
}

/**
 * `newer` (the lines after the last one held, in order) added at the end. `reachesEnd`: they
 * end where the log ends (no more lines after them on the server).
 */
export function appendNewer<T extends NumberedLine>(
  held: LineWindow<T>,
  newer: T[],
  cap: number,
  keep: Keep,
  reachesEnd: boolean,
): LineWindow<T> {
  const last = held.lines[held.lines.length - 1];
  const fresh = last ? newer.filter((l) => l.line > last.line) : newer;
  const lines = held.lines.concat(fresh);
  if (lines.length <= cap) return { lines, atEnd: reachesEnd, shift: 0 };
  const over = lines.length - cap;
  if (keep === "newest") return { lines: lines.slice(over), atEnd: reachesEnd, shift: -over };
  return { lines: lines.slice(0, cap), atEnd: false, shift: 0 };
}

/** `older` (the lines before the first one held, in order) put in front; the newest let go past `cap`. */
export function prependOlder<T extends NumberedLine>(held: LineWindow<T>, older: T[], cap: number): LineWindow<T> {
  const first = held.lines[0];
  const fresh = first ? older.filter((l) => l.line < first.line) : older;
  const lines = fresh.concat(held.lines);
  if (lines.length <= cap) return { lines, atEnd: held.atEnd, shift: fresh.length };
  return { lines: lines.slice(0, cap), atEnd: false, shift: fresh.length };
}
