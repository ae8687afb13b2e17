/** A project's trash: its deleted runs, when each is purged for good, and a way back. */
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { useParams } from "react-router";
import { restoreRun, runTrash } from "../api/endpoints";
import { errorMessage } from "../i18n/errors";
import { TrashTable } from "../components/TrashTable";
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
        <TrashTable
          testId="trash"
          columns={[t("manage.name"), t("run.id")]}
          items={trash.data.map((run) => ({
            key: run.id,
            cells: [run.name ?? run.id, <code key="id">{run.id}</code>],
            deletedAt: run.deleted_at,
            purgeAt: run.purge_at,
            restoreLabel: t("manage.restoreRun", { run: run.name ?? run.id }),
          }))}
          onRestore={(runId) => void restore(runId)}
        />
      )}
    </section>
  );
}
