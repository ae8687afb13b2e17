/** A report opened through its read-only link: no sign-in, only what the link's bundle holds. */
import { useTranslation } from "react-i18next";
import { useParams } from "react-router";
import { LanguageSelect } from "../../components/LanguageSelect";
import { errorMessage } from "../../i18n/errors";
import { formatTime } from "../../lib/format";
import { useApi } from "../../lib/useApi";
import { sharedBundle } from "../../panels/api";
import { ReportBody } from "../../panels/ReportBody";

export function SharedReportPage() {
  const { t } = useTranslation();
  const { token = "" } = useParams();
  const bundle = useApi(sharedBundle(token));
  return (
    <main className="page report shared-report" id="main" data-testid="shared-report">
      <div className="page-head">
        <span className="muted">{t("reports.sharedNote")}</span>
        <LanguageSelect />
      </div>
      {bundle.error && <p role="alert" className="error">{t("reports.sharedGone", { message: errorMessage(bundle.error) })}</p>}
      {!bundle.data && !bundle.error && <p role="status">{t("app.loading")}</p>}
      {bundle.data && (
        <article>
          <h1>{bundle.data.report.title}</h1>
          <p className="muted small">{t("reports.generatedAt", { time: formatTime(bundle.data.generated_at) })}</p>
          {bundle.data.report.description && <p>{bundle.data.report.description}</p>}
          <ReportBody bundle={bundle.data} />
        </article>
      )}
    </main>
  );
}
