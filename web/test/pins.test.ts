import { describe, expect, it } from "vitest";
import { movePin, togglePin } from "../src/lib/pins";

describe("togglePin", () => {
  it("adds a run at the end and takes a pinned one out, keeping the order", () => {
    expect(togglePin(["a", "b"], "c")).toEqual(["a", "b", "c"]);
    expect(togglePin(["a", "b", "c"], "b")).toEqual(["a", "c"]);
    expect(togglePin([], "a")).toEqual(["a"]);
  });
});

describe("movePin", () => {
  it("swaps with the neighbour and stays put at either end", () => {
    expect(movePin(["a", "b", "c"], 1, -1)).toEqual(["b", "a", "c"]);
    expect(movePin(["a", "b", "c"], 1, 1)).toEqual(["a", "c", "b"]);
    expect(movePin(["a", "b"], 0, -1)).toEqual(["a", "b"]);
    expect(movePin(["a", "b"], 1, 1)).toEqual(["a", "b"]);
  });
});
