/** A run's discussion: its threads (resolved ones folded), a reply box per thread, and a new thread. */
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { deleteComment, editComment, replyToThread, resolveThread, runThreads, startThread } from "../../api/endpoints";
import type { Comment, CommentThread, RunRef } from "../../api/types";
import { errorMessage } from "../../i18n/errors";
import { canWrite } from "../../lib/access";
import { formatTime } from "../../lib/format";
import { useApi } from "../../lib/useApi";
import { useSession } from "../../session";
import { CommentBox } from "./CommentBox";
import { Markdown } from "../Markdown";

export default function Comments({ runRef }: { runRef: RunRef }) {
  const { t } = useTranslation();
  const { me } = useSession();
  const threads = useApi(runThreads(runRef));
  const writable = canWrite(me, runRef.entity);
  if (threads.error) return <p role="alert" className="error">{errorMessage(threads.error)}</p>;
  if (!threads.data) return <p role="status">{t("app.loading")}</p>;
  return (
    <section className="comments" aria-labelledby="comments-h" data-testid="comments">
      <h2 id="comments-h">{t("comments.title")}</h2>
      {threads.data.length === 0 && <p className="muted">{t("comments.none")}</p>}
      {threads.data.map((thread) => (
        <Thread key={thread.id} thread={thread} runRef={runRef} writable={writable} onChange={threads.reload} />
      ))}
      {writable ? (
        <CommentBox
          entity={runRef.entity}
          label={t("comments.newThread")}
          submitLabel={t("comments.start")}
          onSubmit={async (text) => {
            await startThread(runRef, text);
            threads.reload();
          }}
        />
      ) : (
        <p className="muted">{t("comments.readOnly")}</p>
      )}
    </section>
  );
}

function Thread({ thread, runRef, writable, onChange }: { thread: CommentThread; runRef: RunRef; writable: boolean; onChange: () => void }) {
  const { t } = useTranslation();
  const [replying, setReplying] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const resolved = thread.resolved_at !== null;
  const toggle = async () => {
    try {
      await resolveThread(runRef, thread.id, !resolved);
      onChange();
    } catch (e) {
      setError(errorMessage(e));
    }
  };
  const comments = (
    <ol className="comment-list">
      {thread.comments.map((c) => (
        <CommentItem key={c.id} comment={c} runRef={runRef} onChange={onChange} />
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
          entity={runRef.entity}
          label={t("comments.reply")}
          submitLabel={t("comments.reply")}
          onCancel={() => setReplying(false)}
          onSubmit={async (text) => {
            await replyToThread(runRef, thread.id, text);
            setReplying(false);
            onChange();
          }}
        />
      )}
      {error && <p role="alert" className="error">{error}</p>}
    </article>
  );
}

function CommentItem({ comment, runRef, onChange }: { comment: Comment; runRef: RunRef; onChange: () => void }) {
  const { t } = useTranslation();
  const [editing, setEditing] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const remove = async () => {
    if (!window.confirm(t("comments.confirmDelete"))) return;
    try {
      await deleteComment(runRef, comment.id);
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
          entity={runRef.entity}
          label={t("comments.edit")}
          submitLabel={t("manage.save")}
          initial={comment.body}
          onCancel={() => setEditing(false)}
          onSubmit={async (text) => {
            await editComment(runRef, comment.id, text);
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
