/**
 * Create a sweep from its YAML. The server checks the text as it is typed (debounced, through
 * `POST /sweeps/validate`, which never refuses a bad configuration, it describes it); each error
 * shows beside its key. Creating prints the `wakelog agent` command that starts trials. Loaded
 * lazily: only people who create sweeps fetch it.
 */
import { useEffect, useId, useMemo, useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useParams } from "react-router";
import { ApiError, seg } from "../api/client";
import { createSweep, validateSweep } from "../api/endpoints";
import type { Sweep, SweepConfigError, SweepValidation } from "../api/types";
import { errorMessage } from "../i18n/errors";
import { AgentCommand } from "./sweep/parts";
import { placeErrors, YamlEditor } from "./sweep/YamlEditor";

/** ms without typing before the text is checked. */
const DEBOUNCE_MS = 300;

const TEMPLATE = `# wandb's sweep configuration: https://docs.wandb.ai/guides/sweeps/define-sweep-configuration
name: my-sweep
program: train.py
method: bayes
metric:
  name: val_loss
  goal: minimize
parameters:
  lr:
    distribution: log_uniform_values
    min: 0.0001
    max: 0.1
  batch_size:
    values: [16, 32, 64]
  optimizer:
    values: ["adam", "sgd"]
early_terminate:
  type: hyperband
  min_iter: 3
`;

/** The `details` of a refused create (`invalid_sweep_config`), if the answer has them. */
function detailsOf(e: unknown): SweepConfigError[] {
  if (!(e instanceof ApiError) || e.body === null || typeof e.body !== "object" || !("details" in e.body)) return [];
  const details: unknown = e.body.details;
  if (!Array.isArray(details)) return [];
  return details.filter((d: unknown): d is SweepConfigError => {
    if (d === null || typeof d !== "object") return false;
    const entry = d as Record<string, unknown>;
    return typeof entry.key === "string" && typeof entry.message === "string";
  });
}

export default function NewSweepPage() {
  const { t } = useTranslation();
  const { entity = "", project = "" } = useParams();
  const [text, setText] = useState(TEMPLATE);
  // The last answer stays shown while the next check runs: the markers do not blink as one types.
  const [answer, setAnswer] = useState<SweepValidation | null>(null);
  const [checking, setChecking] = useState(true);
  const [checkFailed, setCheckFailed] = useState<string | null>(null);
  const [refused, setRefused] = useState<{ message: string; errors: SweepConfigError[] } | null>(null);
  const [created, setCreated] = useState<Sweep | null>(null);
  const [creating, setCreating] = useState(false);
  const editorId = useId();
  const errorsId = useId();

  useEffect(() => {
    const controller = new AbortController();
    setChecking(true);
    const timer = setTimeout(() => {
      validateSweep(text, controller.signal)
        .then((next) => {
          setAnswer(next);
          setCheckFailed(null);
          setChecking(false);
        })
        .catch((e: unknown) => {
          if (controller.signal.aborted) return;
          setCheckFailed(errorMessage(e));
          setChecking(false);
        });
    }, DEBOUNCE_MS);
    return () => {
      clearTimeout(timer);
      controller.abort();
    };
  }, [text]);

  const placed = useMemo(
    () => placeErrors(text, refused && refused.errors.length > 0 ? refused.errors : (answer?.errors ?? [])),
    [text, refused, answer],
  );
  const valid = !checking && answer?.ok === true;

  function edit(next: string) {
    setText(next);
    setRefused(null);
  }

  async function create() {
    setCreating(true);
    setRefused(null);
    try {
      setCreated(await createSweep(entity, project, text));
    } catch (e) {
      setRefused({ message: errorMessage(e), errors: detailsOf(e) });
    } finally {
      setCreating(false);
    }
  }

  const base = `/${seg(entity)}/${seg(project)}`;
  if (created) {
    return (
      <section className="page narrow" data-testid="sweep-created">
        <h1>{t("sweeps.createdTitle", { name: created.name || created.id })}</h1>
        <p>{t("sweeps.createdHelp")}</p>
        <AgentCommand entity={entity} project={project} id={created.id} />
        <p>
          <Link to={`${base}/sweeps/${seg(created.id)}`}>{t("sweeps.openSweep")}</Link>
        </p>
      </section>
    );
  }
  return (
    <section className="page new-sweep" data-testid="new-sweep">
      <div className="page-head">
        <h1>
          {t("sweeps.newTitle")} <span className="muted small">{entity}/{project}</span>
        </h1>
        <Link to={`${base}/sweeps`}>{t("sweeps.title")}</Link>
      </div>
      <p className="hint">{t("sweeps.editorHelp")}</p>
      <label htmlFor={editorId} className="editor-label">
        {t("sweeps.configuration")}
      </label>
      <YamlEditor id={editorId} value={text} onChange={edit} errors={placed} describedBy={errorsId} label={t("sweeps.configuration")} />
      <div id={errorsId} className="validation" aria-live="polite" data-testid="validation">
        {checking && <span className="muted">{t("sweeps.checking")}</span>}
        {!checking && checkFailed && <span className="error">{t("sweeps.checkFailed", { message: checkFailed })}</span>}
        {valid && <span className="ok">✓ {t("sweeps.valid")}</span>}
        {placed.length > 0 && (
          <>
            <span className="error">{t("sweeps.problems", { count: placed.length })}</span>
            <ul className="error-list">
              {placed.map((e, i) => (
                <li key={`${e.key}-${i}`}>
                  {e.line !== null && <span className="muted">{t("sweeps.line", { line: e.line })} </span>}
                  <code>{e.key || "—"}</code>: {e.message}
                </li>
              ))}
            </ul>
          </>
        )}
      </div>
      {refused && <p role="alert" className="error">{refused.message}</p>}
      <div className="form-actions">
        <button type="button" className="primary" disabled={creating || !valid} onClick={() => void create()}>
          {t("sweeps.create")}
        </button>
        <button type="button" onClick={() => edit(TEMPLATE)} disabled={text === TEMPLATE}>
          {t("sweeps.resetTemplate")}
        </button>
      </div>
    </section>
  );
}
