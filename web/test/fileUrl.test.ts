import { describe, expect, it } from "vitest";
import { isRunFileName, runFileUrl } from "../src/api/endpoints";

const ref = { entity: "team", project: "p", run_id: "r1" };

describe("runFileUrl", () => {
  it("links a run file, each part escaped, folders kept", () => {
    expect(runFileUrl(ref, "media/images/a b#1.png")).toBe("/api/v1/runs/team/p/r1/files/media/images/a%20b%231.png");
  });
  it("refuses a path that would lead to another endpoint", () => {
    for (const name of ["media/../../../../auth/keys", "../x", "./x", "a//b", "/abs", "a\\b", "C:x", "", "a/%2e%2e/b/.."]) {
      expect(isRunFileName(name)).toBe(false);
      expect(runFileUrl(ref, name)).toBeNull();
    }
  });
});
