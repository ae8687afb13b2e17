import { describe, expect, it } from "vitest";
import { reproduction, rerunCommand } from "../src/lib/reproduce";

const ref = { entity: "team", project: "ocr", run_id: "abc123" };
const url = (name: string) => `http://h/api/v1/runs/team/ocr/abc123/files/${name}`;

describe("reproduction", () => {
  it("lists clone, checkout, patch, venv and rerun as `wakelog restore` does them", () => {
    const meta = {
      program: "/src/ocr/tools/train.py",
      codePath: "tools/train.py",
      cwd: "/src/ocr/exp",
      args: ["--lr", "0.1", "--note", "a b"],
      git: { remote: "git@github.com:team/ocr.git", commit: "f00d" },
      files: ["requirements.txt", "diff.patch"],
    };
    const plan = reproduction(ref, meta, url);
    expect(plan.restore).toBe("wakelog restore team/ocr/abc123 --dir ocr-abc123 --venv");
    expect(plan.steps.map((s) => s.step)).toEqual(["clone", "checkout", "patch", "venv", "rerun"]);
    expect(plan.steps[0]?.commands).toEqual(["git clone git@github.com:team/ocr.git ocr-abc123 && cd ocr-abc123"]);
    expect(plan.steps[1]?.commands).toEqual(["git checkout -b wakelog/abc123 f00d"]);
    expect(plan.steps[2]?.commands[0]).toContain("files/diff.patch | git apply");
    expect(plan.steps[4]?.commands).toEqual(["cd exp && ../.venv/bin/python ../tools/train.py --lr 0.1 --note 'a b'"]);
  });

  it("leaves out what the run did not record", () => {
    const plan = reproduction(ref, { program: "<stdin>" }, url);
    expect(plan.steps).toEqual([]);
    expect(plan.restore).toBe("wakelog restore team/ocr/abc123 --venv");
    expect(rerunCommand({ program: "/w/train.py", codePath: "train.py", cwd: "/w" })).toBe("python train.py");
  });
});
