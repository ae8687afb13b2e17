/**
 * A project's workspace: the run table (filter, sort, columns, group by, selection, hidden runs)
 * beside the chart panels of the selected runs that are not hidden, kept live through the
 * project's event stream. Everything a person sets here is in the URL.
 */
import { useCallback, useEffect, useMemo, useState, useId, lazy, Suspense } from "react";
import { useTranslation } from "react-i18next";
import { useNavigate, useParams } from "react-router";
import { api, seg } from "../api/client";
import type { ProjectKeys, Run, RunKeys } from "../api/types";
import { StateBadge, Tags } from "../components/cells";
import { ChartControls } from "../components/ChartControls";
import { FilterBar } from "../components/FilterBar";
import { MetricPanel, type PanelSize, type ShownRun } from "../components/MetricPanel";
import { RunTable, type ColumnSpec, type TableItem } from "../components/RunTable";
import { runColor, runColors } from "../lib/colors";
import { formatField } from "../lib/filterBuilder";
import { formatDuration, formatTime, formatValue } from "../lib/format";
import { HIDDEN_PARAM, readHidden, toggleRunsHidden, withRunsHidden, writeHidden } from "../lib/hiddenRuns";
import { HistoryStore } from "../lib/historyStore";
import { bringsNewKeys, useLive, type LiveBatch } from "../lib/live";
import { loadLayout, parseLayout, saveLayout, sections, type PanelLayout } from "../lib/panels";
import { configValue, summaryValue, useRuns } from "../lib/runs";
import { useApi } from "../lib/useApi";
import { listParam, useUrlState, writeList } from "../lib/urlState";

const ParallelPlot = lazy(() => import("../components/ParallelPlot"));

/** Runs shown in the charts when none are chosen: the first rows of the table. */
export const AUTO_SELECTED = 10;
const BASE_COLUMNS = ["name", "state", "tags", "group", "job_type", "user", "created_at", "runtime"] as const;

function runLabel(run: Run): string {
  return run.name ?? run.id;
}

/** The server's sort key for a column id. */
function sortKeyOf(id: string): string | undefined {
  if (id === "name" || id === "state" || id === "group" || id === "job_type" || id === "created_at" || id === "runtime") return id;
  if (id.startsWith("config:")) return formatField(["config", ...id.slice(7).split(".")]);
  if (id.startsWith("summary:")) return formatField(["summary", id.slice(8)]);
  return undefined;
}

function parseOrder(order: string): { id: string; desc: boolean } | null {
  if (!order) return null;
  const desc = order.startsWith("-");
  const key = desc ? order.slice(1) : order;
  if (key.startsWith("config.")) return { id: `config:${key.slice(7).replaceAll("`", "")}`, desc };
  if (key.startsWith("summary.")) return { id: `summary:${key.slice(8).replaceAll("`", "")}`, desc };
  return { id: key, desc };
}

export function WorkspacePage() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const { entity = "", project = "" } = useParams();
  const [params, setParams] = useUrlState();
  const filter = params.get("filter") ?? "";
  const order = params.get("order") ?? "";
  const view = params.get("view") ?? "split";
  const xAxis = params.get("x") ?? "_step";
  const smoothing = Math.min(0.99, Math.max(0, Number(params.get("smooth") ?? "0") || 0));
  const logY = params.get("log") === "1";
  const groupBy = params.get("group") ?? "";
  const extraColumns = listParam(params, "cols") ?? [];
  const hiddenColumns = new Set(listParam(params, "hide") ?? []);
  const explicitSelection = listParam(params, "sel");
  const hiddenParam = params.get(HIDDEN_PARAM);
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const hidden = useMemo(() => readHidden(params), [hiddenParam]);
  const xr = params.get("xr");
  const range = useMemo<[number, number] | null>(() => {
    if (!xr) return null;
    const [a, b] = xr.split(",").map(Number);
    return a !== undefined && b !== undefined && Number.isFinite(a) && Number.isFinite(b) && a < b ? [a, b] : null;
  }, [xr]);

  const base = `/projects/${seg(entity)}/${seg(project)}`;
  const rows = useRuns(entity, project, filter, order);
  const keys = useApi<ProjectKeys>(`${base}/keys`);
  const store = useMemo(() => new HistoryStore(entity, project), [entity, project]);
  const [liveVersion, setLiveVersion] = useState(0);
  const [collapsed, setCollapsed] = useState<Set<string>>(new Set());
  const projectId = `${entity}/${project}`;
  const [layout, setLayout] = useState<PanelLayout>(() => loadLayout(projectId));
  const workspaceUrl = `${base}/workspace`;
  useEffect(() => {
    setLayout(loadLayout(projectId));
    let current = true;
    api
      .get<{ layout: unknown }>(workspaceUrl)
      .then((saved) => {
        const fromServer = parseLayout(saved.layout);
        if (current && fromServer) {
          setLayout(fromServer);
          saveLayout(projectId, fromServer);
        }
      })
      .catch(() => undefined); // the local copy stays in use
    return () => {
      current = false;
    };
  }, [projectId, workspaceUrl]);
  const updateLayout = useCallback(
    (next: PanelLayout) => {
      setLayout(next);
      saveLayout(projectId, next);
      api.put(workspaceUrl, next).catch(() => undefined); // kept locally even if the server is away
    },
    [projectId, workspaceUrl],
  );

  // -- selection: explicit (URL) or the first rows ------------------------------------------------
  const loadedRuns = rows.loaded();
  const runById = useMemo(() => new Map(loadedRuns.map((r) => [r.id, r])), [loadedRuns]);
  const selectedIds = useMemo(
    () => explicitSelection ?? loadedRuns.slice(0, AUTO_SELECTED).map((r) => r.id),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [explicitSelection?.join(","), loadedRuns],
  );
  const selected = useMemo(() => new Set(selectedIds), [selectedIds]);
  const colors = useMemo(() => runColors(selectedIds), [selectedIds]);
  const colorOfRun = useCallback((run: Run): string => colors.get(run.id) ?? runColor(run.id), [colors]);
  // Hidden runs keep their place in `colors`, so hiding one never recolours the others.
  const shownRuns = useMemo<ShownRun[]>(
    () =>
      selectedIds
        .filter((id) => !hidden.has(id))
        .map((id) => ({
          id,
          label: runById.get(id) ? runLabel(runById.get(id) as Run) : id,
          color: colors.get(id) ?? runColor(id),
        })),
    [selectedIds, hidden, runById, colors],
  );
  const toggle = useCallback(
    (run: Run) => {
      const next = selected.has(run.id) ? selectedIds.filter((id) => id !== run.id) : [...selectedIds, run.id];
      setParams({ sel: writeList(next) || "-" });
    },
    [selected, selectedIds, setParams],
  );
  const setHidden = useCallback((next: Set<string>) => setParams({ [HIDDEN_PARAM]: writeHidden(next) }), [setParams]);
  const toggleHidden = useCallback((runIds: string[]) => setHidden(toggleRunsHidden(hidden, runIds)), [hidden, setHidden]);

  // -- live updates ---------------------------------------------------------------------------------
  const onLive = useCallback(
    (batch: LiveBatch) => {
      if (batch.reconnected || batch.changed.size > 0) rows.reload();
      if (batch.created || batch.reconnected) keys.reload();
      const shownHasPoints = batch.reconnected || [...batch.points.keys()].some((id) => selected.has(id));
      if (shownHasPoints) setLiveVersion((v) => v + 1);
      if (bringsNewKeys(batch, keys.data?.summary ?? [])) keys.reload();
    },
    [rows, keys, selected],
  );
  const connected = useLive(`${base}/events`, onLive);

  // -- columns ---------------------------------------------------------------------------------------
  const columns = useMemo<ColumnSpec[]>(() => {
    const specs: Record<(typeof BASE_COLUMNS)[number], ColumnSpec> = {
      name: {
        id: "name",
        header: t("columns.name"),
        width: 200,
        sortKey: "name",
        render: (r) => (
          <a href={`/${seg(entity)}/${seg(project)}/runs/${seg(r.id)}`} className="run-link" data-spa="">
            {runLabel(r)}
          </a>
        ),
        text: (r) => `${runLabel(r)} (${r.id})`,
      },
      state: {
        id: "state",
        header: t("columns.state"),
        width: 100,
        sortKey: "state",
        render: (r) => <StateBadge state={r.state} />,
      },
      tags: { id: "tags", header: t("columns.tags"), width: 130, render: (r) => <Tags tags={r.tags} />, text: (r) => r.tags.join(", ") },
      group: { id: "group", header: t("columns.group"), width: 110, sortKey: "group", render: (r) => r.group ?? "", text: (r) => r.group ?? "" },
      job_type: { id: "job_type", header: t("columns.job_type"), width: 100, sortKey: "job_type", render: (r) => r.job_type ?? "" },
      user: { id: "user", header: t("columns.user"), width: 90, render: (r) => r.user ?? "" },
      created_at: { id: "created_at", header: t("columns.created"), width: 160, sortKey: "created_at", render: (r) => formatTime(r.created_at) },
      runtime: { id: "runtime", header: t("columns.duration"), width: 90, sortKey: "runtime", numeric: true, render: (r) => formatDuration(r.runtime) },
    };
    const out: ColumnSpec[] = BASE_COLUMNS.filter((id) => !hiddenColumns.has(id)).map((id) => specs[id]);
    for (const col of extraColumns) {
      if (col.startsWith("config:")) {
        const path = col.slice(7);
        out.push({ id: col, header: path, width: 110, sortKey: sortKeyOf(col), numeric: true, render: (r) => formatValue(configValue(r.config, path)), text: (r) => formatValue(configValue(r.config, path)) });
      } else if (col.startsWith("summary:")) {
        const key = col.slice(8);
        out.push({ id: col, header: key, width: 110, sortKey: sortKeyOf(col), numeric: true, render: (r) => formatValue(summaryValue(r.summary, key)), text: (r) => formatValue(summaryValue(r.summary, key)) });
      }
    }
    return out;
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [t, entity, project, params.get("cols"), params.get("hide")]);

  // -- rows, grouped or not -------------------------------------------------------------------------
  const total = rows.total ?? 0;
  const groupValue = useCallback(
    (r: Run): string => {
      if (groupBy === "group") return r.group ?? "–";
      if (groupBy === "job_type") return r.job_type ?? "–";
      if (groupBy === "state") return r.state;
      if (groupBy.startsWith("config:")) return formatValue(configValue(r.config, groupBy.slice(7)));
      return "";
    },
    [groupBy],
  );
  const grouped = useMemo(() => {
    if (!groupBy) return null;
    const groups = new Map<string, Run[]>();
    for (const r of loadedRuns) {
      const g = groupValue(r);
      const list = groups.get(g);
      if (list) list.push(r);
      else groups.set(g, [r]);
    }
    const items: TableItem[] = [];
    for (const [label, list] of [...groups.entries()].sort(([a], [b]) => a.localeCompare(b))) {
      const isCollapsed = collapsed.has(label);
      items.push({ kind: "group", label, count: list.length, collapsed: isCollapsed, runIds: list.map((r) => r.id) });
      if (!isCollapsed) list.forEach((run) => items.push({ kind: "run", run }));
    }
    return items;
  }, [groupBy, loadedRuns, groupValue, collapsed]);
  useEffect(() => {
    // Grouping needs every row.
    if (groupBy && total > 0) rows.ensure(0, total - 1);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [groupBy, total]);
  const item = useCallback(
    (index: number): TableItem => (grouped ? (grouped[index] ?? { kind: "run", run: undefined }) : { kind: "run", run: rows.row(index) }),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [grouped, rows.row, rows.version],
  );
  const ensure = rows.ensure;
  const onRange = useCallback((start: number, end: number) => {
    if (!grouped) ensure(start, end);
  }, [grouped, ensure]);

  // -- charts -------------------------------------------------------------------------------------
  const metricKeys = useMemo(() => (keys.data?.summary ?? []).filter((k) => !k.startsWith("_")), [keys.data]);
  const firstShown = selectedIds[0];
  const runKeys = useApi<RunKeys>(firstShown ? `/runs/${seg(entity)}/${seg(project)}/${seg(firstShown)}/keys` : null);
  const systemKeys = useMemo(() => (runKeys.data?.system ?? []).map((k) => k.key), [runKeys.data]);
  const panelKeys = useMemo(() => {
    const removed = new Set(layout.removed);
    const all = [...metricKeys, ...layout.added.filter((k) => !metricKeys.includes(k))];
    return all.filter((k) => !removed.has(k));
  }, [metricKeys, layout]);
  const onZoom = useCallback((r: [number, number] | null) => setParams({ xr: r ? `${r[0]},${r[1]}` : null }), [setParams]);
  const panelSize = (key: string): PanelSize => layout.sizes[key] ?? "m";

  const addPanelId = useId();
  const groupId = useId();
  const columnId = useId();
  const sortState = parseOrder(order);
  const hiddenPanels = layout.removed.filter((k) => metricKeys.includes(k));
  const configFields = (keys.data?.config ?? []).map((k) => `config.${k}`);
  const summaryFields = metricKeys.map((k) => formatField(["summary", k]));
  const shownCount = grouped ? loadedRuns.length : total;
  const drawnRuns = hidden.size > 0 ? loadedRuns.filter((r) => !hidden.has(r.id)) : loadedRuns;

  const panelProps = {
    store,
    runs: shownRuns,
    xAxis,
    smoothing,
    logY,
    range,
    onZoom,
    liveVersion,
  };

  return (
    <section className="workspace" data-testid="workspace">
      <div className="ws-head">
        <h1>
          {project} <span className="muted small">{entity}</span>
        </h1>
        <span className={`live-dot${connected ? " on" : ""}`} role="status" data-testid="live-status">
          {connected ? t("workspace.live") : t("workspace.offline")}
        </span>
        <div className="view-switch" role="group" aria-label={t("workspace.runs")}>
          {(["split", "table", "charts"] as const).map((v) => (
            <button key={v} type="button" aria-pressed={view === v} onClick={() => setParams({ view: v === "split" ? null : v })}>
              {v === "split" ? t("workspace.split") : v === "table" ? t("workspace.table") : t("workspace.charts")}
            </button>
          ))}
        </div>
        <button
          type="button"
          disabled={selectedIds.length < 2}
          onClick={() => navigate(`/${seg(entity)}/${seg(project)}/compare?runs=${writeList(selectedIds)}`)}
        >
          {t("workspace.compare")}
        </button>
      </div>
      <FilterBar value={filter} onChange={(f) => setParams({ filter: f || null, sel: null })} error={rows.error} fields={["name", "state", "tags", "group", "job_type", "host", "created_at", "runtime", ...configFields, ...summaryFields]} />
      <div className={`ws-body view-${view}`}>
        {view !== "charts" && (
          <div className="ws-table">
            <div className="table-tools">
              <span data-testid="run-count">{t("workspace.count", { shown: shownCount, total })}</span>
              <span>{t("workspace.selected", { count: selectedIds.length })}</span>
              <button type="button" disabled={selectedIds.every((id) => hidden.has(id))} onClick={() => setHidden(withRunsHidden(hidden, selectedIds, true))}>
                {t("workspace.hideSelected")}
              </button>
              {hidden.size > 0 && (
                <button type="button" onClick={() => setHidden(new Set())}>
                  {t("workspace.showAll", { count: hidden.size })}
                </button>
              )}
              {explicitSelection && (
                <button type="button" onClick={() => setParams({ sel: null })}>
                  {t("workspace.selectVisible", { count: AUTO_SELECTED })}
                </button>
              )}
              <label htmlFor={groupId}>{t("workspace.groupBy")}</label>
              <select id={groupId} value={groupBy} onChange={(e) => setParams({ group: e.target.value || null })}>
                <option value="">{t("workspace.noGroup")}</option>
                <option value="group">{t("columns.group")}</option>
                <option value="job_type">{t("columns.job_type")}</option>
                <option value="state">{t("columns.state")}</option>
                {(keys.data?.config ?? []).map((k) => (
                  <option key={k} value={`config:${k}`}>
                    config.{k}
                  </option>
                ))}
              </select>
              <label htmlFor={columnId}>{t("workspace.addColumn")}</label>
              <select
                id={columnId}
                value=""
                data-testid="add-column"
                onChange={(e) => {
                  const v = e.target.value;
                  if (!v) return;
                  if (BASE_COLUMNS.includes(v as (typeof BASE_COLUMNS)[number])) {
                    setParams({ hide: writeList([...hiddenColumns].filter((c) => c !== v)) || null });
                  } else if (!extraColumns.includes(v)) setParams({ cols: writeList([...extraColumns, v]) });
                }}
              >
                <option value="">{t("workspace.columns")}…</option>
                {[...hiddenColumns].map((c) => (
                  <option key={c} value={c}>
                    {t(`columns.${c === "created_at" ? "created" : c === "runtime" ? "duration" : c}`)}
                  </option>
                ))}
                <optgroup label="config">
                  {(keys.data?.config ?? []).map((k) => (
                    <option key={k} value={`config:${k}`}>
                      config.{k}
                    </option>
                  ))}
                </optgroup>
                <optgroup label="summary">
                  {metricKeys.map((k) => (
                    <option key={k} value={`summary:${k}`}>
                      summary.{k}
                    </option>
                  ))}
                </optgroup>
              </select>
              {columns.length > 1 && (
                <ColumnHider
                  columns={columns}
                  onHide={(id) =>
                    id.includes(":")
                      ? setParams({ cols: writeList(extraColumns.filter((c) => c !== id)) || null })
                      : setParams({ hide: writeList([...hiddenColumns, id]) })
                  }
                />
              )}
            </div>
            {rows.total === 0 && !rows.error ? (
              <p className="muted">{t("workspace.noRuns")}</p>
            ) : (
              <RunTable
                columns={columns}
                count={grouped ? grouped.length : total}
                item={item}
                onRange={onRange}
                sort={sortState}
                onSort={(s) => {
                  const key = s ? sortKeyOf(s.id) : undefined;
                  setParams({ order: s && key ? `${s.desc ? "-" : ""}${key}` : null });
                }}
                selected={selected}
                onToggle={toggle}
                hidden={hidden}
                onToggleHidden={toggleHidden}
                onToggleGroup={(label) => {
                  const next = new Set(collapsed);
                  if (next.has(label)) next.delete(label);
                  else next.add(label);
                  setCollapsed(next);
                }}
                colorOf={colorOfRun}
                label={t("workspace.runs")}
              />
            )}
          </div>
        )}
        {view !== "table" && (
          <div className="ws-charts">
            <ChartControls
              xAxis={xAxis}
              onXAxis={(x) => setParams({ x: x === "_step" ? null : x, xr: null })}
              metricKeys={metricKeys}
              smoothing={smoothing}
              onSmoothing={(s) => setParams({ smooth: s > 0 ? String(s) : null })}
              logY={logY}
              onLogY={(v) => setParams({ log: v ? "1" : null })}
            />
            <div className="panel-tools-row">
              <label htmlFor={addPanelId}>{t("workspace.addPanel")}</label>
              <select
                id={addPanelId}
                value=""
                onChange={(e) => {
                  const k = e.target.value;
                  if (!k) return;
                  updateLayout({ ...layout, removed: layout.removed.filter((r) => r !== k), added: metricKeys.includes(k) ? layout.added : [...layout.added, k] });
                }}
              >
                <option value="">{t("workspace.addPanelFor")}…</option>
                {hiddenPanels.map((k) => (
                  <option key={k} value={k}>
                    {k}
                  </option>
                ))}
              </select>
              {(layout.removed.length > 0 || layout.added.length > 0 || Object.keys(layout.sizes).length > 0) && (
                <button type="button" onClick={() => updateLayout({ removed: [], added: [], sizes: {} })}>
                  {t("workspace.resetPanels")}
                </button>
              )}
            </div>
            {metricKeys.length === 0 && keys.data && <p className="muted">{t("workspace.noMetrics")}</p>}
            {sections(panelKeys).map(([name, list]) => (
              <details className="section" open key={name || "_"} data-section={name || "other"}>
                <summary>
                  <h2>{name || t("workspace.section.other")}</h2> <span className="muted">({list.length})</span>
                </summary>
                <div className="panel-grid">
                  {list.map((k) => (
                    <MetricPanel
                      key={k}
                      {...panelProps}
                      metric={k}
                      stream="history"
                      size={panelSize(k)}
                      onResize={(size) => updateLayout({ ...layout, sizes: { ...layout.sizes, [k]: size } })}
                      onRemove={() => updateLayout({ ...layout, removed: [...layout.removed, k] })}
                    />
                  ))}
                </div>
              </details>
            ))}
            {systemKeys.length > 0 && (
              <details className="section" data-section="system">
                <summary>
                  <h2>{t("workspace.section.system")}</h2> <span className="muted">({systemKeys.length})</span>
                </summary>
                <div className="panel-grid">
                  {systemKeys.map((k) => (
                    <MetricPanel key={k} {...panelProps} xAxis="_runtime" range={null} metric={k} stream="system" size="s" />
                  ))}
                </div>
              </details>
            )}
            {loadedRuns.length > 1 && (
              <details className="section" data-section="parallel">
                <summary>
                  <h2>{t("workspace.parallel")}</h2>
                </summary>
                <Suspense fallback={<p role="status">{t("app.loading")}</p>}>
                  <ParallelPlot runs={drawnRuns.slice(0, 2000)} selected={selected} configKeys={keys.data?.config ?? []} metricKeys={metricKeys} />
                </Suspense>
              </details>
            )}
          </div>
        )}
      </div>
    </section>
  );
}

function ColumnHider({ columns, onHide }: { columns: ColumnSpec[]; onHide: (id: string) => void }) {
  const { t } = useTranslation();
  const id = useId();
  return (
    <>
      <label htmlFor={id} className="sr-only">
        {t("columns.hide")}
      </label>
      <select id={id} value="" onChange={(e) => e.target.value && onHide(e.target.value)} data-testid="hide-column">
        <option value="">{t("columns.hide")}…</option>
        {columns
          .filter((c) => c.id !== "name")
          .map((c) => (
            <option key={c.id} value={c.id}>
              {c.header}
            </option>
          ))}
      </select>
    </>
  );
}
