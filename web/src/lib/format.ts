/** How numbers, durations and times are written everywhere in the app. */
import i18next from "i18next";

type MediaStub = Record<string, unknown> & { _type: string };

function isStub(value: unknown): value is MediaStub {
  return typeof value === "object" && value !== null && !Array.isArray(value) && typeof (value as { _type?: unknown })._type === "string";
}

/** A list of media stubs: what `log({"samples": [wandb.Image(...), ...]})` stores. */
export function isStubList(value: unknown): value is MediaStub[] {
  return Array.isArray(value) && value.length > 0 && value.every(isStub);
}

/**
 * A metric value: up to 5 significant digits, exponent form for very large or small ones. Media
 * are named by kind, `‹image-file›`, and lists of them with their count, `‹image-file ×3›`.
 */
export function formatValue(value: unknown): string {
  if (value === null || value === undefined) return "–";
  if (typeof value === "number") return formatNumber(value);
  if (typeof value === "boolean") return value ? "true" : "false";
  if (typeof value === "string") return value;
  if (isStub(value)) return `‹${value._type}›`;
  if (isStubList(value)) return `‹${[...new Set(value.map((s) => s._type))].join(", ")} ×${value.length}›`;
  try {
    return JSON.stringify(value);
  } catch {
    return Object.prototype.toString.call(value); // circular: JSON cannot say it
  }
}

export function formatNumber(value: number, digits = 5): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "∞";
  if (value === -Infinity) return "-∞";
  if (Number.isInteger(value) && Math.abs(value) < 1e15) return String(value);
  const abs = Math.abs(value);
  if (abs !== 0 && (abs >= 1e6 || abs < 1e-4)) return value.toExponential(digits - 1).replace(/\.?0+e/, "e");
  return String(Number(value.toPrecision(digits)));
}

/** The API writes NaN and ±Infinity as strings: back to numbers. */
export function toNumber(value: unknown): number | null {
  if (typeof value === "number") return value;
  if (value === "NaN") return NaN;
  if (value === "Infinity") return Infinity;
  if (value === "-Infinity") return -Infinity;
  return null;
}

/** A duration in seconds as "1h 02m", "3m 05s", "12.3s". */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "–";
  const s = Math.max(0, seconds);
  if (s < 60) return `${s < 10 ? s.toFixed(1) : Math.round(s)}s`;
  const total = Math.round(s);
  const d = Math.floor(total / 86400);
  const h = Math.floor((total % 86400) / 3600);
  const m = Math.floor((total % 3600) / 60);
  const sec = total % 60;
  if (d > 0) return `${d}d ${String(h).padStart(2, "0")}h`;
  if (h > 0) return `${h}h ${String(m).padStart(2, "0")}m`;
  return `${m}m ${String(sec).padStart(2, "0")}s`;
}

/** The UI language as an Intl locale ("en", "zh"): dates and times are written in it. */
export function uiLocale(): string {
  return i18next.language || "en";
}

const timeFormats = new Map<string, Intl.DateTimeFormat>();

/** A cached `Intl.DateTimeFormat` (building one is slow; a table formats thousands of cells). */
function dateFormat(locale: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${locale}\u0000${JSON.stringify(options)}`;
  let found = timeFormats.get(key);
  if (!found) {
    found = new Intl.DateTimeFormat(locale, options);
    timeFormats.set(key, found);
  }
  return found;
}

/** Epoch seconds as a local date and time to the second, in the UI language ("Dec 4, 2026, 09:18:31", "2026年12月4日 09:18:31"). */
export function formatTime(epochSeconds: number | null | undefined, locale: string = uiLocale()): string {
  if (epochSeconds === null || epochSeconds === undefined || !Number.isFinite(epochSeconds)) return "–";
  const options: Intl.DateTimeFormatOptions = { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" };
  return dateFormat(locale, options).format(new Date(epochSeconds * 1000));
}

/**
 * Tick labels of a wall-clock axis, in the UI language: as fine as the ticks' spacing needs
 * (seconds, minutes, days, months), so a day-long run reads "09:00", "12:00" and a month "Dec 4".
 */
export function formatWallTicks(ticks: readonly (number | null)[], locale: string = uiLocale()): string[] {
  const values = ticks.filter((v): v is number => v !== null && Number.isFinite(v));
  const step = values.length > 1 ? Math.abs((values[1] as number) - (values[0] as number)) : 3600;
  const options: Intl.DateTimeFormatOptions =
    step < 60
      ? { hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" }
      : step < 86400
        ? { hour: "2-digit", minute: "2-digit", hourCycle: "h23" }
        : step < 28 * 86400
          ? { month: "short", day: "numeric" }
          : { year: "numeric", month: "short" };
  const format = dateFormat(locale, options);
  return ticks.map((v) => (v === null || !Number.isFinite(v) ? "" : format.format(new Date(v * 1000))));
}

/** "3 minutes ago"-style text through Intl, in the UI language. */
export function formatRelative(epochSeconds: number, now: number, locale: string): string {
  const diff = epochSeconds - now;
  const abs = Math.abs(diff);
  const rtf = new Intl.RelativeTimeFormat(locale, { numeric: "auto" });
  if (abs < 60) return rtf.format(Math.round(diff), "second");
  if (abs < 3600) return rtf.format(Math.round(diff / 60), "minute");
  if (abs < 86400) return rtf.format(Math.round(diff / 3600), "hour");
  return rtf.format(Math.round(diff / 86400), "day");
}

/** Bytes as "1.2 MB". */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined) return "–";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let v = bytes;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}
