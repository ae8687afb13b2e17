/** The workspace's title row: the project, the live dot, the view switch, saved views, "compare", the project's overview, reports (and a new one from this view), sweeps, artifacts and alerts, and your subscription to its runs. */
import { useTranslation } from "react-i18next";
import { Link, useNavigate } from "react-router";
import { seg } from "../../api/client";
import { SubscribeToggle } from "../../components/notifications/SubscribeToggle";
import { writeList } from "../../lib/urlState";
import type { SavedViews } from "./useSavedViews";
import { ViewsMenu } from "./ViewsMenu";

interface Props {
  entity: string;
  project: string;
  connected: boolean;
  view: string;
  onView: (view: string | null) => void;
  selectedIds: string[];
  /** Makes a draft report from what the workspace shows and opens its editor (members only). */
  onCreateReport?: () => void;
  savedViews: SavedViews;
  canWrite: boolean;
}

export function WorkspaceHeader({ entity, project, connected, view, onView, selectedIds, onCreateReport, savedViews, canWrite }: Props) {
  const { t } = useTranslation();
  const navigate = useNavigate();
  return (
    <div className="ws-head">
      <h1>
        {project} <span className="muted small">{entity}</span>
      </h1>
      <span className={`live-dot${connected ? " on" : ""}`} role="status" data-testid="live-status">
        {connected ? t("workspace.live") : t("workspace.offline")}
      </span>
      <div className="view-switch" role="group" aria-label={t("workspace.runs")}>
        {(["split", "table", "charts"] as const).map((v) => (
          <button key={v} type="button" aria-pressed={view === v} onClick={() => onView(v === "split" ? null : v)}>
            {v === "split" ? t("workspace.split") : v === "table" ? t("workspace.table") : t("workspace.charts")}
          </button>
        ))}
      </div>
      <ViewsMenu views={savedViews} canWrite={canWrite} />
      <button
        type="button"
        disabled={selectedIds.length < 2}
        onClick={() => void navigate(`/${seg(entity)}/${seg(project)}/compare?runs=${writeList(selectedIds)}`)}
      >
        {t("workspace.compare")}
      </button>
      <Link to={`/${seg(entity)}/${seg(project)}/overview`} className="ws-overview">
        {t("project.overview")}
      </Link>
      <Link to={`/${seg(entity)}/${seg(project)}/reports`} className="ws-reports">
        {t("reports.title")}
      </Link>
      {onCreateReport && (
        <button type="button" onClick={onCreateReport}>
          {t("reports.createFromView")}
        </button>
      )}
      <Link to={`/${seg(entity)}/${seg(project)}/sweeps`} className="ws-sweeps">
        {t("sweeps.title")}
      </Link>
      <Link to={`/${seg(entity)}/${seg(project)}/artifacts`} className="ws-artifacts">
        {t("artifacts.title")}
      </Link>
      <Link to={`/${seg(entity)}/${seg(project)}/trash`} className="ws-trash">
        {t("manage.trash")}
      </Link>
      <Link to={`/${seg(entity)}/${seg(project)}/alerts`} className="ws-alerts">
        {t("notifications.alerts")}
      </Link>
      <SubscribeToggle entity={entity} project={project} />
    </div>
  );
}
