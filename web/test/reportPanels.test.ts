import { describe, expect, it } from "vitest";
import { topLevelFor } from "../src/lib/markdown";
import { shownPanelKeys } from "../src/lib/panels";
import { blockRuns, defaultConfig, draftFromView, newRunSet, fieldValue, lineMetrics, matchesGlob, moveItem, needsRefetch, seriesOf, summaryNumber } from "../src/panels/data";
import { readBundle } from "../src/export/readBundle";
import { PANEL_KINDS, type Bundle, type BundleRun, type PanelsBlock } from "../src/panels/types";

function run(id: string, extra: Partial<BundleRun> = {}): BundleRun {
  return {
    id,
    name: `run ${id}`,
    state: "finished",
    color: "#111111",
    group: null,
    job_type: null,
    tags: [],
    config: { lr: 0.1, opt: { name: "adam" } },
    summary: { loss: 0.5, acc: { min: 0.1, max: 0.9, last: 0.8 } },
    created_at: 1,
    environment: { git_commit: null, git_diff_sha256: null, packages: {} },
    ...extra,
  };
}

const block: PanelsBlock = {
  id: "b1",
  type: "panels",
  runsets: [
    { id: "s1", name: "a", filter: "", runs: null, group_by: null, colors: { r2: "#abcdef" }, hidden: ["r3"] },
    { id: "s2", name: "b", filter: "", runs: ["r1", "r4"], group_by: null, colors: {}, hidden: [] },
  ],
  panels: [{ id: "p1", kind: "line", title: "", config: { metrics: ["train/*", "acc"] } }],
};

function bundle(): Bundle {
  return {
    report: {
      id: "R",
      entity: "e",
      project: "p",
      title: "t",
      description: "",
      spec: { blocks: [block] },
      status: "published",
      version: 1,
      published_version: 1,
      pinned: false,
      created_by: "a",
      created_at: 0,
      updated_by: "a",
      updated_at: 0,
      share: null,
    },
    runs: { r1: run("r1"), r2: run("r2", { name: null }), r3: run("r3"), r4: run("r4") },
    runsets: { s1: ["r1", "r2", "r3", "gone"], s2: ["r1", "r4"] },
    series: { p1: { r1: { "train/loss": { x: [0, 1], y: [2, 1] }, "train/lr": { x: [0], y: [1] }, acc: { x: [], y: [] }, nan: { x: [0, 1], y: ["NaN", "Infinity"] }, other: { x: [0], y: [0] } } } },
    media: {},
    importance: {},
    histograms: {},
    generated_at: 0,
  };
}

describe("blockRuns", () => {
  it("takes each run once, in set order, without hidden or unknown runs, with the set's colour first", () => {
    const runs = blockRuns(bundle(), block);
    expect(runs.map((r) => r.id)).toEqual(["r1", "r2", "r4"]);
    expect(runs.map((r) => r.color)).toEqual(["#111111", "#abcdef", "#111111"]);
    expect(runs[1]?.label).toBe("r2");
  });
});

describe("line panels", () => {
  it("match metric patterns with globs, in pattern order", () => {
    expect(matchesGlob("train/*", "train/loss")).toBe(true);
    expect(matchesGlob("train/*", "eval/loss")).toBe(false);
    expect(matchesGlob("a.b", "aXb")).toBe(false);
    expect(matchesGlob("acc?", "acc1")).toBe(true);
    expect(matchesGlob("/^(train|eval)\\/loss$/", "eval/loss")).toBe(true);
    expect(matchesGlob("/^(train|eval)\\/loss$/", "test/loss")).toBe(false);
    expect(matchesGlob("/(/", "(")).toBe(false);
    expect(lineMetrics(bundle(), block.panels[0]!)).toEqual(["train/loss", "train/lr", "acc"]);
  });

  it("turn bundle points into chart series, none for an empty one", () => {
    const s = seriesOf(bundle(), "p1", "r1", "train/loss");
    expect(Array.from(s!.x)).toEqual([0, 1]);
    expect(Array.from(s!.values)).toEqual([2, 1]);
    expect(seriesOf(bundle(), "p1", "r1", "acc")).toBeNull();
    expect(Array.from(seriesOf(bundle(), "p1", "r1", "nan")!.values)).toEqual([NaN, Infinity]);
    expect(seriesOf(bundle(), "p1", "r9", "acc")).toBeNull();
  });
});

describe("summaries and fields", () => {
  it("pick the asked summary kind, falling back to last", () => {
    const r = run("x");
    expect(summaryNumber(r, "loss")).toBe(0.5);
    expect(summaryNumber(r, "acc", "max")).toBe(0.9);
    expect(summaryNumber(r, "acc", "mean")).toBe(0.8);
    expect(summaryNumber(r, "missing")).toBeNull();
  });

  it("read config paths, run fields and summaries", () => {
    const r = run("x", { tags: ["a", "b"] });
    expect(fieldValue(r, "config.opt.name")).toBe("adam");
    expect(fieldValue(r, "name")).toBe("run x");
    expect(fieldValue(r, "tags")).toBe("a, b");
    expect(fieldValue(r, "acc")).toBe(0.8);
  });
});

describe("drafts and edits", () => {
  it("carries the workspace's grouping into the draft's run set and line panels", () => {
    const spec = draftFromView(newRunSet("Run set"), ["loss"], undefined, 0, { by: "config:opt.lr", aggregate: "median", band: "std" });
    const block = spec.blocks[0];
    if (block?.type !== "panels") throw new Error("a panels block");
    expect(block.runsets[0]?.group_by).toBe("config.opt.lr");
    expect(block.panels[0]?.config).toMatchObject({ aggregate: "median", band: "std" });
    const plain = draftFromView(newRunSet("Run set"), ["loss"], undefined, 0, { by: "group", aggregate: "mean", band: "minmax" });
    const first = plain.blocks[0];
    if (first?.type !== "panels") throw new Error("a panels block");
    expect(first.runsets[0]?.group_by).toBe("group");
    expect(first.panels[0]?.config).toEqual({ metrics: ["loss"], x: "step" });
    const none = draftFromView(newRunSet("Run set"), ["loss"]).blocks[0];
    expect(none?.type === "panels" && none.runsets[0]?.group_by).toBeNull();
  });
  it("make one run set from the filter and a line panel per shown chart", () => {
    const spec = draftFromView(newRunSet("Run set", "state = finished"), shownPanelKeys(["a", "b"], { removed: ["b"], added: ["c"], sizes: {} }), (m) => (m === "c" ? "epoch" : "_step"), 0.6);
    expect(spec.blocks).toHaveLength(1);
    const b = spec.blocks[0] as PanelsBlock;
    expect(b.runsets.map((s) => [s.filter, s.runs])).toEqual([["state = finished", null]]);
    expect(b.panels.map((p) => [p.kind, p.config])).toEqual([
      ["line", { metrics: ["a"], x: "step", smoothing: { kind: "ema", weight: 0.6 } }],
      ["line", { metrics: ["c"], x: "epoch", smoothing: { kind: "ema", weight: 0.6 } }],
    ]);
    for (const id of [b.id, b.runsets[0]!.id, ...b.panels.map((p) => p.id)]) expect(id).toMatch(/^[A-Za-z0-9_-]{1,32}$/);
  });

  it("move an item within bounds only", () => {
    expect(moveItem([1, 2, 3], 0, 1)).toEqual([2, 1, 3]);
    expect(moveItem([1, 2, 3], 2, 1)).toEqual([1, 2, 3]);
    expect(moveItem([1, 2, 3], 2, -2)).toEqual([3, 1, 2]);
  });
});

describe("needsRefetch", () => {
  const batch = (changed: string[], created = false, reconnected = false) => ({ changed: new Set(changed), created, reconnected });
  it("refetches for a shown run's change, a new run under a filter, or a reconnect", () => {
    expect(needsRefetch(bundle(), batch(["r4"]))).toBe(true);
    expect(needsRefetch(bundle(), batch(["r3"]))).toBe(false);
    expect(needsRefetch(bundle(), batch([], true))).toBe(true);
    expect(needsRefetch(bundle(), batch([], false, true))).toBe(true);
  });
  it("ignores new runs when every set is a fixed list", () => {
    const b = bundle();
    b.report.spec = { blocks: [{ ...block, runsets: [block.runsets[1]!] }] };
    expect(needsRefetch(b, batch([], true))).toBe(false);
  });
});

describe("topLevelFor", () => {
  it("puts the shallowest heading written at the wanted level, ignoring code", () => {
    expect(topLevelFor("## A\n\n### B", 2)).toBe(1);
    expect(topLevelFor("# A", 2)).toBe(2);
    expect(topLevelFor("```sh\n# not a heading\n```\n\n### C", 3)).toBe(1);
    expect(topLevelFor("no headings #here", 3)).toBe(3);
  });
});

describe("importance panels", () => {
  it("are a kind of their own that starts without a metric", () => {
    expect(PANEL_KINDS).toContain("importance");
    expect(defaultConfig("importance")).toEqual({ metric: "" });
  });
  it("read an export made before the kind existed as having no ratings", () => {
    const old = JSON.stringify({ report: { id: "r" }, runs: {}, runsets: {}, series: {}, media: {}, generated_at: 1 });
    expect(readBundle(old)?.importance).toEqual({});
  });
});
