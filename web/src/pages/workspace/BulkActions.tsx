/** What to do with the selected runs at once: tag, untag, move to another project, delete. */
import { useId, useState } from "react";
import { useTranslation } from "react-i18next";
import { bulkRuns, type BulkAction } from "../../api/endpoints";
import { parseTags } from "../../components/RunEditor";
import { errorMessage } from "../../i18n/errors";

interface Props {
  entity: string;
  project: string;
  runIds: string[];
  /** After a change: reload the table; ``removed`` when the runs left it (deleted, moved). */
  onDone: (removed: boolean) => void;
}

export function BulkActions({ entity, project, runIds, onDone }: Props) {
  const { t } = useTranslation();
  const ids = useId();
  const [tags, setTags] = useState("");
  const [target, setTarget] = useState("");
  const [message, setMessage] = useState<{ text: string; error: boolean } | null>(null);

  const run = async (body: BulkAction, removed: boolean) => {
    try {
      const done = await bulkRuns(entity, project, body);
      setMessage({ text: t("manage.changed", { count: done?.changed.length ?? 0 }), error: false });
      onDone(removed);
    } catch (e) {
      setMessage({ text: errorMessage(e), error: true });
    }
  };
  const none = runIds.length === 0;
  return (
    <div className="bulk-actions" role="group" aria-label={t("manage.bulk", { count: runIds.length })}>
      <label htmlFor={`${ids}-tags`} className="sr-only">
        {t("manage.tags")}
      </label>
      <input id={`${ids}-tags`} placeholder={t("manage.tags")} value={tags} onChange={(e) => setTags(e.target.value)} size={14} />
      <button type="button" disabled={none || !parseTags(tags).length} onClick={() => void run({ action: "tag", runs: runIds, tags: parseTags(tags) }, false)}>
        {t("manage.tag")}
      </button>
      <button type="button" disabled={none || !parseTags(tags).length} onClick={() => void run({ action: "untag", runs: runIds, tags: parseTags(tags) }, false)}>
        {t("manage.untag")}
      </button>
      <label htmlFor={`${ids}-to`} className="sr-only">
        {t("manage.moveTo")}
      </label>
      <input id={`${ids}-to`} placeholder={t("manage.moveTo")} value={target} onChange={(e) => setTarget(e.target.value)} size={16} />
      <button type="button" disabled={none || !target.includes("/")} onClick={() => void run({ action: "move", runs: runIds, to: target }, true)}>
        {t("manage.move")}
      </button>
      <button
        type="button"
        className="danger"
        disabled={none}
        onClick={() => window.confirm(t("manage.confirmBulkDelete", { count: runIds.length })) && void run({ action: "delete", runs: runIds }, true)}
      >
        {t("manage.delete")}
      </button>
      {message && (
        <span role={message.error ? "alert" : "status"} className={message.error ? "error" : "muted"}>
          {message.text}
        </span>
      )}
    </div>
  );
}
