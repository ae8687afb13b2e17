/**
 * The audit trail: who changed what, when, before → after. Server admins see every entry (/audit),
 * an entity's admins that entity's (/audit/:entity). Newest first, a page at a time; the whole log
 * downloads as JSON Lines.
 */
import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { useParams } from "react-router";
import { auditLog, load } from "../api/endpoints";
import { errorMessage } from "../i18n/errors";
import { formatTime } from "../lib/format";

type Page = Awaited<ReturnType<typeof load<NonNullable<ReturnType<typeof auditLog>["answer"]>>>>;
type Entry = Page["entries"][number];

const short = (value: unknown) => (value === null || value === undefined ? "–" : JSON.stringify(value));

export function AuditPage() {
  const { t } = useTranslation();
  const { entity = null } = useParams();
  const [entries, setEntries] = useState<Entry[]>([]);
  const [next, setNext] = useState<number | null | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);

  const more = (before?: number) =>
    load(auditLog(entity, before))
      .then((page) => {
        setEntries((old) => (before ? [...old, ...page.entries] : page.entries));
        setNext(page.next_before);
      })
      .catch((e: unknown) => setError(errorMessage(e)));
  useEffect(() => {
    void more();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [entity]);

  const exportUrl = entity ? `/api/v1/entities/${encodeURIComponent(entity)}/audit/export` : "/api/v1/audit/export";
  return (
    <section className="page" data-testid="audit-page">
      <div className="page-head">
        <h1>{entity ? t("audit.titleOf", { entity }) : t("audit.title")}</h1>
        <a href={exportUrl} download>
          {t("audit.export")}
        </a>
      </div>
      {error && <p role="alert" className="error">{error}</p>}
      {next !== undefined && entries.length === 0 && <p className="muted">{t("audit.empty")}</p>}
      {entries.length > 0 && (
        <table className="grid-table" data-testid="audit">
          <thead>
            <tr>
              <th scope="col">{t("audit.when")}</th>
              <th scope="col">{t("audit.who")}</th>
              <th scope="col">{t("audit.action")}</th>
              <th scope="col">{t("audit.target")}</th>
              <th scope="col">{t("audit.before")}</th>
              <th scope="col">{t("audit.after")}</th>
            </tr>
          </thead>
          <tbody>
            {entries.map((e) => (
              <tr key={e.id}>
                <td>{formatTime(e.time)}</td>
                <td>{e.actor}</td>
                <td>
                  <code>{e.action}</code>
                </td>
                <td>{e.target}</td>
                <td className="audit-value">{short(e.before)}</td>
                <td className="audit-value">{short(e.after)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {next != null && (
        <button type="button" onClick={() => void more(next)}>
          {t("audit.more")}
        </button>
      )}
    </section>
  );
}
