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
