import { useId, useMemo, useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useParams } from "react-router";
import { projects } from "../api/endpoints";
import { ProjectTrash } from "../components/ProjectTrash";
import { errorMessage } from "../i18n/errors";
import { formatRelative, formatTime } from "../lib/format";
import { useApi } from "../lib/useApi";

export function ProjectsPage() {
  const { t, i18n } = useTranslation();
  const { entity } = useParams();
  const { data, error, loading, reload } = useApi(projects(entity));
  const [search, setSearch] = useState("");
  const searchId = useId();
  const shown = useMemo(() => {
    const needle = search.trim().toLowerCase();
    return (data ?? []).filter((p) => !needle || `${p.entity}/${p.name}`.toLowerCase().includes(needle));
  }, [data, search]);
  // Each entity has one model registry: the entity's own page links to it, the list to all of them.
  const registries = entity ? [entity] : [...new Set((data ?? []).map((p) => p.entity))].sort();
  const now = Date.now() / 1000;
  return (
    <section className="page">
      <div className="page-head">
        <h1>{entity ? `${entity} · ${t("projects.title")}` : t("projects.title")}</h1>
        <label htmlFor={searchId} className="sr-only">
          {t("projects.search")}
        </label>
        <input id={searchId} type="search" placeholder={t("projects.search")} value={search} onChange={(e) => setSearch(e.target.value)} />
        {registries.length > 0 && (
          <nav aria-label={t("registry.title")} className="registry-links" data-testid="registry-links-nav">
            {t("registry.title")}:{" "}
            {registries.map((e, i) => (
              <span key={e}>
                {i > 0 && " · "}
                <Link to={`/registry/${encodeURIComponent(e)}`}>{entity ? t("registry.open") : e}</Link>
              </span>
            ))}
          </nav>
        )}
      </div>
      {error && <p role="alert" className="error">{t("app.error", { message: errorMessage(error) })}</p>}
      {loading && !data && <p role="status">{t("app.loading")}</p>}
      {data && data.length === 0 && <p>{t("projects.empty")}</p>}
      {shown.length > 0 && (
        <table className="grid-table" data-testid="projects">
          <thead>
            <tr>
              <th scope="col">{t("projects.name")}</th>
              <th scope="col">{t("projects.entity")}</th>
              <th scope="col" className="num">{t("projects.runs")}</th>
              <th scope="col">{t("projects.lastActivity")}</th>
              <th scope="col">{t("projects.created")}</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((p) => (
              <tr key={`${p.entity}/${p.name}`}>
                <td>
                  <Link to={`/${encodeURIComponent(p.entity)}/${encodeURIComponent(p.name)}`}>{p.name}</Link>
                </td>
                <td>{p.entity}</td>
                <td className="num">{p.runs}</td>
                <td title={formatTime(p.updated_at)}>{formatRelative(p.updated_at, now, i18n.language)}</td>
                <td>{formatTime(p.created_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {entity && <ProjectTrash entity={entity} onRestored={reload} />}
    </section>
  );
}
