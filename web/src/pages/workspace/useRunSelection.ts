/**
 * Which runs the charts draw: the ones chosen in the table (in the URL), or the first rows when none
 * are; each with a colour that stays put while others are hidden, shown or added.
 */
import { useCallback, useMemo } from "react";
import type { Run } from "../../api/types";
import type { ShownRun } from "../../components/MetricPanel";
import { runColor, runColors } from "../../lib/colors";
import { HIDDEN_PARAM, toggleRunsHidden, writeHidden } from "../../lib/hiddenRuns";
import { writeList } from "../../lib/urlState";

/** Runs shown in the charts when none are chosen: the first rows of the table. */
export const AUTO_SELECTED = 10;

export function runLabel(run: Run): string {
  return run.name ?? run.id;
}

export interface RunSelection {
  selectedIds: string[];
  selected: Set<string>;
  colorOfRun: (run: Run) => string;
  /** The selected runs that are not hidden, labelled and coloured for the charts. */
  shownRuns: ShownRun[];
  toggle: (run: Run) => void;
  setHidden: (next: Set<string>) => void;
  toggleHidden: (runIds: string[]) => void;
}

export function useRunSelection(
  loadedRuns: Run[],
  explicitSelection: string[] | null,
  hidden: Set<string>,
  setParams: (changes: Record<string, string | null>) => void,
): RunSelection {
  const runById = useMemo(() => new Map(loadedRuns.map((r) => [r.id, r])), [loadedRuns]);
  const selectedIds = useMemo(() => explicitSelection ?? loadedRuns.slice(0, AUTO_SELECTED).map((r) => r.id), [explicitSelection, loadedRuns]);
  const selected = useMemo(() => new Set(selectedIds), [selectedIds]);
  const colors = useMemo(() => runColors(selectedIds), [selectedIds]);
  const colorOfRun = useCallback((run: Run): string => colors.get(run.id) ?? runColor(run.id), [colors]);
  // Hidden runs keep their place in `colors`, so hiding one never recolours the others.
  const shownRuns = useMemo<ShownRun[]>(
    () =>
      selectedIds
        .filter((id) => !hidden.has(id))
        .map((id) => {
          const run = runById.get(id);
          return { id, label: run ? runLabel(run) : id, color: colors.get(id) ?? runColor(id) };
        }),
    [selectedIds, hidden, runById, colors],
  );
  const toggle = useCallback(
    (run: Run) => {
      const next = selected.has(run.id) ? selectedIds.filter((id) => id !== run.id) : [...selectedIds, run.id];
      setParams({ sel: writeList(next) || "-" });
    },
    [selected, selectedIds, setParams],
  );
  const setHidden = useCallback((next: Set<string>) => setParams({ [HIDDEN_PARAM]: writeHidden(next) }), [setParams]);
  const toggleHidden = useCallback((runIds: string[]) => setHidden(toggleRunsHidden(hidden, runIds)), [hidden, setHidden]);
  return { selectedIds, selected, colorOfRun, shownRuns, toggle, setHidden, toggleHidden };
}
