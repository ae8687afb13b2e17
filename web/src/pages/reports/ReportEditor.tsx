/**
 * Editing a report: its title and description, its blocks (add, remove, reorder; markdown text, or run
 * sets and panels), saved as a new revision on top of the one loaded (a 409 says someone else saved
 * first), published or unpublished; below, the last saved revision drawn as readers will see it.
 */
import { useEffect, useId, useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useParams } from "react-router";
import { ApiError, seg } from "../../api/client";
import { load, projectKeys } from "../../api/endpoints";
import { errorMessage } from "../../i18n/errors";
import { useApi } from "../../lib/useApi";
import { publishReport, reportBundle, reportGet, saveReport, type ReportRef } from "../../panels/api";
import { blockRuns, defaultConfig, histogramKeys, moveItem, newId, newRunSet } from "../../panels/data";
import { ReportBody } from "../../panels/ReportBody";
import { PANEL_KINDS, type Block, type Bundle, type PanelKind, type PanelsBlock, type Report, type ReportSpec } from "../../panels/types";
import { PanelEditor, RunSetEditor } from "./BlockEditors";

interface Draft {
  title: string;
  description: string;
  spec: ReportSpec;
}

/** The version a 409's body names as the current one (its `version`), when it does. */
function currentVersionOf(e: ApiError): number | null {
  const v = (e.body as { version?: unknown } | null)?.version;
  return typeof v === "number" ? v : null;
}

export function ReportEditorPage() {
  const { t } = useTranslation();
  const { entity = "", project = "", reportId = "" } = useParams();
  const ref: ReportRef = { entity, project, id: reportId };
  const [report, setReport] = useState<Report | null>(null);
  const [draft, setDraft] = useState<Draft | null>(null);
  const [dirty, setDirty] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [conflict, setConflict] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  const [tick, setTick] = useState(0);
  const bundle = useApi(report ? reportBundle(ref, report.version) : null);
  const keys = useApi(projectKeys(entity, project));
  const titleId = useId();
  const descId = useId();
  const keysList = useId();

  useEffect(() => {
    let live = true;
    load(reportGet(ref))
      .then((r) => {
        if (!live) return;
        setReport(r);
        setDraft({ title: r.title, description: r.description, spec: r.spec });
        setDirty(false);
        setConflict(null);
      })
      .catch((e: unknown) => live && setError(errorMessage(e)));
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps -- `ref` is rebuilt each render; its parts are the deps
  }, [entity, project, reportId, tick]);

  if (error && !draft) return <p role="alert" className="error page">{error}</p>;
  if (!draft || !report) return <p role="status" className="page">{t("app.loading")}</p>;

  const edit = (change: Partial<Draft>) => {
    setDraft({ ...draft, ...change });
    setDirty(true);
    setSaved(false);
  };
  const setBlocks = (blocks: Block[]) => edit({ spec: { blocks } });
  const setBlock = (index: number, block: Block) => setBlocks(draft.spec.blocks.map((b, i) => (i === index ? block : b)));
  const save = async () => {
    setError(null);
    try {
      const next = await saveReport(ref, { ...draft, base_version: report.version });
      setReport(next);
      setDirty(false);
      setSaved(true);
    } catch (e) {
      if (e instanceof ApiError && e.status === 409) {
        const current = currentVersionOf(e);
        setConflict(current !== null ? t("reports.conflictVersion", { version: current, mine: report.version }) : t("reports.conflict"));
      } else setError(errorMessage(e));
    }
  };
  const publish = async (on: boolean) => {
    setError(null);
    try {
      setReport(await publishReport(ref, on));
    } catch (e) {
      setError(errorMessage(e));
    }
  };
  const metricKeys = [...(keys.data?.summary ?? []).filter((k) => !k.startsWith("_")), ...(keys.data?.config ?? []).filter((k) => !k.startsWith("_")).map((k) => `config.${k}`)];
  const viewUrl = `/${seg(entity)}/${seg(project)}/reports/${seg(reportId)}`;
  const isPublished = report.published_version === report.version;

  return (
    <section className="page report-editor" data-testid="report-editor">
      <div className="page-head">
        <h1>{t("reports.editing", { title: report.title })}</h1>
        <span className="badge" data-testid="report-status">
          {t(`reports.status.${report.status}`)} · v{report.version}
        </span>
        <Link to={viewUrl}>{t("reports.view")}</Link>
        <Link to={`${viewUrl}/history`}>{t("reports.history")}</Link>
      </div>
      <datalist id={keysList}>
        {metricKeys.map((k) => (
          <option key={k} value={k} />
        ))}
      </datalist>
      <div className="report-form">
        <label htmlFor={titleId}>{t("reports.reportTitle")}</label>
        <input id={titleId} value={draft.title} maxLength={200} onChange={(e) => edit({ title: e.target.value })} />
        <label htmlFor={descId}>{t("reports.description")}</label>
        <textarea id={descId} value={draft.description} maxLength={2000} rows={2} onChange={(e) => edit({ description: e.target.value })} />
      </div>
      {draft.spec.blocks.map((block, index) => (
        <div className="block-editor" key={block.id} data-testid="block-editor" data-type={block.type}>
          <div className="editor-tools">
            <strong>{block.type === "markdown" ? t("reports.markdownBlock") : t("reports.panelBlock")}</strong>
            <button type="button" aria-label={t("reports.blockUp", { n: index + 1 })} onClick={() => setBlocks(moveItem(draft.spec.blocks, index, -1))}>
              ↑
            </button>
            <button type="button" aria-label={t("reports.blockDown", { n: index + 1 })} onClick={() => setBlocks(moveItem(draft.spec.blocks, index, 1))}>
              ↓
            </button>
            <button type="button" className="danger" onClick={() => setBlocks(draft.spec.blocks.filter((_, i) => i !== index))}>
              {t("reports.removeBlock")}
            </button>
          </div>
          {block.type === "markdown" ? (
            <MarkdownEditor text={block.text} onChange={(text) => setBlock(index, { ...block, text })} />
          ) : (
            <PanelsEditor entity={entity} project={project} block={block} bundle={bundle.data} keysList={keysList} onChange={(b) => setBlock(index, b)} />
          )}
        </div>
      ))}
      <div className="editor-tools">
        <button type="button" onClick={() => setBlocks([...draft.spec.blocks, { id: newId("b"), type: "markdown", text: "" }])}>
          {t("reports.addMarkdown")}
        </button>
        <button type="button" onClick={() => setBlocks([...draft.spec.blocks, { id: newId("b"), type: "panels", runsets: [newRunSet(t("reports.newRunSetName"))], panels: [] }])}>
          {t("reports.addPanels")}
        </button>
      </div>
      <div className="editor-tools save-bar">
        <button type="button" className="primary" onClick={() => void save()} disabled={!dirty || !draft.title.trim()}>
          {t("reports.save")}
        </button>
        <button type="button" onClick={() => void publish(!isPublished)} disabled={dirty}>
          {isPublished ? t("reports.unpublish") : t("reports.publish")}
        </button>
        {dirty && <span className="badge dirty">{t("reports.unsaved")}</span>}
        {saved && !dirty && <span role="status">{t("reports.saved", { version: report.version })}</span>}
      </div>
      {conflict && (
        <div role="alert" className="error" data-testid="save-conflict">
          <p>{conflict}</p>
          <button type="button" onClick={() => setTick((n) => n + 1)}>
            {t("reports.reloadLatest")}
          </button>
        </div>
      )}
      {error && <p role="alert" className="error">{error}</p>}
      <h2>{t("reports.preview")}</h2>
      {bundle.error && <p role="alert" className="error">{errorMessage(bundle.error)}</p>}
      {bundle.data && <ReportBody bundle={bundle.data} headingLevel={3} />}
    </section>
  );
}

function MarkdownEditor({ text, onChange }: { text: string; onChange: (text: string) => void }) {
  const { t } = useTranslation();
  const id = useId();
  return (
    <>
      <label htmlFor={id}>{t("reports.markdownText")}</label>
      <textarea id={id} className="markdown-input" value={text} rows={6} maxLength={100_000} onChange={(e) => onChange(e.target.value)} />
    </>
  );
}

function PanelsEditor({ entity, project, block, bundle, keysList, onChange }: { entity: string; project: string; block: PanelsBlock; bundle: Bundle | null; keysList: string; onChange: (b: PanelsBlock) => void }) {
  const { t } = useTranslation();
  const kindId = useId();
  const [kind, setKind] = useState<PanelKind>("line");
  // The runs each set resolved to when last saved: their colours and visibility are edited here.
  const resolved = (setId: string) => {
    if (!bundle) return [];
    const set = block.runsets.find((s) => s.id === setId);
    if (!set) return [];
    return blockRuns(bundle, { ...block, runsets: [{ ...set, hidden: [] }] });
  };
  // The histogram kind's key picker: the keys the report's runs (as last saved) logged histograms under.
  const histKeys = bundle ? histogramKeys(Object.values(bundle.runs)) : [];
  return (
    <>
      {block.runsets.map((set, i) => (
        <div key={set.id}>
          <RunSetEditor entity={entity} project={project} set={set} resolved={resolved(set.id)} onChange={(s) => onChange({ ...block, runsets: block.runsets.map((x, j) => (j === i ? s : x)) })} />
          {block.runsets.length > 1 && (
            <button type="button" className="danger" onClick={() => onChange({ ...block, runsets: block.runsets.filter((_, j) => j !== i) })}>
              {t("reports.removeRunSet")}
            </button>
          )}
        </div>
      ))}
      {block.runsets.length < 10 && (
        <button type="button" onClick={() => onChange({ ...block, runsets: [...block.runsets, newRunSet(t("reports.newRunSetName"))] })}>
          {t("reports.addRunSet")}
        </button>
      )}
      {block.panels.map((panel, i) => (
        <PanelEditor
          key={panel.id}
          panel={panel}
          keysList={keysList}
          histogramKeys={histKeys}
          onChange={(p) => onChange({ ...block, panels: block.panels.map((x, j) => (j === i ? p : x)) })}
          onRemove={() => onChange({ ...block, panels: block.panels.filter((_, j) => j !== i) })}
          onMove={(delta) => onChange({ ...block, panels: moveItem(block.panels, i, delta) })}
        />
      ))}
      <div className="editor-tools">
        <label htmlFor={kindId}>{t("reports.newPanelKind")}</label>
        <select id={kindId} value={kind} onChange={(e) => setKind(e.target.value as PanelKind)}>
          {PANEL_KINDS.map((k) => (
            <option key={k} value={k}>
              {t(`reports.kinds.${k}`)}
            </option>
          ))}
        </select>
        <button
          type="button"
          disabled={block.panels.length >= 50}
          onClick={() => onChange({ ...block, panels: [...block.panels, { id: newId("p"), kind, title: "", config: defaultConfig(kind) }] })}
        >
          {t("reports.addPanel")}
        </button>
      </div>
    </>
  );
}
