/**
 * The run page's system tab: system metrics in the groups a person scans them by (GPUs first, the
 * reason most people open the tab), most telling metric first, instead of alphabetical order.
 */
const GPU_ORDER = [
  "utilization_percent",
  "memory_allocated_percent",
  "memory_allocated_mb",
  "process_memory_mb",
  "memory_utilization_percent",
  "temperature_c",
  "power_w",
  "power_percent",
  "power_limit_w",
  "sm_clock_mhz",
  "memory_clock_mhz",
];
const HOST_ORDER = ["cpu_percent", "proc_cpu_percent", "memory_percent", "memory_available_mb", "proc_rss_mb", "proc_threads"];
const GPU_KEY = /^system\/gpu\/(\d+)\/(.+)$/;

/** i18n keys of the groups, in page order. */
export const SYSTEM_GROUPS = ["system.gpu", "system.host", "system.io", "system.other"] as const;
export type SystemGroup = (typeof SYSTEM_GROUPS)[number];

/** Code-point order: the same in every browser locale. */
const byCodePoint = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function rank(order: string[], name: string): number {
  const i = order.indexOf(name);
  return i < 0 ? order.length : i;
}

function groupOf(key: string): SystemGroup {
  if (GPU_KEY.test(key)) return "system.gpu";
  const name = key.slice("system/".length);
  if (HOST_ORDER.includes(name)) return "system.host";
  if (/^(disk|network)[/_]/.test(name)) return "system.io";
  return "system.other";
}

/** Compare two keys of one group: GPU metrics by importance, then GPU index; host metrics by importance. */
function compareKeys(a: string, b: string): number {
  const ga = GPU_KEY.exec(a);
  const gb = GPU_KEY.exec(b);
  if (ga && gb) {
    const byMetric = rank(GPU_ORDER, ga[2] ?? "") - rank(GPU_ORDER, gb[2] ?? "");
    return byMetric || Number(ga[1]) - Number(gb[1]) || byCodePoint(a, b);
  }
  const ra = rank(HOST_ORDER, a.slice(7));
  const rb = rank(HOST_ORDER, b.slice(7));
  return ra - rb || byCodePoint(a, b);
}

/** Non-empty groups with their keys in display order; bookkeeping keys (`_runtime`…) are left out. */
export function systemSections(keys: string[]): [SystemGroup, string[]][] {
  const groups = new Map<SystemGroup, string[]>(SYSTEM_GROUPS.map((g) => [g, []]));
  for (const key of keys) if (!key.startsWith("_")) groups.get(groupOf(key))?.push(key);
  return SYSTEM_GROUPS.map((g): [SystemGroup, string[]] => [g, (groups.get(g) ?? []).sort(compareKeys)]).filter(([, list]) => list.length > 0);
}
