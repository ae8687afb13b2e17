import { describe, expect, it } from "vitest";
import { browsableRemote, environmentFacts, shellQuote } from "../src/lib/environment";

describe("environmentFacts", () => {
  const metadata = {
    codePath: "tools/train.py",
    program: "/home/a/tools/train.py",
    args: ["--lr", "0.1", "--name", "my run"],
    python: "3.11.9",
    python_implementation: "CPython",
    os: "Linux-6.8",
    container: "docker",
    git: { remote: "git@github.com:PaddlePaddle/PaddleOCR.git", commit: "0123456789abcdef", branch: "main", dirty: true },
    gpu: {
      gpu_count: 2,
      driver_version: "550.54.15",
      cuda_driver_version: "12.4",
      gpus: [
        { index: 0, name: "NVIDIA A100", memory_total_mb: 81920 },
        { index: 1, name: "NVIDIA A100", memory_total_mb: 81920 },
      ],
    },
    cuda_version: "12.3",
    paddle: { version: "3.0.0", cuda: "12.3", cudnn: "9.0.0", compiled_with_cuda: true, device: "gpu:0" },
    files: ["requirements.txt", "diff.patch"],
  };

  it("reads every fact a person needs to reproduce the run", () => {
    const facts = environmentFacts(metadata);
    expect(facts.command).toBe("python tools/train.py --lr 0.1 --name 'my run'");
    expect(facts.git).toEqual({
      remote: "git@github.com:PaddlePaddle/PaddleOCR.git",
      remoteUrl: "https://github.com/PaddlePaddle/PaddleOCR",
      commit: "0123456789abcdef",
      branch: "main",
      dirty: true,
    });
    expect(facts.python).toBe("3.11.9");
    expect(facts.paddle).toBe("3.0.0 (CUDA 12.3, gpu:0)");
    expect(facts.cuda).toBe("12.3 · driver 550.54.15 (CUDA ≤ 12.4) · cuDNN 9.0.0");
    expect(facts.gpus).toBe("2 × NVIDIA A100 (80 GiB)");
    expect(facts.os).toBe("Linux-6.8 · docker");
    expect(facts.hasDiff).toBe(true);
  });

  it("leaves out what a CPU machine without git does not have", () => {
    const facts = environmentFacts({ program: "train.py", python: "3.10.1", python_implementation: "PyPy", gpu: { gpu_count: 0, gpus: [] }, paddle: { version: "3.0.0", cuda: "none", compiled_with_cuda: false } });
    expect(facts.git).toBeNull();
    expect(facts.gpus).toBeNull();
    expect(facts.cuda).toBeNull();
    expect(facts.paddle).toBe("3.0.0 (CPU)");
    expect(facts.python).toBe("3.10.1 (PyPy)");
    expect(facts.hasDiff).toBe(false);
    expect(environmentFacts(undefined).command).toBeNull();
  });

  it("survives metadata of the wrong shape", () => {
    const facts = environmentFacts({ git: "oops", gpu: { gpus: [null, 3] }, args: "x", files: "diff.patch", python: 3 });
    expect(facts.git).toBeNull();
    expect(facts.gpus).toBe("2 × GPU");
    expect(facts.hasDiff).toBe(false);
    expect(facts.python).toBe("3");
  });
});

describe("shellQuote", () => {
  it("quotes only what a shell would split or expand", () => {
    expect(shellQuote("--lr=0.1")).toBe("--lr=0.1");
    expect(shellQuote("a b")).toBe("'a b'");
    expect(shellQuote("it's")).toBe(`'it'"'"'s'`);
    expect(shellQuote("$HOME")).toBe("'$HOME'");
  });
});

describe("browsableRemote", () => {
  it.each([
    ["git@github.com:o/r.git", "https://github.com/o/r"],
    ["https://gitee.com/o/r.git", "https://gitee.com/o/r"],
    ["ssh://git@git.example.com:2222/team/r.git", "https://git.example.com/team/r"],
    ["/srv/git/r.git", null],
  ])("%s → %s", (remote, url) => {
    expect(browsableRemote(remote)).toBe(url);
  });
});
