/**
 * A run's console lines for the console view, held in a bounded window (lib/lineWindow.ts): the
 * log's tail first, then the output that arrives while the run is live (`version` bumps), older
 * pages when the view is scrolled to the top and newer ones when it is scrolled back down.
 *
 * The fetches run one at a time, in the order asked, each on the window the previous one left:
 * a live update never interleaves with a page loaded by scrolling. A request made while an equal
 * one waits is dropped; one that no longer fits the window when its turn comes is skipped.
 */
import { useCallback, useEffect, useRef, useState } from "react";
import { consolePage, load, type ConsoleQuery } from "../api/endpoints";
import type { ConsoleLine, RunRef } from "../api/types";
import { appendNewer, emptyWindow, prependOlder, tailWindow, type LineWindow } from "./lineWindow";

/** Lines per request. */
const CONSOLE_PAGE = 5_000;
/** Most lines held at once (≈ 120 bytes each in the JS heap). */
const MAX_HELD_LINES = 10_000;

type Held = LineWindow<ConsoleLine>;
/** One fetch: the window after it, or null to leave the window as it is. */
type Task = (held: Held) => Promise<Held | null>;

export interface ConsoleLines {
  held: Held;
  /** The first fetch answered (or failed). */
  loaded: boolean;
  /** Fetch the page before the first line held (the view is at the top). */
  loadOlder: () => void;
  /** Fetch the page after the last line held, when that is not the log's end (the view is at the bottom). */
  loadNewer: () => void;
}

export function useConsoleLines(runRef: RunRef, version: number, following: boolean): ConsoleLines {
  const [held, setHeld] = useState<Held>(emptyWindow);
  const [loaded, setLoaded] = useState(false);
  const current = useRef<Held>(held);
  const queue = useRef<Promise<void>>(Promise.resolve());
  const waiting = useRef(new Set<string>());
  const generation = useRef(0);
  const followingNow = useRef(following);
  followingNow.current = following;

  const get = useCallback((query: ConsoleQuery) => load(consolePage(runRef, query)), [runRef]);

  const enqueue = useCallback((name: string, task: Task) => {
    if (waiting.current.has(name)) return;
    waiting.current.add(name);
    const gen = generation.current;
    queue.current = queue.current
      .then(async () => {
        if (gen !== generation.current) return;
        waiting.current.delete(name);
        const next = await task(current.current);
        if (gen !== generation.current || next === null) return;
        current.current = next;
        setHeld(next);
      })
      .catch(() => undefined)
      .finally(() => {
        if (gen === generation.current) setLoaded(true);
      });
  }, []);

  /** Up to `want` lines after line `after`, and whether they reach the log's end. */
  const fetchAfter = useCallback(
    async (after: number, want: number): Promise<{ lines: ConsoleLine[]; reachesEnd: boolean }> => {
      const lines: ConsoleLine[] = [];
      let offset = after + 1;
      for (;;) {
        const page = await get({ offset, limit: Math.min(CONSOLE_PAGE, want - lines.length) });
        lines.push(...page.lines);
        if (page.next_offset === null) return { lines, reachesEnd: true };
        if (lines.length >= want) return { lines, reachesEnd: false };
        offset = page.next_offset;
      }
    },
    [get],
  );

  const tail = useCallback(async () => tailWindow((await get({ tail: CONSOLE_PAGE })).lines, MAX_HELD_LINES), [get]);

  useEffect(() => {
    generation.current++;
    waiting.current.clear();
    current.current = emptyWindow();
    setHeld(current.current);
    setLoaded(false);
  }, [runRef]);

  // The tail first, then whatever arrived since, while the window reaches the end.
  useEffect(() => {
    enqueue("live", async (at) => {
      const last = at.lines[at.lines.length - 1];
      if (!last) return tail();
      if (!at.atEnd) return null;
      if (followingNow.current) {
        const newer = await fetchAfter(last.line, MAX_HELD_LINES);
        // More new lines than the window holds: only the tail will be shown.
        if (!newer.reachesEnd) return tail();
        return appendNewer(at, newer.lines, MAX_HELD_LINES, "newest", true);
      }
      const newer = await fetchAfter(last.line, Math.max(1, MAX_HELD_LINES - at.lines.length));
      return appendNewer(at, newer.lines, MAX_HELD_LINES, "oldest", newer.reachesEnd);
    });
  }, [enqueue, fetchAfter, tail, runRef, version]);

  // Following again from a window away from the end: back to the tail.
  useEffect(() => {
    if (following) enqueue("tail", async (at) => (at.atEnd ? null : tail()));
  }, [enqueue, tail, following]);

  const loadOlder = useCallback(() => {
    const first = current.current.lines[0];
    if (!first || first.line === 0) return;
    enqueue(`older ${first.line}`, async (at) => {
      if (at.lines[0]?.line !== first.line) return null;
      const page = await get({ before: first.line, limit: CONSOLE_PAGE });
      return prependOlder(at, page.lines, MAX_HELD_LINES);
    });
  }, [enqueue, get]);

  const loadNewer = useCallback(() => {
    const last = current.current.lines[current.current.lines.length - 1];
    if (!last || current.current.atEnd) return;
    enqueue(`newer ${last.line}`, async (at) => {
      if (at.atEnd || at.lines[at.lines.length - 1]?.line !== last.line) return null;
      const newer = await fetchAfter(last.line, CONSOLE_PAGE);
      return appendNewer(at, newer.lines, MAX_HELD_LINES, "newest", newer.reachesEnd);
    });
  }, [enqueue, fetchAfter]);

  return { held, loaded, loadOlder, loadNewer };
}
