import { describe, expect, it } from "vitest";
import { parseLayout } from "../src/lib/panels";
import {
  addSection,
  dropPanel,
  duplicatePanel,
  movePanel,
  movePanelToSection,
  panelsIn,
  removePanel,
  removeSection,
  renameSection,
  setCollapsed,
  type PanelSystem,
  type WorkspacePanel,
} from "../src/lib/panelSections";

function panel(id: string, section: string | null = null): WorkspacePanel {
  return { id, kind: "scalar", title: id, config: { metric: "acc" }, section, size: "m" };
}

const layout: PanelSystem = {
  sections: [{ id: "s1", name: "Eval", collapsed: false }],
  panels: [panel("a"), panel("b", "s1"), panel("c"), panel("d", "s1")],
};
const ids = (l: PanelSystem, section: string | null = null) => panelsIn(l, section).map((p) => p.id);

describe("panel system layout edits", () => {
  it("moves a panel up and down within its own section only", () => {
    expect(ids(movePanel(layout, "c", -1))).toEqual(["c", "a"]);
    expect(ids(movePanel(layout, "b", 1), "s1")).toEqual(["d", "b"]);
    expect(movePanel(layout, "a", -1)).toBe(layout);
    expect(movePanel(layout, "d", 1)).toBe(layout);
    expect(ids(layout)).toEqual(["a", "c"]); // the layout given is left as it was
  });

  it("duplicates a panel right after it, with its own copy of the config", () => {
    const next = duplicatePanel(layout, "b", "b2", "b (copy)");
    expect(ids(next, "s1")).toEqual(["b", "b2", "d"]);
    const copy = next.panels.find((p) => p.id === "b2")!;
    expect(copy).toMatchObject({ kind: "scalar", title: "b (copy)", section: "s1" });
    expect(copy.config).not.toBe(layout.panels[1]!.config);
    expect(duplicatePanel(layout, "nope", "x", "x")).toBe(layout);
  });

  it("drops a dragged panel before another, taking its section, or at a section's end", () => {
    expect(ids(dropPanel(layout, "a", "d", null), "s1")).toEqual(["b", "a", "d"]);
    expect(ids(dropPanel(layout, "b", null, null))).toEqual(["a", "c", "b"]);
    expect(ids(movePanelToSection(layout, "a", "s1"), "s1")).toEqual(["b", "d", "a"]);
    expect(dropPanel(layout, "a", "a", null)).toBe(layout);
  });

  it("creates, renames, collapses and deletes sections; a deleted section's panels go to the default one", () => {
    let next = addSection(layout, { id: "s2", name: "New", collapsed: false });
    next = renameSection(next, "s2", "Renamed");
    next = setCollapsed(next, "s2", true);
    expect(next.sections[1]).toEqual({ id: "s2", name: "Renamed", collapsed: true });
    next = removeSection(next, "s1");
    expect(next.sections.map((s) => s.id)).toEqual(["s2"]);
    expect(ids(next)).toEqual(["a", "c", "b", "d"]);
    expect(ids(removePanel(next, "c"))).toEqual(["a", "b", "d"]);
  });

  it("parses a saved layout keeping only well-formed sections and panels", () => {
    const parsed = parseLayout({
      removed: [],
      sections: [{ id: "s1", name: "Eval" }, { name: "no id" }],
      panels: [
        { id: "p1", kind: "bar", title: "t", config: { metric: "acc" }, section: "s1", size: "l" },
        { id: "p2", kind: "pie", config: {} },
        { id: "p3", kind: "scalar", config: { metric: "acc" }, section: "gone" },
      ],
    });
    expect(parsed?.sections).toEqual([{ id: "s1", name: "Eval", collapsed: false }]);
    expect(parsed?.panels).toEqual([
      { id: "p1", kind: "bar", title: "t", config: { metric: "acc" }, section: "s1", size: "l" },
      { id: "p3", kind: "scalar", title: "", config: { metric: "acc" }, section: null, size: "m" },
    ]);
  });
});
