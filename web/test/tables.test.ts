import { describe, expect, it } from "vitest";
import { cellText, filterRows, isNumericColumn, parseTableJson, searchTexts, sortRows } from "../src/lib/tables";

const collator = new Intl.Collator("en", { numeric: true, sensitivity: "base" });
const all = (data: unknown[][]) => data.map((_, i) => i);
/** The sorted column's cells, in the sorted order. */
const sorted = (data: unknown[][], column: number, desc: boolean) => sortRows(data, all(data), { column, desc }, collator).map((i) => (data[i] as unknown[])[column]);

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

describe("isNumericColumn", () => {
  it("counts NaN, Infinity and missing cells as fitting a number column", () => {
    expect(isNumericColumn([[1], ["NaN"], [null], ["-Infinity"]], 0)).toBe(true);
  });

  it("keeps a text column that holds the word NaN as text", () => {
    expect(isNumericColumn([["NaN"], ["cat"]], 0)).toBe(false);
    expect(isNumericColumn([["NaN"], [null]], 0)).toBe(false);
  });
});

describe("sortRows", () => {
  it("sorts numbers numerically, with the infinities at the ends", () => {
    const data = [[10], [9], ["Infinity"], [100], ["-Infinity"], [-1.5]];
    expect(sorted(data, 0, false)).toEqual(["-Infinity", -1.5, 9, 10, 100, "Infinity"]);
    expect(sorted(data, 0, true)).toEqual(["Infinity", 100, 10, 9, -1.5, "-Infinity"]);
  });

  it("puts NaN and missing cells last in both directions", () => {
    const data = [[2], ["NaN"], [null], [1], [], [3]];
    expect(sorted(data, 0, false)).toEqual([1, 2, 3, "NaN", null, undefined]);
    expect(sorted(data, 0, true)).toEqual([3, 2, 1, "NaN", null, undefined]);
  });

  it("sorts text by locale: case-insensitive, digits by value", () => {
    const data = [["item 10"], ["Banana"], ["apple"], ["item 9"]];
    expect(sorted(data, 0, false)).toEqual(["apple", "Banana", "item 9", "item 10"]);
  });

  it("keeps equal cells in their logged order", () => {
    const data = [[1, "a"], [0, "b"], [1, "c"], [0, "d"]];
    expect(sortRows(data, all(data), { column: 0, desc: true }, collator)).toEqual([0, 2, 1, 3]);
  });

  it("orders a mixed column numbers first, then text, then the rest", () => {
    const data = [[{ _type: "image-file" }], ["b"], [true], [2], ["a"], [1]];
    expect(sorted(data, 0, false)).toEqual([1, 2, "a", "b", true, { _type: "image-file" }]);
  });

  it("sorts only the rows it is given", () => {
    const data = [[5], [4], [3], [2]];
    expect(sortRows(data, [0, 2], { column: 0, desc: false }, collator)).toEqual([2, 0]);
  });
});

describe("filterRows", () => {
  const data = [
    [1, "cat", 0.5],
    [2, "Dog", "NaN"],
    [3, "hotdog", 1e-7],
  ];
  const texts = searchTexts(data, [true, false, true], "en");

  it("keeps rows holding the text in any column, ignoring case", () => {
    expect(filterRows(texts, "dog", "en")).toEqual([1, 2]);
    expect(filterRows(texts, "NAN", "en")).toEqual([1]);
  });

  it("needs every word, each in some column", () => {
    expect(filterRows(texts, "dog 3", "en")).toEqual([2]);
    expect(filterRows(texts, "cat 3", "en")).toEqual([]);
  });

  it("matches what is shown, not the raw value", () => {
    expect(cellText(1e-7, true)).toBe("1e-7");
    expect(filterRows(texts, "1e-7", "en")).toEqual([2]);
  });

  it("does not match across the boundary of two columns", () => {
    expect(filterRows(texts, "1cat", "en")).toEqual([]);
  });

  it("keeps every row for an empty or blank query", () => {
    expect(filterRows(texts, "  ", "en")).toEqual([0, 1, 2]);
  });
});

describe("cellText", () => {
  it("writes the infinities of a number column as numbers", () => {
    expect(cellText("Infinity", true)).toBe("∞");
    expect(cellText("Infinity", false)).toBe("Infinity");
    expect(cellText(null, true)).toBe("–");
  });
});
