import { describe, expect, it } from "vitest";
import type { Notification } from "../src/api/types";
import { appendOlder, badgeText, markedRead, runPath } from "../src/lib/notifications";

function note(id: number, read = false): Notification {
  const run = { entity: "team", project: "web", run_id: `r${id}`, name: null };
  return { id, event: "alert", level: "WARN", title: `t${id}`, text: "", run, created_at: id, read };
}

describe("the bell's list", () => {
  it("appends an older page once, newest first", () => {
    const shown = [note(9), note(8), note(7)];
    // A notification that arrived meanwhile shifts the page: 7 comes again.
    expect(appendOlder(shown, [note(7), note(6), note(5)]).map((n) => n.id)).toEqual([9, 8, 7, 6, 5]);
  });

  it("marks the given notifications read, or all of them", () => {
    const list = [note(3), note(2, true), note(1)];
    expect(markedRead(list, [3]).map((n) => n.read)).toEqual([true, true, false]);
    expect(markedRead(list, null).every((n) => n.read)).toBe(true);
    expect(markedRead(list, [3])[1]).toBe(list[1]); // unchanged items are kept as they were
  });

  it("leads to the run, each part escaped", () => {
    expect(runPath({ entity: "a b", project: "p/q", run_id: "x1", name: "n" })).toBe("/a%20b/p%2Fq/runs/x1");
    expect(runPath(null)).toBeNull();
  });

  it("caps the badge", () => {
    expect(badgeText(7)).toBe("7");
    expect(badgeText(100)).toBe("99+");
  });
});
