import { describe, expect, it } from "vitest";
import { diffRows, flatten } from "../src/lib/diff";

describe("flatten", () => {
  it("writes nested keys with dots and keeps lists and media stubs whole", () => {
    expect(flatten({ a: { b: 1, c: { d: "x" } }, l: [1, 2], img: { _type: "image-file", path: "p" }, e: {} })).toEqual([
      ["a.b", 1],
      ["a.c.d", "x"],
      ["l", [1, 2]],
      ["img", { _type: "image-file", path: "p" }],
      ["e", {}],
    ]);
  });
});

describe("diffRows", () => {
  it("puts the differing keys first and marks missing values", () => {
    const rows = diffRows([
      { lr: 0.1, opt: { name: "adam" }, seed: 1 },
      { lr: 0.01, opt: { name: "adam" }, seed: 1, extra: true },
    ]);
    expect(rows.map((r) => [r.key, r.differs])).toEqual([
      ["extra", true],
      ["lr", true],
      ["opt.name", false],
      ["seed", false],
    ]);
    expect(rows[0]!.values).toEqual(["–", "true"]);
    expect(rows[1]!.values).toEqual(["0.1", "0.01"]);
  });
});
