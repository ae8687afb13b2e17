/**
 * Saved views: what a workspace state is (its URL parameters and panel layout), how it is read from
 * the address and written back into it, and the view routes (server/saved_views/). The parameter
 * list is the one useWorkspaceUrl.ts reads; the server refuses any other (state.py keeps the same
 * list). `sv` names the open view in the address, so a link opens it for whoever follows it.
 */
import { request, seg } from "../../api/client";
import type { Get } from "../../api/endpoints";
import type { components } from "../../api/schema";
import { HIDDEN_PARAM } from "../../lib/hiddenRuns";
import type { PanelLayout } from "../../lib/panels";

export type SavedView = components["schemas"]["SavedView"];
export type ViewListed = components["schemas"]["ViewListed"];
export type ViewState = components["schemas"]["ViewState"];

/** The address parameter naming the open saved view. */
export const VIEW_PARAM = "sv";
export const WORKSPACE_PARAMS = [
  "filter", "order", "view", "x", "legend", "smooth", "smoothk", "outliers", "ymin", "ymax", "maxruns", "log", "group", "agg", "band",
  "cols", "hide", "sel", HIDDEN_PARAM, "xr", "xa",
] as const;

/** The workspace as the address and the layout hold it now. */
export function currentState(params: URLSearchParams, layout: PanelLayout): ViewState {
  const saved: Record<string, string> = {};
  for (const name of WORKSPACE_PARAMS) {
    const value = params.get(name);
    if (value !== null && value !== "") saved[name] = value;
  }
  return { params: saved, layout: { ...layout } };
}

/** The address changes that open `view`: each workspace parameter set from it or cleared. */
export function openChanges(view: SavedView): Record<string, string | null> {
  const changes: Record<string, string | null> = { [VIEW_PARAM]: view.id };
  for (const name of WORKSPACE_PARAMS) changes[name] = view.state.params?.[name] ?? null;
  return changes;
}

/** Whether the address holds any workspace state (then the project's default view is not applied). */
export function hasWorkspaceParams(params: URLSearchParams): boolean {
  return params.has(VIEW_PARAM) || WORKSPACE_PARAMS.some((name) => params.has(name));
}

const base = (entity: string, project: string) => `/projects/${seg(entity)}/${seg(project)}/views`;

export const viewList = (entity: string, project: string): Get<ViewListed[]> => ({ path: base(entity, project) });
export const viewGet = (entity: string, project: string, id: string): Get<SavedView> => ({ path: `${base(entity, project)}/${seg(id)}` });
export const createView = (entity: string, project: string, body: { name: string; state: ViewState; is_default?: boolean }) =>
  request<SavedView>(base(entity, project), { method: "POST", body });
export const changeView = (entity: string, project: string, id: string, body: { name?: string; state?: ViewState; is_default?: boolean }) =>
  request<SavedView>(`${base(entity, project)}/${seg(id)}`, { method: "PATCH", body });
export const deleteView = (entity: string, project: string, id: string) =>
  request<undefined>(`${base(entity, project)}/${seg(id)}`, { method: "DELETE" });
