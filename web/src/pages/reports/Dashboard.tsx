/** The project's dashboard: its pinned report's published revision, drawn on the overview and re-fetched
 * when a batch of the project's live events (the overview's stream) says a shown run changed. */
import { useEffect, useRef } from "react";
import { useTranslation } from "react-i18next";
import { Link } from "react-router";
import { ApiError, seg } from "../../api/client";
import { errorMessage } from "../../i18n/errors";
import { canWrite } from "../../lib/access";
import { formatTime } from "../../lib/format";
import type { LiveBatch } from "../../lib/live";
import { useApi } from "../../lib/useApi";
import { dashboard, reportBundle } from "../../panels/api";
import { needsRefetch } from "../../panels/data";
import { ReportBody } from "../../panels/ReportBody";
import { useSession } from "../../session";

export function Dashboard({ entity, project, live }: { entity: string; project: string; live: LiveBatch | null }) {
  const { t } = useTranslation();
  const { me } = useSession();
  const pinned = useApi(dashboard(entity, project));
  const report = pinned.data;
  // Members may ask for any revision: they get the published one here, as readers do.
  const version = report && canWrite(me, entity) ? (report.published_version ?? undefined) : undefined;
  const bundle = useApi(report ? reportBundle({ entity, project, id: report.id }, version) : null);
  const data = bundle.data;
  const reload = bundle.reload;
  // Each batch is looked at once, with the bundle shown when it came (a refetch does not re-read it).
  const seen = useRef<LiveBatch | null>(null);
  useEffect(() => {
    if (!live || !data || seen.current === live) return;
    seen.current = live;
    if (needsRefetch(data, live)) reload();
  }, [live, data, reload]);
  const notPinned = pinned.error instanceof ApiError && pinned.error.status === 404;
  return (
    <section aria-labelledby="dashboard-h" className="overview-part dashboard" data-testid="dashboard">
      <h2 id="dashboard-h">
        {t("reports.dashboard")}
        {report && (
          <>
            {" · "}
            <Link to={`/${seg(entity)}/${seg(project)}/reports/${seg(report.id)}`}>{report.title}</Link>
          </>
        )}
      </h2>
      {notPinned && <p className="muted">{t("reports.noDashboard")}</p>}
      {pinned.error && !notPinned && <p role="alert" className="error">{errorMessage(pinned.error)}</p>}
      {bundle.error && <p role="alert" className="error">{errorMessage(bundle.error)}</p>}
      {data && (
        <>
          <p className="muted small" data-testid="dashboard-updated">
            {t("reports.generatedAt", { time: formatTime(data.generated_at) })}
          </p>
          <ReportBody bundle={data} headingLevel={3} />
        </>
      )}
    </section>
  );
}
