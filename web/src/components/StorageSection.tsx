import { useTranslation } from "react-i18next";
import { usage } from "../api/endpoints";
import type { components } from "../api/schema";
import { errorMessage } from "../i18n/errors";
import { formatBytes } from "../lib/format";
import { useApi } from "../lib/useApi";

export type Quota = components["schemas"]["QuotaOut"];

/** "1.2 GB of 10.0 GB" (or "… of unlimited"): what a quota allows next to what is used. */
export function QuotaText({ used, limit, rows }: { used: number; limit: number | null; rows?: boolean }) {
  const { t } = useTranslation();
  const show = (n: number) => (rows ? t("storage.rows", { formatted: n.toLocaleString() }) : formatBytes(n));
  return <>{t("storage.of", { used: show(used), limit: limit === null ? t("storage.unlimited") : show(limit) })}</>;
}

/** Your storage usage and quota (the server refuses new data past it), and the entities you administer. */
export function StorageSection() {
  const { t } = useTranslation();
  const { data, error } = useApi(usage());
  const rows: Quota[] = data ? [data.user, ...data.entities] : [];
  return (
    <>
      <h2>{t("storage.title")}</h2>
      <p className="hint">{t("storage.help")}</p>
      {error && <p role="alert" className="error">{t("app.error", { message: errorMessage(error) })}</p>}
      {rows.length > 0 && (
        <table className="grid-table" data-testid="storage">
          <thead>
            <tr>
              <th scope="col">{t("storage.who")}</th>
              <th scope="col">{t("storage.files")}</th>
              <th scope="col">{t("storage.points")}</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((q) => (
              <tr key={`${q.kind}:${q.name}`}>
                <td>{q.kind === "user" ? t("storage.you") : t("storage.entity", { entity: q.name })}</td>
                <td><QuotaText used={q.bytes} limit={q.max_bytes} /></td>
                <td><QuotaText used={q.rows} limit={q.max_rows} rows /></td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
