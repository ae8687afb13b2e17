/** A nested object flattened to dotted keys, filterable: config, summary and metadata tables. */
import { useId, useMemo, useState, type ReactNode } from "react";
import { useTranslation } from "react-i18next";
import { flatten } from "../lib/diff";
import { formatValue } from "../lib/format";

interface Props {
  value: Record<string, unknown>;
  testId: string;
  hideUnderscore?: boolean;
  /** Draws a value itself (media thumbnails); null leaves it to `formatValue`. */
  render?: (value: unknown, key: string) => ReactNode | null;
}

export function KeyValueTable({ value, testId, hideUnderscore, render }: Props) {
  const { t } = useTranslation();
  const [needle, setNeedle] = useState("");
  const id = useId();
  const rows = useMemo(
    () => flatten(value ?? {}).filter(([k]) => !(hideUnderscore && k.startsWith("_"))).sort(([a], [b]) => a.localeCompare(b)),
    [value, hideUnderscore],
  );
  const shown = rows.filter(([k, v]) => !needle || k.toLowerCase().includes(needle.toLowerCase()) || formatValue(v).toLowerCase().includes(needle.toLowerCase()));
  return (
    <div className="kv">
      {rows.length > 8 && (
        <>
          <label htmlFor={id} className="sr-only">
            {t("run.filterKeys")}
          </label>
          <input id={id} type="search" placeholder={t("run.filterKeys")} value={needle} onChange={(e) => setNeedle(e.target.value)} />
        </>
      )}
      <table className="grid-table kv-table" data-testid={testId}>
        <thead>
          <tr>
            <th scope="col">{t("run.key")}</th>
            <th scope="col">{t("run.value")}</th>
          </tr>
        </thead>
        <tbody>
          {shown.map(([k, v]) => (
            <tr key={k}>
              <th scope="row">{k}</th>
              <td>{render?.(v, k) ?? formatValue(v)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
