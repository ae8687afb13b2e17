/** The fields the workspace's chart settings and a panel's options menu share. */
import { useEffect, useId, useState } from "react";
import { useTranslation } from "react-i18next";
import { SMOOTHING_KINDS, type SmoothingKind } from "../lib/smoothing";

export function SmoothingKindSelect(props: { value: SmoothingKind; onChange: (kind: SmoothingKind) => void; testId?: string }) {
  const { t } = useTranslation();
  const id = useId();
  const names: Record<SmoothingKind, string> = { ema: t("chart.smoothEma"), average: t("chart.smoothAverage"), gaussian: t("chart.smoothGaussian") };
  return (
    <span className="opt-field">
      <label htmlFor={id}>{t("chart.smoothKind")}</label>
      <select id={id} value={props.value} onChange={(e) => props.onChange(e.target.value as SmoothingKind)} data-testid={props.testId}>
        {SMOOTHING_KINDS.map((k) => (
          <option key={k} value={k}>
            {names[k]}
          </option>
        ))}
      </select>
    </span>
  );
}

/** The x axes a chart may be drawn against, after whatever "default" option the select puts first. */
export function XAxisOptions(props: { metricKeys: readonly string[] }) {
  const { t } = useTranslation();
  return (
    <>
      <option value="_step">{t("chart.step")}</option>
      <option value="_runtime">{t("chart.relative")}</option>
      <option value="_timestamp">{t("chart.wall")}</option>
      {props.metricKeys.map((k) => (
        <option key={k} value={k}>
          {k}
        </option>
      ))}
    </>
  );
}

/**
 * A number typed in and applied when the field is left or Enter is pressed (not on every key: each
 * change is saved). Empty is null; text that is not a number is put back to the value.
 */
export function NumberField(props: { label: string; value: number | null; onCommit: (value: number | null) => void; min?: number; step?: number | "any"; testId?: string }) {
  const id = useId();
  const [text, setText] = useState(props.value === null ? "" : String(props.value));
  useEffect(() => setText(props.value === null ? "" : String(props.value)), [props.value]);
  const commit = () => {
    const trimmed = text.trim();
    const n = trimmed === "" ? null : Number(trimmed);
    if (n !== null && !Number.isFinite(n)) setText(props.value === null ? "" : String(props.value));
    else if (n !== props.value) props.onCommit(n);
  };
  return (
    <span className="opt-field">
      <label htmlFor={id}>{props.label}</label>
      <input
        id={id}
        type="number"
        className="number-field"
        inputMode="decimal"
        min={props.min}
        step={props.step ?? "any"}
        value={text}
        onChange={(e) => setText(e.target.value)}
        onBlur={commit}
        onKeyDown={(e) => {
          if (e.key === "Enter") commit();
        }}
        data-testid={props.testId}
      />
    </span>
  );
}
