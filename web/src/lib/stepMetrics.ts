/**
 * The x axis a metric is drawn against by default: the `step_metric` its run declared with
 * `define_metric` (Paddle's `eval/*` against `epoch`), as wandb draws it. Matching follows the
 * SDK: an exact name wins, else the longest trailing-`*` glob; keys starting with `_` never match.
 */
export function stepMetricOf(stepMetrics: Readonly<Record<string, string>>, metric: string): string | null {
  if (metric.startsWith("_")) return null;
  const exact = stepMetrics[metric];
  if (exact !== undefined) return exact;
  let best: string | null = null;
  let bestLength = -1;
  for (const [name, step] of Object.entries(stepMetrics)) {
    if (!name.endsWith("*")) continue;
    const prefix = name.slice(0, -1);
    if (metric.startsWith(prefix) && prefix.length > bestLength) {
      best = step;
      bestLength = prefix.length;
    }
  }
  return best === metric ? null : best;
}

/** A run's `metric_defs` (define_metric name -> definition) as name -> step_metric. */
export function stepMetricsOf(defs: Readonly<Record<string, unknown>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, def] of Object.entries(defs)) {
    const step = (def as { step_metric?: unknown } | null)?.step_metric;
    if (typeof step === "string" && step) out[name] = step;
  }
  return out;
}
