/**
 * The run table as CSV: the columns shown, for every run the filter matches in the table's order,
 * not only the rows loaded so far (the runs are fetched again a page at a time, each after the
 * API's `next_cursor` of the one before). Cells hold the data, not its display: times in ISO 8601 (UTC), durations in
 * seconds, config and summary values unrounded (objects as JSON).
 */
import { load, runPage } from "../api/endpoints";
import type { Run } from "../api/types";
import type { CsvCell } from "./csv";
import { configValue, PAGE_SIZE, summaryValue } from "./runs";

export async function fetchAllRuns(entity: string, project: string, filter: string, order: string, onProgress?: (count: number) => void): Promise<Run[]> {
  const runs: Run[] = [];
  const query = { filter: filter || undefined, order: order || undefined, limit: PAGE_SIZE };
  // Each page after the last one's cursor: the server never reads through the pages before it.
  let after: string | null | undefined;
  do {
    const answer: { runs: Run[]; next_cursor?: string | null } = await load(runPage(entity, project, after ? { ...query, after } : query));
    runs.push(...answer.runs);
    onProgress?.(runs.length);
    after = answer.runs.length > 0 ? answer.next_cursor : null;
  } while (after);
  return runs;
}

const iso = (seconds: number | null | undefined): string => (seconds == null ? "" : new Date(seconds * 1000).toISOString());

function plain(value: unknown): CsvCell {
  if (value === null || value === undefined) return null;
  if (typeof value === "number" || typeof value === "string" || typeof value === "boolean") return value;
  return JSON.stringify(value);
}

/** The header of a column id in the file: config and summary columns keep their prefix. */
export function csvHeader(id: string, shown: string): string {
  if (id.startsWith("config:")) return `config.${id.slice(7)}`;
  if (id.startsWith("summary:")) return `summary.${id.slice(8)}`;
  return shown;
}

/** A run's cell for a column id of the table (workspace/columns.tsx). */
export function runCell(id: string, run: Run): CsvCell {
  switch (id) {
    case "name":
      return run.name ?? run.id;
    case "state":
      return run.state;
    case "tags":
      return run.tags.join(", ");
    case "group":
      return run.group;
    case "job_type":
      return run.job_type;
    case "user":
      return run.user;
    case "created_at":
      return iso(run.created_at);
    case "runtime":
      return run.runtime;
  }
  if (id.startsWith("config:")) return plain(configValue(run.config, id.slice(7)));
  if (id.startsWith("summary:")) return plain(summaryValue(run.summary, id.slice(8)));
  return null;
}

/** Header and rows: the run's id follows its name, so every row says which run it is. */
export function tableCsvRows(columns: { id: string; header: string }[], runs: Run[]): { header: string[]; rows: CsvCell[][] } {
  const header: string[] = [];
  for (const c of columns) {
    header.push(csvHeader(c.id, c.header));
    if (c.id === "name") header.push("id");
  }
  const rows = runs.map((run) => columns.flatMap((c) => (c.id === "name" ? [runCell(c.id, run), run.id] : [runCell(c.id, run)])));
  return { header, rows };
}
