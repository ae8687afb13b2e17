import { useId } from "react";
import { useTranslation } from "react-i18next";
import { setThemeChoice, THEME_CHOICES, useThemeChoice, type ThemeChoice } from "../lib/theme";

/** The colour theme: follow the system, or always light, or always dark (remembered in this browser). */
export function ThemeSelect() {
  const { t } = useTranslation();
  const id = useId();
  const choice = useThemeChoice();
  return (
    <span className="theme-select">
      <label htmlFor={id} className="sr-only">
        {t("theme.label")}
      </label>
      <select id={id} data-testid="theme" value={choice} onChange={(e) => setThemeChoice(e.target.value as ThemeChoice)}>
        {THEME_CHOICES.map((c) => (
          <option key={c} value={c}>
            {t(`theme.${c}`)}
          </option>
        ))}
      </select>
    </span>
  );
}
