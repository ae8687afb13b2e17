/**
 * A project's team channels, for the entity's admins: e-mail addresses and webhooks (Feishu,
 * DingTalk, WeCom, Slack, JSON), each with the events it hears of. Saved as one list; the server
 * names the first target it refuses ("target 2 (webhook): url … is not an http:// or https:// URL").
 */
import { useEffect, useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { saveTeamChannels, teamChannels } from "../../api/endpoints";
import { NOTIFICATION_EVENTS, WEBHOOK_FORMATS, type NotificationTarget, type WebhookFormat } from "../../api/types";
import { errorMessage } from "../../i18n/errors";
import { orderedEvents, toggleEvent } from "../../lib/notifyTargets";
import { useApi } from "../../lib/useApi";

/** A target being edited, with a key that stays while others are added and removed. */
type Row = NotificationTarget & { key: number };

let nextKey = 0;
const row = (target: NotificationTarget): Row => ({ ...target, events: orderedEvents(target.events), key: nextKey++ });

/** What is saved: the row's fields of its channel (not its key). */
function target(t: Row): NotificationTarget {
  if (t.channel === "email") return { channel: "email", events: t.events, address: (t.address ?? "").trim() };
  return { channel: t.channel, events: t.events, url: (t.url ?? "").trim(), format: t.format ?? "json", ...(t.secret ? { secret: t.secret } : {}) };
}

export function TeamChannels({ entity, project }: { entity: string; project: string }) {
  const { t } = useTranslation();
  const saved = useApi(teamChannels(entity, project));
  const [rows, setRows] = useState<Row[] | null>(null);
  const [status, setStatus] = useState<"idle" | "saving" | "saved">("idle");
  const [failure, setFailure] = useState<string | null>(null);

  useEffect(() => {
    if (saved.data) setRows(saved.data.targets.map(row));
  }, [saved.data]);

  function change(key: number, patch: Partial<NotificationTarget>) {
    setStatus("idle");
    setRows((rs) => rs?.map((r) => (r.key === key ? { ...r, ...patch } : r)) ?? rs);
  }

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (!rows) return;
    setFailure(null);
    setStatus("saving");
    try {
      const answer = await saveTeamChannels(entity, project, rows.map(target));
      setRows(answer.targets.map(row));
      setStatus("saved");
    } catch (err) {
      setStatus("idle");
      setFailure(errorMessage(err));
    }
  }

  if (saved.error)
    return (
      <p role="alert" className="error">
        {t("app.error", { message: errorMessage(saved.error) })}
      </p>
    );
  if (!rows) return <p role="status">{t("app.loading")}</p>;
  const add = (channel: "email" | "webhook") => {
    setStatus("idle");
    const fresh = channel === "email" ? { channel, address: "" } : { channel, url: "", format: "feishu" as WebhookFormat };
    setRows([...rows, row({ ...fresh, events: ["failed", "crashed", "threshold"] })]);
  };
  return (
    <form className="settings-form" data-testid="team-channels" onSubmit={(e) => void submit(e)}>
      <p className="hint">{t("notifications.teamHelp")}</p>
      {rows.length === 0 && <p className="muted">{t("notifications.noTeamTargets")}</p>}
      {rows.map((r, i) => (
        <fieldset key={r.key} className="team-target" data-target={i + 1} data-channel={r.channel}>
          <legend>{t("notifications.targetN", { n: i + 1, channel: t(`notifications.channels.${r.channel}`) })}</legend>
          {r.channel === "email" ? (
            <label>
              {t("notifications.address")}
              <input type="text" inputMode="email" value={r.address ?? ""} maxLength={254} onChange={(e) => change(r.key, { address: e.target.value })} />
            </label>
          ) : (
            <>
              <label>
                {t("notifications.format")}
                <select value={r.format ?? "json"} onChange={(e) => change(r.key, { format: e.target.value as WebhookFormat })}>
                  {WEBHOOK_FORMATS.map((f) => (
                    <option key={f} value={f}>
                      {t(`notifications.formats.${f}`)}
                    </option>
                  ))}
                </select>
              </label>
              <label>
                {t("notifications.url")}
                <input className="url" type="text" inputMode="url" value={r.url ?? ""} maxLength={2048} placeholder="https://" onChange={(e) => change(r.key, { url: e.target.value })} />
              </label>
              {(r.format === "feishu" || r.format === "dingtalk") && (
                <label title={t("notifications.secretHint")}>
                  {t("notifications.secret")}
                  <input type="password" autoComplete="off" value={r.secret ?? ""} maxLength={256} onChange={(e) => change(r.key, { secret: e.target.value })} />
                </label>
              )}
            </>
          )}
          <fieldset className="events">
            <legend className="sr-only">{t("notifications.event")}</legend>
            {NOTIFICATION_EVENTS.map((event) => (
              <label key={event}>
                <input
                  type="checkbox"
                  data-event={event}
                  checked={(r.events ?? []).includes(event)}
                  onChange={(e) => change(r.key, { events: toggleEvent(orderedEvents(r.events), event, e.target.checked) })}
                />
                {t(`notifications.events.${event}`)}
              </label>
            ))}
          </fieldset>
          <button type="button" aria-label={t("notifications.removeTarget", { n: i + 1 })} onClick={() => setRows(rows.filter((x) => x.key !== r.key))}>
            {t("notifications.remove")}
          </button>
        </fieldset>
      ))}
      <div className="inline-form">
        <button type="button" onClick={() => add("email")}>
          {t("notifications.addEmail")}
        </button>
        <button type="button" onClick={() => add("webhook")}>
          {t("notifications.addWebhook")}
        </button>
        <button type="submit" className="primary" disabled={status === "saving"}>
          {t("notifications.saveTeam")}
        </button>
      </div>
      <p role="status" className="muted form-status">
        {status === "saved" ? t("notifications.saved") : ""}
      </p>
      {failure && (
        <p role="alert" className="error" data-testid="team-error">
          {failure}
        </p>
      )}
    </form>
  );
}
