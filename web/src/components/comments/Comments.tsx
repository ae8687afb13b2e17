/** A discussion: its threads (resolved ones folded), a reply box per thread, and a new thread. A run
 * has one; a report has one, and one per panel (`CommentTarget` says which routes a discussion uses). */
import { useId, useState } from "react";
import { useTranslation } from "react-i18next";
import { deleteComment, editComment, replyToThread, resolveThread, runThreads, startThread, type Get } from "../../api/endpoints";
import type { Comment, CommentThread, RunRef } from "../../api/types";
import { errorMessage } from "../../i18n/errors";
import { canWrite } from "../../lib/access";
import { formatTime } from "../../lib/format";
import { useApi } from "../../lib/useApi";
import { useSession } from "../../session";
import { CommentBox } from "./CommentBox";
import { Markdown } from "../Markdown";

/** The routes of one discussion. */
export interface CommentTarget {
  entity: string;
  threads: Get<CommentThread[]>;
  /** Only these threads belong here (a report's panel shows the threads attached to it). */
  keep?: (thread: CommentThread) => boolean;
  start: (body: string) => Promise<unknown>;
  reply: (threadId: number, body: string) => Promise<unknown>;
  resolve: (threadId: number, resolved: boolean) => Promise<unknown>;
  edit: (commentId: number, body: string) => Promise<unknown>;
  remove: (commentId: number) => Promise<unknown>;
}

export function runComments(runRef: RunRef): CommentTarget {
  return {
    entity: runRef.entity,
    threads: runThreads(runRef),
    start: (body) => startThread(runRef, body),
    reply: (id, body) => replyToThread(runRef, id, body),
    resolve: (id, resolved) => resolveThread(runRef, id, resolved),
    edit: (id, body) => editComment(runRef, id, body),
    remove: (id) => deleteComment(runRef, id),
  };
}

export default function Comments({ runRef }: { runRef: RunRef }) {
  return <Discussion target={runComments(runRef)} />;
}

/** `title`: the heading (a panel's discussion names its panel); `none`: what shows before the first thread. */
export function Discussion({ target, title, none, testId = "comments" }: { target: CommentTarget; title?: string; none?: string; testId?: string }) {
  const { t } = useTranslation();
  const { me } = useSession();
  const threads = useApi(target.threads);
  const writable = canWrite(me, target.entity);
  const headingId = useId();
  if (threads.error) return <p role="alert" className="error">{errorMessage(threads.error)}</p>;
  if (!threads.data) return <p role="status">{t("app.loading")}</p>;
  const shown = target.keep ? threads.data.filter(target.keep) : threads.data;
  return (
    <section className="comments" aria-labelledby={headingId} data-testid={testId}>
      <h2 id={headingId}>{title ?? t("comments.title")}</h2>
      {shown.length === 0 && <p className="muted">{none ?? t("comments.none")}</p>}
      {shown.map((thread) => (
        <Thread key={thread.id} thread={thread} target={target} writable={writable} onChange={threads.reload} />
      ))}
      {writable ? (
        <CommentBox
          entity={target.entity}
          label={t("comments.newThread")}
          submitLabel={t("comments.start")}
          onSubmit={async (text) => {
            await target.start(text);
            threads.reload();
          }}
        />
      ) : (
        <p className="muted">{t("comments.readOnly")}</p>
      )}
    </section>
  );
}

function Thread({ thread, target, writable, onChange }: { thread: CommentThread; target: CommentTarget; writable: boolean; onChange: () => void }) {
  const { t } = useTranslation();
  const [replying, setReplying] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const resolved = thread.resolved_at !== null;
  const toggle = async () => {
    try {
      await target.resolve(thread.id, !resolved);
      onChange();
    } catch (e) {
      setError(errorMessage(e));
    }
  };
  const comments = (
    <ol className="comment-list">
      {thread.comments.map((c) => (
        <CommentItem key={c.id} comment={c} target={target} onChange={onChange} />
      ))}
    </ol>
  );
  return (
    <article className={`comment-thread${resolved ? " resolved" : ""}`} data-thread={thread.id} aria-label={t("comments.thread", { author: thread.comments[0]?.author ?? "" })}>
      {resolved ? (
        <details>
          <summary>
            {t("comments.resolvedBy", { name: thread.resolved_by ?? "?", time: formatTime(thread.resolved_at) })} · {t("comments.count", { count: thread.comments.length })}
          </summary>
          {comments}
        </details>
      ) : (
        comments
      )}
      {writable && (
        <div className="thread-actions">
          {!resolved && !replying && (
            <button type="button" onClick={() => setReplying(true)}>
              {t("comments.reply")}
            </button>
          )}
          <button type="button" onClick={() => void toggle()}>
            {resolved ? t("comments.reopen") : t("comments.resolve")}
          </button>
        </div>
      )}
      {replying && (
        <CommentBox
          entity={target.entity}
          label={t("comments.reply")}
          submitLabel={t("comments.reply")}
          onCancel={() => setReplying(false)}
          onSubmit={async (text) => {
            await target.reply(thread.id, text);
            setReplying(false);
            onChange();
          }}
        />
      )}
      {error && <p role="alert" className="error">{error}</p>}
    </article>
  );
}

function CommentItem({ comment, target, onChange }: { comment: Comment; target: CommentTarget; onChange: () => void }) {
  const { t } = useTranslation();
  const [editing, setEditing] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const remove = async () => {
    if (!window.confirm(t("comments.confirmDelete"))) return;
    try {
      await target.remove(comment.id);
      onChange();
    } catch (e) {
      setError(errorMessage(e));
    }
  };
  return (
    <li className="comment" data-comment={comment.id}>
      <div className="comment-head">
        <strong>{comment.author}</strong> <span className="muted small">{formatTime(comment.created_at)}</span>
        {comment.edited_at !== null && <span className="muted small"> · {t("comments.edited")}</span>}
        {!editing && comment.can_edit && (
          <button type="button" className="link-button" onClick={() => setEditing(true)}>
            {t("comments.edit")}
          </button>
        )}
        {!editing && comment.can_delete && (
          <button type="button" className="link-button danger" onClick={() => void remove()}>
            {t("comments.delete")}
          </button>
        )}
      </div>
      {editing ? (
        <CommentBox
          entity={target.entity}
          label={t("comments.edit")}
          submitLabel={t("manage.save")}
          initial={comment.body}
          onCancel={() => setEditing(false)}
          onSubmit={async (text) => {
            await target.edit(comment.id, text);
            setEditing(false);
            onChange();
          }}
        />
      ) : (
        <Markdown text={comment.body} />
      )}
      {error && <p role="alert" className="error">{error}</p>}
    </li>
  );
}
