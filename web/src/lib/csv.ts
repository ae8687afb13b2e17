/**
 * CSV files the app offers for download (a chart's data, the run table): RFC 4180 quoting, CRLF
 * line ends, and a UTF-8 byte-order mark so spreadsheet programs read Chinese names right.
 *
 * Text cells are defused against formula injection: a cell that starts with = + - @, a tab or a
 * carriage return would be run as a formula by a spreadsheet (a run named `=HYPERLINK(...)`), so it
 * gets a leading apostrophe, which spreadsheets show as text. Numbers are written as they are (a
 * negative number is data, not a formula).
 */
export type CsvCell = string | number | boolean | null | undefined;

const FORMULA_START = /^[=+\-@\t\r]/;

export function csvCell(value: CsvCell): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "number") return Number.isFinite(value) ? String(value) : Number.isNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity";
  let text = typeof value === "boolean" ? String(value) : value;
  if (FORMULA_START.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function toCsv(header: string[], rows: Iterable<CsvCell[]>): string {
  const lines = [header.map(csvCell).join(",")];
  for (const row of rows) lines.push(row.map(csvCell).join(","));
  return `\uFEFF${lines.join("\r\n")}\r\n`;
}

/** A file name part from a title: letters, digits, dot, dash and underscore only. */
export function fileStem(title: string): string {
  return title.replace(/[^\p{L}\p{N}._-]+/gu, "_").replace(/^_+|_+$/g, "") || "chart";
}
