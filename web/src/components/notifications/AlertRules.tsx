/** A project's metric threshold rules (`eval/acc < 0.5 after step 1000`): listed for every reader,
 * added and deleted by members. The server checks each rule; its answer is shown as it words it. */
import { useId, useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { alertRules, createAlertRule, deleteAlertRule, projectKeys } from "../../api/endpoints";
import type { AlertLevel, AlertOp, NewAlertRule } from "../../api/types";
import { errorMessage } from "../../i18n/errors";
import { formatTime } from "../../lib/format";
import { useApi } from "../../lib/useApi";

const OPS: AlertOp[] = ["<", "<=", ">", ">="];
const LEVELS: AlertLevel[] = ["INFO", "WARN", "ERROR"];

/** A typed number as the server takes it; text that is not one goes as it is, for the server to name. */
function numberOrText(text: string): number | string | null {
  const trimmed = text.trim();
  if (trimmed === "") return null;
  const value = Number(trimmed);
  return Number.isNaN(value) ? trimmed : value;
}

export function AlertRules({ entity, project, canEdit }: { entity: string; project: string; canEdit: boolean }) {
  const { t } = useTranslation();
  const rules = useApi(alertRules(entity, project));
  const keys = useApi(canEdit ? projectKeys(entity, project) : null);
  const [key, setKey] = useState("");
  const [op, setOp] = useState<AlertOp>("<");
  const [value, setValue] = useState("");
  const [after, setAfter] = useState("");
  const [level, setLevel] = useState<AlertLevel>("WARN");
  const [done, setDone] = useState<string | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const listId = useId();
  const where = { entity, project };

  async function add(e: FormEvent) {
    e.preventDefault();
    setFailure(null);
    setDone(null);
    // The fields go as typed: a threshold or step that is not a number comes back as the server's 422.
    const rule = { key: key.trim(), op, value: numberOrText(value), after_step: numberOrText(after), level } as NewAlertRule;
    try {
      const created = await createAlertRule(where, rule);
      setDone(t("notifications.ruleAdded", { rule: created.description }));
      setKey("");
      setValue("");
      setAfter("");
      rules.reload();
    } catch (err) {
      setFailure(errorMessage(err));
    }
  }

  async function remove(id: number, description: string) {
    if (!window.confirm(t("notifications.confirmDeleteRule", { rule: description }))) return;
    setFailure(null);
    setDone(null);
    try {
      await deleteAlertRule(where, id);
      rules.reload();
    } catch (err) {
      setFailure(errorMessage(err));
    }
  }

  const list = rules.data?.rules;
  const metricKeys = keys.data?.summary.filter((k) => !k.startsWith("_")) ?? [];
  return (
    <>
      <p className="hint">{t("notifications.rulesHelp")}</p>
      {rules.error && (
        <p role="alert" className="error">
          {t("app.error", { message: errorMessage(rules.error) })}
        </p>
      )}
      {list?.length === 0 && <p className="muted">{t("notifications.noRules")}</p>}
      {list && list.length > 0 && (
        <table className="grid-table" data-testid="alert-rules">
          <thead>
            <tr>
              <th scope="col">{t("notifications.rule")}</th>
              <th scope="col">{t("notifications.ruleLevel")}</th>
              <th scope="col">{t("notifications.createdAt")}</th>
              {canEdit && (
                <th scope="col">
                  <span className="sr-only">{t("notifications.deleteRule")}</span>
                </th>
              )}
            </tr>
          </thead>
          <tbody>
            {list.map((rule) => (
              <tr key={rule.id} data-rule={rule.id}>
                <td>
                  <code>{rule.description}</code>
                </td>
                <td>
                  <span className={`level level-${rule.level.toLowerCase()}`}>{t(`notifications.levels.${rule.level}`)}</span>
                </td>
                <td>{formatTime(rule.created_at)}</td>
                {canEdit && (
                  <td>
                    <button type="button" aria-label={t("notifications.deleteRuleOf", { rule: rule.description })} onClick={() => void remove(rule.id, rule.description)}>
                      {t("notifications.deleteRule")}
                    </button>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {canEdit && (
        <form className="inline-form rule-form" data-testid="rule-form" onSubmit={(e) => void add(e)}>
          <label>
            {t("notifications.ruleKey")}
            <input value={key} required maxLength={256} list={listId} placeholder="eval/acc" onChange={(e) => setKey(e.target.value)} />
          </label>
          <datalist id={listId}>
            {metricKeys.map((k) => (
              <option key={k} value={k} />
            ))}
          </datalist>
          <label>
            {t("notifications.ruleOp")}
            <select value={op} onChange={(e) => setOp(e.target.value as AlertOp)}>
              {OPS.map((o) => (
                <option key={o} value={o}>
                  {o}
                </option>
              ))}
            </select>
          </label>
          <label>
            {t("notifications.ruleValue")}
            <input className="num" inputMode="decimal" value={value} placeholder="0.5" onChange={(e) => setValue(e.target.value)} />
          </label>
          <label>
            {t("notifications.ruleAfter")}
            <input className="num" inputMode="numeric" value={after} placeholder="1000" onChange={(e) => setAfter(e.target.value)} />
          </label>
          <label>
            {t("notifications.ruleLevel")}
            <select value={level} onChange={(e) => setLevel(e.target.value as AlertLevel)}>
              {LEVELS.map((l) => (
                <option key={l} value={l}>
                  {t(`notifications.levels.${l}`)}
                </option>
              ))}
            </select>
          </label>
          <button type="submit" className="primary">
            {t("notifications.addRule")}
          </button>
        </form>
      )}
      <p role="status" className="muted form-status">
        {done ?? ""}
      </p>
      {failure && (
        <p role="alert" className="error" data-testid="rule-error">
          {failure}
        </p>
      )}
    </>
  );
}
