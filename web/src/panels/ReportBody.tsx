/**
 * A report drawn from its Bundle: markdown blocks, and panel blocks with their run sets' runs listed
 * in their colours above a grid of panels. The in-app viewer, the editor's preview, a share link and
 * the offline export all draw through this.
 */
import type { ReactNode } from "react";
import { useTranslation } from "react-i18next";
import { Markdown } from "../components/Markdown";
import { topLevelFor } from "../lib/markdown";
import { blockRuns, type ShownRun } from "./data";
import { PanelView } from "./PanelView";
import type { Bundle, Panel } from "./types";

/** `headingLevel`: the level the text's shallowest heading gets (one below the page's heading above it). */
export function ReportBody({ bundle, panelTools, headingLevel = 2 }: { bundle: Bundle; panelTools?: (panel: Panel) => ReactNode; headingLevel?: number }) {
  const { t } = useTranslation();
  const blocks = bundle.report.spec.blocks;
  if (blocks.length === 0) return <p className="muted">{t("reports.empty")}</p>;
  return (
    <div className="report-body" data-testid="report-body">
      {blocks.map((block) =>
        block.type === "markdown" ? (
          <Markdown key={block.id} text={block.text} topLevel={topLevelFor(block.text, headingLevel)} className="markdown report-markdown" />
        ) : (
          <PanelsBlockView key={block.id} runs={blockRuns(bundle, block)} panels={block.panels} bundle={bundle} panelTools={panelTools} level={headingLevel} />
        ),
      )}
    </div>
  );
}

function PanelsBlockView({ bundle, runs, panels, panelTools, level }: { bundle: Bundle; runs: ShownRun[]; panels: Panel[]; panelTools?: (panel: Panel) => ReactNode; level: number }) {
  const { t } = useTranslation();
  return (
    <section className="report-block" aria-label={t("reports.panelBlock")}>
      <ul className="report-runs" aria-label={t("reports.runsShown")} data-testid="report-runs">
        {runs.map((r) => (
          <li key={r.id}>
            <span className="swatch" style={{ background: r.color }} aria-hidden="true" /> {r.label}
          </li>
        ))}
      </ul>
      <div className="panel-grid">
        {panels.map((panel) => (
          <PanelView key={panel.id} bundle={bundle} panel={panel} runs={runs} tools={panelTools?.(panel)} level={level >= 4 ? 4 : level <= 2 ? 2 : 3} />
        ))}
      </div>
    </section>
  );
}
