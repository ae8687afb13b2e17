import { describe, expect, it } from "vitest";
import { allHidden, readHidden, toggleRunsHidden, withRunsHidden, writeHidden } from "../src/lib/hiddenRuns";

/** The hidden set as it comes back from a link: written, put in a URL, parsed by the browser, read. */
function throughUrl(hidden: Set<string>): Set<string> {
  const url = new URL("http://host/team/web");
  const value = writeHidden(hidden);
  if (value !== null) url.searchParams.set("hidden", value);
  return readHidden(new URL(url.toString()).searchParams);
}

describe("the hidden runs in the URL", () => {
  it("come back from a link as the same set", () => {
    const hidden = new Set(["b7x2", "a1", "run,with,commas", "名前", "50%"]);
    expect(throughUrl(hidden)).toEqual(hidden);
  });

  it("are written in one order whatever order they were hidden in", () => {
    expect(writeHidden(["c", "a", "b"])).toBe("a,b,c");
    expect(writeHidden(new Set(["b", "a"]))).toBe(writeHidden(["a", "b"]));
  });

  it("leave no parameter when nothing is hidden", () => {
    expect(writeHidden([])).toBeNull();
    expect(readHidden(new URLSearchParams(""))).toEqual(new Set());
  });
});

describe("hiding and showing runs", () => {
  it("hides one run and shows it again", () => {
    const hidden = toggleRunsHidden(new Set(), ["a"]);
    expect(hidden).toEqual(new Set(["a"]));
    expect(toggleRunsHidden(hidden, ["a"])).toEqual(new Set());
  });

  it("hides a whole group when any of its runs is shown, and shows it when all are hidden", () => {
    const partly = new Set(["a", "other"]);
    expect(toggleRunsHidden(partly, ["a", "b"])).toEqual(new Set(["a", "b", "other"]));
    expect(toggleRunsHidden(new Set(["a", "b", "other"]), ["a", "b"])).toEqual(new Set(["other"]));
  });

  it("hides or shows a list without touching the other hidden runs", () => {
    expect(withRunsHidden(new Set(["x"]), ["a", "b"], true)).toEqual(new Set(["x", "a", "b"]));
    expect(withRunsHidden(new Set(["x", "a"]), ["a", "b"], false)).toEqual(new Set(["x"]));
  });

  it("counts an empty group as not hidden", () => {
    expect(allHidden(new Set(["a"]), [])).toBe(false);
    expect(allHidden(new Set(["a", "b"]), ["a", "b"])).toBe(true);
  });
});
