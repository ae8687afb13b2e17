/** An entity's projects in the trash, when each is purged for good, and (for its admins) a way back. */
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { projectTrash, restoreProject } from "../api/endpoints";
import { errorMessage } from "../i18n/errors";
import { canAdmin } from "../lib/access";
import { useApi } from "../lib/useApi";
import { useSession } from "../session";
import { TrashTable } from "./TrashTable";

export function ProjectTrash({ entity, onRestored }: { entity: string; onRestored: () => void }) {
  const { t } = useTranslation();
  const { me } = useSession();
  const trash = useApi(projectTrash(entity));
  const [error, setError] = useState<string | null>(null);
  const admin = canAdmin(me, entity);
  const restore = async (project: string) => {
    setError(null);
    try {
      await restoreProject(entity, project);
      trash.reload();
      onRestored();
    } catch (e) {
      setError(errorMessage(e));
    }
  };
  // Nothing to show while the trash is empty (or unreadable: the projects list says why).
  if (!trash.data?.length && !error) return null;
  return (
    <section aria-labelledby="project-trash-h" className="project-trash">
      <h2 id="project-trash-h">{t("project.trash")}</h2>
      <p className="muted">{t("project.trashHelp")}</p>
      {error && <p role="alert" className="error">{error}</p>}
      {!!trash.data?.length && (
        <TrashTable
          testId="project-trash"
          columns={[t("projects.name")]}
          items={trash.data.map((p) => ({
            key: p.name,
            cells: [p.name],
            deletedAt: p.deleted_at,
            purgeAt: p.purge_at,
            restoreLabel: t("project.restoreProject", { project: p.name }),
          }))}
          onRestore={admin ? (name) => void restore(name) : undefined}
        />
      )}
    </section>
  );
}
