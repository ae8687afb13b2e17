/**
 * The run page's "Environment" facts, read from the run's metadata (written by the SDK's
 * environment capture): what a person needs to reproduce a run, one line each.
 */
export interface GitFacts {
  remote: string | null;
  /** A browsable https URL for the remote, when it is a known host form. */
  remoteUrl: string | null;
  commit: string | null;
  branch: string | null;
  dirty: boolean;
}

export interface EnvironmentFacts {
  command: string | null;
  git: GitFacts | null;
  python: string | null;
  paddle: string | null;
  cuda: string | null;
  gpus: string | null;
  os: string | null;
  hasDiff: boolean;
}

const text = (v: unknown): string | null => (typeof v === "string" && v.trim() ? v : typeof v === "number" ? String(v) : null);
const record = (v: unknown): Record<string, unknown> | null => (v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : null);

/** A shell-safe rendering of one argument (quotes only where a shell would need them). */
export function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'"'"'`)}'`;
}

/** `git@host:owner/repo.git` and `https://host/owner/repo.git` → `https://host/owner/repo`; else null. */
export function browsableRemote(remote: string): string | null {
  const scp = /^[\w.-]+@([\w.-]+):(.+?)(?:\.git)?\/?$/.exec(remote);
  if (scp) return `https://${scp[1]}/${scp[2]}`;
  const ssh = /^ssh:\/\/(?:[\w.-]+@)?([\w.-]+)(?::\d+)?\/(.+?)(?:\.git)?\/?$/.exec(remote);
  if (ssh) return `https://${ssh[1]}/${ssh[2]}`;
  const web = /^https?:\/\/([^/\s]+)\/(.+?)(?:\.git)?\/?$/.exec(remote);
  if (web) return `https://${web[1]}/${web[2]}`;
  return null;
}

function gpuLine(meta: Record<string, unknown>): string | null {
  const gpus = record(meta.gpu)?.gpus;
  if (!Array.isArray(gpus) || gpus.length === 0) return null;
  const counts = new Map<string, number>();
  for (const g of gpus) {
    const gpu = record(g);
    const mb = typeof gpu?.memory_total_mb === "number" ? gpu.memory_total_mb : null;
    const name = `${text(gpu?.name) ?? "GPU"}${mb ? ` (${Math.round(mb / 1024)} GiB)` : ""}`;
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return [...counts].map(([name, n]) => `${n} × ${name}`).join(", ");
}

function cudaLine(meta: Record<string, unknown>, paddle: Record<string, unknown> | null): string | null {
  const parts: string[] = [];
  const toolkit = text(meta.cuda_version);
  if (toolkit) parts.push(toolkit);
  const driver = record(meta.gpu);
  const driverVersion = text(driver?.driver_version);
  const driverCuda = text(driver?.cuda_driver_version);
  if (driverVersion) parts.push(`driver ${driverVersion}${driverCuda ? ` (CUDA ≤ ${driverCuda})` : ""}`);
  const cudnn = text(paddle?.cudnn);
  if (cudnn && cudnn !== "none") parts.push(`cuDNN ${cudnn}`);
  return parts.length ? parts.join(" · ") : null;
}

function paddleLine(paddle: Record<string, unknown> | null): string | null {
  const version = text(paddle?.version);
  if (!paddle || !version) return null;
  const cuda = text(paddle.cuda);
  const build = paddle.compiled_with_cuda === true && cuda && cuda !== "none" ? `CUDA ${cuda}` : "CPU";
  const device = text(paddle.device);
  return `${version} (${build}${device ? `, ${device}` : ""})`;
}

export function environmentFacts(metadata: Record<string, unknown> | null | undefined): EnvironmentFacts {
  const meta = metadata ?? {};
  const program = text(meta.codePath) ?? text(meta.program);
  const args = Array.isArray(meta.args) ? meta.args.map(String) : [];
  const git = record(meta.git);
  const remote = text(git?.remote);
  const paddle = record(meta.paddle);
  const implementation = text(meta.python_implementation);
  const python = text(meta.python);
  const os = [text(meta.os), text(meta.container)].filter(Boolean).join(" · ");
  return {
    command: program ? ["python", program, ...args].map(shellQuote).join(" ") : null,
    git: git
      ? {
          remote,
          remoteUrl: remote ? browsableRemote(remote) : null,
          commit: text(git.commit),
          branch: text(git.branch),
          dirty: git.dirty === true,
        }
      : null,
    python: python && implementation && implementation !== "CPython" ? `${python} (${implementation})` : python,
    paddle: paddleLine(paddle),
    cuda: cudaLine(meta, paddle),
    gpus: gpuLine(meta),
    os: os || null,
    hasDiff: Array.isArray(meta.files) && meta.files.includes("diff.patch"),
  };
}
