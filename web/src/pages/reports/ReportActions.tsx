/** What a member does with a report besides editing it: publish, pin as the dashboard, duplicate,
 * share a read-only link (create, copy, revoke), export the offline HTML, delete. */
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { useNavigate } from "react-router";
import { seg } from "../../api/client";
import { errorMessage } from "../../i18n/errors";
import { formatTime } from "../../lib/format";
import { deleteReport, duplicateReport, exportUrl, pinReport, publishReport, shareReport, unshareReport, type ReportRef } from "../../panels/api";
import type { Report } from "../../panels/types";

export function ReportActions({ report, onChanged }: { report: Report; onChanged: () => void }) {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const [error, setError] = useState<string | null>(null);
  const [copied, setCopied] = useState(false);
  // The link's token is shown once, in the answer that made it: the server keeps only its hash.
  const [made, setMade] = useState<string | null>(null);
  const ref: ReportRef = { entity: report.entity, project: report.project, id: report.id };
  const base = `/${seg(report.entity)}/${seg(report.project)}/reports`;
  const act = (work: () => Promise<unknown>) => () => {
    setError(null);
    work().then(onChanged, (e: unknown) => setError(errorMessage(e)));
  };
  const shareUrl = made && report.share ? `${window.location.origin}${made}` : null;
  const published = report.published_version !== null;
  return (
    <div className="report-actions" data-testid="report-actions">
      <button type="button" onClick={act(() => publishReport(ref, !published || report.published_version !== report.version))}>
        {published && report.published_version === report.version ? t("reports.unpublish") : t("reports.publish")}
      </button>
      <button type="button" onClick={act(() => pinReport(ref, !report.pinned))}>
        {report.pinned ? t("reports.unpin") : t("reports.pin")}
      </button>
      <button
        type="button"
        onClick={act(async () => {
          const copy = await duplicateReport(ref, t("reports.copyOf", { title: report.title }));
          void navigate(`${base}/${seg(copy.id)}/edit`);
        })}
      >
        {t("reports.duplicate")}
      </button>
      <a className="button" href={exportUrl(ref)} download>
        {t("reports.export")}
      </a>
      {shareUrl && (
        <>
          <label className="share-url">
            <span className="sr-only">{t("reports.shareLink")}</span>
            <input readOnly value={shareUrl} data-testid="share-url" onFocus={(e) => e.target.select()} />
          </label>
          <button
            type="button"
            onClick={() => {
              void navigator.clipboard?.writeText(shareUrl).then(() => setCopied(true), () => setCopied(false));
            }}
          >
            {copied ? t("reports.copied") : t("reports.copy")}
          </button>
          <span className="muted small">{t("reports.copyNow")}</span>
        </>
      )}
      {report.share && !shareUrl && <span className="muted small" data-testid="share-exists">{t("reports.shareExists", { time: formatTime(report.share.created_at) })}</span>}
      <button
        type="button"
        onClick={act(async () => {
          setMade((await shareReport(ref)).url);
          setCopied(false);
        })}
        disabled={!published}
        title={published ? undefined : t("reports.shareNeedsPublish")}
      >
        {report.share ? t("reports.replaceShare") : t("reports.share")}
      </button>
      {report.share && (
        <button
          type="button"
          className="danger"
          onClick={act(async () => {
            await unshareReport(ref);
            setMade(null);
          })}
        >
          {t("reports.revoke")}
        </button>
      )}
      <button
        type="button"
        className="danger"
        onClick={() => {
          if (!window.confirm(t("reports.confirmDelete", { title: report.title }))) return;
          act(async () => {
            await deleteReport(ref);
            void navigate(base);
          })();
        }}
      >
        {t("reports.delete")}
      </button>
      {error && <p role="alert" className="error">{error}</p>}
    </div>
  );
}
