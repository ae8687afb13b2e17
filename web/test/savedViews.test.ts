import { describe, expect, it } from "vitest";
import { currentState, hasWorkspaceParams, openChanges, WORKSPACE_PARAMS, type SavedView } from "../src/pages/workspace/savedViews";

const view = (params: Record<string, string>): SavedView => ({
  id: "abc123",
  name: "Losses",
  entity: "e",
  project: "p",
  is_default: false,
  created_by: "me",
  created_at: 1,
  updated_at: 1,
  state: { params, layout: null },
});

describe("saved view state", () => {
  it("keeps only the workspace parameters of the address, and the layout", () => {
    const params = new URLSearchParams("filter=state%20%3D%20finished&smooth=0.5&sv=old&runs=x&order=");
    const layout = { removed: ["lr"], added: [], sizes: {}, sections: [], panels: [] };
    expect(currentState(params, layout)).toEqual({ params: { filter: "state = finished", smooth: "0.5" }, layout });
  });

  it("opening a view sets its parameters, clears every other one, and names it", () => {
    const changes = openChanges(view({ group: "config.lr", band: "std" }));
    expect(changes.sv).toBe("abc123");
    expect(changes.group).toBe("config.lr");
    expect(changes.band).toBe("std");
    for (const name of WORKSPACE_PARAMS) if (name !== "group" && name !== "band") expect(changes[name]).toBeNull();
  });

  it("a bare address has no workspace state (the project's default view opens)", () => {
    expect(hasWorkspaceParams(new URLSearchParams(""))).toBe(false);
    expect(hasWorkspaceParams(new URLSearchParams("filter=x"))).toBe(true);
    expect(hasWorkspaceParams(new URLSearchParams("sv=abc"))).toBe(true);
  });
});
