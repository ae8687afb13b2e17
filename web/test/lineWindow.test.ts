import { describe, expect, it } from "vitest";
import { appendNewer, emptyWindow, prependOlder, tailWindow, type LineWindow, type NumberedLine } from "../src/lib/lineWindow";

/** Lines numbered `from` to `to - 1`. */
function range(from: number, to: number): NumberedLine[] {
  return Array.from({ length: to - from }, (_, i) => ({ line: from + i }));
}

function numbers(window: LineWindow<NumberedLine>): [number, number, number] {
  const first = window.lines[0]?.line ?? -1;
  const last = window.lines[window.lines.length - 1]?.line ?? -1;
  return [first, last, window.lines.length];
}

describe("tailWindow", () => {
  it("holds the tail, at the end, trimmed to the cap", () => {
    const window = tailWindow(range(0, 12), 10);
    expect(numbers(window)).toEqual([2, 11, 10]);
    expect(window.atEnd).toBe(true);
    expect(window.shift).toBe(0);
  });
});

describe("appendNewer", () => {
  it("appends while under the cap", () => {
    const window = appendNewer(tailWindow(range(0, 4), 10), range(4, 8), 10, "newest", true);
    expect(numbers(window)).toEqual([0, 7, 8]);
    expect(window.shift).toBe(0);
    expect(window.atEnd).toBe(true);
  });

  it("lets the oldest go when following, however long the run prints", () => {
    let window = tailWindow(range(0, 8), 10);
    let next = 8;
    for (let batch = 0; batch < 10_000; batch++) {
      window = appendNewer(window, range(next, next + 7), 10, "newest", true);
      next += 7;
      expect(window.lines.length).toBeLessThanOrEqual(10);
    }
    expect(numbers(window)).toEqual([next - 10, next - 1, 10]);
    expect(window.atEnd).toBe(true);
  });

  it("says how many rows left the front", () => {
    const window = appendNewer(tailWindow(range(0, 10), 10), range(10, 13), 10, "newest", true);
    expect(numbers(window)).toEqual([3, 12, 10]);
    expect(window.shift).toBe(-3);
  });

  it("keeps the oldest when reading back, and no longer reaches the end", () => {
    const window = appendNewer(tailWindow(range(0, 8), 10), range(8, 13), 10, "oldest", true);
    expect(numbers(window)).toEqual([0, 9, 10]);
    expect(window.atEnd).toBe(false);
    expect(window.shift).toBe(0);
  });

  it("reaches the end only when the lines appended do", () => {
    expect(appendNewer(emptyWindow(), range(0, 5), 10, "newest", false).atEnd).toBe(false);
  });

  it("ignores lines it already holds", () => {
    const window = appendNewer(tailWindow(range(0, 5), 10), range(3, 7), 10, "newest", true);
    expect(window.lines.map((l) => l.line)).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });
});

describe("prependOlder", () => {
  it("puts older lines in front and says how many", () => {
    const window = prependOlder(tailWindow(range(10, 14), 10), range(6, 10), 10);
    expect(numbers(window)).toEqual([6, 13, 8]);
    expect(window.shift).toBe(4);
    expect(window.atEnd).toBe(true);
  });

  it("lets the newest go past the cap, and the window no longer reaches the end", () => {
    const window = prependOlder(tailWindow(range(10, 18), 10), range(2, 10), 10);
    expect(numbers(window)).toEqual([2, 11, 10]);
    expect(window.shift).toBe(8);
    expect(window.atEnd).toBe(false);
  });

  it("ignores lines it already holds", () => {
    const window = prependOlder(tailWindow(range(10, 12), 10), range(8, 11), 10);
    expect(window.lines.map((l) => l.line)).toEqual([8, 9, 10, 11]);
    expect(window.shift).toBe(2);
  });
});

describe("a window read back and forth", () => {
  it("never holds more than the cap and its lines stay consecutive", () => {
    const cap = 10;
    let window = tailWindow(range(90, 100), cap);
    window = prependOlder(window, range(85, 90), cap);
    window = prependOlder(window, range(80, 85), cap);
    expect(numbers(window)).toEqual([80, 89, 10]);
    window = appendNewer(window, range(90, 95), cap, "newest", false);
    expect(numbers(window)).toEqual([85, 94, 10]);
    expect(window.atEnd).toBe(false);
    window = appendNewer(window, range(95, 100), cap, "newest", true);
    expect(numbers(window)).toEqual([90, 99, 10]);
    expect(window.atEnd).toBe(true);
    window.lines.forEach((l, i) => expect(l.line).toBe(90 + i));
  });
});
