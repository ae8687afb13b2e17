/** The editor's parts: a markdown block, a panel block's run sets, and one panel's kind and config. */
import { useId, useState } from "react";
import { useTranslation } from "react-i18next";
import { SmoothingKindSelect } from "../../components/ChartOptionFields";
import { SMOOTHING_DEFAULT, smoothingKindOf } from "../../lib/smoothing";
import { configString, defaultConfig, stringList } from "../../panels/data";
import { PANEL_KINDS, type Panel, type PanelKind, type RunSet } from "../../panels/types";
import { RunPicker } from "./RunPicker";

/** A comma-separated list as the config's string array ("a, b" → ["a", "b"]). */
export function splitList(text: string): string[] {
  return text
    .split(/[,\n]/)
    .map((s) => s.trim())
    .filter(Boolean);
}

function Field({ label, value, onChange, list, multiline }: { label: string; value: string; onChange: (v: string) => void; list?: string; multiline?: boolean }) {
  const id = useId();
  return (
    <span className="field">
      <label htmlFor={id}>{label}</label>
      {multiline ? (
        <textarea id={id} value={value} rows={4} onChange={(e) => onChange(e.target.value)} />
      ) : (
        <input id={id} value={value} list={list} onChange={(e) => onChange(e.target.value)} />
      )}
    </span>
  );
}

/** A number typed freely (a lone "-" or "1." on the way): `onChange` gets null until it reads as one. */
function NumberField({ label, value, onChange }: { label: string; value: number | null; onChange: (v: number | null) => void }) {
  const [text, setText] = useState(value === null ? "" : String(value));
  return (
    <Field
      label={label}
      value={text}
      onChange={(v) => {
        setText(v);
        onChange(v.trim() === "" || !Number.isFinite(Number(v)) ? null : Number(v));
      }}
    />
  );
}

/** A line panel's fixed y range (`y_range: [low or null, high or null]`; both empty: automatic). */
function YRangeFields({ config, set }: { config: Record<string, unknown>; set: (key: string, value: unknown) => void }) {
  const { t } = useTranslation();
  const [low, high] = Array.isArray(config.y_range) ? (config.y_range as unknown[]) : [null, null];
  const ends: [number | null, number | null] = [typeof low === "number" ? low : null, typeof high === "number" ? high : null];
  const change = (index: 0 | 1, value: number | null) => {
    const next: [number | null, number | null] = [...ends];
    next[index] = value;
    set("y_range", next[0] === null && next[1] === null ? undefined : next);
  };
  return (
    <>
      <NumberField label={t("chart.yMin")} value={ends[0]} onChange={(v) => change(0, v)} />
      <NumberField label={t("chart.yMax")} value={ends[1]} onChange={(v) => change(1, v)} />
    </>
  );
}

export function RunSetEditor({ entity, project, set, resolved, onChange }: { entity: string; project: string; set: RunSet; resolved: { id: string; label: string; color: string }[]; onChange: (s: RunSet) => void }) {
  const { t } = useTranslation();
  const groupId = useId();
  const picked = set.runs !== null;
  return (
    <fieldset className="runset-editor" data-testid="runset-editor">
      <legend>{t("reports.runSet")}</legend>
      <Field label={t("reports.runSetName")} value={set.name} onChange={(name) => onChange({ ...set, name })} />
      <span className="runset-mode">
        <label className="check">
          <input type="radio" checked={!picked} onChange={() => onChange({ ...set, runs: null })} /> {t("reports.byFilter")}
        </label>
        <label className="check">
          <input type="radio" checked={picked} onChange={() => onChange({ ...set, runs: resolved.map((r) => r.id) })} /> {t("reports.byList")}
        </label>
      </span>
      {!picked && <Field label={t("reports.filter")} value={set.filter} onChange={(filter) => onChange({ ...set, filter })} />}
      {picked && (
        <RunPicker
          entity={entity}
          project={project}
          picked={set.runs ?? []}
          labels={Object.fromEntries(resolved.map((r) => [r.id, r.label]))}
          onChange={(runs) => onChange({ ...set, runs })}
        />
      )}
      <span className="field">
        <label htmlFor={groupId}>{t("reports.groupBy")}</label>
        <input id={groupId} value={set.group_by ?? ""} placeholder="group | job_type | config.lr" onChange={(e) => onChange({ ...set, group_by: e.target.value.trim() || null })} />
      </span>
      {resolved.length > 0 && (
        <fieldset className="run-colors">
          <legend>{t("reports.colors")}</legend>
          {resolved.map((r) => (
            <span key={r.id} className="run-color">
              <input
                type="checkbox"
                aria-label={t("reports.showRun", { name: r.label })}
                checked={!set.hidden.includes(r.id)}
                onChange={(e) => onChange({ ...set, hidden: e.target.checked ? set.hidden.filter((id) => id !== r.id) : [...set.hidden, r.id] })}
              />
              <input
                type="color"
                aria-label={t("reports.colorOf", { name: r.label })}
                value={set.colors[r.id] ?? r.color}
                onChange={(e) => onChange({ ...set, colors: { ...set.colors, [r.id]: e.target.value } })}
              />
              {r.label}
            </span>
          ))}
        </fieldset>
      )}
    </fieldset>
  );
}

/** One panel's kind, title and config. The workspace reuses it (its own move and delete buttons
 * are on the panel, so it leaves out `onRemove`/`onMove`, and offers the kinds it can draw). */
export function PanelEditor({
  panel,
  onChange,
  onRemove,
  onMove,
  keysList,
  summaryList,
  kinds = PANEL_KINDS,
  histogramKeys = [],
}: {
  panel: Panel;
  onChange: (p: Panel) => void;
  onRemove?: () => void;
  onMove?: (delta: number) => void;
  keysList: string;
  /** A datalist of summary fields (`eval/acc.max` too) for the importance metric; else `keysList`. */
  summaryList?: string;
  kinds?: readonly PanelKind[];
  /** The keys the runs logged histograms under: the histogram kind's key picker. */
  histogramKeys?: readonly string[];
}) {
  const { t } = useTranslation();
  const kindId = useId();
  const set = (key: string, value: unknown) => onChange({ ...panel, config: { ...panel.config, [key]: value } });
  // A line panel's smoothing is `{kind, weight}` (the weight is the kind's amount), as the viewer draws it.
  const smoothing = panel.config.smoothing as { kind?: unknown; weight?: number } | undefined;
  const smoothKind = smoothingKindOf(smoothing?.kind);
  const list = (key: string) => stringList(panel.config[key]).join(", ");
  const name = panel.title || t(`reports.kinds.${panel.kind}`);
  return (
    <fieldset className="panel-editor" data-testid="panel-editor" data-kind={panel.kind}>
      <legend>{name}</legend>
      <span className="field">
        <label htmlFor={kindId}>{t("reports.kind")}</label>
        <select id={kindId} value={panel.kind} onChange={(e) => onChange({ ...panel, kind: e.target.value as PanelKind, config: defaultConfig(e.target.value as PanelKind) })}>
          {kinds.map((k) => (
            <option key={k} value={k}>
              {t(`reports.kinds.${k}`)}
            </option>
          ))}
        </select>
      </span>
      <Field label={t("reports.panelTitle")} value={panel.title} onChange={(title) => onChange({ ...panel, title })} />
      {panel.kind === "line" && (
        <>
          <Field label={t("reports.metrics")} value={list("metrics")} list={keysList} onChange={(v) => set("metrics", splitList(v))} />
          <Field label={t("reports.xAxis")} value={configString(panel, "x", "step")} onChange={(v) => set("x", v || "step")} />
          <SmoothingKindSelect value={smoothKind} onChange={(k) => set("smoothing", { kind: k, weight: SMOOTHING_DEFAULT[k] })} />
          <Field
            label={t("reports.smoothing")}
            value={String(smoothing?.weight ?? "")}
            onChange={(v) => set("smoothing", v === "" || !Number.isFinite(Number(v)) ? undefined : { kind: smoothKind, weight: Number(v) })}
          />
          <label className="check">
            <input type="checkbox" checked={panel.config.log_y === true} onChange={(e) => set("log_y", e.target.checked)} /> {t("reports.logY")}
          </label>
          <YRangeFields config={panel.config} set={set} />
          <GroupLineSelects config={panel.config} set={set} />
          <MaxRunsField config={panel.config} set={set} />
        </>
      )}
      {panel.kind === "histogram" && (
        <>
          <KeySelect label={t("reports.histogramKey")} value={configString(panel, "key")} keys={histogramKeys} onChange={(v) => set("key", v)} />
          <MaxRunsField config={panel.config} set={set} />
        </>
      )}
      {(panel.kind === "bar" || panel.kind === "scalar") && (
        <>
          <Field label={t("reports.metric")} value={configString(panel, "metric")} list={keysList} onChange={(v) => set("metric", v)} />
          <SummarySelect value={configString(panel, "summary", "last")} onChange={(v) => set("summary", v)} />
        </>
      )}
      {panel.kind === "importance" && <Field label={t("reports.metric")} value={configString(panel, "metric")} list={summaryList ?? keysList} onChange={(v) => set("metric", v)} />}
      {panel.kind === "scatter" && (
        <>
          <Field label={t("reports.x")} value={configString(panel, "x")} list={keysList} onChange={(v) => set("x", v)} />
          <Field label={t("reports.y")} value={configString(panel, "y")} list={keysList} onChange={(v) => set("y", v)} />
        </>
      )}
      {panel.kind === "parcoords" && <Field label={t("reports.axes")} value={list("axes")} onChange={(v) => set("axes", splitList(v))} />}
      {panel.kind === "media" && <Field label={t("reports.mediaKey")} value={configString(panel, "key")} onChange={(v) => set("key", v)} />}
      {panel.kind === "table" && <Field label={t("reports.columns")} value={list("columns")} onChange={(v) => set("columns", splitList(v))} />}
      {panel.kind === "comparer" && <Field label={t("reports.fields")} value={list("fields")} onChange={(v) => set("fields", splitList(v))} />}
      {panel.kind === "markdown" && <Field multiline label={t("reports.text")} value={configString(panel, "text")} onChange={(v) => set("text", v)} />}
      {onMove && onRemove && (
        <span className="editor-tools">
          <button type="button" onClick={() => onMove(-1)} aria-label={t("reports.moveUp", { name })}>
            ↑
          </button>
          <button type="button" onClick={() => onMove(1)} aria-label={t("reports.moveDown", { name })}>
            ↓
          </button>
          <button type="button" className="danger" onClick={onRemove}>
            {t("reports.removePanel")}
          </button>
        </span>
      )}
    </fieldset>
  );
}

/** A line or histogram panel's own "max runs" (empty: the workspace's). */
function MaxRunsField({ config, set }: { config: Record<string, unknown>; set: (key: string, value: unknown) => void }) {
  const { t } = useTranslation();
  const id = useId();
  const value = typeof config.max_runs === "number" ? String(config.max_runs) : "";
  return (
    <span className="field">
      <label htmlFor={id}>{t("reports.maxRuns")}</label>
      <input
        id={id}
        type="number"
        min={1}
        max={100}
        step={1}
        placeholder={t("reports.maxRunsAll")}
        value={value}
        onChange={(e) => {
          const n = Math.round(Number(e.target.value));
          set("max_runs", e.target.value === "" || !Number.isFinite(n) ? undefined : Math.min(100, Math.max(1, n)));
        }}
      />
    </span>
  );
}

/** A key picked from those the runs logged (the current one kept when no run has it any more). */
function KeySelect({ label, value, keys, onChange }: { label: string; value: string; keys: readonly string[]; onChange: (v: string) => void }) {
  const { t } = useTranslation();
  const id = useId();
  const options = value && !keys.includes(value) ? [value, ...keys] : keys;
  return (
    <span className="field">
      <label htmlFor={id}>{label}</label>
      <select id={id} value={value} onChange={(e) => onChange(e.target.value)}>
        <option value="">{options.length === 0 ? t("reports.noHistogramKeys") : t("reports.pickKey")}</option>
        {options.map((k) => (
          <option key={k} value={k}>
            {k}
          </option>
        ))}
      </select>
    </span>
  );
}

/** How a line panel draws a run set's groups (when the set has a group_by): the aggregate and its band. */
function GroupLineSelects({ config, set }: { config: Record<string, unknown>; set: (key: string, value: unknown) => void }) {
  const { t } = useTranslation();
  const aggregateId = useId();
  const bandId = useId();
  return (
    <>
      <span className="field">
        <label htmlFor={aggregateId}>{t("chart.aggregate")}</label>
        <select id={aggregateId} value={config.aggregate === "median" ? "median" : "mean"} onChange={(e) => set("aggregate", e.target.value === "mean" ? undefined : e.target.value)}>
          <option value="mean">{t("chart.mean")}</option>
          <option value="median">{t("chart.median")}</option>
        </select>
      </span>
      <span className="field">
        <label htmlFor={bandId}>{t("chart.band")}</label>
        <select id={bandId} value={config.band === "std" || config.band === "none" ? config.band : "minmax"} onChange={(e) => set("band", e.target.value === "minmax" ? undefined : e.target.value)}>
          <option value="minmax">{t("chart.bandMinMax")}</option>
          <option value="std">{t("chart.bandStd")}</option>
          <option value="none">{t("chart.bandNone")}</option>
        </select>
      </span>
    </>
  );
}

function SummarySelect({ value, onChange }: { value: string; onChange: (v: string) => void }) {
  const { t } = useTranslation();
  const id = useId();
  return (
    <span className="field">
      <label htmlFor={id}>{t("reports.summary")}</label>
      <select id={id} value={value} onChange={(e) => onChange(e.target.value)}>
        {["last", "min", "max", "mean"].map((k) => (
          <option key={k} value={k}>
            {k}
          </option>
        ))}
      </select>
    </span>
  );
}
