/**
 * The lineage graph's layout: runs → artifacts → runs in columns, left to right along the edges.
 *
 * The column of a node is its edge distance from the focus (what logged it is one column left,
 * what used it one column right), found breadth first, so a few hundred nodes lay out in linear
 * time. Each column keeps at most `perColumn` nodes; the rest become one "+N more" node that takes
 * over their edges. Rows within a column follow the mean row of their neighbours in the column
 * nearer the focus (the barycenter heuristic), which keeps most edges short and uncrossed.
 */
import type { Lineage, LineageNode } from "../api/types";

export interface PlacedNode {
  id: string;
  kind: "run" | "artifact" | "more";
  label: string;
  /** The node as the server sent it (null for a "+N more" node). */
  node: LineageNode | null;
  /** How many nodes a "+N more" node stands for (0 otherwise). */
  hidden: number;
  column: number;
  row: number;
}

export interface LineageLayout {
  nodes: PlacedNode[];
  edges: { from: string; to: string }[];
  /** The tallest column's node count (for the chart's height); rows run from -(tallest-1)/2. */
  tallest: number;
  /** Nodes folded into "+N more" nodes. */
  folded: number;
}

export interface LayoutOptions {
  /** Most nodes a column shows before folding the rest. */
  perColumn: number;
  /** Most nodes the whole graph shows; columns share it. */
  total: number;
}

/** eval-2 before eval-10. */
const byLabel = new Intl.Collator(undefined, { numeric: true });

export const DEFAULT_LAYOUT: LayoutOptions = { perColumn: 30, total: 240 };

/** Each node's column: 0 for the focus, -1 for what points at it, +1 for what it points at, … */
function columns(graph: Lineage, focus: string): Map<string, number> {
  const out = new Map<string, string[]>();
  const into = new Map<string, string[]>();
  for (const { from, to } of graph.edges) {
    (out.get(from) ?? out.set(from, []).get(from)!).push(to);
    (into.get(to) ?? into.set(to, []).get(to)!).push(from);
  }
  const column = new Map<string, number>();
  const seeds = [focus, ...graph.nodes.map((n) => n.id)];
  for (const seed of seeds) {
    if (column.has(seed) || !graph.nodes.some((n) => n.id === seed)) continue;
    // A part not joined to the focus starts in the focus's column.
    column.set(seed, 0);
    const queue = [seed];
    for (let i = 0; i < queue.length; i++) {
      const id = queue[i] as string;
      const at = column.get(id) as number;
      for (const [next, step] of [...(out.get(id) ?? []).map((n) => [n, 1] as const), ...(into.get(id) ?? []).map((n) => [n, -1] as const)]) {
        if (column.has(next)) continue;
        column.set(next, at + step);
        queue.push(next);
      }
    }
  }
  return column;
}

export function layoutLineage(graph: Lineage, focus: string, options: LayoutOptions = DEFAULT_LAYOUT): LineageLayout {
  const known = new Set(graph.nodes.map((n) => n.id));
  const edges = graph.edges.filter((e) => known.has(e.from) && known.has(e.to) && e.from !== e.to);
  const column = columns({ nodes: graph.nodes, edges }, focus);
  const byColumn = new Map<number, LineageNode[]>();
  for (const node of graph.nodes) {
    const c = column.get(node.id) ?? 0;
    (byColumn.get(c) ?? byColumn.set(c, []).get(c)!).push(node);
  }
  const order = [...byColumn.keys()].sort((a, b) => Math.abs(a) - Math.abs(b) || a - b);
  const perColumn = Math.max(3, Math.min(options.perColumn, Math.floor(options.total / Math.max(1, order.length))));
  const neighbours = new Map<string, string[]>();
  for (const { from, to } of edges) {
    (neighbours.get(from) ?? neighbours.set(from, []).get(from)!).push(to);
    (neighbours.get(to) ?? neighbours.set(to, []).get(to)!).push(from);
  }

  const rowOf = new Map<string, number>();
  const shownAs = new Map<string, string>();
  const placed: PlacedNode[] = [];
  let folded = 0;
  let tallest = 0;
  // Nearest the focus first: each column is ordered by the rows of the column placed before it.
  for (const c of order) {
    const list = byColumn.get(c) as LineageNode[];
    const centre = (node: LineageNode) => {
      const rows = (neighbours.get(node.id) ?? []).map((n) => rowOf.get(n)).filter((r): r is number => r !== undefined);
      return rows.length ? rows.reduce((a, b) => a + b, 0) / rows.length : Number.POSITIVE_INFINITY;
    };
    const sorted = list
      .map((node) => ({ node, at: node.id === focus ? Number.NEGATIVE_INFINITY : centre(node) }))
      .sort((a, b) => a.at - b.at || byLabel.compare(a.node.label, b.node.label) || a.node.id.localeCompare(b.node.id))
      .map((x) => x.node);
    const kept = sorted.length > perColumn ? sorted.slice(0, perColumn - 1) : sorted;
    const rest = sorted.slice(kept.length);
    const height = kept.length + (rest.length > 0 ? 1 : 0);
    // Rows are centred on 0, so every column's middle lines up with the focus.
    const middle = (height - 1) / 2;
    kept.forEach((node, index) => {
      const row = index - middle;
      rowOf.set(node.id, row);
      shownAs.set(node.id, node.id);
      placed.push({ id: node.id, kind: node.kind, label: node.label, node, hidden: 0, column: c, row });
    });
    if (rest.length > 0) {
      const id = `more:${c}`;
      for (const node of rest) shownAs.set(node.id, id);
      placed.push({ id, kind: "more", label: `+${rest.length}`, node: null, hidden: rest.length, column: c, row: kept.length - middle });
      folded += rest.length;
    }
    tallest = Math.max(tallest, height);
  }
  const seen = new Set<string>();
  const shownEdges: { from: string; to: string }[] = [];
  for (const { from, to } of edges) {
    const a = shownAs.get(from) as string;
    const b = shownAs.get(to) as string;
    const key = `${a}\u0000${b}`;
    if (a === b || seen.has(key)) continue;
    seen.add(key);
    shownEdges.push({ from: a, to: b });
  }
  return { nodes: placed, edges: shownEdges, tallest, folded };
}

/** Where a lineage node leads. */
export type NodeTarget = { entity?: string; project?: string } & ({ run: string } | { name: string; version: string });

/** `e/p/rest` → its parts (entity and project only when the text has them). */
function splitPath(text: string): { entity?: string; project?: string; rest: string } {
  const parts = text.split("/");
  if (parts.length >= 3) return { entity: parts[0], project: parts[1], rest: parts.slice(2).join("/") };
  return { rest: parts[parts.length - 1] as string };
}

/** Where a lineage node leads: a run, or an artifact's name and version; from the node's fields or
 * its id (`run:e/p/run_id`, `artifact:e/p/name:v3`) or label (`name:v3`). */
export function nodeTarget(node: LineageNode): NodeTarget | null {
  if (node.kind === "run") {
    const { entity, project, rest } = splitPath(node.id.replace(/^run:/, ""));
    const run = node.run_id ?? rest;
    return run ? { entity: node.entity ?? entity, project: node.project ?? project, run } : null;
  }
  if (node.name && node.version) return { entity: node.entity, project: node.project, name: node.name, version: node.version };
  for (const text of [node.id.replace(/^artifact:/, ""), node.label]) {
    const { entity, project, rest } = splitPath(text);
    const at = rest.lastIndexOf(":");
    if (at > 0) return { entity: node.entity ?? entity, project: node.project ?? project, name: rest.slice(0, at), version: rest.slice(at + 1) };
  }
  return null;
}
