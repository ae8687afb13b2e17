/**
 * The roving tab stop of a tab list (the WAI-ARIA tabs pattern), as pure functions so that the
 * rules are tested without a browser.
 */

/**
 * The tab that holds the list's one stop (tabindex 0): the tab keyboard focus is on while focus
 * is inside the list, else the selected one. The selection arrives through the URL, a render or
 * more after the key that made it, so a Tab pressed right after Home or End must leave from the
 * focused tab already, not from the tab that was selected before.
 */
export function tabStop<T>(ids: readonly T[], selected: T, focused: T | null): T {
  return focused !== null && ids.includes(focused) ? focused : selected;
}

const STEPS: Record<string, (at: number, count: number) => number> = {
  ArrowRight: (at) => at + 1,
  ArrowLeft: (at) => at - 1,
  Home: () => 0,
  End: (_, count) => count - 1,
};

/** The index of the tab `key` moves to from tab `at` of `count` (arrows wrap around), or
 * undefined for a key that moves nothing. */
export function tabStep(key: string, at: number, count: number): number | undefined {
  const step = STEPS[key];
  if (step === undefined || count === 0) return undefined;
  return (step(at, count) + count) % count;
}
