/**
 * What lies in a trash (runs of a project, projects of an entity): what each is, when it was
 * deleted, when it is purged for good, and — where the user may — a button that brings it back.
 */
import type { ReactNode } from "react";
import { useTranslation } from "react-i18next";
import { formatTime } from "../lib/format";

export interface TrashItem {
  key: string;
  /** The cells that say what the item is, one per column of `columns`. */
  cells: ReactNode[];
  deletedAt: number;
  purgeAt: number;
  /** The restore button's accessible name ("Restore run x"). */
  restoreLabel: string;
}

export function TrashTable({
  testId,
  columns,
  items,
  onRestore,
}: {
  testId: string;
  columns: string[];
  items: TrashItem[];
  /** Absent when the user may not restore: the table then has no restore column. */
  onRestore?: (key: string) => void;
}) {
  const { t } = useTranslation();
  return (
    <table className="grid-table" data-testid={testId}>
      <thead>
        <tr>
          {columns.map((name) => (
            <th scope="col" key={name}>
              {name}
            </th>
          ))}
          <th scope="col">{t("manage.deleted")}</th>
          <th scope="col">{t("manage.purged")}</th>
          {onRestore && (
            <th scope="col">
              <span className="sr-only">{t("manage.restore")}</span>
            </th>
          )}
        </tr>
      </thead>
      <tbody>
        {items.map((item) => (
          <tr key={item.key}>
            {item.cells.map((cell, i) => (
              <td key={i}>{cell}</td>
            ))}
            <td>{formatTime(item.deletedAt)}</td>
            <td>{formatTime(item.purgeAt)}</td>
            {onRestore && (
              <td>
                <button type="button" onClick={() => onRestore(item.key)} aria-label={item.restoreLabel}>
                  {t("manage.restore")}
                </button>
              </td>
            )}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
