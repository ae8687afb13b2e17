/**
 * The bell in the header: the unread count, kept live over the user's notification stream, and a
 * panel with the notifications, newest first, each leading to its run; mark one or all read.
 */
import { useCallback, useEffect, useId, useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import { Link } from "react-router";
import { load, markNotificationsRead, notifications, unreadNotifications } from "../../api/endpoints";
import type { Notification } from "../../api/types";
import { errorMessage } from "../../i18n/errors";
import { formatTime } from "../../lib/format";
import { appendOlder, badgeText, markedRead, runPath, useNotificationStream } from "../../lib/notifications";

const PAGE = 20;

export function NotificationBell() {
  const { t } = useTranslation();
  const [unread, setUnread] = useState(0);
  const [open, setOpen] = useState(false);
  const [list, setList] = useState<Notification[] | null>(null);
  const [more, setMore] = useState(false);
  const [failure, setFailure] = useState<string | null>(null);
  const button = useRef<HTMLButtonElement>(null);
  const panel = useRef<HTMLDivElement>(null);
  const openRef = useRef(open);
  openRef.current = open;
  const panelId = useId();
  const titleId = useId();

  const refreshCount = useCallback(() => {
    load(unreadNotifications())
      .then((answer) => setUnread(answer.unread))
      .catch(() => undefined); // the count stays as it was; the next event tries again
  }, []);

  const refreshList = useCallback(() => {
    load(notifications({ limit: PAGE }))
      .then((answer) => {
        setList(answer.notifications);
        setMore(answer.notifications.length === PAGE);
        setUnread(answer.unread);
        setFailure(null);
      })
      .catch((e: unknown) => setFailure(errorMessage(e)));
  }, []);

  useEffect(refreshCount, [refreshCount]);
  useNotificationStream(() => (openRef.current ? refreshList() : refreshCount()));

  const close = useCallback((focusButton: boolean) => {
    setOpen(false);
    if (focusButton) button.current?.focus();
  }, []);

  // Closes on a click outside the bell and its panel.
  useEffect(() => {
    if (!open) return;
    const outside = (event: MouseEvent) => {
      const target = event.target as Node;
      if (!panel.current?.contains(target) && !button.current?.contains(target)) close(false);
    };
    document.addEventListener("mousedown", outside);
    return () => document.removeEventListener("mousedown", outside);
  }, [open, close]);

  function toggle() {
    if (open) return close(false);
    setOpen(true);
    refreshList();
  }

  async function markRead(ids: number[] | "all") {
    setFailure(null);
    try {
      const answer = await markNotificationsRead(ids);
      setUnread(answer.unread);
      setList((shown) => (shown ? markedRead(shown, ids === "all" ? null : ids) : shown));
    } catch (e) {
      setFailure(errorMessage(e));
    }
  }

  async function older() {
    const last = list?.at(-1);
    if (!last) return;
    try {
      const answer = await load(notifications({ limit: PAGE, before: last.id }));
      setList((shown) => appendOlder(shown ?? [], answer.notifications));
      setMore(answer.notifications.length === PAGE);
    } catch (e) {
      setFailure(errorMessage(e));
    }
  }

  const label = unread > 0 ? t("notifications.bellUnread", { unread: badgeText(unread) }) : t("notifications.bell");
  return (
    <div
      className="bell-wrap"
      onKeyDown={(e) => {
        if (e.key === "Escape" && open) {
          e.stopPropagation();
          close(true);
        }
      }}
    >
      <button
        ref={button}
        type="button"
        className="bell"
        aria-label={label}
        title={label}
        aria-expanded={open}
        aria-controls={open ? panelId : undefined}
        data-testid="bell"
        data-unread={unread}
        onClick={toggle}
      >
        <svg viewBox="0 0 16 16" width="16" height="16" aria-hidden="true" focusable="false">
          <path d="M8 1.5a4 4 0 0 0-4 4v3L2.5 11v1h11v-1L12 8.5v-3a4 4 0 0 0-4-4zM6.5 13.5a1.5 1.5 0 0 0 3 0" fill="none" stroke="currentColor" strokeWidth="1.3" strokeLinejoin="round" />
        </svg>
        {unread > 0 && (
          <span className="bell-count" aria-hidden="true">
            {badgeText(unread)}
          </span>
        )}
      </button>
      {open && (
        <div
          ref={panel}
          id={panelId}
          className="bell-panel"
          role="dialog"
          aria-labelledby={titleId}
          data-testid="notifications"
        >
          <div className="bell-head">
            <p id={titleId} className="bell-title">
              {t("notifications.title")}
            </p>
            <button type="button" disabled={unread === 0} onClick={() => void markRead("all")}>
              {t("notifications.markAllRead")}
            </button>
            <Link to="/settings/notifications" onClick={() => close(false)}>
              {t("notifications.settingsLink")}
            </Link>
          </div>
          {failure && (
            <p role="alert" className="error">
              {t("app.error", { message: failure })}
            </p>
          )}
          {list === null && !failure && <p role="status">{t("app.loading")}</p>}
          {list?.length === 0 && <p className="muted">{t("notifications.none")}</p>}
          {list && list.length > 0 && (
            <ul className="bell-list">
              {list.map((n) => (
                <NotificationItem key={n.id} notification={n} onRead={() => void markRead([n.id])} onOpen={() => close(false)} />
              ))}
            </ul>
          )}
          {more && (
            <button type="button" className="link-button" onClick={() => void older()}>
              {t("notifications.older")}
            </button>
          )}
        </div>
      )}
    </div>
  );
}

function NotificationItem({ notification: n, onRead, onOpen }: { notification: Notification; onRead: () => void; onOpen: () => void }) {
  const { t } = useTranslation();
  const path = runPath(n.run);
  return (
    <li className={`bell-item${n.read ? "" : " unread"}`} data-id={n.id} data-event={n.event} data-read={n.read}>
      <div className="bell-item-head">
        <span className={`level level-${n.level.toLowerCase()}`}>{t(`notifications.events.${n.event}`, { defaultValue: n.event })}</span>
        {!n.read && <span className="sr-only">{t("notifications.unread")}</span>}
        {path ? (
          <Link
            to={path}
            className="bell-item-title"
            onClick={() => {
              if (!n.read) onRead();
              onOpen();
            }}
          >
            {n.title}
          </Link>
        ) : (
          <span className="bell-item-title">{n.title}</span>
        )}
      </div>
      {n.text && <p className="bell-item-text">{n.text}</p>}
      <div className="bell-item-foot">
        <time className="muted small" dateTime={new Date(n.created_at * 1000).toISOString()}>
          {formatTime(n.created_at)}
        </time>
        {n.run && <span className="muted small">{`${n.run.entity}/${n.run.project}`}</span>}
        {!n.read && (
          <button type="button" className="link-button small" aria-label={t("notifications.markReadOf", { title: n.title })} onClick={onRead}>
            {t("notifications.markRead")}
          </button>
        )}
      </div>
    </li>
  );
}
