/** "Forked from <parent run> at step N": a fork names its parent in its metadata (`forked_from`). */
import { useTranslation } from "react-i18next";
import { Link } from "react-router";
import { seg } from "../api/client";
import type { RunRef } from "../api/types";

export interface ForkPoint {
  run: string;
  step: number;
  /** false: the server could not copy the parent's rows (a parent it did not have at sync) */
  copied: boolean;
  reason?: string;
}

/** The run's fork point from its metadata; null for a run that is no fork (or a malformed note). */
export function forkPoint(metadata: Record<string, unknown> | null | undefined): ForkPoint | null {
  const note = metadata?.forked_from;
  if (typeof note !== "object" || note === null) return null;
  const { run, step, copied, reason } = note as Record<string, unknown>;
  if (typeof run !== "string" || typeof step !== "number") return null;
  return { run, step, copied: copied !== false, reason: typeof reason === "string" ? reason : undefined };
}

/** The parent run (same project: W&B's rule) as a link, and the step the fork starts after. */
export function ForkedFrom({ fork, runRef }: { fork: ForkPoint; runRef: RunRef }) {
  const { t } = useTranslation();
  const parent = `/${seg(runRef.entity)}/${seg(runRef.project)}/runs/${seg(fork.run)}`;
  return (
    <span data-testid="forked-from">
      <Link to={parent}>{fork.run}</Link>
      {t("run.forkedFromAfter", { step: fork.step })}
      {!fork.copied && <span className="muted" title={fork.reason}> {t("run.forkNotCopied")}</span>}
    </span>
  );
}
