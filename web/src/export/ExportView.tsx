/** The exported report: its title and when it was exported, the report as readers see it, then
 * every run's archive. */
import { useEffect } from "react";
import { useTranslation } from "react-i18next";
import { LanguageSelect } from "../components/LanguageSelect";
import { formatTime } from "../lib/format";
import { ReportBody } from "../panels/ReportBody";
import { RunArchive } from "../panels/RunArchive";
import type { Bundle } from "../panels/types";

export function ExportView({ bundle }: { bundle: Bundle | null }) {
  const { t, i18n } = useTranslation();
  useEffect(() => {
    document.documentElement.lang = i18n.language.startsWith("zh") ? "zh" : "en";
    if (bundle) document.title = `${bundle.report.title} · wakelog`;
  }, [bundle, i18n.language]);
  if (!bundle)
    return (
      <main className="page" id="main">
        <p role="alert">{t("reports.exportEmpty")}</p>
      </main>
    );
  const { report } = bundle;
  return (
    <main className="page report shared-report" id="main" data-testid="report-export">
      <div className="page-head">
        <h1>{report.title}</h1>
        <span className="muted small">
          {report.entity}/{report.project} · v{report.published_version ?? report.version}
        </span>
        <LanguageSelect />
      </div>
      <p className="muted small">{t("reports.exportedAt", { time: formatTime(bundle.generated_at) })}</p>
      {report.description && <p>{report.description}</p>}
      <ReportBody bundle={bundle} />
      <RunArchive bundle={bundle} />
    </main>
  );
}
