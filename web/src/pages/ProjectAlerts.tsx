/** A project's alerts: your subscription to its runs, its metric rules, and (admins) its team channels. */
import { useTranslation } from "react-i18next";
import { Link, useParams } from "react-router";
import { seg } from "../api/client";
import { saveSubscription, subscription } from "../api/endpoints";
import { AlertRules } from "../components/notifications/AlertRules";
import { ChannelChoices } from "../components/notifications/ChannelChoices";
import { TeamChannels } from "../components/notifications/TeamChannels";
import { errorMessage } from "../i18n/errors";
import { canAdmin, canWrite } from "../lib/access";
import { useApi } from "../lib/useApi";
import { useSession } from "../session";

export function ProjectAlertsPage() {
  const { t } = useTranslation();
  const { entity = "", project = "" } = useParams();
  const { me } = useSession();
  const mine = useApi(subscription(entity, project));
  return (
    <section className="page narrow">
      <div className="page-head">
        <h1>{t("notifications.alertsOf", { project })}</h1>
        <Link to={`/${seg(entity)}/${seg(project)}`}>{t("workspace.runs")}</Link>
      </div>
      <h2>{t("notifications.subscription")}</h2>
      <p className="hint">{t("notifications.subscriptionHelp")}</p>
      {mine.error ? (
        <p role="alert" className="error">
          {t("app.error", { message: errorMessage(mine.error) })}
        </p>
      ) : (
        <ChannelChoices saved={mine.data} save={(targets) => saveSubscription(entity, project, targets)} testId="subscription" />
      )}
      <h2>{t("notifications.rules")}</h2>
      <AlertRules entity={entity} project={project} canEdit={canWrite(me, entity)} />
      {canAdmin(me, entity) && (
        <>
          <h2>{t("notifications.team")}</h2>
          <TeamChannels entity={entity} project={project} />
        </>
      )}
    </section>
  );
}
