/** A project's pinned runs (shown first on its overview, in this order), as the app changes them. */

/** The server keeps at most this many pinned runs (server/routes/projects.py). */
export const MAX_PINNED = 100;

/** `pinned` with `runId` taken out if it is there, else added at the end. */
export function togglePin(pinned: readonly string[], runId: string): string[] {
  return pinned.includes(runId) ? pinned.filter((id) => id !== runId) : [...pinned, runId];
}

/** `pinned` with the run at `index` moved one place up (-1) or down (+1); unchanged at an end. */
export function movePin(pinned: readonly string[], index: number, by: -1 | 1): string[] {
  const to = index + by;
  if (index < 0 || index >= pinned.length || to < 0 || to >= pinned.length) return [...pinned];
  const next = [...pinned];
  [next[index], next[to]] = [next[to] as string, next[index] as string];
  return next;
}
