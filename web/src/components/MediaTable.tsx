/**
 * A logged table (`wakelog.Table`) with all its rows: only the rows in view are in the DOM
 * (TanStack Virtual), a click on a column header sorts by it, and a search box keeps the rows
 * holding every word typed. Sorting and filtering are lib/tables.ts.
 */
import { useVirtualizer } from "@tanstack/react-virtual";
import { memo, useDeferredValue, useEffect, useId, useMemo, useRef, useState, type CSSProperties } from "react";
import { useTranslation } from "react-i18next";
import { mediaFileUrl, type FileUrl } from "../api/endpoints";
import type { RunRef } from "../api/types";
import { hasOverlays, OverlayImage } from "./ImageOverlays";
import { isRichMedia, RichMediaCell } from "./media/RichMedia";
import { cellText, filterRows, isNumericColumn, searchTexts, sortRows, type TableJson, type TableSort } from "../lib/tables";

type Stub = Record<string, unknown> & { _type?: string };

const ROW_HEIGHT = 30;
/** Rows of a table with images are taller: a thumbnail, not a word. */
const IMAGE_ROW_HEIGHT = 60;

function isStub(cell: unknown, type?: string): cell is Stub {
  return typeof cell === "object" && cell !== null && !Array.isArray(cell) && (type === undefined || (cell as Stub)._type === type);
}

/** `null` → no sort; a click sorts ascending, then descending, then not at all. */
function nextSort(sort: TableSort | null, column: number): TableSort | null {
  if (sort?.column !== column) return { column, desc: false };
  return sort.desc ? null : { column, desc: true };
}

interface Props {
  table: TableJson;
  label: string;
  /** The run whose files the cells name (`media/images/…`)… */
  runRef?: RunRef;
  /** …or where they are instead (an artifact's files); keep it stable (memoised): the rows are. */
  fileUrl?: FileUrl;
}

export function MediaTable({ table, runRef, fileUrl, label }: Props) {
  const { t, i18n } = useTranslation();
  const locale = i18n.language;
  const [sort, setSort] = useState<TableSort | null>(null);
  const [query, setQuery] = useState("");
  const deferredQuery = useDeferredValue(query);
  const filterId = useId();
  const scroller = useRef<HTMLDivElement>(null);

  const { columns, data } = table;
  const numeric = useMemo(() => columns.map((_, c) => isNumericColumn(data, c)), [columns, data]);
  const texts = useMemo(() => searchTexts(data, numeric, locale), [data, numeric, locale]);
  const collator = useMemo(() => new Intl.Collator(locale, { numeric: true, sensitivity: "base" }), [locale]);
  const rows = useMemo(() => {
    const kept = filterRows(texts, deferredQuery, locale);
    return sort ? sortRows(data, kept, sort, collator) : kept;
  }, [texts, deferredQuery, locale, sort, data, collator]);
  const hasImages = useMemo(() => data.some((row) => row.some((cell) => isStub(cell, "image-file") || isRichMedia(cell))), [data]);
  const rowHeight = hasImages ? IMAGE_ROW_HEIGHT : ROW_HEIGHT;

  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => rowHeight,
    overscan: 10,
    useFlushSync: false,
  });
  // A new order or filter starts from its first row.
  useEffect(() => {
    scroller.current?.scrollTo({ top: 0 });
  }, [sort, deferredQuery]);
  const grid = { "--table-cols": columns.length } as CSSProperties;

  return (
    <div>
      <div className="chart-controls">
        <label htmlFor={filterId}>{t("run.filterRows")}</label>
        <input id={filterId} type="search" value={query} onChange={(e) => setQuery(e.target.value)} />
        <span role="status" className="muted" data-testid="table-count">
          {t("run.tableRows", { shown: rows.length, total: data.length })}
        </span>
      </div>
      <div className="mt-scroll" ref={scroller} style={grid}>
        <div role="table" aria-label={label} aria-rowcount={rows.length + 1} className="mt-table">
          <div role="rowgroup" className="mt-head">
            <div role="row" className="mt-row" aria-rowindex={1}>
              {columns.map((name, c) => (
                <HeaderCell key={c} name={name} numeric={numeric[c] ?? false} sorted={sort?.column === c ? (sort.desc ? "descending" : "ascending") : null} onSort={() => setSort((s) => nextSort(s, c))} />
              ))}
            </div>
          </div>
          <div role="rowgroup" className="mt-body" style={{ height: virtualizer.getTotalSize() }}>
            {virtualizer.getVirtualItems().map((v) => {
              const index = rows[v.index] as number;
              return (
                <div role="row" className="mt-row" key={index} aria-rowindex={v.index + 2} data-row={index} style={{ transform: `translateY(${v.start}px)`, height: rowHeight }}>
                  <RowCells row={data[index] as unknown[]} rowNumber={index + 1} columns={columns} numeric={numeric} runRef={runRef} fileUrl={fileUrl} />
                </div>
              );
            })}
          </div>
        </div>
      </div>
    </div>
  );
}

function HeaderCell({ name, numeric, sorted, onSort }: { name: string; numeric: boolean; sorted: "ascending" | "descending" | null; onSort: () => void }) {
  return (
    <div role="columnheader" className={`mt-cell${numeric ? " num" : ""}`} aria-sort={sorted ?? undefined} title={name}>
      <button type="button" className="sort-button" onClick={onSort}>
        {name}
        <span aria-hidden="true" className="sort-mark">
          {sorted === "ascending" ? "▲" : sorted === "descending" ? "▼" : ""}
        </span>
      </button>
    </div>
  );
}

interface RowCellsProps {
  row: unknown[];
  /** 1-based, in the logged order. */
  rowNumber: number;
  columns: string[];
  numeric: boolean[];
  runRef?: RunRef;
  fileUrl?: FileUrl;
}

const RowCells = memo(function RowCells({ row, rowNumber, columns, numeric, runRef, fileUrl }: RowCellsProps) {
  return (
    <>
      {columns.map((column, c) => {
        const text = cellText(row[c], numeric[c] ?? false);
        return (
          <div role="cell" className={`mt-cell${numeric[c] ? " num" : ""}`} key={c} title={isStub(row[c], "image-file") ? undefined : text}>
            <Cell cell={row[c]} text={text} column={column} rowNumber={rowNumber} runRef={runRef} fileUrl={fileUrl} />
          </div>
        );
      })}
    </>
  );
});

/** Images as thumbnails, other files as links, everything else as its text. */
function Cell({ cell, text, column, rowNumber, runRef, fileUrl }: { cell: unknown; text: string; column: string; rowNumber: number; runRef?: RunRef; fileUrl?: FileUrl }) {
  const { t } = useTranslation();
  const url = isStub(cell) && typeof cell.path === "string" ? mediaFileUrl(cell.path, runRef, fileUrl) : null;
  if (isStub(cell) && url) {
    if (cell._type === "image-file") {
      const alt = typeof cell.caption === "string" ? cell.caption : t("run.imageCell", { column, row: rowNumber });
      if (hasOverlays(cell)) return <OverlayImage src={url} alt={alt} stub={cell} runRef={runRef} fileUrl={fileUrl} imgClassName="mt-thumb" thumb />;
      return <img className="mt-thumb" src={url} alt={alt} loading="lazy" />;
    }
    if (isRichMedia(cell)) return <RichMediaCell stub={cell} url={url} label={t("run.imageCell", { column, row: rowNumber })} />;
    return (
      <a href={url} target="_blank" rel="noopener noreferrer">
        {text}
      </a>
    );
  }
  return <>{text}</>;
}
