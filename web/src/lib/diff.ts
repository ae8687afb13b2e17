/** Nested objects as flat dotted keys, and the comparison of several runs' flattened values. */
import { formatValue } from "./format";

/** `{a: {b: 1}}` → `[["a.b", 1]]`. Media stubs (objects with `_type`) stay one value. */
export function flatten(value: Record<string, unknown>, prefix = "", out: [string, unknown][] = [], depth = 0): [string, unknown][] {
  for (const [k, v] of Object.entries(value)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v !== null && typeof v === "object" && !Array.isArray(v) && !("_type" in v) && Object.keys(v).length > 0 && depth < 8) {
      flatten(v as Record<string, unknown>, key, out, depth + 1);
    } else out.push([key, v]);
  }
  return out;
}

export interface DiffRow {
  key: string;
  /** One shown value per object ("–" where it has no such key). */
  values: string[];
  differs: boolean;
}

/** Every key of any of the objects, the keys whose values differ first, then A→Z. */
export function diffRows(objects: Record<string, unknown>[]): DiffRow[] {
  const flat = objects.map((o) => new Map(flatten(o)));
  const keys = [...new Set(flat.flatMap((m) => [...m.keys()]))];
  const rows = keys.map((key) => {
    const values = flat.map((m) => (m.has(key) ? formatValue(m.get(key)) : "–"));
    return { key, values, differs: new Set(values).size > 1 };
  });
  return rows.sort((a, b) => Number(b.differs) - Number(a.differs) || a.key.localeCompare(b.key));
}
