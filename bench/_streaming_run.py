"""A training run that streams to a server at a set pace, for ``bench/web_memory.py``.

Each step logs ``--metrics`` scalars and prints ``--lines`` console lines; system metrics come
from the SDK's own sampler (``WAKELOG_STATS_SAMPLING_INTERVAL``, set by the caller). The run's
server, key, entity and project come from the environment (``WAKELOG_*``), as for any online run.

The caller steers it with files in ``--control`` (a folder): the run writes ``run_id`` once its
first step is logged, waits for ``go``, logs the remaining steps at ``--rate`` steps per second,
writes ``done``, then waits for ``stop`` before ``finish()`` (so the caller can measure the pages
while the run is still live).

Run: python bench/_streaming_run.py --control DIR --steps N --rate R [--metrics M] [--lines L]
"""

from __future__ import annotations

import argparse
import math
import os
import time
from pathlib import Path

import wakelog

POLL_S = 0.05
#: Steps between two checks of the clock (the pace is kept per block, not per step).
PACE_BLOCK = 20


def wait_for(path: Path) -> None:
    while not path.exists():
        time.sleep(POLL_S)


def write_signal(path: Path, text: str) -> None:
    """``path`` appears with its whole text (the caller polls for it)."""
    part = path.with_suffix(".part")
    part.write_text(text)
    os.replace(part, path)


def metric_names(count: int) -> list[str]:
    train = ["loss", "accuracy", "learning_rate", "grad_norm", "tokens_per_s", "perplexity"]
    evaluation = ["loss", "accuracy", "f1", "bleu"]
    names = [f"train/{n}" for n in train] + [f"eval/{n}" for n in evaluation]
    return names[:count] + [f"extra/m{i:02d}" for i in range(count - len(names))]


def row(names: list[str], step: int) -> dict[str, float]:
    decay = 1.0 / math.sqrt(step + 1)
    return {name: decay * (i + 1) + 0.01 * math.sin(step / 50 + i) for i, name in enumerate(names)}


def log_step(run: wakelog.Run, names: list[str], step: int, lines: int) -> None:
    values = row(names, step)
    run.log(values)  # the next step, committed at once
    loss = values[names[0]]
    for k in range(lines):
        print(f"step {step:>6} [{k}] loss=\x1b[33m{loss:.5f}\x1b[0m lr={1e-3 * 0.999 ** (step // 100):.2e}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--control", type=Path, required=True)
    parser.add_argument("--steps", type=int, required=True)
    parser.add_argument("--rate", type=float, required=True, help="steps per second")
    parser.add_argument("--metrics", type=int, default=10)
    parser.add_argument("--lines", type=int, default=1, help="console lines per step")
    args = parser.parse_args()
    names = metric_names(args.metrics)

    run = wakelog.init(name="streaming", config={"steps": args.steps, "rate": args.rate})
    log_step(run, names, 0, args.lines)
    write_signal(args.control / "run_id", run.id)
    wait_for(args.control / "go")
    started = time.perf_counter()
    for step in range(1, args.steps):
        log_step(run, names, step, args.lines)
        if step % PACE_BLOCK == 0:
            ahead = started + step / args.rate - time.perf_counter()
            if ahead > 0:
                time.sleep(ahead)
    write_signal(args.control / "done", str(time.perf_counter() - started))
    wait_for(args.control / "stop")
    run.finish()


if __name__ == "__main__":
    main()
