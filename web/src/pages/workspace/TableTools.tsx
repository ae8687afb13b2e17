/** The tools above the run table: counts, hide/show runs, the selection, group by, add and hide columns, CSV export. */
import { useId } from "react";
import { useTranslation } from "react-i18next";
import type { ColumnSpec } from "../../components/RunTable";
import { NO_GROUPING } from "../../lib/grouping";
import { withRunsHidden } from "../../lib/hiddenRuns";
import { summaryLabel } from "../../lib/runs";
import { writeList } from "../../lib/urlState";
import { BulkActions } from "./BulkActions";
import { isBaseColumn } from "./columns";
import { TableExport } from "./TableExport";
import { AUTO_SELECTED, type RunSelection } from "./useRunSelection";
import type { WorkspaceUrl } from "./useWorkspaceUrl";

interface Props {
  entity: string;
  project: string;
  /** The table changed on the server (a bulk action): load it again. */
  onChanged: () => void;
  url: WorkspaceUrl;
  selection: RunSelection;
  columns: ColumnSpec[];
  shownCount: number;
  total: number;
  configKeys: string[];
  /** Summary fields, `define_metric` views as `eval/acc.max`. */
  summaryKeys: string[];
}

export function TableTools({ entity, project, onChanged, url, selection, columns, shownCount, total, configKeys, summaryKeys }: Props) {
  const { t } = useTranslation();
  const groupId = useId();
  const columnId = useId();
  const { hidden, hiddenColumns, extraColumns, setParams } = url;
  const { selectedIds, setHidden } = selection;
  return (
    <div className="table-tools">
      <span data-testid="run-count">{t("workspace.count", { shown: shownCount, total })}</span>
      <span>{t("workspace.selected", { count: selectedIds.length })}</span>
      <button type="button" disabled={selectedIds.every((id) => hidden.has(id))} onClick={() => setHidden(withRunsHidden(hidden, selectedIds, true))}>
        {t("workspace.hideSelected")}
      </button>
      {hidden.size > 0 && (
        <button type="button" onClick={() => setHidden(new Set())}>
          {t("workspace.showAll", { count: hidden.size })}
        </button>
      )}
      {url.explicitSelection && (
        <button type="button" onClick={() => setParams({ sel: null })}>
          {t("workspace.selectVisible", { count: AUTO_SELECTED })}
        </button>
      )}
      {url.explicitSelection && (
        <BulkActions
          entity={entity}
          project={project}
          runIds={selectedIds}
          onDone={(removed) => {
            if (removed) setParams({ sel: null });
            onChanged();
          }}
        />
      )}
      <label htmlFor={groupId}>{t("workspace.groupBy")}</label>
      <select id={groupId} value={url.groupBy} onChange={(e) => setParams({ group: e.target.value || NO_GROUPING })}>
        <option value="">{t("workspace.noGroup")}</option>
        <option value="group">{t("columns.group")}</option>
        <option value="job_type">{t("columns.job_type")}</option>
        <option value="tags">{t("columns.tags")}</option>
        <option value="state">{t("columns.state")}</option>
        {configKeys.map((k) => (
          <option key={k} value={`config:${k}`}>
            config.{k}
          </option>
        ))}
      </select>
      <label htmlFor={columnId}>{t("workspace.addColumn")}</label>
      <select
        id={columnId}
        value=""
        data-testid="add-column"
        onChange={(e) => {
          const v = e.target.value;
          if (!v) return;
          if (isBaseColumn(v)) {
            setParams({ hide: writeList([...hiddenColumns].filter((c) => c !== v)) || null });
          } else if (!extraColumns.includes(v)) setParams({ cols: writeList([...extraColumns, v]) });
        }}
      >
        <option value="">{t("workspace.columns")}…</option>
        {[...hiddenColumns].map((c) => (
          <option key={c} value={c}>
            {t(`columns.${c === "created_at" ? "created" : c === "runtime" ? "duration" : c}`)}
          </option>
        ))}
        <optgroup label="config">
          {configKeys.map((k) => (
            <option key={k} value={`config:${k}`}>
              config.{k}
            </option>
          ))}
        </optgroup>
        <optgroup label="summary">
          {summaryKeys.map((k) => (
            <option key={k} value={`summary:${k}`}>
              summary.{summaryLabel(k)}
            </option>
          ))}
        </optgroup>
      </select>
      {columns.length > 1 && (
        <ColumnHider
          columns={columns}
          onHide={(id) =>
            id.includes(":")
              ? setParams({ cols: writeList(extraColumns.filter((c) => c !== id)) || null })
              : setParams({ hide: writeList([...hiddenColumns, id]) })
          }
        />
      )}
      <TableExport entity={entity} project={project} filter={url.filter} order={url.order} columns={columns} />
    </div>
  );
}

function ColumnHider({ columns, onHide }: { columns: ColumnSpec[]; onHide: (id: string) => void }) {
  const { t } = useTranslation();
  const id = useId();
  return (
    <>
      <label htmlFor={id} className="sr-only">
        {t("columns.hide")}
      </label>
      <select id={id} value="" onChange={(e) => e.target.value && onHide(e.target.value)} data-testid="hide-column">
        <option value="">{t("columns.hide")}…</option>
        {columns
          .filter((c) => c.id !== "name")
          .map((c) => (
            <option key={c.id} value={c.id}>
              {c.header}
            </option>
          ))}
      </select>
    </>
  );
}
