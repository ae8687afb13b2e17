/**
 * Which events go to the bell and which to an e-mail address: a table of events × channels, for a
 * user's own runs and for a project subscription. Saves the targets it shows and keeps the others.
 */
import { useEffect, useId, useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { NOTIFICATION_EVENTS, type NotificationEvent, type NotificationSettings, type NotificationTarget } from "../../api/types";
import { errorMessage } from "../../i18n/errors";
import { choiceFromTargets, targetsFromChoice, toggleEvent, type ChannelChoice } from "../../lib/notifyTargets";

interface Props {
  /** The saved settings (null while loading). */
  saved: NotificationSettings | null;
  save: (targets: NotificationTarget[]) => Promise<NotificationSettings>;
  /** Told the settings as saved. */
  onSaved?: (settings: NotificationSettings) => void;
  testId: string;
}

const CHANNELS = ["inapp", "email"] as const;

export function ChannelChoices({ saved, save, onSaved, testId }: Props) {
  const { t } = useTranslation();
  const [choice, setChoice] = useState<ChannelChoice | null>(null);
  const [status, setStatus] = useState<"idle" | "saving" | "saved">("idle");
  const [failure, setFailure] = useState<string | null>(null);
  const addressId = useId();

  useEffect(() => {
    if (saved) setChoice(choiceFromTargets(saved.targets));
  }, [saved]);

  if (!choice) return <p role="status">{t("app.loading")}</p>;

  function pick(channel: (typeof CHANNELS)[number], event: NotificationEvent, on: boolean) {
    setStatus("idle");
    setChoice((c) => (c ? { ...c, [channel]: toggleEvent(c[channel], event, on) } : c));
  }

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (!choice) return;
    setFailure(null);
    setStatus("saving");
    try {
      const answer = await save(targetsFromChoice(choice));
      setChoice(choiceFromTargets(answer.targets));
      setStatus("saved");
      onSaved?.(answer);
    } catch (err) {
      setStatus("idle");
      setFailure(errorMessage(err));
    }
  }

  return (
    <form className="settings-form" data-testid={testId} onSubmit={(e) => void submit(e)}>
      <table className="grid-table channel-table">
        <thead>
          <tr>
            <th scope="col">{t("notifications.event")}</th>
            {CHANNELS.map((channel) => (
              <th scope="col" key={channel} className="channel">
                {t(`notifications.channels.${channel}`)}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {NOTIFICATION_EVENTS.map((event) => (
            <tr key={event} data-event={event}>
              <th scope="row">
                {t(`notifications.events.${event}`)}
                <div className="hint">{t(`notifications.eventHelp.${event}`)}</div>
              </th>
              {CHANNELS.map((channel) => (
                <td key={channel} className="channel">
                  <input
                    type="checkbox"
                    data-channel={channel}
                    aria-label={t("notifications.channelFor", { channel: t(`notifications.channels.${channel}`), event: t(`notifications.events.${event}`) })}
                    checked={choice[channel].includes(event)}
                    onChange={(e) => pick(channel, event, e.target.checked)}
                  />
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      <label htmlFor={addressId}>{t("notifications.address")}</label>
      <input
        id={addressId}
        type="email"
        autoComplete="email"
        maxLength={254}
        value={choice.address}
        required={choice.email.length > 0}
        onChange={(e) => {
          const address = e.target.value;
          setStatus("idle");
          setChoice((c) => (c ? { ...c, address } : c));
        }}
      />
      {choice.others.length > 0 && <p className="hint">{t("notifications.kept", { count: choice.others.length })}</p>}
      <button type="submit" className="primary" disabled={status === "saving"}>
        {t("notifications.save")}
      </button>
      <p role="status" className="muted form-status">
        {status === "saved" ? t("notifications.saved") : ""}
      </p>
      {failure && (
        <p role="alert" className="error">
          {failure}
        </p>
      )}
    </form>
  );
}
