/**
 * The project's saved views in the workspace: the list, the open one (`?sv=` in the address), and
 * opening one, which writes its state into the address and its layout into the panels. A link with
 * `?sv=<id>` opens that view; a project opened with no workspace parameters opens its default view.
 */
import { useCallback, useEffect, useRef, useState } from "react";
import { load } from "../../api/endpoints";
import { errorMessage } from "../../i18n/errors";
import { parseLayout, type PanelLayout } from "../../lib/panels";
import { useApi } from "../../lib/useApi";
import { useUrlState } from "../../lib/urlState";
import {
  changeView, createView, currentState, deleteView, hasWorkspaceParams, openChanges, viewGet, viewList, VIEW_PARAM,
  type SavedView, type ViewListed,
} from "./savedViews";

export interface SavedViews {
  views: ViewListed[];
  /** The id of the open view, if any. */
  current: string | null;
  error: string | null;
  open: (id: string) => void;
  save: (name: string) => Promise<void>;
  /** Replace the view's state with what the workspace shows now. */
  update: (id: string) => Promise<void>;
  rename: (id: string, name: string) => Promise<void>;
  remove: (id: string) => Promise<void>;
  setDefault: (id: string, on: boolean) => Promise<void>;
}

export function useSavedViews(entity: string, project: string, layout: PanelLayout, updateLayout: (next: PanelLayout) => void): SavedViews {
  const [params, setParams] = useUrlState();
  const list = useApi(viewList(entity, project));
  const [error, setError] = useState<string | null>(null);
  const current = params.get(VIEW_PARAM);
  // The view whose state is in the address now: following a link to another one opens it.
  const applied = useRef<string | null>(null);
  // Read once per project: whether it was opened bare (then its default view opens).
  const bare = useRef<{ project: string; bare: boolean } | null>(null);
  const projectId = `${entity}/${project}`;
  if (bare.current?.project !== projectId) bare.current = { project: projectId, bare: !hasWorkspaceParams(params) };

  const apply = useCallback(
    (view: SavedView) => {
      applied.current = view.id;
      setParams(openChanges(view), true);
      const next = parseLayout(view.state.layout);
      if (next) updateLayout(next);
    },
    [setParams, updateLayout],
  );
  const open = useCallback(
    (id: string) => {
      setError(null);
      load(viewGet(entity, project, id))
        .then(apply)
        .catch((e: unknown) => setError(errorMessage(e)));
    },
    [entity, project, apply],
  );

  useEffect(() => {
    if (current && current !== applied.current) open(current);
  }, [current, open]);

  const defaultId = list.data?.find((v) => v.is_default)?.id;
  useEffect(() => {
    if (bare.current?.bare && defaultId && applied.current === null) {
      bare.current.bare = false;
      open(defaultId);
    }
  }, [defaultId, open]);

  const act = useCallback(
    async (change: () => Promise<unknown>) => {
      setError(null);
      try {
        await change();
      } catch (e) {
        setError(errorMessage(e));
        throw e;
      } finally {
        list.reload();
      }
    },
    [list],
  );

  return {
    views: list.data ?? [],
    current,
    error: error ?? (list.error ? errorMessage(list.error) : null),
    open,
    save: (name) =>
      act(async () => {
        const made = await createView(entity, project, { name, state: currentState(params, layout) });
        applied.current = made.id;
        setParams({ [VIEW_PARAM]: made.id });
      }),
    update: (id) => act(() => changeView(entity, project, id, { state: currentState(params, layout) })),
    rename: (id, name) => act(() => changeView(entity, project, id, { name })),
    remove: (id) =>
      act(async () => {
        await deleteView(entity, project, id);
        if (id === current) setParams({ [VIEW_PARAM]: null });
      }),
    setDefault: (id, on) => act(() => changeView(entity, project, id, { is_default: on })),
  };
}
