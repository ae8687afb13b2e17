/** The auditor's part of an exported report: for each run, its config, environment (git commit, diff
 * hash, packages) and summary. */
import { useTranslation } from "react-i18next";
import { KeyValueTable } from "../components/KeyValueTable";
import type { Bundle } from "./types";

export function RunArchive({ bundle }: { bundle: Bundle }) {
  const { t } = useTranslation();
  const runs = Object.values(bundle.runs).sort((a, b) => a.created_at - b.created_at);
  return (
    <section className="report-archive" aria-labelledby="archive-h" data-testid="report-archive">
      <h2 id="archive-h">{t("reports.archive")}</h2>
      {runs.map((run) => (
        <details key={run.id} className="section" open data-run={run.id}>
          <summary>
            <h3>
              <span className="swatch" style={{ background: run.color }} aria-hidden="true" /> {run.name ?? run.id} <span className="muted small">{run.id} · {run.state}</span>
            </h3>
          </summary>
          <h4>{t("reports.environment")}</h4>
          <dl className="facts">
            <dt>{t("reports.gitCommit")}</dt>
            <dd>
              <code>{run.environment.git_commit ?? "–"}</code>
            </dd>
            <dt>{t("reports.diffHash")}</dt>
            <dd>
              <code>{run.environment.git_diff_sha256 ?? "–"}</code>
            </dd>
          </dl>
          <details>
            <summary>{t("reports.packages", { count: Object.keys(run.environment.packages).length })}</summary>
            <KeyValueTable value={run.environment.packages} testId={`packages-${run.id}`} />
          </details>
          <h4>{t("compare.config")}</h4>
          <KeyValueTable value={run.config} testId={`config-${run.id}`} hideUnderscore />
          <h4>{t("compare.summary")}</h4>
          <KeyValueTable value={run.summary} testId={`summary-${run.id}`} hideUnderscore />
        </details>
      ))}
    </section>
  );
}
