/** The run page's reproducibility facts: command, git (with the diff), Python, Paddle, CUDA, GPUs. */
import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { runFileUrl } from "../api/endpoints";
import type { RunRef } from "../api/types";
import { environmentFacts, type GitFacts } from "../lib/environment";
import { FactList, type Fact } from "./FactList";

export function EnvironmentFacts({ metadata, runRef }: { metadata: Record<string, unknown>; runRef: RunRef }) {
  const { t } = useTranslation();
  const facts = environmentFacts(metadata);
  const rows: Fact[] = [];
  if (facts.command) rows.push([t("env.command"), <code key="c">{facts.command}</code>]);
  if (facts.git) rows.push([t("env.git"), <GitLine key="g" git={facts.git} />]);
  if (facts.python) rows.push(["Python", facts.python]);
  if (facts.paddle) rows.push(["PaddlePaddle", facts.paddle]);
  if (facts.cuda) rows.push(["CUDA", facts.cuda]);
  rows.push([t("env.gpus"), facts.gpus ?? t("env.noGpu")]);
  if (facts.os) rows.push([t("env.os"), facts.os]);
  return (
    <section aria-labelledby="env-h" data-testid="environment">
      <h2 id="env-h">{t("env.title")}</h2>
      <FactList facts={rows} className="env-facts" />
      {facts.hasDiff && (
        <details className="diff">
          <summary>{t("env.showDiff")}</summary>
          <DiffView url={runFileUrl(runRef, "diff.patch") ?? ""} />
        </details>
      )}
    </section>
  );
}

function GitLine({ git }: { git: GitFacts }) {
  const { t } = useTranslation();
  return (
    <span className="git-line">
      {git.remote &&
        (git.remoteUrl ? (
          <a href={git.remoteUrl} target="_blank" rel="noopener noreferrer">
            {git.remote}
          </a>
        ) : (
          <code>{git.remote}</code>
        ))}
      {git.branch && <span> {git.branch}</span>}
      {git.commit && (
        <code title={git.commit} data-testid="git-commit">
          {" "}
          {git.commit.slice(0, 10)}
        </code>
      )}
      {git.dirty && (
        <span className="badge dirty" title={t("env.dirtyHint")}>
          {t("env.dirty")}
        </span>
      )}
    </span>
  );
}

/** The uncommitted changes the run started with, as a coloured unified diff (loaded when opened). */
function DiffView({ url }: { url: string }) {
  const { t } = useTranslation();
  const [lines, setLines] = useState<string[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const abort = new AbortController();
    fetch(url, { credentials: "same-origin", signal: abort.signal })
      .then(async (r) => {
        if (r.status === 404) throw new Error(t("env.diffMissing"));
        if (!r.ok) throw new Error(`HTTP ${r.status}`);
        setLines((await r.text()).split("\n"));
      })
      .catch((e: unknown) => {
        if (!abort.signal.aborted) setError(e instanceof Error ? e.message : String(e));
      });
    return () => abort.abort();
  }, [url, t]);
  if (error) return <p className="muted">{error}</p>;
  if (!lines) return <p role="status">{t("app.loading")}</p>;
  return (
    <pre className="diff-body" data-testid="diff">
      {lines.map((line, i) => (
        <span key={i} className={diffLineClass(line)}>
          {line}
          {"\n"}
        </span>
      ))}
    </pre>
  );
}

function diffLineClass(line: string): string | undefined {
  if (line.startsWith("+++") || line.startsWith("---") || line.startsWith("diff ")) return "diff-file";
  if (line.startsWith("@@")) return "diff-hunk";
  if (line.startsWith("+")) return "diff-add";
  if (line.startsWith("-")) return "diff-del";
  return undefined;
}
