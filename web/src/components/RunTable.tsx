/**
 * The run table: TanStack Table holds the columns and the sort state (sorting happens on the
 * server), TanStack Virtual renders only the rows in view, so 10k runs scroll at full frame rate.
 * Rows are fetched a page at a time as they come into view (lib/runs.ts). Each row, and each
 * group row, has an eye button that hides its runs from the charts without unselecting them.
 */
import {
  flexRender,
  getCoreRowModel,
  useReactTable,
  type ColumnDef,
  type SortingState,
} from "@tanstack/react-table";
import { useVirtualizer } from "@tanstack/react-virtual";
import { memo, useEffect, useMemo, useRef, type KeyboardEvent, type MouseEvent, type ReactNode } from "react";
import { useTranslation } from "react-i18next";
import { useNavigate } from "react-router";
import type { Run } from "../api/types";
import { allHidden } from "../lib/hiddenRuns";
import { VisibilityToggle } from "./VisibilityToggle";

export interface ColumnSpec {
  id: string;
  header: string;
  width: number;
  /** The server's sort key for this column; none: not sortable. */
  sortKey?: string;
  numeric?: boolean;
  render: (run: Run) => ReactNode;
  /** Plain text of the cell, for the title tooltip. */
  text?: (run: Run) => string;
}

export type TableItem =
  | { kind: "run"; run: Run | undefined }
  | { kind: "group"; label: string; count: number; collapsed: boolean; runIds: string[] };

export interface RunTableProps {
  columns: ColumnSpec[];
  count: number;
  item: (index: number) => TableItem;
  /** Rows index range now in view (to load their pages). */
  onRange: (start: number, end: number) => void;
  sort: { id: string; desc: boolean } | null;
  onSort: (sort: { id: string; desc: boolean } | null) => void;
  selected: Set<string>;
  onToggle: (run: Run) => void;
  onToggleGroup?: (label: string) => void;
  /** Runs hidden from the charts (still selected); their rows are dimmed. */
  hidden: ReadonlySet<string>;
  /** The eye button of a row (one run) or a group row (its runs). */
  onToggleHidden: (runIds: string[]) => void;
  colorOf: (run: Run) => string;
  label: string;
  /** The rows are being replaced (a new filter or sort is loading): announced as aria-busy. */
  busy?: boolean;
}

const ROW_HEIGHT = 30;
const EMPTY: Run[] = [];

export function RunTable(props: RunTableProps) {
  const { t } = useTranslation();
  const scroller = useRef<HTMLDivElement>(null);
  const navigate = useNavigate();
  const columnDefs = useMemo<ColumnDef<Run>[]>(
    () => [
      { id: "__select", header: () => <span className="sr-only">{t("columns.select")}</span>, size: 76, enableSorting: false },
      // Sorting is done by the server; TanStack only needs an accessor to treat a column as sortable.
      ...props.columns.map<ColumnDef<Run>>((c) => ({ id: c.id, header: c.header, size: c.width, accessorFn: () => null, enableSorting: c.sortKey !== undefined })),
    ],
    [props.columns, t],
  );
  const totalWidth = columnDefs.reduce((sum, c) => sum + (c.size ?? 100), 0);
  const virtualizer = useVirtualizer({
    count: props.count,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 12,
    // Let React batch scroll updates instead of rendering synchronously in the scroll handler.
    useFlushSync: false,
  });
  const items = virtualizer.getVirtualItems();
  const first = items[0]?.index ?? 0;
  const last = items[items.length - 1]?.index ?? 0;
  const onRange = props.onRange;
  useEffect(() => {
    onRange(first, last);
  }, [first, last, props.count, onRange]);

  function onClick(event: MouseEvent<HTMLDivElement>) {
    // Cells hold plain links (cheaper than a router Link per row); a plain click routes in-app.
    const link = (event.target as HTMLElement).closest<HTMLAnchorElement>("a[data-spa]");
    if (!link || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    void navigate(link.getAttribute("href") ?? "/");
  }

  function onKeyDown(event: KeyboardEvent<HTMLDivElement>) {
    const target = event.target as HTMLElement;
    // Enter on a row's checkbox opens the run, as its name's link does (Space ticks it).
    if (event.key === "Enter" && target instanceof HTMLInputElement) {
      const link = target.closest("[data-index]")?.querySelector<HTMLAnchorElement>("a[data-spa]");
      if (link) {
        event.preventDefault();
        void navigate(link.getAttribute("href") ?? "/");
      }
      return;
    }
    // Arrow keys move between rows' checkboxes (or eye buttons), like a list.
    if (event.key !== "ArrowDown" && event.key !== "ArrowUp") return;
    const fromEye = target.classList.contains("visibility-toggle");
    const row = target.closest<HTMLElement>("[data-index]");
    if (!row) return;
    const index = Number(row.dataset.index) + (event.key === "ArrowDown" ? 1 : -1);
    if (index < 0 || index >= props.count) return;
    event.preventDefault();
    virtualizer.scrollToIndex(index);
    const at = `[data-index="${index}"]`;
    const focus = () => scroller.current?.querySelector<HTMLElement>(fromEye ? `${at} .visibility-toggle` : `${at} input, ${at} button`);
    const next = focus();
    if (next) next.focus();
    else requestAnimationFrame(() => focus()?.focus());
  }

  const widths = useMemo(() => columnDefs.map((c) => c.size ?? 100), [columnDefs]);
  const labels = useMemo<RowLabels>(() => ({ select: t("columns.select"), hide: t("workspace.hideRun"), show: t("workspace.showRun") }), [t]);
  return (
    <div className="run-table" role="table" aria-label={props.label} aria-rowcount={props.count + 1} aria-busy={props.busy ?? false} data-testid="run-table">
      <div className="rt-scroll" ref={scroller} onKeyDown={onKeyDown} onClick={onClick}>
        <Header columnDefs={columnDefs} columns={props.columns} widths={widths} totalWidth={totalWidth} sort={props.sort} onSort={props.onSort} />
        <div role="rowgroup" className="rt-body" style={{ height: virtualizer.getTotalSize(), width: totalWidth }}>
          {items.map((v) => {
            const item = props.item(v.index);
            const style = { transform: `translateY(${v.start}px)`, height: ROW_HEIGHT, width: totalWidth };
            if (item.kind === "group") {
              return (
                <div role="row" className="rt-row rt-group" key={v.key} data-index={v.index} style={style} aria-rowindex={v.index + 2}>
                  <div role="cell" className="rt-cell" style={{ width: totalWidth }}>
                    <GroupVisibility runIds={item.runIds} group={item.label} hidden={props.hidden} onToggleHidden={props.onToggleHidden} />
                    <button type="button" aria-expanded={!item.collapsed} onClick={() => props.onToggleGroup?.(item.label)}>
                      {item.collapsed ? "▸" : "▾"} {item.label} <span className="muted">({item.count})</span>
                    </button>
                  </div>
                </div>
              );
            }
            const run = item.run;
            const selected = run ? props.selected.has(run.id) : false;
            const hidden = run ? props.hidden.has(run.id) : false;
            // Only this positioned wrapper changes while scrolling; the row's cells are memoised.
            return (
              <div
                role="row"
                className={`rt-row${selected ? " selected" : ""}${hidden ? " hidden-run" : ""}`}
                key={v.key}
                data-index={v.index}
                data-run={run?.id}
                style={style}
                aria-rowindex={v.index + 2}
                aria-selected={selected}
              >
                <RowCells
                  run={run}
                  selected={selected}
                  hidden={hidden}
                  columns={props.columns}
                  widths={widths}
                  onToggle={props.onToggle}
                  onToggleHidden={props.onToggleHidden}
                  colorOf={props.colorOf}
                  labels={labels}
                />
              </div>
            );
          })}
        </div>
      </div>
    </div>
  );
}

function GroupVisibility({ runIds, group, hidden, onToggleHidden }: { runIds: string[]; group: string; hidden: ReadonlySet<string>; onToggleHidden: (runIds: string[]) => void }) {
  const { t } = useTranslation();
  const groupHidden = allHidden(hidden, runIds);
  return (
    <VisibilityToggle
      hidden={groupHidden}
      label={t(groupHidden ? "workspace.showGroup" : "workspace.hideGroup", { group })}
      onToggle={() => onToggleHidden(runIds)}
    />
  );
}

/** The row controls' names, translated once per table rather than once per row. */
interface RowLabels {
  select: string;
  hide: string;
  show: string;
}

interface RowCellsProps {
  run: Run | undefined;
  selected: boolean;
  hidden: boolean;
  columns: ColumnSpec[];
  widths: number[];
  onToggle: (run: Run) => void;
  onToggleHidden: (runIds: string[]) => void;
  colorOf: (run: Run) => string;
  labels: RowLabels;
}

const RowCells = memo(function RowCells({ run, selected, hidden, columns, widths, onToggle, onToggleHidden, colorOf, labels }: RowCellsProps) {
  const name = run ? (run.name ?? run.id) : "";
  return (
    <>
      <div role="cell" className="rt-cell rt-select" style={{ width: widths[0] }}>
        {run && (
          <>
            <label className="swatch-check" style={{ ["--run-color" as string]: colorOf(run) }}>
              <input type="checkbox" checked={selected} onChange={() => onToggle(run)} aria-label={`${labels.select}: ${name}`} />
              <span className="swatch" aria-hidden="true" />
            </label>
            <VisibilityToggle hidden={hidden} label={`${hidden ? labels.show : labels.hide}: ${name}`} onToggle={() => onToggleHidden([run.id])} />
          </>
        )}
      </div>
      {columns.map((c, i) => (
        <div role="cell" className={`rt-cell${c.numeric ? " num" : ""}`} key={c.id} data-column={c.id} style={{ width: widths[i + 1] }} title={run && c.text ? c.text(run) : undefined}>
          {run ? c.render(run) : <span className="placeholder" />}
        </div>
      ))}
    </>
  );
});

interface HeaderProps {
  columnDefs: ColumnDef<Run>[];
  columns: ColumnSpec[];
  widths: number[];
  totalWidth: number;
  sort: RunTableProps["sort"];
  onSort: RunTableProps["onSort"];
}

/** The header row: TanStack Table's column and sort model, re-rendered only when those change. */
const Header = memo(function Header({ columnDefs, columns, widths, totalWidth, sort, onSort }: HeaderProps) {
  const props = { sort, onSort, columns };
  const sorting: SortingState = props.sort ? [{ id: props.sort.id, desc: props.sort.desc }] : [];
  const table = useReactTable({
    data: EMPTY,
    columns: columnDefs,
    state: { sorting },
    manualSorting: true,
    enableMultiSort: false,
    sortDescFirst: false,
    getCoreRowModel: getCoreRowModel(),
    onSortingChange: (updater) => {
      const next = typeof updater === "function" ? updater(sorting) : updater;
      const first = next[0];
      props.onSort(first ? { id: first.id, desc: first.desc } : null);
    },
  });
  return (
    <div className="rt-header" role="rowgroup" style={{ width: totalWidth }}>
          {table.getHeaderGroups().map((group) => (
            <div role="row" className="rt-row rt-head-row" key={group.id} aria-rowindex={1}>
              {group.headers.map((header, i) => {
                const sorted = header.column.getIsSorted();
                const spec = props.columns[i - 1];
                return (
                  <div
                    role="columnheader"
                    key={header.id}
                    className={`rt-cell${spec?.numeric ? " num" : ""}`}
                    style={{ width: widths[i] }}
                    aria-sort={sorted === "asc" ? "ascending" : sorted === "desc" ? "descending" : undefined}
                    data-column={header.id}
                  >
                    {header.column.getCanSort() ? (
                      <button type="button" className="sort-button" onClick={header.column.getToggleSortingHandler()}>
                        {flexRender(header.column.columnDef.header, header.getContext())}
                        <span aria-hidden="true" className="sort-mark">
                          {sorted === "asc" ? "▲" : sorted === "desc" ? "▼" : ""}
                        </span>
                      </button>
                    ) : (
                      flexRender(header.column.columnDef.header, header.getContext())
                    )}
                  </div>
                );
              })}
            </div>
          ))}
        </div>
  );
});
