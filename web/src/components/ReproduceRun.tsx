/** The run page's "Reproduce this run": `wakelog restore` as one command, and the same steps by hand. */
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { runFileUrl } from "../api/endpoints";
import type { RunRef } from "../api/types";
import { reproduction } from "../lib/reproduce";

export function ReproduceRun({ metadata, runRef }: { metadata: Record<string, unknown>; runRef: RunRef }) {
  const { t } = useTranslation();
  const plan = reproduction(runRef, metadata, (name) => `${window.location.origin}${runFileUrl(runRef, name) ?? ""}`);
  const script = plan.steps.flatMap((s, i) => [`# ${i + 1}. ${t(`reproduce.step.${s.step}`)}`, ...s.commands]).join("\n");
  return (
    <section aria-labelledby="reproduce-h" data-testid="reproduce">
      <h2 id="reproduce-h">{t("reproduce.title")}</h2>
      <p className="muted">{t("reproduce.intro")}</p>
      <CopyableCode code={plan.restore} label={t("reproduce.copyRestore")} testId="reproduce-restore" />
      {plan.steps.length > 0 && (
        <details className="reproduce-steps">
          <summary>{t("reproduce.byHand")}</summary>
          <CopyableCode code={script} label={t("reproduce.copySteps")} testId="reproduce-steps" block />
        </details>
      )}
    </section>
  );
}

function CopyableCode({ code, label, testId, block = false }: { code: string; label: string; testId: string; block?: boolean }) {
  const { t } = useTranslation();
  const [copied, setCopied] = useState(false);
  async function copy() {
    try {
      await navigator.clipboard.writeText(code);
      setCopied(true);
    } catch {
      setCopied(false); // no clipboard (an insecure origin): the text stays selectable
    }
  }
  return (
    <div className={block ? "copyable block" : "copyable"}>
      {block ? <pre data-testid={testId}>{code}</pre> : <code data-testid={testId}>{code}</code>}
      <button type="button" onClick={() => void copy()} aria-label={label}>
        {copied ? t("reproduce.copied") : t("reproduce.copy")}
      </button>
    </div>
  );
}
