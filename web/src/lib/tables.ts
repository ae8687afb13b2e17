/**
 * Logged tables (`wakelog.Table`): reading the table file, and sorting and filtering its rows.
 *
 * Rows are never copied: sorting and filtering work on arrays of row indices into `data`.
 */
import { formatValue, toNumber } from "./format";

export interface TableJson {
  columns: string[];
  data: unknown[][];
}

/**
 * A table file as JSON. The SDK writes NaN and ±Infinity as bare tokens (as Python's json does),
 * which JSON.parse refuses: in value position they become strings first.
 */
export function parseTableJson(text: string): TableJson {
  let out = "";
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (inString) {
      out += c;
      if (c === "\\") out += text[++i] ?? "";
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    const token = ["-Infinity", "Infinity", "NaN"].find((name) => text.startsWith(name, i));
    if (token) {
      out += `"${token}"`;
      i += token.length - 1;
      continue;
    }
    out += c;
  }
  return JSON.parse(out) as TableJson;
}

/**
 * Whether a column holds numbers: every present cell is a number or one of the NaN/±Infinity
 * strings the parser makes, and at least one is a real number (a text column that happens to
 * hold the word "NaN" stays text).
 */
export function isNumericColumn(data: unknown[][], column: number): boolean {
  let sawNumber = false;
  for (const row of data) {
    const cell = row[column];
    if (cell === null || cell === undefined) continue;
    if (typeof cell === "number") sawNumber = true;
    else if (toNumber(cell) === null) return false;
  }
  return sawNumber;
}

/** A cell as it is shown; numeric columns write NaN and ±Infinity as numbers (NaN, ∞, -∞). */
export function cellText(cell: unknown, numeric: boolean): string {
  return formatValue(numeric ? (toNumber(cell) ?? cell) : cell);
}

/** Order of kinds in a mixed column: numbers, then text, then booleans, then anything else. */
function rank(cell: unknown): number {
  if (typeof cell === "number") return 0;
  if (typeof cell === "string") return 1;
  if (typeof cell === "boolean") return 2;
  return 3;
}

/** Missing cells (null, absent, NaN in a numeric column) sort last in either direction. */
function isMissing(cell: unknown, numeric: boolean): boolean {
  return cell === null || cell === undefined || (numeric && Number.isNaN(toNumber(cell)));
}

function compareValues(a: unknown, b: unknown, numeric: boolean, collator: Intl.Collator): number {
  if (numeric) return (toNumber(a) as number) - (toNumber(b) as number) || 0;
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra - rb;
  if (ra === 0) return (a as number) - (b as number) || 0;
  if (ra === 2) return Number(a) - Number(b);
  return collator.compare(ra === 1 ? (a as string) : formatValue(a), ra === 1 ? (b as string) : formatValue(b));
}

export interface TableSort {
  column: number;
  desc: boolean;
}

/**
 * `rows` (indices into `data`) sorted by one column: numbers numerically (-∞ < … < ∞), text in
 * the collator's order, missing values last whichever the direction; ties keep their order.
 */
export function sortRows(data: unknown[][], rows: number[], sort: TableSort, collator: Intl.Collator): number[] {
  const numeric = isNumericColumn(data, sort.column);
  const sign = sort.desc ? -1 : 1;
  return [...rows].sort((i, j) => {
    const a = (data[i] as unknown[])[sort.column];
    const b = (data[j] as unknown[])[sort.column];
    const ma = isMissing(a, numeric);
    const mb = isMissing(b, numeric);
    if (ma || mb) return Number(ma) - Number(mb);
    return sign * compareValues(a, b, numeric, collator);
  });
}

/** Each row's shown text, lower-cased and joined, for filtering. */
export function searchTexts(data: unknown[][], numeric: boolean[], locale: string): string[] {
  return data.map((row) => row.map((cell, c) => cellText(cell, numeric[c] ?? false)).join("\u0000").toLocaleLowerCase(locale));
}

/** Indices of the rows whose text holds every word of `query` (in any of their columns). */
export function filterRows(texts: string[], query: string, locale: string): number[] {
  const words = query.toLocaleLowerCase(locale).split(/\s+/).filter(Boolean);
  const rows: number[] = [];
  texts.forEach((text, i) => {
    if (words.every((w) => text.includes(w))) rows.push(i);
  });
  return rows;
}
