/** A project's artifacts by type: each name with its version count, newest version, size, updated. */
import { useId } from "react";
import { useTranslation } from "react-i18next";
import { Link, useParams } from "react-router";
import { seg } from "../api/client";
import { artifactCollections } from "../api/endpoints";
import type { ArtifactCollection } from "../api/types";
import { errorMessage } from "../i18n/errors";
import { formatBytes, formatRelative, formatTime } from "../lib/format";
import { useApi } from "../lib/useApi";
import { useUrlState } from "../lib/urlState";
import { artifactHref } from "./artifact/parts";

export function ArtifactsPage() {
  const { t, i18n } = useTranslation();
  const { entity = "", project = "" } = useParams();
  const [params, setParams] = useUrlState();
  const type = params.get("type") ?? "";
  const list = useApi(artifactCollections(entity, project));
  const typeId = useId();
  const types = [...new Set((list.data ?? []).map((c) => c.type))].sort();
  const byType = new Map<string, ArtifactCollection[]>();
  for (const c of list.data ?? []) if (!type || c.type === type) (byType.get(c.type) ?? byType.set(c.type, []).get(c.type)!).push(c);
  const now = Date.now() / 1000;
  return (
    <section className="page" data-testid="artifacts-page">
      <div className="page-head">
        <h1>
          {t("artifacts.title")} <span className="muted small">{entity}/{project}</span>
        </h1>
        <Link to={`/${seg(entity)}/${seg(project)}`}>{t("sweeps.backToRuns")}</Link>
        <Link to={`/registry/${seg(entity)}`}>{t("registry.title")}</Link>
        {types.length > 1 && (
          <>
            <label htmlFor={typeId}>{t("artifacts.type")}</label>
            <select id={typeId} value={type} onChange={(e) => setParams({ type: e.target.value || null })}>
              <option value="">{t("artifacts.allTypes")}</option>
              {types.map((ty) => (
                <option key={ty} value={ty}>
                  {ty}
                </option>
              ))}
            </select>
          </>
        )}
      </div>
      {list.error && <p role="alert" className="error">{t("app.error", { message: errorMessage(list.error) })}</p>}
      {!list.data && !list.error && <p role="status">{t("app.loading")}</p>}
      {list.data?.length === 0 && <p className="muted">{t("artifacts.empty")}</p>}
      {[...byType.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([ty, collections]) => (
          <section key={ty} aria-labelledby={`type-${ty}`} data-testid={`artifact-type-${ty}`}>
            <h2 id={`type-${ty}`}>
              {ty} <span className="muted small">{collections.length}</span>
            </h2>
            <table className="grid-table">
              <thead>
                <tr>
                  <th scope="col">{t("artifacts.name")}</th>
                  <th scope="col" className="num">{t("artifacts.versions")}</th>
                  <th scope="col">{t("artifacts.latest")}</th>
                  <th scope="col" className="num">{t("artifacts.size")}</th>
                  <th scope="col">{t("artifacts.updated")}</th>
                </tr>
              </thead>
              <tbody>
                {collections.map((c) => (
                  <tr key={c.name} data-name={c.name}>
                    <td>
                      <Link to={artifactHref(entity, project, c.name)}>{c.name}</Link>
                    </td>
                    <td className="num">{c.versions}</td>
                    <td>{c.latest ? <Link to={artifactHref(entity, project, c.name, c.latest)}>{c.latest}</Link> : "–"}</td>
                    <td className="num">{formatBytes(c.size)}</td>
                    <td title={formatTime(c.updated_at)}>{formatRelative(c.updated_at, now, i18n.language)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </section>
        ))}
    </section>
  );
}
