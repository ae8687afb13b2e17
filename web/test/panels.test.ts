import { describe, expect, it } from "vitest";
import { EMPTY_LAYOUT, moveMetricToSection, parseLayout, type PanelLayout } from "../src/lib/panels";

describe("parseLayout", () => {
  it("keeps a well-formed layout", () => {
    const layout = { removed: ["a"], added: ["b"], sizes: { c: "l" } };
    // a layout saved before the panel system loads unchanged, with no sections or panels of its own
    expect(parseLayout(layout)).toEqual({ ...layout, sections: [], panels: [] });
  });

  it("drops what is not a layout", () => {
    expect(parseLayout(null)).toBeNull();
    expect(parseLayout("x")).toBeNull();
    expect(parseLayout({ removed: [1, "a"], added: "b", sizes: { c: "huge", d: "s" } })).toEqual({
      removed: ["a"],
      added: [],
      sizes: { d: "s" },
      sections: [],
      panels: [],
    });
  });
});

describe("moveMetricToSection", () => {
  const layout: PanelLayout = {
    ...EMPTY_LAYOUT,
    removed: ["old"],
    sizes: { "train/loss": "l" },
    options: { "train/loss": { smoothing: 0.6, smoothKind: "gaussian", logY: true } },
    sections: [{ id: "s-1", name: "Mine", collapsed: false }],
  };

  it("puts a line panel of the metric in the section and removes the automatic chart", () => {
    const moved = moveMetricToSection(layout, "train/loss", "s-1", "p-1", "epoch");
    expect(moved.panels).toEqual([
      {
        id: "p-1",
        kind: "line",
        title: "train/loss",
        section: "s-1",
        size: "l",
        config: { metrics: ["train/loss"], x: "epoch", smoothing: { kind: "gaussian", weight: 0.6 }, log_y: true },
      },
    ]);
    expect(moved.removed).toEqual(["old", "train/loss"]);
    expect(layout.panels).toEqual([]);
  });

  it("draws a chart on the step axis as a report line panel does, with no options of its own", () => {
    const moved = moveMetricToSection(layout, "acc", "s-1", "p-2", "_step");
    expect(moved.panels[0]?.config).toEqual({ metrics: ["acc"], x: "step" });
    expect(moved.panels[0]?.size).toBe("m");
  });
});
