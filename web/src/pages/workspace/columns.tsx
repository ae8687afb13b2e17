/**
 * The run table's columns: the base ones not taken out, then the added config and summary columns;
 * and how a column maps to the server's sort key and back.
 */
import { useMemo } from "react";
import { useTranslation } from "react-i18next";
import { seg } from "../../api/client";
import { StateBadge, Tags } from "../../components/cells";
import type { ColumnSpec } from "../../components/RunTable";
import { formatField } from "../../lib/filterBuilder";
import { formatDuration, formatTime, formatValue } from "../../lib/format";
import { configValue, summaryLabel, summaryValue } from "../../lib/runs";
import { runLabel } from "./useRunSelection";

export const BASE_COLUMNS = ["name", "state", "tags", "group", "job_type", "user", "created_at", "runtime"] as const;
export type BaseColumn = (typeof BASE_COLUMNS)[number];

export function isBaseColumn(id: string): id is BaseColumn {
  return (BASE_COLUMNS as readonly string[]).includes(id);
}

/** The server's sort key for a column id. */
export function sortKeyOf(id: string): string | undefined {
  if (id === "name" || id === "state" || id === "group" || id === "job_type" || id === "created_at" || id === "runtime") return id;
  if (id.startsWith("config:")) return formatField(["config", ...id.slice(7).split(".")]);
  if (id.startsWith("summary:")) return formatField(["summary", id.slice(8)]);
  return undefined;
}

/** The sorted column of an `order` parameter. */
export function parseOrder(order: string): { id: string; desc: boolean } | null {
  if (!order) return null;
  const desc = order.startsWith("-");
  const key = desc ? order.slice(1) : order;
  if (key.startsWith("config.")) return { id: `config:${key.slice(7).replaceAll("`", "")}`, desc };
  if (key.startsWith("summary.")) return { id: `summary:${key.slice(8).replaceAll("`", "")}`, desc };
  return { id: key, desc };
}

export function useRunColumns(entity: string, project: string, extraColumns: string[], hiddenColumns: Set<string>): ColumnSpec[] {
  const { t } = useTranslation();
  return useMemo<ColumnSpec[]>(() => {
    const specs: Record<BaseColumn, ColumnSpec> = {
      name: {
        id: "name",
        header: t("columns.name"),
        width: 200,
        sortKey: "name",
        render: (r) => (
          <a href={`/${seg(entity)}/${seg(project)}/runs/${seg(r.id)}`} className="run-link" data-spa="">
            {runLabel(r)}
          </a>
        ),
        text: (r) => `${runLabel(r)} (${r.id})`,
      },
      state: {
        id: "state",
        header: t("columns.state"),
        width: 100,
        sortKey: "state",
        render: (r) => <StateBadge state={r.state} />,
      },
      tags: { id: "tags", header: t("columns.tags"), width: 130, render: (r) => <Tags tags={r.tags} />, text: (r) => r.tags.join(", ") },
      group: { id: "group", header: t("columns.group"), width: 110, sortKey: "group", render: (r) => r.group ?? "", text: (r) => r.group ?? "" },
      job_type: { id: "job_type", header: t("columns.job_type"), width: 100, sortKey: "job_type", render: (r) => r.job_type ?? "" },
      user: { id: "user", header: t("columns.user"), width: 90, render: (r) => r.user ?? "" },
      created_at: { id: "created_at", header: t("columns.created"), width: 160, sortKey: "created_at", render: (r) => formatTime(r.created_at) },
      runtime: { id: "runtime", header: t("columns.duration"), width: 90, sortKey: "runtime", numeric: true, render: (r) => formatDuration(r.runtime) },
    };
    const out: ColumnSpec[] = BASE_COLUMNS.filter((id) => !hiddenColumns.has(id)).map((id) => specs[id]);
    for (const col of extraColumns) {
      if (col.startsWith("config:")) {
        const path = col.slice(7);
        out.push({ id: col, header: path, width: 110, sortKey: sortKeyOf(col), numeric: true, render: (r) => formatValue(configValue(r.config, path)), text: (r) => formatValue(configValue(r.config, path)) });
      } else if (col.startsWith("summary:")) {
        const key = col.slice(8);
        out.push({ id: col, header: summaryLabel(key), width: 110, sortKey: sortKeyOf(col), numeric: true, render: (r) => formatValue(summaryValue(r.summary, key)), text: (r) => formatValue(summaryValue(r.summary, key)) });
      }
    }
    return out;
  }, [t, entity, project, extraColumns, hiddenColumns]);
}
