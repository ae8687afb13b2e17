import { describe, expect, it } from "vitest";
import { artifactMediaUrl, isRunFileName, mediaFileUrl, runFileUrl } from "../src/api/endpoints";
import type { ManifestEntry } from "../src/api/types";

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

describe("mediaFileUrl", () => {
  it("takes a given resolver over the run's files", () => {
    expect(mediaFileUrl("media/images/a.png", ref)).toBe("/api/v1/runs/team/p/r1/files/media/images/a.png");
    expect(mediaFileUrl("media/images/a.png", ref, (path) => `/elsewhere/${path}`)).toBe("/elsewhere/media/images/a.png");
    expect(mediaFileUrl("media/images/a.png")).toBeNull();
  });
});

describe("artifactMediaUrl", () => {
  const file = (ref: string | null = null): ManifestEntry => ({ digest: "d", sha256: ref ? null : "s", size: 1, ref });
  const entries = { "media/images/cat 1.png": file(), "media/images/far.png": file("s3://bucket/far.png"), "t.table.json": file() };
  const art = { entity: "team", project: "p", name: "data", version: "v2", run: "r1" };

  it("resolves a path the artifact holds against its own files", () => {
    expect(artifactMediaUrl(art, entries)("media/images/cat 1.png")).toBe("/api/v1/artifacts/team/p/data:v2/files/media/images/cat%201.png");
  });
  it("falls back to the creator run's files for a path the artifact does not hold", () => {
    expect(artifactMediaUrl(art, entries)("media/images/run.png")).toBe("/api/v1/runs/team/p/r1/files/media/images/run.png");
    expect(artifactMediaUrl({ ...art, run: null }, entries)("media/images/run.png")).toBeNull();
  });
  it("has no file for a reference, a prototype name or a path out of the files", () => {
    const url = artifactMediaUrl(art, entries);
    expect(url("media/images/far.png")).toBeNull();
    expect(url("constructor")).toBe("/api/v1/runs/team/p/r1/files/constructor");
    expect(url("../../x")).toBeNull();
  });
});
