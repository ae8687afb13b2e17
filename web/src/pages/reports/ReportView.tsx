/** A report as its readers see it (members: the latest revision, with its actions), its discussion,
 * and a discussion per panel. */
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useParams } from "react-router";
import { seg } from "../../api/client";
import { Discussion } from "../../components/comments/Comments";
import { errorMessage } from "../../i18n/errors";
import { canWrite } from "../../lib/access";
import { formatTime } from "../../lib/format";
import { useApi } from "../../lib/useApi";
import { reportBundle, type ReportRef } from "../../panels/api";
import { ReportBody } from "../../panels/ReportBody";
import type { Panel } from "../../panels/types";
import { useSession } from "../../session";
import { reportComments } from "./comments";
import { ReportActions } from "./ReportActions";

export function ReportViewPage() {
  const { t } = useTranslation();
  const { me } = useSession();
  const { entity = "", project = "", reportId = "" } = useParams();
  const ref: ReportRef = { entity, project, id: reportId };
  const bundle = useApi(reportBundle(ref));
  const [discussing, setDiscussing] = useState<Panel | null>(null);
  const writer = canWrite(me, entity);
  const base = `/${seg(entity)}/${seg(project)}/reports`;
  if (bundle.error) return <p role="alert" className="error page">{errorMessage(bundle.error)}</p>;
  if (!bundle.data) return <p role="status" className="page">{t("app.loading")}</p>;
  const report = bundle.data.report;
  return (
    <article className="page report" data-testid="report-view">
      <div className="page-head">
        <h1>{report.title}</h1>
        <span className="badge" data-testid="report-status">
          {t(`reports.status.${report.status}`)}
        </span>
        {report.pinned && <span className="badge best-badge">{t("reports.dashboard")}</span>}
        <Link to={base}>{t("reports.title")}</Link>
        {writer && <Link to={`${base}/${seg(report.id)}/edit`}>{t("reports.edit")}</Link>}
        {writer && <Link to={`${base}/${seg(report.id)}/history`}>{t("reports.history")}</Link>}
      </div>
      <p className="muted small">
        {t("reports.versionBy", { version: report.version, name: report.updated_by, time: formatTime(report.updated_at) })}
        {report.published_version !== null && report.published_version !== report.version && ` · ${t("reports.publishedIs", { version: report.published_version })}`}
      </p>
      {report.description && <p>{report.description}</p>}
      {writer && <ReportActions report={report} onChanged={bundle.reload} />}
      <ReportBody
        bundle={bundle.data}
        panelTools={(panel) => (
          <button type="button" aria-label={t("reports.discussPanel", { title: panel.title || panel.kind })} onClick={() => setDiscussing(panel)}>
            {t("reports.discuss")}
          </button>
        )}
      />
      {discussing && (
        <div className="panel-discussion" data-testid="panel-discussion">
          <button type="button" onClick={() => setDiscussing(null)}>
            {t("reports.closeDiscussion")}
          </button>
          <Discussion
            key={discussing.id}
            target={reportComments(ref, discussing.id)}
            title={t("reports.panelComments", { title: discussing.title || discussing.kind })}
            none={t("reports.noComments")}
            testId="panel-comments"
          />
        </div>
      )}
      <Discussion target={reportComments(ref, null)} none={t("reports.noComments")} />
    </article>
  );
}
