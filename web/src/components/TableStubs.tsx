/**
 * Tables logged in more than one file: an INCREMENTAL table (each log wrote only its new rows; shown
 * is the union of the increments up to the one selected) and a JoinedTable (two tables and the
 * column(s) they join on; shown is their inner join).
 */
import { useEffect, useMemo, useState } from "react";
import { useTranslation } from "react-i18next";
import { runFileUrl } from "../api/endpoints";
import type { RunRef } from "../api/types";
import { parseTableJson, type TableJson } from "../lib/tables";
import { MediaTable } from "./MediaTable";

type Stub = Record<string, unknown>;

/** The table files at `paths`, their rows concatenated (columns from the first); null while loading. */
export function useTableFiles(runRef: RunRef, paths: string[]): [TableJson | null, TableJson[]] {
  const [tables, setTables] = useState<TableJson[] | null>(null);
  const key = paths.join("\n");
  useEffect(() => {
    let live = true;
    setTables(null);
    void Promise.all(
      key
        .split("\n")
        .filter(Boolean)
        .map((path) => {
          const url = runFileUrl(runRef, path);
          if (!url) return Promise.resolve<TableJson>({ columns: [], data: [] });
          return fetch(url, { credentials: "same-origin" })
            .then(async (r) => (r.ok ? parseTableJson(await r.text()) : { columns: [], data: [] }))
            .catch(() => ({ columns: [], data: [] }));
        }),
    ).then((all) => live && setTables(all));
    return () => {
      live = false;
    };
  }, [runRef, key]);
  const union = useMemo(() => (tables ? { columns: tables[0]?.columns ?? [], data: tables.flatMap((t) => t.data) } : null), [tables]);
  return [union, tables ?? []];
}

export function IncrementalTable({ stub, runRef, label }: { stub: Stub; runRef: RunRef; label: string }) {
  const { t } = useTranslation();
  const paths = useMemo(() => {
    const earlier = Array.isArray(stub.previous_increments_paths) ? stub.previous_increments_paths.filter((p): p is string => typeof p === "string") : [];
    return typeof stub.path === "string" ? [...earlier, stub.path] : earlier;
  }, [stub]);
  const [table] = useTableFiles(runRef, paths);
  if (!table) return <p role="status">{t("app.loading")}</p>;
  return (
    <div>
      <p className="muted" data-testid="increments">
        {t("plots.increments", { count: paths.length })}
      </p>
      <MediaTable table={table} runRef={runRef} label={label} />
    </div>
  );
}

/** Rows of `left` joined with every row of `right` whose key cell has the same text. */
export function innerJoin(left: TableJson, right: TableJson, leftKey: string, rightKey: string): TableJson {
  const li = left.columns.indexOf(leftKey);
  const ri = right.columns.indexOf(rightKey);
  if (li < 0 || ri < 0) return { columns: [], data: [] };
  const keep = right.columns.map((_, i) => i).filter((i) => i !== ri);
  const byKey = new Map<string, unknown[][]>();
  for (const row of right.data) {
    const k = JSON.stringify(row[ri]);
    const list = byKey.get(k);
    if (list) list.push(row);
    else byKey.set(k, [row]);
  }
  const data = left.data.flatMap((row) => (byKey.get(JSON.stringify(row[li])) ?? []).map((other) => [...row, ...keep.map((i) => other[i])]));
  const names = new Set(left.columns);
  const columns = [...left.columns, ...keep.map((i) => (names.has(right.columns[i] as string) ? `${right.columns[i]} (2)` : (right.columns[i] as string)))];
  return { columns, data };
}

export function JoinedTableView({ stub, runRef, label }: { stub: Stub; runRef: RunRef; label: string }) {
  const { t } = useTranslation();
  const path = (part: unknown) => (part && typeof (part as Stub).path === "string" ? ((part as Stub).path as string) : "");
  const paths = useMemo(() => [path(stub.table1), path(stub.table2)], [stub]);
  const [, tables] = useTableFiles(runRef, paths);
  const keys = Array.isArray(stub.join_key) ? stub.join_key.map(String) : [String(stub.join_key), String(stub.join_key)];
  const [leftKey = "", rightKey = ""] = keys;
  const joined = useMemo(() => (tables.length === 2 ? innerJoin(tables[0] as TableJson, tables[1] as TableJson, leftKey, rightKey) : null), [tables, leftKey, rightKey]);
  if (!joined) return <p role="status">{t("app.loading")}</p>;
  return (
    <div>
      <p className="muted" data-testid="join">
        {t("plots.joinedOn", { left: leftKey, right: rightKey })}
      </p>
      <MediaTable table={joined} runRef={runRef} label={label} />
    </div>
  );
}
