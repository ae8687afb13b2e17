/**
 * What changed between two versions of an artifact: the server's manifest diff (added, removed,
 * changed paths), each path with its size in both versions from their manifests.
 */
import { useId } from "react";
import { useTranslation } from "react-i18next";
import { artifactDiff, artifactManifest } from "../../api/endpoints";
import type { ArtifactVersion, Manifest } from "../../api/types";
import { errorMessage } from "../../i18n/errors";
import { formatBytes } from "../../lib/format";
import { useApi } from "../../lib/useApi";

const STATUSES = ["added", "removed", "changed"] as const;

interface Props {
  version: ArtifactVersion;
  manifest: Manifest | null;
  versions: ArtifactVersion[];
  against: string | null;
  onAgainst: (version: string) => void;
}

export function ManifestDiff({ version, manifest, versions, against, onAgainst }: Props) {
  const { t } = useTranslation();
  const { entity, project, name } = version;
  const selectId = useId();
  const others = versions.filter((v) => v.version !== version.version);
  const diff = useApi(against ? artifactDiff(entity, project, name, version.version, against) : null);
  const base = useApi(against ? artifactManifest(entity, project, name, against) : null);
  const rows = diff.data ? STATUSES.flatMap((status) => diff.data![status].map((path) => ({ status, path }))) : [];
  const sizeIn = (m: Manifest | null, path: string) => {
    const entry = m?.entries[path];
    return entry ? formatBytes(entry.size) : "–";
  };
  return (
    <div data-testid="manifest-diff">
      <div className="chart-controls">
        <label htmlFor={selectId}>{t("artifacts.compareWith")}</label>
        <select id={selectId} value={against ?? ""} onChange={(e) => onAgainst(e.target.value)}>
          <option value="" disabled>
            {t("artifacts.pickOther")}
          </option>
          {others.map((v) => (
            <option key={v.version} value={v.version}>
              {v.version}
              {v.aliases.length ? ` (${v.aliases.join(", ")})` : ""}
            </option>
          ))}
        </select>
      </div>
      {others.length === 0 && <p className="muted">{t("artifacts.onlyVersion")}</p>}
      {diff.error && <p role="alert" className="error">{t("app.error", { message: errorMessage(diff.error) })}</p>}
      {against && !diff.data && !diff.error && <p role="status">{t("app.loading")}</p>}
      {diff.data && (
        <>
          <p role="status" data-testid="diff-counts">
            {t("artifacts.diffCounts", { added: diff.data.added.length, removed: diff.data.removed.length, changed: diff.data.changed.length, from: against, to: version.version })}
          </p>
          {rows.length === 0 ? (
            <p className="muted">{t("artifacts.same")}</p>
          ) : (
            <table className="grid-table" data-testid="diff-table">
              <thead>
                <tr>
                  <th scope="col">{t("artifacts.change")}</th>
                  <th scope="col">{t("artifacts.path")}</th>
                  <th scope="col" className="num">{against}</th>
                  <th scope="col" className="num">{version.version}</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((r) => (
                  <tr key={`${r.status}:${r.path}`} className={`diff-${r.status}`} data-status={r.status} data-path={r.path}>
                    <td>
                      <span className={`diff-mark diff-${r.status}`}>{t(`artifacts.${r.status}`)}</span>
                    </td>
                    <td>
                      <code>{r.path}</code>
                    </td>
                    <td className="num">{sizeIn(base.data, r.path)}</td>
                    <td className="num">{sizeIn(manifest, r.path)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      )}
    </div>
  );
}
