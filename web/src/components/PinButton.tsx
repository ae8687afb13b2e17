/** Pin a run to its project's overview, or unpin it (the member role; the server checks). */
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { editProject, projectDetail } from "../api/endpoints";
import type { RunRef } from "../api/types";
import { errorMessage } from "../i18n/errors";
import { canWrite } from "../lib/access";
import { MAX_PINNED, togglePin } from "../lib/pins";
import { useApi } from "../lib/useApi";
import { useSession } from "../session";

interface Props {
  entity: string;
  project: string;
  runId: string;
  /** The run's name, for the button's accessible name where several runs have one. */
  runLabel?: string;
  pinned: readonly string[];
  onChanged: () => void;
}

export function PinButton({ entity, project, runId, runLabel, pinned, onChanged }: Props) {
  const { t } = useTranslation();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const isPinned = pinned.includes(runId);
  const toggle = async () => {
    setBusy(true);
    setError(null);
    try {
      await editProject(entity, project, { pinned_runs: togglePin(pinned, runId) });
      onChanged();
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };
  // In a table of runs the visible word is short; the accessible name adds the run (and starts with the word).
  const label = isPinned ? t("project.unpin") : runLabel ? t("project.pinShort") : t("project.pin");
  return (
    <>
      <button
        type="button"
        className="pin-button"
        disabled={busy || (!isPinned && pinned.length >= MAX_PINNED)}
        onClick={() => void toggle()}
        aria-label={runLabel ? t(isPinned ? "project.unpinRun" : "project.pinRun", { run: runLabel }) : undefined}
      >
        {label}
      </button>
      {error && <span role="alert" className="error">{error}</span>}
    </>
  );
}

/** A run's pin button with its project's pinned runs loaded for it (the run page); members only. */
export function RunPinButton({ runRef }: { runRef: RunRef }) {
  const { me } = useSession();
  const project = useApi(canWrite(me, runRef.entity) ? projectDetail(runRef.entity, runRef.project) : null);
  if (!project.data) return null;
  return <PinButton entity={runRef.entity} project={runRef.project} runId={runRef.run_id} pinned={project.data.pinned_runs} onChanged={project.reload} />;
}
