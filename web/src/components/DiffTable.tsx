/** Runs side by side: one row per flattened key (lib/diff), differing rows marked; the compare page's
 * config and summary tables and a report's comparer panel. */
import type { ReactNode } from "react";
import { useTranslation } from "react-i18next";
import type { DiffRow } from "../lib/diff";

export interface DiffColumn {
  id: string;
  color: string;
  /** The column's heading: the run's name (a link where the page has one). */
  head: ReactNode;
}

export function DiffTable({ columns, rows, onlyDiff, testId }: { columns: DiffColumn[]; rows: DiffRow[]; onlyDiff: boolean; testId: string }) {
  const { t } = useTranslation();
  return (
    <table className="grid-table compare-table" data-testid={testId}>
      <thead>
        <tr>
          <th scope="col">{t("run.key")}</th>
          {columns.map((c) => (
            <th scope="col" key={c.id}>
              <span className="swatch" style={{ background: c.color }} aria-hidden="true" /> {c.head}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows
          .filter((r) => !onlyDiff || r.differs)
          .map((r) => (
            <tr key={r.key} className={r.differs ? "differs" : undefined}>
              <th scope="row">
                {r.key}
                {r.differs && <span className="sr-only"> ({t("compare.differing")})</span>}
              </th>
              {r.values.map((v, i) => (
                <td key={i}>{v}</td>
              ))}
            </tr>
          ))}
      </tbody>
    </table>
  );
}
