/**
 * Which chart panels a project's workspace shows and at what size: kept in this browser at once and
 * on the server (shared by the project's viewers); the server's copy wins when it arrives, unless
 * the layout changed here first (a saved view opened, a panel moved): that change is newer.
 */
import { useCallback, useEffect, useRef, useState } from "react";
import { saveWorkspace, load, workspace } from "../../api/endpoints";
import { loadLayout, parseLayout, saveLayout, type PanelLayout } from "../../lib/panels";

export function usePanelLayout(entity: string, project: string): [PanelLayout, (next: PanelLayout) => void, (next: PanelLayout) => Promise<void>] {
  const projectId = `${entity}/${project}`;
  const [layout, setLayout] = useState<PanelLayout>(() => loadLayout(projectId));
  // Set by a change made here while the server's copy is on its way, which then must not undo it.
  const changedHere = useRef(false);
  useEffect(() => {
    setLayout(loadLayout(projectId));
    changedHere.current = false;
    let current = true;
    load(workspace(entity, project))
      .then((saved) => {
        const fromServer = parseLayout(saved.layout);
        if (current && fromServer && !changedHere.current) {
          setLayout(fromServer);
          saveLayout(projectId, fromServer);
        }
      })
      .catch(() => undefined); // the local copy stays in use
    return () => {
      current = false;
    };
  }, [entity, project, projectId]);
  const updateLayout = useCallback(
    (next: PanelLayout) => {
      changedHere.current = true;
      setLayout(next);
      saveLayout(projectId, next);
      saveWorkspace(entity, project, next).catch(() => undefined); // kept locally even if the server is away
    },
    [entity, project, projectId],
  );
  /** Saved on the server first, shown only once it is taken: a panel's settings are the server's to
   * check (the report spec's rules), and a refused one must not stop every later save. */
  const saveChecked = useCallback(
    async (next: PanelLayout) => {
      await saveWorkspace(entity, project, next);
      changedHere.current = true;
      setLayout(next);
      saveLayout(projectId, next);
    },
    [entity, project, projectId],
  );
  return [layout, updateLayout, saveChecked];
}
