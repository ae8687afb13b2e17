import { describe, expect, it } from "vitest";
import { tabStep, tabStop } from "../src/lib/tabs";

const TABS = ["overview", "charts", "comments"] as const;

describe("tabStop", () => {
  it("is the focused tab as soon as it is focused, before the selection follows", () => {
    // Home pressed on Comments: Overview is focused, the URL still selects Comments
    expect(tabStop(TABS, "comments", "overview")).toBe("overview");
    expect(tabStop(TABS, "comments", "charts")).toBe("charts");
  });

  it("is the selected tab while focus is outside the list", () => {
    expect(tabStop(TABS, "comments", null)).toBe("comments");
  });

  it("falls back to the selected tab when the focused one is no longer listed", () => {
    expect(tabStop(TABS, "charts", "files" as (typeof TABS)[number])).toBe("charts");
  });
});

describe("tabStep", () => {
  it("moves with the arrows, wrapping around, and jumps with Home and End", () => {
    expect(tabStep("ArrowRight", 0, 3)).toBe(1);
    expect(tabStep("ArrowRight", 2, 3)).toBe(0);
    expect(tabStep("ArrowLeft", 0, 3)).toBe(2);
    expect(tabStep("Home", 2, 3)).toBe(0);
    expect(tabStep("End", 0, 3)).toBe(2);
  });

  it("ignores other keys and empty lists", () => {
    expect(tabStep("Tab", 1, 3)).toBeUndefined();
    expect(tabStep("Enter", 1, 3)).toBeUndefined();
    expect(tabStep("Home", 0, 0)).toBeUndefined();
  });
});
