/** A project's trash: its deleted runs, when each is purged for good, and a way back. */
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { useParams } from "react-router";
import { restoreRun, runTrash } from "../api/endpoints";
import { errorMessage } from "../i18n/errors";
import { formatTime } from "../lib/format";
import { useApi } from "../lib/useApi";

export function TrashPage() {
  const { t } = useTranslation();
  const { entity = "", project = "" } = useParams();
  const trash = useApi(runTrash(entity, project));
  const [error, setError] = useState<string | null>(null);
  const restore = async (runId: string) => {
    try {
      await restoreRun({ entity, project, run_id: runId });
      trash.reload();
    } catch (e) {
      setError(errorMessage(e));
    }
  };
  return (
    <section className="page" data-testid="trash-page">
      <div className="page-head">
        <h1>{t("manage.trashOf", { project })}</h1>
      </div>
      <p className="muted">{t("manage.trashHelp")}</p>
      {(trash.error || error) && <p role="alert" className="error">{error ?? t("app.error", { message: errorMessage(trash.error) })}</p>}
      {trash.data?.length === 0 && <p className="muted">{t("manage.trashEmpty")}</p>}
      {!!trash.data?.length && (
        <table className="grid-table" data-testid="trash">
          <thead>
            <tr>
              <th scope="col">{t("manage.name")}</th>
              <th scope="col">{t("run.id")}</th>
              <th scope="col">{t("manage.deleted")}</th>
              <th scope="col">{t("manage.purged")}</th>
              <th scope="col">
                <span className="sr-only">{t("manage.restore")}</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {trash.data.map((run) => (
              <tr key={run.id}>
                <td>{run.name ?? run.id}</td>
                <td>
                  <code>{run.id}</code>
                </td>
                <td>{formatTime(run.deleted_at)}</td>
                <td>{formatTime(run.purge_at)}</td>
                <td>
                  <button type="button" onClick={() => void restore(run.id)} aria-label={t("manage.restoreRun", { run: run.name ?? run.id })}>
                    {t("manage.restore")}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
