/** Small pieces the sweep pages share: the state badge, the metric with its goal, trial counts. */
import { useState } from "react";
import { useTranslation } from "react-i18next";
import type { SweepMetric } from "../../api/types";

export function SweepStateBadge({ state }: { state: string }) {
  const { t } = useTranslation();
  return (
    <span className={`state sweep-state-${state}`} data-testid="sweep-state">
      {t(`sweeps.states.${state}`, { defaultValue: state })}
    </span>
  );
}

/** "val_loss ↓ minimize". */
export function MetricGoal({ metric }: { metric: SweepMetric | null }) {
  const { t } = useTranslation();
  if (!metric) return <span className="muted">–</span>;
  return (
    <span className="metric-goal">
      <code>{metric.name}</code>{" "}
      <span className="muted">
        {metric.goal === "maximize" ? "↑" : "↓"} {t(`sweeps.goals.${metric.goal}`, { defaultValue: metric.goal })}
      </span>
    </span>
  );
}

/** The trial counts by state, e.g. "12 · 3 running · 8 finished · 1 killed" (the total first). */
export function TrialCounts({ counts }: { counts: Record<string, number> }) {
  const { t } = useTranslation();
  const entries = Object.entries(counts).filter(([, n]) => n > 0);
  const total = entries.reduce((sum, [, n]) => sum + n, 0);
  return (
    <span className="trial-counts">
      <strong>{total}</strong>
      {entries.map(([state, n]) => (
        <span key={state} className={`count state-${state}`}>
          {" · "}
          {n} {t(`state.${state}`, { defaultValue: state })}
        </span>
      ))}
    </span>
  );
}

/** The command that starts an agent on a sweep, with a button that copies it. */
export function AgentCommand({ entity, project, id }: { entity: string; project: string; id: string }) {
  const { t } = useTranslation();
  const [copied, setCopied] = useState(false);
  const command = `wakelog agent ${entity}/${project}/${id}`;
  async function copy() {
    try {
      await navigator.clipboard.writeText(command);
      setCopied(true);
    } catch {
      setCopied(false); // no clipboard (an insecure origin): the command stays selectable
    }
  }
  return (
    <div className="agent-command">
      <code data-testid="agent-command">{command}</code>
      <button type="button" onClick={() => void copy()} aria-label={t("sweeps.copyCommand")}>
        {copied ? t("sweeps.copied") : t("sweeps.copy")}
      </button>
    </div>
  );
}
