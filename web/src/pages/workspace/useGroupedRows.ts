/**
 * The table's items: the loaded rows as they are, or grouped by a column (each group a header row
 * that folds), which needs every row loaded.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import type { Run } from "../../api/types";
import type { TableItem } from "../../components/RunTable";
import { groupBy as groupItems, groupKeys } from "../../lib/grouping";
import type { RunRows } from "../../lib/runs";

export interface GroupedRows {
  /** The grouped items, or null when not grouped. */
  grouped: TableItem[] | null;
  /** How many items the table has. */
  count: number;
  item: (index: number) => TableItem;
  onRange: (start: number, end: number) => void;
  toggleGroup: (label: string) => void;
}

export function useGroupedRows(rows: RunRows, groupBy: string): GroupedRows {
  const [collapsed, setCollapsed] = useState<Set<string>>(new Set());
  const total = rows.total ?? 0;
  const loadedRuns = rows.loaded;
  const grouped = useMemo(() => {
    if (!groupBy) return null;
    const items: TableItem[] = [];
    // A run with several tags is under each of its tags (grouped by tags).
    for (const [label, list] of groupItems<Run>(loadedRuns, (r) => groupKeys(groupBy, r))) {
      const isCollapsed = collapsed.has(label);
      items.push({ kind: "group", label, count: list.length, collapsed: isCollapsed, runIds: list.map((r) => r.id) });
      if (!isCollapsed) list.forEach((run) => items.push({ kind: "run", run }));
    }
    return items;
  }, [groupBy, loadedRuns, collapsed]);
  const { ensure, row } = rows;
  // Grouping needs every row. Asked for when the grouping or the total changes, not when only
  // `ensure` does (a new filter): the total then is still the old filter's.
  const ensureNow = useRef(ensure);
  useEffect(() => {
    ensureNow.current = ensure;
  }, [ensure]);
  useEffect(() => {
    if (groupBy && total > 0) ensureNow.current(0, total - 1);
  }, [groupBy, total]);
  const item = useCallback(
    (index: number): TableItem => (grouped ? (grouped[index] ?? { kind: "run", run: undefined }) : { kind: "run", run: row(index) }),
    [grouped, row],
  );
  const onRange = useCallback(
    (start: number, end: number) => {
      if (!grouped) ensure(start, end);
    },
    [grouped, ensure],
  );
  const toggleGroup = useCallback((label: string) => {
    setCollapsed((prev) => {
      const next = new Set(prev);
      if (next.has(label)) next.delete(label);
      else next.add(label);
      return next;
    });
  }, []);
  return { grouped, count: grouped ? grouped.length : total, item, onRange, toggleGroup };
}
