/** The project page's "Subscribe" switch: every event of the project's runs to your bell, or none. */
import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { load, saveSubscription, subscription } from "../../api/endpoints";
import { errorMessage } from "../../i18n/errors";
import { isSubscribed, SUBSCRIBE_ALL } from "../../lib/notifyTargets";

export function SubscribeToggle({ entity, project }: { entity: string; project: string }) {
  const { t } = useTranslation();
  const [on, setOn] = useState<boolean | null>(null);
  const [failure, setFailure] = useState<string | null>(null);

  useEffect(() => {
    const controller = new AbortController();
    load(subscription(entity, project), controller.signal)
      .then((answer) => setOn(isSubscribed(answer.targets)))
      .catch((e: unknown) => !controller.signal.aborted && setFailure(errorMessage(e)));
    return () => controller.abort();
  }, [entity, project]);

  async function toggle() {
    if (on === null) return;
    setFailure(null);
    try {
      const answer = await saveSubscription(entity, project, on ? [] : SUBSCRIBE_ALL);
      setOn(isSubscribed(answer.targets));
    } catch (e) {
      setFailure(errorMessage(e));
    }
  }

  return (
    <>
      <button type="button" className="ws-subscribe" aria-pressed={on ?? false} disabled={on === null} title={t("notifications.subscribeHelp")} data-testid="subscribe" onClick={() => void toggle()}>
        {t("notifications.subscribe")}
      </button>
      {failure && (
        <span role="alert" className="error small">
          {failure}
        </span>
      )}
    </>
  );
}
