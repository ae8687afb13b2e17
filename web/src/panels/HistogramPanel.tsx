/**
 * A histogram-over-time panel: one logged `wandb.Histogram` key drawn as the run page draws it (a
 * heatmap over steps, components/HistogramHeatmap), one small multiple per run, as W&B does.
 */
import { useTranslation } from "react-i18next";
import { HistogramHeatmap, type HistogramStep } from "../components/HistogramHeatmap";

interface Props {
  histKey: string;
  runs: { id: string; label: string; color: string }[];
  /** Each run's logged steps of the key; null while they load. */
  byRun: Map<string, HistogramStep[]> | null;
}

export function HistogramRuns({ histKey, runs, byRun }: Props) {
  const { t } = useTranslation();
  if (!histKey) return <p className="muted chart-empty">{t("reports.histogramNoKey")}</p>;
  if (byRun === null) return <p role="status">{t("app.loading")}</p>;
  const shown = runs.filter((r) => (byRun.get(r.id)?.length ?? 0) > 0);
  if (shown.length === 0) return <p className="muted chart-empty">{t("chart.noData")}</p>;
  return (
    <ul className="histogram-runs" data-testid="histogram-runs">
      {shown.map((r) => (
        <li key={r.id} data-run={r.id}>
          <p className="small histogram-run">
            <span className="swatch" style={{ background: r.color }} aria-hidden="true" /> {r.label}
          </p>
          <HistogramHeatmap items={byRun.get(r.id) ?? []} label={`${histKey} · ${r.label}`} height={200} />
        </li>
      ))}
    </ul>
  );
}
