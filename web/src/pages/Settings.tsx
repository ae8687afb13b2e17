import { useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { Link } from "react-router";
import { apiKeys, createApiKey, revokeApiKey } from "../api/endpoints";
import { LanguageSelect } from "../components/LanguageSelect";
import { StorageSection } from "../components/StorageSection";
import { TeamsSection } from "../components/TeamsSection";
import { errorMessage } from "../i18n/errors";
import { formatTime } from "../lib/format";
import { useApi } from "../lib/useApi";

export function SettingsPage() {
  const { t } = useTranslation();
  const { data, error, reload } = useApi(apiKeys());
  const [name, setName] = useState("");
  const [created, setCreated] = useState<string | null>(null);
  const [failure, setFailure] = useState<string | null>(null);

  async function create(event: FormEvent) {
    event.preventDefault();
    setFailure(null);
    try {
      const key = await createApiKey(name);
      setCreated(key.key ?? null);
      setName("");
      reload();
    } catch (e) {
      setFailure(errorMessage(e));
    }
  }

  async function revoke(prefix: string) {
    if (!window.confirm(t("settings.confirmRevoke", { prefix }))) return;
    setFailure(null);
    try {
      await revokeApiKey(prefix);
      reload();
    } catch (e) {
      setFailure(errorMessage(e));
    }
  }

  return (
    <section className="page narrow">
      <h1>{t("settings.title")}</h1>
      <h2>{t("settings.language")}</h2>
      <LanguageSelect />
      <h2>{t("notifications.title")}</h2>
      <p>
        <Link to="/settings/notifications">{t("notifications.settingsLink")}</Link>
      </p>
      <h2>{t("settings.keys")}</h2>
      <p className="hint">{t("settings.keysHelp")}</p>
      <form className="inline-form" onSubmit={(e) => void create(e)}>
        <label>
          {t("settings.keyName")}
          <input value={name} maxLength={100} onChange={(e) => setName(e.target.value)} />
        </label>
        <button type="submit" className="primary">
          {t("settings.create")}
        </button>
      </form>
      {created && (
        <p className="notice" role="status">
          {t("settings.created")} <code data-testid="new-key">{created}</code>
        </p>
      )}
      {(error || failure) && <p role="alert" className="error">{t("app.error", { message: failure ?? (error ? errorMessage(error) : "") })}</p>}
      {data && data.keys.length === 0 && <p>{t("settings.none")}</p>}
      {data && data.keys.length > 0 && (
        <table className="grid-table" data-testid="keys">
          <thead>
            <tr>
              <th scope="col">{t("settings.prefix")}</th>
              <th scope="col">{t("settings.name")}</th>
              <th scope="col">{t("settings.createdAt")}</th>
              <th scope="col">{t("settings.lastUsed")}</th>
              <th scope="col">{t("settings.status")}</th>
              <th scope="col"><span className="sr-only">{t("settings.revoke")}</span></th>
            </tr>
          </thead>
          <tbody>
            {data.keys.map((k) => (
              <tr key={k.prefix}>
                <td><code>{k.prefix}…</code></td>
                <td>{k.name}</td>
                <td>{formatTime(k.created_at)}</td>
                <td>{formatTime(k.last_used_at)}</td>
                <td>{k.revoked ? t("settings.revoked") : t("settings.active")}</td>
                <td>
                  {!k.revoked && (
                    <button type="button" onClick={() => void revoke(k.prefix)} aria-label={`${t("settings.revoke")} ${k.prefix}`}>
                      {t("settings.revoke")}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <StorageSection />
      <TeamsSection />
    </section>
  );
}
