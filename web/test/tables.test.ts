import { describe, expect, it } from "vitest";
import { parseTableJson } from "../src/components/MediaView";

describe("parseTableJson", () => {
  it("reads the bare NaN and Infinity tokens the SDK writes", () => {
    const table = parseTableJson('{"columns": ["a", "b"], "data": [[1, NaN], [-Infinity, Infinity]]}');
    expect(table.data).toEqual([[1, "NaN"], ["-Infinity", "Infinity"]]);
  });

  it("leaves the same words inside strings alone", () => {
    const table = parseTableJson('{"columns": ["note"], "data": [["NaN, Infinity]"]]}');
    expect(table.data).toEqual([["NaN, Infinity]"]]);
  });
});
