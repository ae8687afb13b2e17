/**
 * Pause, resume, stop (running trials finish) and cancel (running trials are killed) a sweep. Only
 * the actions the sweep's state allows are offered; cancel asks first. The caller shows them to
 * members only (the server refuses anyone else).
 */
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { controlSweep } from "../../api/endpoints";
import type { Sweep, SweepAction, SweepState } from "../../api/types";
import { errorMessage } from "../../i18n/errors";

const ALLOWED: Record<SweepState, SweepAction[]> = {
  running: ["pause", "stop", "cancel"],
  paused: ["resume", "stop", "cancel"],
  stopping: ["cancel"],
  finished: [],
  canceled: [],
};

export function SweepControls({ sweep, onChanged }: { sweep: Sweep; onChanged: (next: Sweep) => void }) {
  const { t } = useTranslation();
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<string | null>(null);
  const actions = ALLOWED[sweep.state] ?? [];
  if (actions.length === 0) return null;

  async function act(action: SweepAction) {
    if (action === "cancel" && !window.confirm(t("sweeps.confirmCancel", { name: sweep.name || sweep.id }))) return;
    setBusy(true);
    setFailure(null);
    try {
      onChanged(await controlSweep(sweep.entity, sweep.project, sweep.id, action));
    } catch (e) {
      setFailure(errorMessage(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="sweep-controls" role="group" aria-label={t("sweeps.controls")}>
      {actions.map((action) => (
        <button
          key={action}
          type="button"
          data-action={action}
          className={action === "cancel" ? "danger" : undefined}
          disabled={busy}
          title={t(`sweeps.actionHelp.${action}`)}
          onClick={() => void act(action)}
        >
          {t(`sweeps.actions.${action}`)}
        </button>
      ))}
      {failure && <p role="alert" className="error">{failure}</p>}
    </div>
  );
}
