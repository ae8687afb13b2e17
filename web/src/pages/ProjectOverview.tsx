/**
 * A project at a glance: its description (Markdown), its dashboard (the pinned report, live), its pinned runs, the best run by a metric the
 * reader picks (kept in the URL) and the latest runs, each linking to its run. Members edit the
 * description and pin or unpin runs here; the entity's admins find the project's settings linked.
 * The page follows the project's event stream (one EventSource, batched): the overview is fetched
 * again when a shown run changes, a run logs the chosen metric (it may become the best) or a run
 * is created, and the dashboard gets each batch to decide for itself.
 */
import { useCallback, useEffect, useId, useRef, useState, type FormEvent, type ReactNode } from "react";
import { useTranslation } from "react-i18next";
import { Link, useParams } from "react-router";
import { seg } from "../api/client";
import { editProject, projectEvents, projectKeys, projectOverview } from "../api/endpoints";
import type { ProjectOverview, Run } from "../api/types";
import { StateBadge } from "../components/cells";
import { Markdown } from "../components/Markdown";
import { PinButton } from "../components/PinButton";
import { Dashboard } from "./reports/Dashboard";
import { errorMessage } from "../i18n/errors";
import { canAdmin, canWrite } from "../lib/access";
import { formatTime, formatValue } from "../lib/format";
import { bringsNewKeys, useLive, type LiveBatch } from "../lib/live";
import { movePin } from "../lib/pins";
import { summaryFields, summaryLabel, summaryValue } from "../lib/runs";
import { useApi } from "../lib/useApi";
import { useUrlState } from "../lib/urlState";
import { useSession } from "../session";

/** How long the page gathers live events before it fetches again. */
const LIVE_MS = 5000;

/** Whether a batch of live events may change what the overview shows. */
export function overviewOutdated(data: Pick<ProjectOverview, "best" | "latest" | "pinned">, metric: string, batch: LiveBatch): boolean {
  if (batch.reconnected || batch.created) return true;
  const shown = new Set([...data.latest, ...data.pinned, ...(data.best ? [data.best] : [])].map((r) => r.id));
  for (const id of batch.changed) if (shown.has(id)) return true;
  if (!metric) return false;
  for (const keys of batch.points.values()) if (keys.has(metric)) return true;
  return false;
}

export function ProjectOverviewPage() {
  const { t } = useTranslation();
  const { me } = useSession();
  const { entity = "", project = "" } = useParams();
  const [params, setParams] = useUrlState();
  const keys = useApi(projectKeys(entity, project));
  const metrics = (keys.data?.summary ?? []).filter((k) => !k.startsWith("_"));
  const metric = params.get("metric") ?? metrics[0] ?? "";
  const goal = params.get("goal") === "min" ? "min" : "max";
  const overview = useApi(keys.data ? projectOverview(entity, project, metric ? { metric, goal, latest: 10 } : { latest: 10 }) : null);
  const data = overview.data;
  const member = canWrite(me, entity);
  const base = `/${seg(entity)}/${seg(project)}`;
  const error = keys.error ?? overview.error;
  const [live, setLive] = useState<LiveBatch | null>(null);
  const { reload: reloadKeys } = keys;
  const { reload: reloadOverview } = overview;
  const onLive = useCallback(
    (batch: LiveBatch) => {
      setLive(batch);
      if (bringsNewKeys(batch, keys.data?.summary ?? [])) reloadKeys();
      if (data && overviewOutdated(data, metric, batch)) reloadOverview();
    },
    [data, keys.data, metric, reloadKeys, reloadOverview],
  );
  useLive(keys.data ? projectEvents(entity, project) : null, onLive, LIVE_MS);

  return (
    <section className="page project-overview" data-testid="project-overview">
      <div className="page-head">
        <h1>
          {project} <span className="muted small">{entity}</span>
        </h1>
        <Link to={base}>{t("project.workspace")}</Link>
        <Link to={`${base}/reports`}>{t("reports.title")}</Link>
        {canAdmin(me, entity) && <Link to={`${base}/settings`}>{t("project.settings")}</Link>}
        {data && <span className="muted">{data.visibility === "signed_in" ? t("project.visibleSignedIn") : t("project.visibleMembers", { entity })}</span>}
      </div>
      {error && <p role="alert" className="error">{t("app.error", { message: errorMessage(error) })}</p>}
      {!data && !error && <p role="status">{t("app.loading")}</p>}
      {data && (
        <>
          <Description entity={entity} project={project} text={data.description} editable={member} onSaved={overview.reload} />
          <Dashboard entity={entity} project={project} live={live} />
          <section aria-labelledby="pinned-h" className="overview-part">
            <h2 id="pinned-h">{t("project.pinned")}</h2>
            {data.pinned.length === 0 ? (
              <p className="muted">{member ? t("project.noPinsMember") : t("project.noPins")}</p>
            ) : (
              <RunsTable runs={data.pinned} label={t("project.pinned")} base={base} metric={metric} testId="pinned-runs">
                {member &&
                  ((run, index) => (
                    <PinActions entity={entity} project={project} run={run} index={index} pinned={data.pinned_runs} onChanged={overview.reload} />
                  ))}
              </RunsTable>
            )}
          </section>
          <section aria-labelledby="best-h" className="overview-part" data-testid="best-run">
            <h2 id="best-h">{t("project.best")}</h2>
            <MetricPicker metrics={summaryFields(metrics, [...data.latest, ...data.pinned])} metric={metric} goal={goal} onChange={(m, g) => setParams({ metric: m || null, goal: g === "max" ? null : g })} />
            {!metric ? (
              <p className="muted">{t("project.noMetrics")}</p>
            ) : data.best ? (
              <p>
                <Link to={`${base}/runs/${seg(data.best.id)}`}>{data.best.name ?? data.best.id}</Link>{" "}
                <span>
                  {summaryLabel(metric)} = <strong>{formatValue(summaryValue(data.best.summary, metric))}</strong>
                </span>
              </p>
            ) : (
              <p className="muted">{t("project.noBest", { metric })}</p>
            )}
          </section>
          <section aria-labelledby="latest-h" className="overview-part">
            <h2 id="latest-h">{t("project.latest")}</h2>
            {data.latest.length === 0 ? (
              <p className="muted">{t("workspace.noRuns")}</p>
            ) : (
              <RunsTable runs={data.latest} label={t("project.latest")} base={base} metric={metric} testId="latest-runs">
                {member &&
                  ((run) => (
                    <PinButton entity={entity} project={project} runId={run.id} runLabel={run.name ?? run.id} pinned={data.pinned_runs} onChanged={overview.reload} />
                  ))}
              </RunsTable>
            )}
          </section>
        </>
      )}
    </section>
  );
}

function Description({ entity, project, text, editable, onSaved }: { entity: string; project: string; text: string | null; editable: boolean; onSaved: () => void }) {
  const { t } = useTranslation();
  const id = useId();
  const [draft, setDraft] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  // Closing the editor gives the focus back to the button that opened it (not to the page's top).
  const editButton = useRef<HTMLButtonElement>(null);
  const [closed, setClosed] = useState(0);
  useEffect(() => {
    if (closed > 0) editButton.current?.focus();
  }, [closed]);
  const close = () => {
    setDraft(null);
    setClosed((n) => n + 1);
  };
  const save = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    try {
      await editProject(entity, project, { description: draft?.trim() ? draft : null });
      close();
      onSaved();
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section aria-labelledby="description-h" className="overview-part" data-testid="description">
      <div className="part-head">
        <h2 id="description-h">{t("project.description")}</h2>
        {editable && draft === null && (
          <button
            type="button"
            ref={editButton}
            onClick={() => {
              setError(null);
              setDraft(text ?? "");
            }}
          >
            {t("project.editDescription")}
          </button>
        )}
      </div>
      {draft !== null ? (
        <form className="description-editor" onSubmit={(e) => void save(e)} aria-label={t("project.editDescription")}>
          <label htmlFor={id}>{t("project.descriptionLabel")}</label>
          {/* The editor opens on a person's click: the focus goes where they will type. */}
          <textarea id={id} rows={10} value={draft} autoFocus onChange={(e) => setDraft(e.target.value)} />
          <div className="buttons">
            <button type="submit" disabled={busy}>
              {t("manage.save")}
            </button>
            <button type="button" onClick={close}>
              {t("manage.cancel")}
            </button>
          </div>
          {error && <p role="alert" className="error">{error}</p>}
        </form>
      ) : text ? (
        <Markdown text={text} topLevel={3} />
      ) : (
        <p className="muted">{t("project.noDescription")}</p>
      )}
    </section>
  );
}

function MetricPicker({ metrics, metric, goal, onChange }: { metrics: string[]; metric: string; goal: "max" | "min"; onChange: (metric: string, goal: string) => void }) {
  const { t } = useTranslation();
  const id = useId();
  if (metrics.length === 0) return null;
  return (
    <div className="metric-picker">
      <label htmlFor={`${id}-metric`}>{t("project.metric")}</label>
      <select id={`${id}-metric`} value={metric} onChange={(e) => onChange(e.target.value, goal)}>
        {metrics.map((m) => (
          <option key={m} value={m}>
            {summaryLabel(m)}
          </option>
        ))}
      </select>
      <label htmlFor={`${id}-goal`}>{t("project.goal")}</label>
      <select id={`${id}-goal`} value={goal} onChange={(e) => onChange(metric, e.target.value)}>
        <option value="max">{t("project.goalMax")}</option>
        <option value="min">{t("project.goalMin")}</option>
      </select>
    </div>
  );
}

function PinActions({ entity, project, run, index, pinned, onChanged }: { entity: string; project: string; run: Run; index: number; pinned: string[]; onChanged: () => void }) {
  const { t } = useTranslation();
  const [error, setError] = useState<string | null>(null);
  const label = run.name ?? run.id;
  // The pinned list may name runs no longer in the project: move within the full list.
  const at = pinned.indexOf(run.id);
  const move = async (by: -1 | 1) => {
    try {
      await editProject(entity, project, { pinned_runs: movePin(pinned, at, by) });
      onChanged();
    } catch (e) {
      setError(errorMessage(e));
    }
  };
  return (
    <span className="pin-actions">
      <button type="button" disabled={index === 0} onClick={() => void move(-1)} aria-label={t("project.moveUp", { run: label })}>
        ↑
      </button>
      <button type="button" disabled={at === pinned.length - 1} onClick={() => void move(1)} aria-label={t("project.moveDown", { run: label })}>
        ↓
      </button>
      <PinButton entity={entity} project={project} runId={run.id} runLabel={label} pinned={pinned} onChanged={onChanged} />
      {error && <span role="alert" className="error">{error}</span>}
    </span>
  );
}

interface RunsTableProps {
  runs: Run[];
  label: string;
  base: string;
  metric: string;
  testId: string;
  /** The last column's controls for a run, where the reader may change something. */
  children?: false | ((run: Run, index: number) => ReactNode);
}

function RunsTable({ runs, label, base, metric, testId, children }: RunsTableProps) {
  const { t } = useTranslation();
  return (
    <table className="grid-table" aria-label={label} data-testid={testId}>
      <thead>
        <tr>
          <th scope="col">{t("manage.name")}</th>
          <th scope="col">{t("run.state")}</th>
          <th scope="col">{t("run.created")}</th>
          {metric && (
            <th scope="col" className="num">
              {summaryLabel(metric)}
            </th>
          )}
          {children && (
            <th scope="col">
              <span className="sr-only">{t("project.actions")}</span>
            </th>
          )}
        </tr>
      </thead>
      <tbody>
        {runs.map((run, index) => (
          <tr key={run.id} data-run={run.id}>
            <td>
              <Link to={`${base}/runs/${seg(run.id)}`}>{run.name ?? run.id}</Link>
            </td>
            <td>
              <StateBadge state={run.state} />
            </td>
            <td>{formatTime(run.created_at)}</td>
            {metric && <td className="num">{formatValue(summaryValue(run.summary, metric))}</td>}
            {children && <td>{children(run, index)}</td>}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
