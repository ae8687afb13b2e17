/** One artifact name: its versions (newest first) with aliases, size, files, creator run; tick two to diff them. */
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useNavigate, useParams } from "react-router";
import { seg } from "../api/client";
import { artifactVersions } from "../api/endpoints";
import { errorMessage } from "../i18n/errors";
import { formatBytes, formatRelative, formatTime } from "../lib/format";
import { useApi } from "../lib/useApi";
import { Aliases, artifactHref, CreatorRun } from "./artifact/parts";

/** The version number of `v12` (for ordering a picked pair oldest → newest). */
const versionNumber = (version: string) => Number(version.replace(/^v/, "")) || 0;

export function ArtifactPage() {
  const { t, i18n } = useTranslation();
  const navigate = useNavigate();
  const { entity = "", project = "", name = "" } = useParams();
  const versions = useApi(artifactVersions(entity, project, name));
  const [picked, setPicked] = useState<string[]>([]);
  const type = versions.data?.[0]?.type;
  const now = Date.now() / 1000;

  function toggle(version: string) {
    // Two at most: a third tick replaces the older pick.
    setPicked((p) => (p.includes(version) ? p.filter((v) => v !== version) : [...p, version].slice(-2)));
  }
  function compare() {
    const [older, newer] = [...picked].sort((a, b) => versionNumber(a) - versionNumber(b));
    if (older && newer) void navigate(`${artifactHref(entity, project, name, newer)}?tab=diff&against=${seg(older)}`);
  }

  return (
    <section className="page" data-testid="artifact-page">
      <div className="page-head">
        <h1>
          {name} {type && <span className="badge">{type}</span>} <span className="muted small">{entity}/{project}</span>
        </h1>
        <Link to={`/${seg(entity)}/${seg(project)}/artifacts`}>{t("artifacts.title")}</Link>
        <button type="button" disabled={picked.length !== 2} onClick={compare} data-testid="compare-versions">
          {t("artifacts.compareTwo")}
        </button>
      </div>
      {versions.error && <p role="alert" className="error">{t("app.error", { message: errorMessage(versions.error) })}</p>}
      {!versions.data && !versions.error && <p role="status">{t("app.loading")}</p>}
      {versions.data?.length === 0 && <p className="muted">{t("artifacts.noVersions")}</p>}
      {versions.data && versions.data.length > 0 && (
        <table className="grid-table" data-testid="versions">
          <thead>
            <tr>
              <th scope="col">
                <span className="sr-only">{t("artifacts.pick")}</span>
              </th>
              <th scope="col">{t("artifacts.version")}</th>
              <th scope="col">{t("artifacts.aliases")}</th>
              <th scope="col" className="num">{t("artifacts.size")}</th>
              <th scope="col" className="num">{t("artifacts.files")}</th>
              <th scope="col">{t("artifacts.createdBy")}</th>
              <th scope="col">{t("artifacts.created")}</th>
            </tr>
          </thead>
          <tbody>
            {versions.data.map((v) => (
              <tr key={v.version} data-version={v.version}>
                <td>
                  <input
                    type="checkbox"
                    checked={picked.includes(v.version)}
                    onChange={() => toggle(v.version)}
                    aria-label={t("artifacts.pickVersion", { version: v.version })}
                  />
                </td>
                <td>
                  <Link to={artifactHref(entity, project, name, v.version)}>{v.version}</Link>
                  {v.description && <span className="muted small"> {v.description}</span>}
                </td>
                <td>
                  <Aliases aliases={v.aliases} />
                </td>
                <td className="num">{formatBytes(v.size)}</td>
                <td className="num">{v.file_count}</td>
                <td>
                  <CreatorRun entity={entity} project={project} run={v.run} /> {v.created_by && <span className="muted small">{v.created_by}</span>}
                </td>
                <td title={formatTime(v.created_at)}>{formatRelative(v.created_at, now, i18n.language)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
