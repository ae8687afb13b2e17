/**
 * "Reproduce this run": the steps `wakelog restore` takes, as shell commands a person can paste,
 * read from the run's metadata (the SDK's environment capture). Kept in step with
 * src/wakelog/api/_restore_run.py: same branch name, same folder layout, same rerun command.
 */
import { shellQuote } from "./environment";

export interface ReproduceStep {
  /** i18n key of the comment line above the commands (`reproduce.step.*`). */
  step: "clone" | "checkout" | "patch" | "venv" | "rerun";
  commands: string[];
}

export interface Reproduction {
  /** The one command that does every step. */
  restore: string;
  steps: ReproduceStep[];
}

const text = (v: unknown): string | null => (typeof v === "string" && v.trim() ? v : null);
const record = (v: unknown): Record<string, unknown> | null => (v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : null);
const parts = (path: string): string[] => path.split("/").filter((p) => p && p !== ".");

/** The recorded working folder relative to the code root (git root, else cwd), as `a/b` or "". */
function cwdInRoot(meta: Record<string, unknown>, codePath: string): string {
  const program = text(meta.program);
  const cwd = text(meta.cwd);
  if (!program || !cwd) return "";
  const prog = program.startsWith("/") ? parts(program) : [...parts(cwd), ...parts(program)];
  const rel = parts(codePath);
  const tail = prog.slice(prog.length - rel.length);
  if (tail.join("/") !== rel.join("/")) return "";
  const root = prog.slice(0, prog.length - rel.length);
  const here = parts(cwd);
  return root.every((p, i) => here[i] === p) ? here.slice(root.length).join("/") : "";
}

/** `python <program> <args>` run from the recorded folder, relative to the restored root
 * (`venv`: with the python of the root's `.venv`). */
export function rerunCommand(meta: Record<string, unknown>, venv = false): string | null {
  const codePath = text(meta.codePath);
  const program = text(meta.program);
  if (!codePath || !program || program.startsWith("<")) return null;
  const sub = cwdInRoot(meta, codePath);
  const depth = parts(sub).length;
  const relProgram = depth ? `${"../".repeat(depth)}${codePath}` : codePath;
  const args = Array.isArray(meta.args) ? meta.args.map(String) : [];
  const python = venv ? `${"../".repeat(depth)}.venv/bin/python` : "python";
  const run = [python, relProgram, ...args].map(shellQuote).join(" ");
  return depth ? `cd ${shellQuote(sub)} && ${run}` : run;
}

/** The steps for the run `entity/project/runId`; `fileUrl(name)` is a run file's download URL. */
export function reproduction(
  ref: { entity: string; project: string; run_id: string },
  metadata: Record<string, unknown> | null | undefined,
  fileUrl: (name: string) => string,
): Reproduction {
  const meta = metadata ?? {};
  const folder = `${ref.project}-${ref.run_id}`;
  const git = record(meta.git);
  const remote = text(git?.remote);
  const commit = text(git?.commit);
  const files = Array.isArray(meta.files) ? meta.files.map(String) : [];
  const fetch = (name: string) => `curl -fsSL -u "api:$WAKELOG_API_KEY" ${shellQuote(fileUrl(name))}`;
  const venv = files.includes("requirements.txt");
  const steps: ReproduceStep[] = [];
  if (remote) steps.push({ step: "clone", commands: [`git clone ${shellQuote(remote)} ${folder} && cd ${folder}`] });
  if (commit) steps.push({ step: "checkout", commands: [`git checkout -b wakelog/${ref.run_id} ${commit}`] });
  if (commit && files.includes("diff.patch")) steps.push({ step: "patch", commands: [`${fetch("diff.patch")} | git apply`] });
  if (venv) {
    steps.push({
      step: "venv",
      commands: [
        `mkdir -p wakelog && ${fetch("requirements.txt")} > wakelog/requirements.txt`,
        "python -m venv .venv && .venv/bin/pip install -r wakelog/requirements.txt",
      ],
    });
  }
  const rerun = rerunCommand(meta, venv);
  if (rerun) steps.push({ step: "rerun", commands: [rerun] });
  const where = remote ? ` --dir ${folder}` : "";
  return { restore: `wakelog restore ${ref.entity}/${ref.project}/${ref.run_id}${where} --venv`, steps };
}
