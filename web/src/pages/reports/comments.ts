/** A report's discussions: its own threads, and each panel's (a thread carrying the panel's id). */
import { request, seg } from "../../api/client";
import type { CommentThread } from "../../api/types";
import type { CommentTarget } from "../../components/comments/Comments";
import type { ReportRef } from "../../panels/api";

type PanelThread = CommentThread & { panel_id?: string | null };

export function reportComments(r: ReportRef, panelId: string | null): CommentTarget {
  const base = `/reports/${seg(r.entity)}/${seg(r.project)}/${seg(r.id)}`;
  return {
    entity: r.entity,
    threads: { path: `${base}/threads` },
    keep: (thread) => ((thread as PanelThread).panel_id ?? null) === panelId,
    start: (body) => request(`${base}/threads`, { method: "POST", body: panelId ? { body, panel_id: panelId } : { body } }),
    reply: (id, body) => request(`${base}/threads/${id}/comments`, { method: "POST", body: { body } }),
    resolve: (id, resolved) => request(`${base}/threads/${id}`, { method: "PATCH", body: { resolved } }),
    edit: (id, body) => request(`${base}/comments/${id}`, { method: "PATCH", body: { body } }),
    remove: (id) => request(`${base}/comments/${id}`, { method: "DELETE" }),
  };
}
