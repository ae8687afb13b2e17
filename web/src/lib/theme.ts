/**
 * The colour theme: the user's choice (system, light or dark, kept in localStorage) resolved to the
 * `data-theme` attribute on <html>, which styles.css keys its dark custom properties on. public/theme.js
 * applies the stored choice before the first paint; this module follows the system's preference while
 * the choice is "system" and tells subscribers (charts, which draw on canvas with colours read from
 * CSS) when the resolved theme changes.
 */
import { useSyncExternalStore } from "react";

export const THEME_CHOICES = ["system", "light", "dark"] as const;
export type ThemeChoice = (typeof THEME_CHOICES)[number];
export type Theme = "light" | "dark";
/** The same key public/theme.js reads. */
const STORAGE_KEY = "wakelog.theme";
const listeners = new Set<() => void>();

export function storedChoice(): ThemeChoice {
  try {
    const saved = localStorage.getItem(STORAGE_KEY);
    if (saved === "light" || saved === "dark") return saved;
  } catch {
    // storage may be disabled
  }
  return "system";
}

function systemDark(): boolean {
  return typeof matchMedia === "function" && matchMedia("(prefers-color-scheme: dark)").matches;
}

export function resolveTheme(choice: ThemeChoice, prefersDark: boolean): Theme {
  if (choice === "system") return prefersDark ? "dark" : "light";
  return choice;
}

let choice: ThemeChoice = "system";

function apply(): void {
  const theme = resolveTheme(choice, systemDark());
  if (document.documentElement.dataset.theme === theme) return;
  document.documentElement.dataset.theme = theme;
  listeners.forEach((l) => l());
}

/** Applies the stored choice and follows the system's preference from now on; called once at start-up. */
export function initTheme(): void {
  choice = storedChoice();
  apply();
  if (typeof matchMedia === "function") matchMedia("(prefers-color-scheme: dark)").addEventListener("change", apply);
}

export function setThemeChoice(next: ThemeChoice): void {
  choice = next;
  try {
    if (next === "system") localStorage.removeItem(STORAGE_KEY);
    else localStorage.setItem(STORAGE_KEY, next);
  } catch {
    // storage may be disabled: the choice holds for this page only
  }
  apply();
  listeners.forEach((l) => l());
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

const currentTheme = (): Theme => (document.documentElement.dataset.theme === "dark" ? "dark" : "light");

/** The theme on the page now; re-renders when it changes. */
export function useTheme(): Theme {
  return useSyncExternalStore(subscribe, currentTheme, () => "light");
}

/** The user's choice; re-renders when it changes. */
export function useThemeChoice(): ThemeChoice {
  return useSyncExternalStore(subscribe, () => choice, () => "system");
}

/** Colours for charts drawn on canvas (uPlot, ECharts), read from the stylesheet's custom properties. */
export interface ChartColors {
  text: string;
  muted: string;
  grid: string;
  axis: string;
  bg: string;
}

export function chartColors(): ChartColors {
  const style = getComputedStyle(document.documentElement);
  const get = (name: string) => style.getPropertyValue(name).trim();
  return { text: get("--fg"), muted: get("--muted"), grid: get("--row-line"), axis: get("--control-border"), bg: get("--bg") };
}
