/**
 * Reports and their panels, as docs/collaboration.md (REPORTS_API contract) defines them: a report's
 * spec is markdown blocks and panel blocks; a panel block binds panels to run sets; the Bundle is
 * everything a report draws, resolved by the server (the one data path of the viewer, the editor's
 * preview, share links and the offline export).
 */
import type { components } from "../api/schema";

export const PANEL_KINDS = ["line", "bar", "scalar", "scatter", "parcoords", "media", "table", "markdown", "comparer", "importance", "histogram"] as const;
export type PanelKind = (typeof PANEL_KINDS)[number];

export interface Panel {
  id: string;
  kind: PanelKind;
  title: string;
  config: Record<string, unknown>;
}

export interface RunSet {
  id: string;
  name: string;
  /** The run-table filter language; "" is every run of the project. */
  filter: string;
  /** A fixed list of run ids instead of the filter (null: use the filter). */
  runs: string[] | null;
  group_by: string | null;
  colors: Record<string, string>;
  hidden: string[];
}

export interface MarkdownBlock {
  id: string;
  type: "markdown";
  text: string;
}

export interface PanelsBlock {
  id: string;
  type: "panels";
  runsets: RunSet[];
  panels: Panel[];
}

export type Block = MarkdownBlock | PanelsBlock;

export interface ReportSpec {
  blocks: Block[];
}

export interface Report {
  id: string;
  entity: string;
  project: string;
  title: string;
  description: string;
  spec: ReportSpec;
  status: "draft" | "published";
  version: number;
  published_version: number | null;
  pinned: boolean;
  created_by: string;
  created_at: number;
  updated_by: string;
  updated_at: number;
  /** Members only. The token itself is only in the answer that made it (tokens are stored hashed). */
  share: { prefix: string; created_at: number } | null;
}

export type ReportListItem = Pick<Report, "id" | "title" | "description" | "status" | "pinned" | "version" | "published_version" | "updated_by" | "updated_at">;

export interface BundleRun {
  id: string;
  name: string | null;
  state: string;
  color: string;
  group: string | null;
  job_type: string | null;
  tags: string[];
  config: Record<string, unknown>;
  summary: Record<string, unknown>;
  created_at: number;
  environment: { git_commit: string | null; git_diff_sha256: string | null; packages: Record<string, string> };
}

/** Points as the history route's JSON writes them: numbers, or "NaN" / "Infinity" / "-Infinity". */
export interface XY {
  x: (number | string)[];
  y: (number | string)[];
}

export interface MediaEntry {
  type: string | null;
  url_or_data: string | null;
  caption: string | null;
}

export interface Bundle {
  report: Report;
  runs: Record<string, BundleRun>;
  runsets: Record<string, string[]>;
  /** Line panels: panel id → run id → metric → points. */
  series: Record<string, Record<string, Record<string, XY>>>;
  media: Record<string, Record<string, { step: number; items: MediaEntry[] }>>;
  /** Importance panels: panel id → each config key's importance to the panel's metric. */
  importance: Record<string, ImportanceRating>;
  /** Histogram panels: panel id → run id → the key's logged steps (a `wandb.Histogram` stub each). */
  histograms: Record<string, Record<string, { step: number; value: Record<string, unknown> }[]>>;
  generated_at: number;
}

/** Config keys rated against a metric (the importance route's answer, and a bundle's per panel). */
export type ImportanceRating = Schemas["ProjectImportanceOut"];

/** One saved revision, as the server lists it (its schema needs no narrowing). */
export type Revision = Schemas["Revision"];

export interface ReportDiff {
  from: number;
  to: number;
  changes: { block_id: string; change: "added" | "removed" | "changed" | "moved"; before: Block | null; after: Block | null }[];
  title: { before: string; after: string } | null;
}

type Schemas = components["schemas"];
/** Holds only when `T` fits where the server's schema expects `U`. */
type Fits<T extends U, U> = T;
/**
 * These types are the server's (schema.d.ts, generated from its OpenAPI) with every default filled in,
 * as the server answers: a field renamed or retyped on either side fails the type check here.
 */
export type SchemaChecks = [
  Fits<Report, Schemas["Report"]>,
  Fits<ReportListItem, Schemas["ReportListed"]>,
  Fits<Bundle, Schemas["BundleOut"]>,
  Fits<Schemas["ReportListed"], ReportListItem>,
  Fits<Schemas["BundleRun"], BundleRun>,
  Fits<Schemas["MediaShown"], Bundle["media"][string][string]>,
];
