/**
 * The workspace's own panels (the panel system): report panels (PanelView, edited with the report
 * editor's PanelEditor) drawn for the workspace's shown runs, in the user's sections. Panels are
 * added, edited, duplicated, deleted, moved (drag, or the ↑/↓ buttons from the keyboard), resized
 * and moved between sections; sections are created, renamed, collapsed and deleted. Every edit is
 * a pure function of lib/panelSections; a panel's settings are saved only once the server takes them.
 */
import { lazy, Suspense, useId, useMemo, useState, type DragEvent, type KeyboardEvent, type ReactNode } from "react";
import { useTranslation } from "react-i18next";
import type { Run } from "../../api/types";
import type { PanelSize, ShownRun as ChartRun } from "../../components/MetricPanel";
import { errorMessage } from "../../i18n/errors";
import {
  addPanel,
  addSection,
  dropPanel,
  duplicatePanel,
  movePanel,
  movePanelToSection,
  moveSection,
  panelsIn,
  removePanel,
  removeSection,
  renameSection,
  replacePanel,
  setCollapsed,
  type WorkspacePanel,
  type WorkspaceSection,
} from "../../lib/panelSections";
import type { PanelLayout } from "../../lib/panels";
import { defaultConfig, newId, type PanelData, type ShownRun } from "../../panels/data";
import { PANEL_KINDS, type Panel } from "../../panels/types";
import { PanelEditor } from "../reports/BlockEditors";

// The panels' charts (ECharts, the parallel plot) load only when a workspace has a panel to draw.
const PanelView = lazy(() => import("../../panels/PanelView").then((m) => ({ default: m.PanelView })));
/** Line, histogram, media and importance panels are drawn from the workspace's own data (`renderBody`); the other kinds need no series. */
const NO_SERIES: PanelData = { series: {}, media: {}, importance: {}, histograms: {} };
const DRAG_TYPE = "application/x-wakelog-panel";

interface Props {
  layout: PanelLayout;
  updateLayout: (next: PanelLayout) => void;
  saveChecked: (next: PanelLayout) => Promise<void>;
  loadedRuns: Run[];
  /** The runs a panel shows (selected, not hidden, at most its "max runs"), with their colours. */
  runsOf: (panel: WorkspacePanel) => ChartRun[];
  /** The id of a datalist of the project's metric and config keys. */
  keysList: string;
  /** The summary fields (`define_metric` views such as `eval/acc.max` too): the importance metric's picker. */
  summaryList: string;
  /** The keys the runs logged histograms under (the histogram kind's key picker). */
  histogramKeys: string[];
  /** A line or histogram panel's body, drawn from the workspace's data for these runs (undefined: the kind's own). */
  renderBody: (panel: WorkspacePanel, runs: ChartRun[]) => ReactNode | undefined;
}

export function WorkspacePanels({ layout, updateLayout, saveChecked, loadedRuns, runsOf, keysList, summaryList, histogramKeys, renderBody }: Props) {
  const { t } = useTranslation();
  const [draft, setDraft] = useState<WorkspacePanel | null>(null);
  const [error, setError] = useState<string | null>(null);
  const byId = useMemo(() => new Map(loadedRuns.map((r) => [r.id, r])), [loadedRuns]);
  // The panel model's runs (a bundle run each) for the runs a panel shows.
  const runsFor = (shown: ChartRun[]): ShownRun[] =>
    shown.flatMap((r) => {
      const run = byId.get(r.id);
      if (!run) return [];
      const environment = { git_commit: null, git_diff_sha256: null, packages: {} };
      return [{ id: r.id, label: r.label, color: r.color, groupBy: null, run: { ...run, color: r.color, environment } }];
    });

  const commit = (next: PanelLayout): Promise<boolean> =>
    saveChecked(next).then(
      () => {
        setError(null);
        return true;
      },
      (e: unknown) => {
        setError(errorMessage(e));
        return false;
      },
    );
  const newSection = () => {
    const name = t("workspace.panels.sectionName", { n: layout.sections.length + 1 });
    updateLayout(addSection(layout, { id: newId("s"), name, collapsed: false }));
  };
  const sectionProps = { layout, updateLayout, commit, runsOf, runsFor, keysList, summaryList, histogramKeys, renderBody };

  return (
    <div className="ws-panels" data-testid="ws-panels">
      <div className="panel-tools-row">
        <button type="button" onClick={() => setDraft({ id: newId("p"), kind: "scalar", title: "", config: defaultConfig("scalar"), section: null, size: "m" })}>
          {t("workspace.panels.add")}
        </button>
        <button type="button" onClick={newSection}>
          {t("workspace.panels.newSection")}
        </button>
      </div>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {draft && (
        <form
          className="ws-panel-draft"
          aria-label={t("workspace.panels.new")}
          onSubmit={(e) => {
            e.preventDefault();
            void commit(addPanel(layout, draft)).then((ok) => ok && setDraft(null));
          }}
        >
          <PanelEditor panel={draft} onChange={(p) => setDraft({ ...draft, ...p })} keysList={keysList} summaryList={summaryList} kinds={PANEL_KINDS} histogramKeys={histogramKeys} />
          <span className="editor-tools">
            <button type="submit">{t("workspace.panels.create")}</button>
            <button type="button" onClick={() => setDraft(null)}>
              {t("workspace.panels.cancel")}
            </button>
          </span>
        </form>
      )}
      {panelsIn(layout, null).length > 0 && <Section {...sectionProps} section={null} />}
      {layout.sections.map((s) => (
        <Section key={s.id} {...sectionProps} section={s} />
      ))}
    </div>
  );
}

interface SectionProps {
  layout: PanelLayout;
  updateLayout: (next: PanelLayout) => void;
  commit: (next: PanelLayout) => Promise<boolean>;
  runsOf: (panel: WorkspacePanel) => ChartRun[];
  runsFor: (shown: ChartRun[]) => ShownRun[];
  keysList: string;
  /** The summary fields (`define_metric` views such as `eval/acc.max` too): the importance metric's picker. */
  summaryList: string;
  histogramKeys: string[];
  renderBody: (panel: WorkspacePanel, runs: ChartRun[]) => ReactNode | undefined;
  /** null: the default section. */
  section: WorkspaceSection | null;
}

function Section({ section, ...props }: SectionProps) {
  const { layout, updateLayout } = props;
  const { t } = useTranslation();
  const [renaming, setRenaming] = useState<string | null>(null);
  const renameId = useId();
  const name = section ? section.name : t("workspace.panels.defaultSection");
  const panels = panelsIn(layout, section?.id ?? null);
  const at = section ? layout.sections.findIndex((s) => s.id === section.id) : -1;
  // Alt+↑/↓ on the section's heading moves it, as the buttons do (the heading keeps the focus).
  const moveByKeys = (e: KeyboardEvent) => {
    if (!section || !e.altKey || (e.key !== "ArrowUp" && e.key !== "ArrowDown")) return;
    e.preventDefault();
    updateLayout(moveSection(layout, section.id, e.key === "ArrowUp" ? -1 : 1));
  };
  const onDrop = (e: DragEvent) => {
    const id = e.dataTransfer.getData(DRAG_TYPE);
    if (!id) return;
    e.preventDefault();
    updateLayout(dropPanel(layout, id, null, section?.id ?? null));
  };
  return (
    <details
      className="section ws-section"
      open={section ? !section.collapsed : true}
      data-section={section ? `custom:${section.name}` : "panels"}
      onToggle={(e) => {
        const open = e.currentTarget.open;
        if (section && open === section.collapsed) updateLayout(setCollapsed(layout, section.id, !open));
      }}
    >
      <summary onKeyDown={section ? moveByKeys : undefined} aria-keyshortcuts={section ? "Alt+ArrowUp Alt+ArrowDown" : undefined}>
        <h2>{name}</h2> <span className="muted">({panels.length})</span>
      </summary>
      {section && (
        <div className="panel-tools-row">
          <button type="button" onClick={() => updateLayout(moveSection(layout, section.id, -1))} disabled={at === 0} aria-label={t("workspace.panels.sectionUp", { name })}>
            ↑
          </button>
          <button type="button" onClick={() => updateLayout(moveSection(layout, section.id, 1))} disabled={at === layout.sections.length - 1} aria-label={t("workspace.panels.sectionDown", { name })}>
            ↓
          </button>
          {renaming === null ? (
            <button type="button" onClick={() => setRenaming(section.name)} aria-label={t("workspace.panels.renameOf", { name })}>
              {t("workspace.panels.rename")}
            </button>
          ) : (
            <form
              className="ws-rename"
              onSubmit={(e) => {
                e.preventDefault();
                if (renaming.trim()) updateLayout(renameSection(layout, section.id, renaming.trim()));
                setRenaming(null);
              }}
            >
              <label htmlFor={renameId}>{t("workspace.panels.sectionLabel")}</label>
              <input id={renameId} value={renaming} maxLength={200} autoFocus onChange={(e) => setRenaming(e.target.value)} />
              <button type="submit">{t("workspace.panels.save")}</button>
            </form>
          )}
          <button type="button" className="danger" onClick={() => updateLayout(removeSection(layout, section.id))} aria-label={t("workspace.panels.deleteSectionOf", { name })}>
            {t("workspace.panels.deleteSection")}
          </button>
        </div>
      )}
      <div className="panel-grid" onDragOver={(e) => e.dataTransfer.types.includes(DRAG_TYPE) && e.preventDefault()} onDrop={onDrop}>
        {panels.length === 0 && <p className="muted">{t("workspace.panels.empty")}</p>}
        {panels.map((p) => (
          <PanelSlot key={p.id} {...props} panel={p} />
        ))}
      </div>
    </details>
  );
}

function PanelSlot({ panel, layout, updateLayout, commit, runsOf, runsFor, keysList, summaryList, histogramKeys, renderBody }: Omit<SectionProps, "section"> & { panel: WorkspacePanel }) {
  const { t } = useTranslation();
  const shown = runsOf(panel);
  const runs = runsFor(shown);
  const [editing, setEditing] = useState<WorkspacePanel | null>(null);
  const name = panel.title || t(`reports.kinds.${panel.kind}`);
  const tools = (
    <>
      <span className="ws-drag" aria-hidden="true" title={t("workspace.panels.drag")}>
        ⠿
      </span>
      <button type="button" onClick={() => setEditing(editing ? null : panel)} aria-label={t("workspace.panels.editOf", { name })} aria-expanded={editing !== null}>
        {t("workspace.panels.edit")}
      </button>
      <button type="button" onClick={() => updateLayout(duplicatePanel(layout, panel.id, newId("p"), t("workspace.panels.copyOf", { name })))} aria-label={t("workspace.panels.duplicateOf", { name })}>
        {t("workspace.panels.duplicate")}
      </button>
      <button type="button" onClick={() => updateLayout(movePanel(layout, panel.id, -1))} aria-label={t("workspace.panels.moveUp", { name })}>
        ↑
      </button>
      <button type="button" onClick={() => updateLayout(movePanel(layout, panel.id, 1))} aria-label={t("workspace.panels.moveDown", { name })}>
        ↓
      </button>
      <select aria-label={t("workspace.panels.sectionOf", { name })} value={panel.section ?? ""} onChange={(e) => updateLayout(movePanelToSection(layout, panel.id, e.target.value || null))}>
        <option value="">{t("workspace.panels.defaultSection")}</option>
        {layout.sections.map((s) => (
          <option key={s.id} value={s.id}>
            {s.name}
          </option>
        ))}
      </select>
      <select aria-label={t("workspace.panels.sizeOf", { name })} value={panel.size} onChange={(e) => updateLayout(replacePanel(layout, { ...panel, size: e.target.value as PanelSize }))}>
        <option value="s">S</option>
        <option value="m">M</option>
        <option value="l">L</option>
      </select>
      <button type="button" onClick={() => updateLayout(removePanel(layout, panel.id))} aria-label={t("workspace.panels.deleteOf", { name })}>
        ×
      </button>
    </>
  );
  return (
    <div
      className={`ws-slot ws-slot-${panel.size}`}
      draggable={editing === null}
      onDragStart={(e) => {
        e.dataTransfer.setData(DRAG_TYPE, panel.id);
        e.dataTransfer.effectAllowed = "move";
      }}
      onDrop={(e) => {
        const id = e.dataTransfer.getData(DRAG_TYPE);
        if (!id) return;
        e.preventDefault();
        e.stopPropagation();
        updateLayout(dropPanel(layout, id, panel.id, panel.section));
      }}
    >
      <Suspense fallback={<p role="status">{t("app.loading")}</p>}>
        <PanelView bundle={NO_SERIES} panel={panel} runs={runs} tools={tools} body={runs.length > 0 || panel.kind === "importance" ? renderBody(panel, shown) : undefined} />
      </Suspense>
      {editing && (
        <form
          className="ws-panel-draft"
          aria-label={t("workspace.panels.editOf", { name })}
          onSubmit={(e) => {
            e.preventDefault();
            void commit(replacePanel(layout, editing)).then((ok) => ok && setEditing(null));
          }}
        >
          <PanelEditor panel={editing} onChange={(p: Panel) => setEditing({ ...editing, ...p })} keysList={keysList} summaryList={summaryList} kinds={PANEL_KINDS} histogramKeys={histogramKeys} />
          <span className="editor-tools">
            <button type="submit">{t("workspace.panels.save")}</button>
            <button type="button" onClick={() => setEditing(null)}>
              {t("workspace.panels.cancel")}
            </button>
          </span>
        </form>
      )}
    </div>
  );
}
