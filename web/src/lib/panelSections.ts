/**
 * The workspace's panel system as pure edits of the saved layout: panels of the report kinds
 * (panels/types.ts: the same model, checked by the server as a report's are) placed in the user's
 * own sections. `layout.panels` is in drawing order; a panel's `section` is a section id, or null
 * for the default section. Each function returns a new layout and leaves the one given as it was.
 */
import type { PanelSize } from "../components/MetricPanel";
import { PANEL_KINDS, type Panel, type PanelKind } from "../panels/types";

export interface WorkspaceSection {
  id: string;
  name: string;
  collapsed: boolean;
}

export interface WorkspacePanel extends Panel {
  section: string | null;
  size: PanelSize;
}

export interface PanelSystem {
  sections: WorkspaceSection[];
  panels: WorkspacePanel[];
}

/** The panels of a section (null: the default one), in order. */
export function panelsIn<L extends PanelSystem>(layout: L, section: string | null): WorkspacePanel[] {
  return layout.panels.filter((p) => p.section === section);
}

export function addPanel<L extends PanelSystem>(layout: L, panel: WorkspacePanel): L {
  return { ...layout, panels: [...layout.panels, panel] };
}

export function replacePanel<L extends PanelSystem>(layout: L, panel: WorkspacePanel): L {
  return { ...layout, panels: layout.panels.map((p) => (p.id === panel.id ? panel : p)) };
}

export function removePanel<L extends PanelSystem>(layout: L, id: string): L {
  return { ...layout, panels: layout.panels.filter((p) => p.id !== id) };
}

/** A copy of the panel with the new id and title, right after it in its section. */
export function duplicatePanel<L extends PanelSystem>(layout: L, id: string, newId: string, title: string): L {
  const index = layout.panels.findIndex((p) => p.id === id);
  const original = layout.panels[index];
  if (!original) return layout;
  const copy: WorkspacePanel = { ...original, id: newId, title, config: structuredClone(original.config) };
  return { ...layout, panels: [...layout.panels.slice(0, index + 1), copy, ...layout.panels.slice(index + 1)] };
}

/** The panel swapped with its neighbour in its own section (`delta` -1: up, +1: down); the same layout at either end. */
export function movePanel<L extends PanelSystem>(layout: L, id: string, delta: -1 | 1): L {
  const panel = layout.panels.find((p) => p.id === id);
  if (!panel) return layout;
  const same = panelsIn(layout, panel.section);
  const neighbour = same[same.indexOf(panel) + delta];
  if (!neighbour) return layout;
  const a = layout.panels.indexOf(panel);
  const b = layout.panels.indexOf(neighbour);
  const panels = [...layout.panels];
  panels[a] = neighbour;
  panels[b] = panel;
  return { ...layout, panels };
}

/** A drag's drop: the panel put just before `beforeId` (taking its section), or at the end of `section` when null. */
export function dropPanel<L extends PanelSystem>(layout: L, id: string, beforeId: string | null, section: string | null): L {
  const panel = layout.panels.find((p) => p.id === id);
  if (!panel || id === beforeId) return layout;
  const rest = layout.panels.filter((p) => p.id !== id);
  const target = beforeId === null ? undefined : rest.find((p) => p.id === beforeId);
  if (target) {
    const at = rest.indexOf(target);
    return { ...layout, panels: [...rest.slice(0, at), { ...panel, section: target.section }, ...rest.slice(at)] };
  }
  return { ...layout, panels: [...rest, { ...panel, section }] };
}

/** The panel moved to the end of another section (null: the default one). */
export function movePanelToSection<L extends PanelSystem>(layout: L, id: string, section: string | null): L {
  return dropPanel(layout, id, null, section);
}

export function addSection<L extends PanelSystem>(layout: L, section: WorkspaceSection): L {
  return { ...layout, sections: [...layout.sections, section] };
}

export function renameSection<L extends PanelSystem>(layout: L, id: string, name: string): L {
  return { ...layout, sections: layout.sections.map((s) => (s.id === id ? { ...s, name } : s)) };
}

/** The section swapped with its neighbour (`delta` -1: up, +1: down); the same layout at either end.
 * The default section stays first: only the user's own sections move. */
export function moveSection<L extends PanelSystem>(layout: L, id: string, delta: -1 | 1): L {
  const at = layout.sections.findIndex((s) => s.id === id);
  const to = at + delta;
  if (at < 0 || to < 0 || to >= layout.sections.length) return layout;
  const sections = [...layout.sections];
  [sections[at], sections[to]] = [sections[to] as WorkspaceSection, sections[at] as WorkspaceSection];
  return { ...layout, sections };
}

export function setCollapsed<L extends PanelSystem>(layout: L, id: string, collapsed: boolean): L {
  return { ...layout, sections: layout.sections.map((s) => (s.id === id ? { ...s, collapsed } : s)) };
}

/** The section gone; its panels go back to the default section, after the ones there, in their order. */
export function removeSection<L extends PanelSystem>(layout: L, id: string): L {
  const moved = layout.panels.filter((p) => p.section === id).map((p) => ({ ...p, section: null }));
  return { ...layout, sections: layout.sections.filter((s) => s.id !== id), panels: [...layout.panels.filter((p) => p.section !== id), ...moved] };
}

function records(value: unknown): Record<string, unknown>[] {
  return Array.isArray(value) ? value.filter((v): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v)) : [];
}

function isKind(kind: unknown): kind is PanelKind {
  return (PANEL_KINDS as readonly unknown[]).includes(kind);
}

/** Sections and panels from the server (or anything else), keeping only well-formed ones: the
 * server checks them on save, this keeps a stale local copy from breaking the page. */
export function parsePanelSystem(raw: { sections?: unknown; panels?: unknown }): PanelSystem {
  const sections: WorkspaceSection[] = [];
  for (const s of records(raw.sections)) {
    if (typeof s.id === "string" && typeof s.name === "string") sections.push({ id: s.id, name: s.name, collapsed: s.collapsed === true });
  }
  const known = new Set(sections.map((s) => s.id));
  const panels: WorkspacePanel[] = [];
  for (const p of records(raw.panels)) {
    const config = records([p.config])[0];
    if (typeof p.id !== "string" || !isKind(p.kind) || !config) continue;
    const size: PanelSize = p.size === "s" || p.size === "l" ? p.size : "m";
    const section = typeof p.section === "string" && known.has(p.section) ? p.section : null;
    panels.push({ id: p.id, kind: p.kind, title: typeof p.title === "string" ? p.title : "", config, section, size });
  }
  return { sections, panels };
}
