import { useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { ApiError } from "../api/client";
import { login } from "../api/endpoints";
import type { Me } from "../api/types";
import { LanguageSelect } from "../components/LanguageSelect";
import { ThemeSelect } from "../components/ThemeSelect";
import { TabList } from "../components/TabList";
import { errorMessage } from "../i18n/errors";

export function SignInPage({ onSignedIn }: { onSignedIn: (me: Me) => void }) {
  const { t } = useTranslation();
  const [mode, setMode] = useState<"password" | "key">("password");
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [apiKey, setApiKey] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const body = mode === "password" ? { username, password } : { api_key: apiKey.trim() };
      const answer = await login(body);
      onSignedIn({ ...answer.user, csrf_token: answer.csrf_token });
    } catch (e) {
      if (e instanceof ApiError && e.status === 429) setError(t("login.throttled", { detail: e.message }));
      else if (e instanceof ApiError && (e.status === 401 || e.status === 422)) setError(t("login.failed"));
      else setError(t("app.error", { message: errorMessage(e) }));
    } finally {
      setBusy(false);
    }
  }

  return (
    <main id="main" className="signin">
      <div className="signin-lang">
        <LanguageSelect />
        <ThemeSelect />
      </div>
      <form className="card signin-card" onSubmit={(e) => void submit(e)} aria-labelledby="signin-title">
        <h1 id="signin-title">{t("login.title")}</h1>
        <TabList
          tabs={[
            { id: "password", label: t("login.withPassword") },
            { id: "key", label: t("login.withKey") },
          ]}
          selected={mode}
          onSelect={setMode}
          label={t("login.title")}
        />
        {mode === "password" ? (
          <>
            <label>
              {t("login.username")}
              <input name="username" autoComplete="username" required value={username} onChange={(e) => setUsername(e.target.value)} autoFocus />
            </label>
            <label>
              {t("login.password")}
              <input
                name="password"
                type="password"
                autoComplete="current-password"
                required
                value={password}
                onChange={(e) => setPassword(e.target.value)}
              />
            </label>
          </>
        ) : (
          <label>
            {t("login.apiKey")}
            <input name="api_key" type="password" autoComplete="off" required value={apiKey} onChange={(e) => setApiKey(e.target.value)} autoFocus />
          </label>
        )}
        {error && (
          <p role="alert" className="error">
            {error}
          </p>
        )}
        <button type="submit" className="primary" disabled={busy}>
          {t("login.submit")}
        </button>
        <p className="hint">{t("login.hint")}</p>
      </form>
    </main>
  );
}
