/** The run table's CSV download: every run the filter matches (all pages), the columns shown. */
import { useState } from "react";
import { useTranslation } from "react-i18next";
import type { ColumnSpec } from "../../components/RunTable";
import { fileStem, toCsv } from "../../lib/csv";
import { download } from "../../lib/download";
import { fetchAllRuns, tableCsvRows } from "../../lib/tableCsv";
import { errorMessage } from "../../i18n/errors";

export function TableExport({ entity, project, filter, order, columns }: { entity: string; project: string; filter: string; order: string; columns: ColumnSpec[] }) {
  const { t } = useTranslation();
  const [busy, setBusy] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);

  async function run() {
    setBusy(0);
    setError(null);
    try {
      const runs = await fetchAllRuns(entity, project, filter, order, setBusy);
      const { header, rows } = tableCsvRows(columns, runs);
      download(`${fileStem(`${entity}-${project}-runs`)}.csv`, toCsv(header, rows));
    } catch (e) {
      setError(t("exporting.failed", { message: errorMessage(e) }));
    } finally {
      setBusy(null);
    }
  }

  return (
    <>
      <button type="button" onClick={() => void run()} disabled={busy !== null} title={t("exporting.tableTitle")} data-testid="export-table">
        {busy !== null ? t("exporting.busy", { count: busy }) : t("exporting.table")}
      </button>
      {error && (
        <span role="alert" className="error">
          {error}
        </span>
      )}
    </>
  );
}
