/**
 * A media panel of the workspace, as W&B's: one logged media key (images, lists of them, audio,
 * video, HTML, 3-D…) for each of the panel's runs side by side, at the step a slider picks — each
 * run shows what it logged last at or before that step. Drawn by the run page's media renderer.
 */
import { useId, useMemo, useState } from "react";
import { useTranslation } from "react-i18next";
import type { MediaItem } from "../../api/types";
import { MediaAtStep } from "../../components/MediaView";
import { configString } from "../../panels/data";
import { useRunMedia, type RunMediaPanelProps } from "./useRunMedia";

/** The item logged last at or before `step` (items in step order); none before it: undefined. */
export function itemAt(items: readonly MediaItem[], step: number): MediaItem | undefined {
  let found: MediaItem | undefined;
  for (const item of items) {
    if (item.step > step) break;
    found = item;
  }
  return found;
}

export function WorkspaceMedia({ entity, project, panel, runs, version }: RunMediaPanelProps) {
  const { t } = useTranslation();
  const key = configString(panel, "key");
  const byRun = useRunMedia(entity, project, runs.map((r) => r.id), key, version);
  const steps = useMemo(() => [...new Set([...(byRun?.values() ?? [])].flat().map((i) => i.step))].sort((a, b) => a - b), [byRun]);
  const [index, setIndex] = useState<number | null>(null); // null: the last step, following live runs
  const sliderId = useId();
  if (!key) return <p className="muted chart-empty">{t("reports.mediaNoKey")}</p>;
  if (byRun === null) return <p role="status">{t("app.loading")}</p>;
  if (steps.length === 0) return <p className="muted chart-empty">{t("chart.noData")}</p>;
  const at = index === null ? steps.length - 1 : Math.min(index, steps.length - 1);
  const step = steps[at] ?? 0;
  return (
    <div data-testid="media-runs">
      {steps.length > 1 && (
        <div className="chart-controls">
          <label htmlFor={sliderId}>{t("run.step")}</label>
          <input id={sliderId} type="range" min={0} max={steps.length - 1} value={at} onChange={(e) => setIndex(Number(e.target.value))} />
          <output htmlFor={sliderId}>{step}</output>
        </div>
      )}
      <ul className="media-runs">
        {runs.map((r) => {
          const item = itemAt(byRun.get(r.id) ?? [], step);
          return (
            <li key={r.id} data-run={r.id}>
              <p className="small histogram-run">
                <span className="swatch" style={{ background: r.color }} aria-hidden="true" /> {r.label}
              </p>
              {item ? (
                <MediaAtStep runRef={{ entity, project, run_id: r.id }} item={item} label={`${key} · ${r.label} @ ${item.step}`} />
              ) : (
                <p className="muted small">{t("chart.noData")}</p>
              )}
            </li>
          );
        })}
      </ul>
    </div>
  );
}
