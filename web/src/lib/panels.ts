/**
 * Which chart panels a project shows: derived from its metric keys, then edited and saved per
 * project — on the server for the signed-in user (it follows them between browsers), with a copy
 * in localStorage so the page draws the right panels before the server answers.
 */
import type { PanelSize } from "../components/MetricPanel";
import { parsePanelOptions, type ChartOptions } from "./chartOptions";
import { linePanelConfig } from "../panels/data";
import { addPanel, parsePanelSystem, type PanelSystem } from "./panelSections";

/** The metric panels removed, added and resized, and the panel system's sections and panels (lib/panelSections). */
export interface PanelLayout extends PanelSystem {
  removed: string[];
  added: string[];
  sizes: Record<string, PanelSize>;
  /** A panel's own chart options (metric key -> the fields it overrides); absent in layouts saved before them. */
  options?: Record<string, Partial<ChartOptions>>;
}

export const EMPTY_LAYOUT: PanelLayout = { removed: [], added: [], sizes: {}, sections: [], panels: [] };

/** Each panel's options checked; a panel left with none is dropped, and the field with no panel left. */
function withOptions(layout: PanelLayout, value: unknown): PanelLayout {
  const options = parseOptions(value);
  return Object.keys(options).length > 0 ? { ...layout, options } : layout;
}

function parseOptions(value: unknown): Record<string, Partial<ChartOptions>> {
  const out: Record<string, Partial<ChartOptions>> = {};
  if (!value || typeof value !== "object" || Array.isArray(value)) return out;
  for (const [key, raw] of Object.entries(value)) {
    const own = parsePanelOptions(raw);
    if (Object.keys(own).length > 0) out[key] = own;
  }
  return out;
}

export function loadLayout(project: string): PanelLayout {
  try {
    const raw = localStorage.getItem(`wakelog.panels.${project}`);
    return (raw && parseLayout(JSON.parse(raw))) || EMPTY_LAYOUT;
  } catch {
    return EMPTY_LAYOUT;
  }
}

/** A layout from the server (or anything else), with every field checked. */
export function parseLayout(value: unknown): PanelLayout | null {
  if (!value || typeof value !== "object") return null;
  const raw = value as Partial<PanelLayout>;
  const strings = (list: unknown): string[] => (Array.isArray(list) ? list.filter((x): x is string => typeof x === "string") : []);
  const sizes: Record<string, PanelSize> = {};
  if (raw.sizes && typeof raw.sizes === "object") {
    for (const [key, size] of Object.entries(raw.sizes)) if (size === "s" || size === "m" || size === "l") sizes[key] = size;
  }
  return withOptions({ removed: strings(raw.removed), added: strings(raw.added), sizes, ...parsePanelSystem(raw) }, raw.options);
}

export function saveLayout(project: string, layout: PanelLayout): void {
  try {
    localStorage.setItem(`wakelog.panels.${project}`, JSON.stringify(layout));
  } catch {
    // storage may be full or disabled: the layout just is not kept
  }
}

/** The section of a metric: its prefix before the first "/" (`train/loss` → `train`). */
export function sectionOf(key: string): string {
  const slash = key.indexOf("/");
  return slash > 0 ? key.slice(0, slash) : "";
}

/** Metric keys grouped into sections, in a stable order: unprefixed metrics first, then sections A→Z. */
export function sections(keys: string[]): [string, string[]][] {
  const map = new Map<string, string[]>();
  for (const key of [...keys].sort()) {
    const s = sectionOf(key);
    const list = map.get(s);
    if (list) list.push(key);
    else map.set(s, [key]);
  }
  return [...map.entries()].sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a.localeCompare(b)));
}

/** The metrics the workspace draws a panel for: every metric key and the added ones, less the removed. */
export function shownPanelKeys(metricKeys: readonly string[], layout: Pick<PanelLayout, "removed" | "added" | "sizes">): string[] {
  const removed = new Set(layout.removed);
  const all = [...metricKeys, ...layout.added.filter((k) => !metricKeys.includes(k))];
  return all.filter((k) => !removed.has(k));
}

/** A metric's automatic chart moved into one of the user's sections (`section`): a line panel there
 * (`id`) drawing the metric against `xAxis`, with the chart's size, smoothing and log scale, and the
 * automatic chart removed ("Reset panels" brings it back; the line panel stays until deleted). */
export function moveMetricToSection(layout: PanelLayout, metric: string, section: string, id: string, xAxis: string): PanelLayout {
  const own = layout.options?.[metric] ?? {};
  const config: Record<string, unknown> = linePanelConfig(metric, xAxis);
  if (own.smoothing !== undefined) config.smoothing = { kind: own.smoothKind ?? "ema", weight: own.smoothing };
  if (own.logY !== undefined) config.log_y = own.logY;
  const moved = addPanel(layout, { id, kind: "line", title: metric, section, size: layout.sizes[metric] ?? "m", config });
  return { ...moved, removed: [...layout.removed.filter((k) => k !== metric), metric] };
}
