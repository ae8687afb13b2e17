/**
 * Exponential moving average with debiasing, as TensorBoard draws it: the first points are not
 * pulled towards zero, because each average is divided by (1 - weight^n) where n counts the
 * finite points seen so far. Missing and non-finite values are passed through and skipped.
 *
 * `weight` is in [0, 1): 0 returns the values unchanged, 0.99 smooths hard.
 */
export function emaDebiased(
  values: ArrayLike<number | null>,
  weight: number,
): (number | null)[] {
  const out = new Array<number | null>(values.length);
  if (!(weight > 0)) {
    for (let i = 0; i < values.length; i++) out[i] = values[i] ?? null;
    return out;
  }
  const w = Math.min(weight, 0.999);
  let last = 0;
  let n = 0;
  // A constant series must stay exactly constant, not drift by rounding.
  let constant = true;
  let first: number | null = null;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v == null || !Number.isFinite(v)) {
      out[i] = v ?? null;
      continue;
    }
    if (first === null) first = v;
    else if (v !== first) constant = false;
    last = last * w + (1 - w) * v;
    n++;
    out[i] = constant ? v : last / (1 - Math.pow(w, n));
  }
  return out;
}

/**
 * The average of the last `window` finite points (the point itself and the ones before it), as
 * W&B's "running average": a window of 1 (or less) returns the values unchanged. One pass with a
 * running sum, so any window costs the same. Missing and non-finite values pass through and are
 * not counted in any window.
 */
export function runningAverage(values: ArrayLike<number | null>, window: number): (number | null)[] {
  const out = new Array<number | null>(values.length);
  const w = Math.floor(window);
  // The indexes of the finite points now in the window, oldest first.
  const inWindow: number[] = [];
  let head = 0;
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v == null || !Number.isFinite(v) || w <= 1) {
      out[i] = v ?? null;
      continue;
    }
    inWindow.push(i);
    sum += v;
    if (inWindow.length - head > w) sum -= values[inWindow[head++] as number] as number;
    out[i] = sum / (inWindow.length - head);
  }
  return out;
}

/** The normalised weights of a gaussian kernel of `sigma` points, cut at 3 sigma: 2·ceil(3σ)+1 weights summing to 1. */
export function gaussianWeights(sigma: number): Float64Array {
  const radius = Math.max(0, Math.ceil(3 * sigma));
  const weights = new Float64Array(2 * radius + 1);
  let total = 0;
  for (let d = -radius; d <= radius; d++) {
    const w = Math.exp(-(d * d) / (2 * sigma * sigma));
    weights[d + radius] = w;
    total += w;
  }
  for (let i = 0; i < weights.length; i++) weights[i] = (weights[i] as number) / total;
  return weights;
}

/**
 * Gaussian smoothing over the neighbouring points (both sides, `sigma` in points, as W&B's
 * "gaussian"): each point is the weighted mean of the finite points within 3σ, the weights of the
 * missing ones left out (so the ends are not pulled towards zero). σ ≤ 0 returns the values.
 */
export function gaussian(values: ArrayLike<number | null>, sigma: number): (number | null)[] {
  const out = new Array<number | null>(values.length);
  if (!(sigma > 0)) {
    for (let i = 0; i < values.length; i++) out[i] = values[i] ?? null;
    return out;
  }
  const weights = gaussianWeights(sigma);
  const radius = (weights.length - 1) / 2;
  const n = values.length;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v == null || !Number.isFinite(v)) {
      out[i] = v ?? null;
      continue;
    }
    let sum = 0;
    let weight = 0;
    const lo = Math.max(0, i - radius);
    const hi = Math.min(n - 1, i + radius);
    for (let j = lo; j <= hi; j++) {
      const u = values[j];
      if (u == null || !Number.isFinite(u)) continue;
      const k = weights[j - i + radius] as number;
      sum += k * u;
      weight += k;
    }
    out[i] = sum / weight;
  }
  return out;
}

export type SmoothingKind = "ema" | "average" | "gaussian";

export const SMOOTHING_KINDS: readonly SmoothingKind[] = ["ema", "average", "gaussian"];

/** The largest amount of each kind: EMA's weight, the running average's window, gaussian's σ (points). */
export const SMOOTHING_MAX: Record<SmoothingKind, number> = { ema: 0.99, average: 100, gaussian: 30 };

export function smoothingKindOf(value: unknown): SmoothingKind {
  return value === "average" || value === "gaussian" ? value : "ema";
}

/** An amount clamped to its kind's range (anything not a number is 0: no smoothing). */
export function clampAmount(kind: SmoothingKind, amount: unknown): number {
  const n = typeof amount === "number" ? amount : Number(amount);
  if (!Number.isFinite(n) || n <= 0) return 0;
  return kind === "average" ? Math.min(SMOOTHING_MAX.average, Math.round(n)) : Math.min(SMOOTHING_MAX[kind], n);
}

/** The values smoothed by one kind at its amount; the one entry point the charts call. */
export function smooth(values: ArrayLike<number | null>, kind: SmoothingKind, amount: number): (number | null)[] {
  if (kind === "average") return runningAverage(values, amount);
  if (kind === "gaussian") return gaussian(values, amount);
  return emaDebiased(values, amount);
}

/** Whether an amount of this kind changes anything (a window of 1 does not). */
export function smoothingOn(kind: SmoothingKind, amount: number): boolean {
  return kind === "average" ? amount >= 2 : amount > 0;
}

/** The amount a kind starts at when it is picked. */
export const SMOOTHING_DEFAULT: Record<SmoothingKind, number> = { ema: 0.6, average: 10, gaussian: 3 };

/** The slider step of each kind's amount. */
export const SMOOTHING_STEP: Record<SmoothingKind, number> = { ema: 0.01, average: 1, gaussian: 0.5 };
