/** A project's reports, newest first (drafts too for members), and a new report for members. */
import { useId, useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { Link, useNavigate, useParams } from "react-router";
import { seg } from "../../api/client";
import { errorMessage } from "../../i18n/errors";
import { canWrite } from "../../lib/access";
import { formatTime } from "../../lib/format";
import { useApi } from "../../lib/useApi";
import { createReport, reportList } from "../../panels/api";
import { useSession } from "../../session";

export function ReportListPage() {
  const { t } = useTranslation();
  const { me } = useSession();
  const { entity = "", project = "" } = useParams();
  const list = useApi(reportList(entity, project));
  const navigate = useNavigate();
  const [title, setTitle] = useState("");
  const [error, setError] = useState<string | null>(null);
  const titleId = useId();
  const base = `/${seg(entity)}/${seg(project)}`;
  const create = async (e: FormEvent) => {
    e.preventDefault();
    try {
      const report = await createReport(entity, project, { title: title.trim() });
      void navigate(`${base}/reports/${seg(report.id)}/edit`);
    } catch (err) {
      setError(errorMessage(err));
    }
  };
  return (
    <section className="page" data-testid="report-list">
      <div className="page-head">
        <h1>{t("reports.title")}</h1>
        <Link to={`${base}/overview`}>{t("project.overview")}</Link>
        <Link to={base}>{t("project.workspace")}</Link>
      </div>
      {canWrite(me, entity) && (
        <form className="inline-form" onSubmit={(e) => void create(e)}>
          <label htmlFor={titleId}>{t("reports.newTitle")}</label>
          <input id={titleId} value={title} maxLength={200} required onChange={(e) => setTitle(e.target.value)} />
          <button type="submit" disabled={!title.trim()}>
            {t("reports.create")}
          </button>
        </form>
      )}
      {error && <p role="alert" className="error">{error}</p>}
      {list.error && <p role="alert" className="error">{errorMessage(list.error)}</p>}
      {!list.data && !list.error && <p role="status">{t("app.loading")}</p>}
      {list.data && list.data.length === 0 && <p className="muted">{t("reports.none")}</p>}
      {list.data && list.data.length > 0 && (
        <ul className="report-list">
          {list.data.map((r) => (
            <li key={r.id}>
              <Link to={`${base}/reports/${seg(r.id)}`}>{r.title}</Link> <span className="badge">{t(`reports.status.${r.status}`)}</span>
              {r.pinned && <span className="badge best-badge">{t("reports.dashboard")}</span>}
              <span className="muted small"> · {t("reports.updated", { name: r.updated_by, time: formatTime(r.updated_at) })}</span>
              {r.description && <p className="muted small">{r.description}</p>}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
