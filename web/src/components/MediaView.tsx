/**
 * Non-scalar history: images with a step slider, histograms over steps as a heatmap, tables,
 * confusion matrices and other custom charts, video, audio, 3-D, molecules, Plotly and HTML
 * (media/RichMedia.tsx), and anything else as JSON.
 */
import { useEffect, useId, useMemo, useState } from "react";
import { useTranslation } from "react-i18next";
import { load, mediaFileUrl, mediaPage } from "../api/endpoints";
import type { KeyInfo, MediaItem, MediaPage, RunRef } from "../api/types";
import { formatValue, isStubList } from "../lib/format";
import { parseTableJson, type TableJson } from "../lib/tables";
import { HistogramHeatmap } from "./HistogramHeatmap";
import { hasOverlays, OverlayImage } from "./ImageOverlays";
import { MediaTable } from "./MediaTable";
import { isRichMedia, RichMedia } from "./media/RichMedia";
import PlotChart from "./PlotChart";
import { IncrementalTable, JoinedTableView } from "./TableStubs";

type Stub = Record<string, unknown> & { _type?: string };

/** A stub's field as text (captions may be numbers), or `fallback` when it is missing. */
function text(value: unknown, fallback: string): string {
  return typeof value === "string" || typeof value === "number" || typeof value === "boolean" ? String(value) : fallback;
}

export default function MediaView({ runRef, objects, version }: { runRef: RunRef; objects: KeyInfo[]; version: number }) {
  const { t } = useTranslation();
  const [items, setItems] = useState<MediaItem[] | null>(null);
  useEffect(() => {
    let live = true;
    (async () => {
      const all: MediaItem[] = [];
      let offset: number | null = 0;
      while (offset !== null && all.length < 20_000) {
        const page: MediaPage = await load(mediaPage(runRef, { limit: 5000, offset }));
        all.push(...page.items);
        offset = page.next_offset;
      }
      if (live) setItems(all);
    })().catch(() => live && setItems([]));
    return () => {
      live = false;
    };
  }, [runRef, version]);
  const byKey = useMemo(() => {
    const map = new Map<string, MediaItem[]>();
    // A chart's table is logged under its own key too (wandb's shape); the chart shows it already.
    const chartTables = new Set((items ?? []).map((i) => (i.value as Stub | null)?.table_key).filter((k) => typeof k === "string"));
    for (const item of items ?? []) {
      if (chartTables.has(item.key)) continue;
      const list = map.get(item.key);
      if (list) list.push(item);
      else map.set(item.key, [item]);
    }
    return map;
  }, [items]);
  if (items === null) return <p role="status">{t("app.loading")}</p>;
  if (items.length === 0 && objects.length === 0) return <p className="muted">{t("run.noMedia")}</p>;
  return (
    <div className="media" data-testid="media">
      {[...byKey.entries()].map(([key, list]) => (
        <section className="panel panel-l media-panel" key={key} aria-label={key}>
          <header className="panel-head">
            <h2>{key}</h2>
          </header>
          <MediaKey runRef={runRef} items={list} />
        </section>
      ))}
    </div>
  );
}

function MediaKey({ runRef, items }: { runRef: RunRef; items: MediaItem[] }) {
  const last = items[items.length - 1]?.value;
  const kind = (last as Stub | undefined)?._type;
  if (kind === "histogram") return <HistogramHeatmap items={items} />;
  if (isStubList(last) && last.every((s) => s._type === "histogram")) return <HistogramList items={items} />;
  return <Stepped runRef={runRef} items={items} />;
}

function Stepped({ runRef, items }: { runRef: RunRef; items: MediaItem[] }) {
  const { t } = useTranslation();
  const [index, setIndex] = useState(items.length - 1);
  const id = useId();
  const at = Math.min(index, items.length - 1);
  const item = items[at];
  if (!item) return null;
  const label = `${item.key} @ ${item.step}`;
  return (
    <div>
      {items.length > 1 && (
        <div className="chart-controls">
          <label htmlFor={id}>{t("run.step")}</label>
          <input id={id} type="range" min={0} max={items.length - 1} value={at} onChange={(e) => setIndex(Number(e.target.value))} />
          <output htmlFor={id}>{item.step}</output>
        </div>
      )}
      <MediaAtStep runRef={runRef} item={item} label={label} />
    </div>
  );
}

/** What one key holds at one step: a gallery for a list, else the one value. */
export function MediaAtStep({ runRef, item, label }: { runRef: RunRef; item: MediaItem; label: string }) {
  return isStubList(item.value) ? (
    <Gallery runRef={runRef} stubs={item.value} label={label} />
  ) : (
    <MediaValue runRef={runRef} stub={(item.value ?? {}) as Stub} raw={item.value} url={item.url ?? null} label={label} tableLabel={item.key} />
  );
}

/** A list logged under one key at one step (`[wandb.Image(...), ...]`): each item as it would be alone. */
function Gallery({ runRef, stubs, label }: { runRef: RunRef; stubs: Stub[]; label: string }) {
  const { t } = useTranslation();
  return (
    // Images tile small; players, frames and charts need a wider cell.
    <ul className={stubs.every((s) => s._type === "image-file") ? "media-gallery" : "media-gallery media-gallery-wide"} data-testid="gallery">
      {stubs.map((stub, i) => {
        const itemLabel = t("run.galleryItem", { label, n: i + 1, count: stubs.length });
        const url = typeof stub.path === "string" ? mediaFileUrl(stub.path, runRef) : null;
        return (
          <li key={i}>
            <MediaValue runRef={runRef} stub={stub} raw={stub} url={url} label={itemLabel} tableLabel={itemLabel} thumb />
          </li>
        );
      })}
    </ul>
  );
}

interface ValueProps {
  runRef: RunRef;
  stub: Stub;
  /** The value as logged, shown as JSON when it is no media this app draws. */
  raw: unknown;
  url: string | null;
  label: string;
  tableLabel: string;
  /** In a gallery: boxes and masks toggle from a compact popover. */
  thumb?: boolean;
}

function MediaValue({ runRef, stub, raw, url, label, tableLabel, thumb = false }: ValueProps) {
  const { t } = useTranslation();
  if (stub._type === "image-file" && url) {
    // In a gallery the caption is the item's visible text: the picture says which item it is (axe: no repeated alt).
    const alt = thumb ? label : text(stub.caption, label);
    return (
      <figure className="media-image">
        {hasOverlays(stub) ? (
          <OverlayImage src={url} alt={alt} stub={stub} runRef={runRef} thumb={thumb} />
        ) : (
          <img src={url} alt={alt} width={Number(stub.width) || undefined} height={Number(stub.height) || undefined} />
        )}
        {typeof stub.caption === "string" && <figcaption>{stub.caption}</figcaption>}
      </figure>
    );
  }
  if (isRichMedia(stub) && url) return <RichMedia stub={stub} url={url} label={label} />;
  if (stub._type === "table-file" && url) return <TableFile url={url} runRef={runRef} label={tableLabel} />;
  if (stub._type === "custom-chart") return <PlotChart stub={stub} runRef={runRef} label={tableLabel} />;
  if (stub._type === "incremental-table-file") return <IncrementalTable stub={stub} runRef={runRef} label={tableLabel} />;
  if (stub._type === "joined-table") return <JoinedTableView stub={stub} runRef={runRef} label={tableLabel} />;
  if (stub._type === "histogram") return <HistogramHeatmap items={[{ step: 0, value: stub }]} label={label} />;
  if (url) {
    return (
      <a href={url} target="_blank" rel="noopener noreferrer">
        {t("run.files")}: {text(stub.path, tableLabel)}
      </a>
    );
  }
  return <pre className="json">{formatValue(raw)}</pre>;
}

function useTableJson(url: string): TableJson | null {
  const [table, setTable] = useState<TableJson | null>(null);
  useEffect(() => {
    let live = true;
    fetch(url, { credentials: "same-origin" })
      .then(async (r) => parseTableJson(await r.text()))
      .then((j) => live && setTable(j))
      .catch(() => live && setTable({ columns: [], data: [] }));
    return () => {
      live = false;
    };
  }, [url]);
  return table;
}

function TableFile({ url, runRef, label }: { url: string; runRef: RunRef; label: string }) {
  const { t } = useTranslation();
  const table = useTableJson(url);
  if (!table) return <p role="status">{t("app.loading")}</p>;
  return <MediaTable table={table} runRef={runRef} label={label} />;
}

/** Histograms logged as a list: one heatmap over steps per place in the list. */
function HistogramList({ items }: { items: MediaItem[] }) {
  const { t } = useTranslation();
  const places = Math.max(...items.map((i) => (Array.isArray(i.value) ? i.value.length : 0)));
  const key = items[0]?.key ?? "";
  return (
    <ul className="media-gallery media-gallery-wide" data-testid="gallery">
      {Array.from({ length: places }, (_, n) => {
        const at = items.flatMap((i) => (Array.isArray(i.value) && i.value[n] !== undefined ? [{ ...i, value: i.value[n] as unknown }] : []));
        return (
          <li key={n}>
            <HistogramHeatmap items={at} label={t("run.galleryItem", { label: key, n: n + 1, count: places })} />
          </li>
        );
      })}
    </ul>
  );
}
