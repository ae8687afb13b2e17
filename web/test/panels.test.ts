import { describe, expect, it } from "vitest";
import { parseLayout } from "../src/lib/panels";

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
