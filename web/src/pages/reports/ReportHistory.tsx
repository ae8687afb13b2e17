/** A report's revisions, newest first: pick two to see what changed between them, or revert to one
 * (a new revision equal to it: history is never rewritten). */
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useParams } from "react-router";
import { seg } from "../../api/client";
import { Markdown } from "../../components/Markdown";
import { errorMessage } from "../../i18n/errors";
import { formatTime } from "../../lib/format";
import { useApi } from "../../lib/useApi";
import { reportDiff, reportHistory, revertReport, type ReportRef } from "../../panels/api";
import type { Block } from "../../panels/types";

function BlockSummary({ block }: { block: Block | null }) {
  const { t } = useTranslation();
  if (!block) return <span className="muted">–</span>;
  if (block.type === "markdown") return <Markdown text={block.text} topLevel={4} />;
  return (
    <ul className="diff-panels">
      {block.runsets.map((s) => (
        <li key={s.id}>
          {t("reports.runSet")} {s.name}: {s.runs ? s.runs.join(", ") : s.filter || t("reports.allRuns")}
        </li>
      ))}
      {block.panels.map((p) => (
        <li key={p.id}>
          {t(`reports.kinds.${p.kind}`)} {p.title && `“${p.title}”`} <code>{JSON.stringify(p.config)}</code>
        </li>
      ))}
    </ul>
  );
}

export function ReportHistoryPage() {
  const { t } = useTranslation();
  const { entity = "", project = "", reportId = "" } = useParams();
  const ref: ReportRef = { entity, project, id: reportId };
  const history = useApi(reportHistory(ref));
  const [from, setFrom] = useState<number | null>(null);
  const [to, setTo] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  const revisions = history.data ?? [];
  const a = from ?? revisions[1]?.version ?? null;
  const b = to ?? revisions[0]?.version ?? null;
  const diff = useApi(a !== null && b !== null && a !== b ? reportDiff(ref, a, b) : null);
  const viewUrl = `/${seg(entity)}/${seg(project)}/reports/${seg(reportId)}`;
  const revert = async (version: number) => {
    setError(null);
    try {
      await revertReport(ref, version);
      setFrom(null);
      setTo(null);
      history.reload();
    } catch (e) {
      setError(errorMessage(e));
    }
  };
  return (
    <section className="page" data-testid="report-history">
      <div className="page-head">
        <h1>{t("reports.history")}</h1>
        <Link to={viewUrl}>{t("reports.view")}</Link>
        <Link to={`${viewUrl}/edit`}>{t("reports.edit")}</Link>
      </div>
      {history.error && <p role="alert" className="error">{errorMessage(history.error)}</p>}
      {error && <p role="alert" className="error">{error}</p>}
      <table className="grid-table" data-testid="revisions">
        <caption className="sr-only">{t("reports.history")}</caption>
        <thead>
          <tr>
            <th scope="col">{t("reports.version")}</th>
            <th scope="col">{t("reports.reportTitle")}</th>
            <th scope="col">{t("reports.savedBy")}</th>
            <th scope="col">{t("reports.compareFrom")}</th>
            <th scope="col">{t("reports.compareTo")}</th>
            <th scope="col">
              <span className="sr-only">{t("reports.revert")}</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {revisions.map((r, i) => (
            <tr key={r.version} data-version={r.version}>
              <td>
                v{r.version} {r.published && <span className="badge">{t("reports.status.published")}</span>}
              </td>
              <td>{r.title}</td>
              <td>
                {r.saved_by} <span className="muted small">{formatTime(r.saved_at)}</span>
              </td>
              <td>
                <input type="radio" name="from" aria-label={t("reports.fromVersion", { version: r.version })} checked={a === r.version} onChange={() => setFrom(r.version)} />
              </td>
              <td>
                <input type="radio" name="to" aria-label={t("reports.toVersion", { version: r.version })} checked={b === r.version} onChange={() => setTo(r.version)} />
              </td>
              <td>
                {i > 0 && (
                  <button type="button" onClick={() => void revert(r.version)}>
                    {t("reports.revertTo", { version: r.version })}
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {diff.error && <p role="alert" className="error">{errorMessage(diff.error)}</p>}
      {diff.data && (
        <section aria-labelledby="diff-h" data-testid="report-diff">
          <h2 id="diff-h">{t("reports.diffTitle", { from: diff.data.from, to: diff.data.to })}</h2>
          {diff.data.title && (
            <p>
              {t("reports.reportTitle")}: <del>{diff.data.title.before}</del> → <ins>{diff.data.title.after}</ins>
            </p>
          )}
          {diff.data.changes.length === 0 && !diff.data.title && <p className="muted">{t("reports.noChanges")}</p>}
          {diff.data.changes.map((c) => (
            <div key={`${c.block_id}-${c.change}`} className={`diff-change diff-${c.change}`} data-change={c.change}>
              <h3>{t(`reports.change.${c.change}`)}</h3>
              <div className="diff-sides">
                <div className="diff-before">
                  <BlockSummary block={c.before} />
                </div>
                <div className="diff-after">
                  <BlockSummary block={c.after} />
                </div>
              </div>
            </div>
          ))}
        </section>
      )}
    </section>
  );
}
