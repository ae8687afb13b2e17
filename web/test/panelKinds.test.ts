import { describe, expect, it } from "vitest";
import { NO_GROUPING, workspaceGroupBy } from "../src/lib/grouping";
import { moveSection, parsePanelSystem, type PanelSystem } from "../src/lib/panelSections";
import { defaultConfig, histogramKeys, panelMaxRuns } from "../src/panels/data";
import { itemAt } from "../src/pages/workspace/WorkspaceMedia";
import type { Panel } from "../src/panels/types";

const sections = (l: PanelSystem) => l.sections.map((s) => s.id);

describe("section order", () => {
  const layout: PanelSystem = {
    sections: [
      { id: "s1", name: "Train", collapsed: false },
      { id: "s2", name: "Eval", collapsed: true },
      { id: "s3", name: "Grads", collapsed: false },
    ],
    panels: [],
  };

  it("swaps a section with its neighbour, keeping each section as it was", () => {
    expect(sections(moveSection(layout, "s2", -1))).toEqual(["s2", "s1", "s3"]);
    expect(sections(moveSection(layout, "s2", 1))).toEqual(["s1", "s3", "s2"]);
    expect(moveSection(layout, "s2", -1).sections[0]).toEqual({ id: "s2", name: "Eval", collapsed: true });
    expect(sections(layout)).toEqual(["s1", "s2", "s3"]); // the layout given is left as it was
  });

  it("leaves the layout as it is at either end or for an unknown section", () => {
    expect(moveSection(layout, "s1", -1)).toBe(layout);
    expect(moveSection(layout, "s3", 1)).toBe(layout);
    expect(moveSection(layout, "nope", 1)).toBe(layout);
  });

  it("is kept when the layout is read back (the order is the list's)", () => {
    const moved = moveSection(layout, "s3", -1);
    expect(sections(parsePanelSystem(JSON.parse(JSON.stringify(moved)) as { sections: unknown }))).toEqual(["s1", "s3", "s2"]);
  });
});

describe("histogram panels", () => {
  it("offers the keys the runs logged a histogram under, once each, sorted", () => {
    const hist = { _type: "histogram", values: [1, 2], bins: [0, 1, 2] };
    const runs = [
      { summary: { "grads/w": hist, loss: 0.1, image: { _type: "image-file" } } },
      { summary: { "grads/b": hist, "grads/w": hist, text: "hi", none: null } },
    ];
    expect(histogramKeys(runs)).toEqual(["grads/b", "grads/w"]);
    expect(histogramKeys([])).toEqual([]);
  });

  it("starts with no key, and reads a panel's own max runs only when it is a whole number 1–100", () => {
    expect(defaultConfig("histogram")).toEqual({ key: "" });
    const panel = (max_runs: unknown): Panel => ({ id: "p", kind: "line", title: "", config: { metrics: ["loss"], max_runs } });
    expect(panelMaxRuns(panel(3))).toBe(3);
    expect(panelMaxRuns(panel(100))).toBe(100);
    for (const bad of [undefined, null, 0, 101, 2.5, "3", true]) expect(panelMaxRuns(panel(bad))).toBeNull();
  });

  it("keeps a histogram panel read from a saved layout", () => {
    const read = parsePanelSystem({ panels: [{ id: "h", kind: "histogram", title: "", config: { key: "grads/w", max_runs: 4 } }] });
    expect(read.panels.map((p) => [p.kind, p.config])).toEqual([["histogram", { key: "grads/w", max_runs: 4 }]]);
  });
});

describe("the workspace's default grouping", () => {
  const grouped = [{ group: null }, { group: "exp-a" }, { group: "exp-b" }, { group: "exp-a" }];
  const ungrouped = [{ group: null }, { group: "" }, { group: null }];

  it("groups by group when runs share one and the URL names no grouping (W&B's default)", () => {
    expect(workspaceGroupBy(null, grouped)).toBe("group");
    expect(workspaceGroupBy(null, ungrouped)).toBe("");
    expect(workspaceGroupBy(null, [])).toBe("");
  });

  it("does not group runs that are each alone in their group", () => {
    expect(workspaceGroupBy(null, [{ group: "g-a" }, { group: "g-b" }, { group: null }])).toBe("");
  });

  it("follows the URL or saved view: its grouping, or none when it turned grouping off", () => {
    expect(workspaceGroupBy("config:lr", grouped)).toBe("config:lr");
    expect(workspaceGroupBy("job_type", ungrouped)).toBe("job_type");
    expect(workspaceGroupBy(NO_GROUPING, grouped)).toBe("");
  });
});

describe("itemAt (a workspace media panel's step slider)", () => {
  const items = [5, 10, 20].map((step) => ({ key: "samples", step, value: { _type: "image-file" }, url: null }));

  it("shows what a run logged last at or before the step", () => {
    expect(itemAt(items, 10)?.step).toBe(10);
    expect(itemAt(items, 19)?.step).toBe(10);
    expect(itemAt(items, 1000)?.step).toBe(20);
  });

  it("shows nothing before a run's first step", () => {
    expect(itemAt(items, 4)).toBeUndefined();
    expect(itemAt([], 4)).toBeUndefined();
  });
});
