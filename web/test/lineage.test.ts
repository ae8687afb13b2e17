import { describe, expect, it } from "vitest";
import type { Lineage } from "../src/api/types";
import { layoutLineage, nodeTarget } from "../src/lib/lineage";

describe("layoutLineage", () => {
  it("puts what logged the focus left of it and what used it right", () => {
    const graph: Lineage = {
      nodes: [
        { id: "run:a", kind: "run", label: "a" },
        { id: "artifact:data:v0", kind: "artifact", label: "data:v0" },
        { id: "run:b", kind: "run", label: "b" },
        { id: "artifact:model:v0", kind: "artifact", label: "model:v0" },
      ],
      edges: [
        { from: "run:a", to: "artifact:data:v0" },
        { from: "artifact:data:v0", to: "run:b" },
        { from: "run:b", to: "artifact:model:v0" },
      ],
    };
    const layout = layoutLineage(graph, "artifact:data:v0");
    const column = Object.fromEntries(layout.nodes.map((n) => [n.id, n.column]));
    expect(column).toEqual({ "run:a": -1, "artifact:data:v0": 0, "run:b": 1, "artifact:model:v0": 2 });
    expect(layout.edges).toHaveLength(3);
    expect(layout.folded).toBe(0);
  });

  it("folds a column past its budget into one +N node that takes over the edges", () => {
    const users = Array.from({ length: 300 }, (_, i) => ({ id: `run:u${i}`, kind: "run" as const, label: `u${i}` }));
    const graph: Lineage = {
      nodes: [{ id: "artifact:data:v0", kind: "artifact", label: "data:v0" }, ...users],
      edges: users.map((u) => ({ from: "artifact:data:v0", to: u.id })),
    };
    const layout = layoutLineage(graph, "artifact:data:v0", { perColumn: 20, total: 200 });
    const more = layout.nodes.filter((n) => n.kind === "more");
    expect(more).toHaveLength(1);
    expect(more[0]?.hidden).toBe(281);
    expect(more[0]?.label).toBe("+281");
    expect(layout.nodes).toHaveLength(21);
    expect(layout.tallest).toBe(20);
    expect(layout.folded).toBe(281);
    // 19 shown users and one edge to the folded rest: no duplicates.
    expect(layout.edges).toHaveLength(20);
    expect(layout.edges.filter((e) => e.to === "more:1")).toHaveLength(1);
  });

  it("centres each column's rows on zero", () => {
    const graph: Lineage = {
      nodes: [
        { id: "x", kind: "artifact", label: "x:v0" },
        { id: "r1", kind: "run", label: "r1" },
        { id: "r2", kind: "run", label: "r2" },
        { id: "r3", kind: "run", label: "r3" },
      ],
      edges: [
        { from: "x", to: "r1" },
        { from: "x", to: "r2" },
        { from: "x", to: "r3" },
      ],
    };
    const rows = layoutLineage(graph, "x").nodes.filter((n) => n.column === 1).map((n) => n.row);
    expect(rows).toEqual([-1, 0, 1]);
  });

  it("survives cycles, dangling edges and self loops", () => {
    const graph: Lineage = {
      nodes: [
        { id: "a", kind: "run", label: "a" },
        { id: "b", kind: "artifact", label: "b:v0" },
      ],
      edges: [
        { from: "a", to: "b" },
        { from: "b", to: "a" },
        { from: "a", to: "a" },
        { from: "a", to: "gone" },
      ],
    };
    const layout = layoutLineage(graph, "b");
    expect(new Set(layout.nodes.map((n) => n.column)).size).toBe(2);
    expect(layout.edges).toHaveLength(2);
  });
});

describe("nodeTarget", () => {
  it("reads a run id or an artifact's name and version from the node", () => {
    expect(nodeTarget({ id: "run:team/web/abc", kind: "run", label: "my run" })).toEqual({ entity: "team", project: "web", run: "abc" });
    expect(nodeTarget({ id: "run:1", kind: "run", label: "r", run_id: "xyz" })).toEqual({ entity: undefined, project: undefined, run: "xyz" });
    expect(nodeTarget({ id: "artifact:e/p/data:v2", kind: "artifact", label: "data:v2" })).toEqual({ entity: "e", project: "p", name: "data", version: "v2" });
    expect(nodeTarget({ id: "17", kind: "artifact", label: "team/web/data:v1" })).toEqual({ entity: "team", project: "web", name: "data", version: "v1" });
    expect(nodeTarget({ id: "17", kind: "artifact", label: "x", name: "m", version: "v0" })).toEqual({ entity: undefined, project: undefined, name: "m", version: "v0" });
  });
});

describe("row order", () => {
  it("sorts numbered labels as numbers", () => {
    const runs = [10, 2, 1].map((i) => ({ id: `run:r${i}`, kind: "run" as const, label: `eval-${i}` }));
    const graph: Lineage = { nodes: [{ id: "a", kind: "artifact", label: "a:v0" }, ...runs], edges: runs.map((r) => ({ from: "a", to: r.id })) };
    expect(layoutLineage(graph, "a").nodes.filter((n) => n.kind === "run").map((n) => n.label)).toEqual(["eval-1", "eval-2", "eval-10"]);
  });
});
