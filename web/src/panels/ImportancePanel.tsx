/**
 * The `importance` panel: each config key's importance to a summary metric and its correlation with
 * it, rated on the server (fANOVA + Pearson) and drawn by the sweep page's table (components/Importance).
 * A report reads its rating from the bundle; the workspace fetches it for the runs of its filter, again
 * when live changes have come in (at most every LIVE_REFETCH_MS: a rating takes the server a while).
 */
import { useEffect, useRef } from "react";
import { useTranslation } from "react-i18next";
import { projectImportance } from "../api/endpoints";
import { Importance } from "../components/Importance";
import { errorMessage } from "../i18n/errors";
import { summaryLabel } from "../lib/runs";
import { useApi } from "../lib/useApi";
import type { ImportanceRating } from "./types";

const LIVE_REFETCH_MS = 15_000;

/** A rating as a table, with how many runs it is over; `rating` null while it loads. */
export function ImportanceBody({ rating, metric }: { rating: ImportanceRating | null; metric: string }) {
  const { t } = useTranslation();
  if (!metric) return <p className="muted chart-empty">{t("reports.importancePick")}</p>;
  const label = summaryLabel(metric);
  return (
    <div className="importance-panel">
      {rating && rating.runs > 0 && (
        <p className="muted small" data-testid="importance-runs">
          {t(rating.capped ? "reports.importanceNewest" : "reports.importanceOver", { count: rating.runs, metric: label })}
        </p>
      )}
      <div className="table-scroll">
        <Importance rows={rating?.params ?? null} metric={label} empty={t("reports.importanceNone", { metric: label })} />
      </div>
    </div>
  );
}

interface FetchedProps {
  entity: string;
  project: string;
  /** The workspace's run filter ("" for every run). */
  filter: string;
  metric: string;
  liveVersion: number;
}

/** The workspace's: the rating of the runs its filter shows, fetched from the importance route. */
export function FetchedImportance({ entity, project, filter, metric, liveVersion }: FetchedProps) {
  const answer = useApi(metric ? projectImportance(entity, project, { metric, filter: filter || undefined }) : null);
  const { reload } = answer;
  const pending = useRef<number | null>(null);
  useEffect(() => {
    if (liveVersion === 0 || pending.current !== null) return;
    pending.current = window.setTimeout(() => {
      pending.current = null;
      reload();
    }, LIVE_REFETCH_MS);
  }, [liveVersion, reload]);
  useEffect(
    () => () => {
      if (pending.current !== null) window.clearTimeout(pending.current);
    },
    [],
  );
  if (answer.error) {
    return (
      <p role="alert" className="error">
        {errorMessage(answer.error)}
      </p>
    );
  }
  // The answer for the metric before an edit stays until the new one arrives: show it loading instead.
  const rating = answer.data?.metric === metric ? answer.data : null;
  return <ImportanceBody rating={rating} metric={metric} />;
}
