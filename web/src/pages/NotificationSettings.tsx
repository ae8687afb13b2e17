/** Your notification settings: which events of the runs you start reach your bell, and your e-mail. */
import { useTranslation } from "react-i18next";
import { Link } from "react-router";
import { mySettings, saveMySettings } from "../api/endpoints";
import { ChannelChoices } from "../components/notifications/ChannelChoices";
import { errorMessage } from "../i18n/errors";
import { useApi } from "../lib/useApi";

export function NotificationSettingsPage() {
  const { t } = useTranslation();
  const { data, error } = useApi(mySettings());
  return (
    <section className="page narrow">
      <h1>{t("notifications.title")}</h1>
      <p className="hint">{t("notifications.settingsHelp")}</p>
      {error && (
        <p role="alert" className="error">
          {t("app.error", { message: errorMessage(error) })}
        </p>
      )}
      {!error && <ChannelChoices saved={data} save={saveMySettings} testId="my-notifications" />}
      <p>
        <Link to="/settings">{t("settings.title")}</Link>
      </p>
    </section>
  );
}
