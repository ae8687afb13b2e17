"""Start-up cost and memory: ``import wakelog``, offline ``init()``, SDK memory in the process.

    python bench/startup.py [--quick] [--json PATH] [--no-peers] [--peers a,b] [--profile]

Budgets (DESIGN.md §4): ``import wakelog`` ≤ 150 ms (wall time of a fresh interpreter that imports
it, minus a bare interpreter's start; runs alternate), offline ``init()`` ≤ 200 ms (the call
itself, in a fresh process), SDK memory ≤ 30 MB above the bare interpreter (RSS after import,
init and logging 20k steps, minus a bare interpreter's RSS; also with numpy imported in both,
which isolates the SDK from the numpy it imports). Peers are measured the same way.
"""

from __future__ import annotations

import re
import sys
from typing import Any

from _adapters import ADAPTERS
from _common import (
    FULL_STEPS,
    ChildError,
    Report,
    agg,
    fmt_mb,
    fmt_s,
    median,
    output_of,
    parser,
    peer_configs,
    run_child,
    run_rounds,
    steps_for,
    table,
    times,
    wall_of,
)

INIT_CONFIGS_PEERS = ["wandb-offline", "mlflow-sqlite", "mlflow-file", "aim", "visualdl"]
STATUS = "print(open('/proc/self/status').read())"


def vm_rss_mb(text: str) -> float:
    return int(re.search(r"VmRSS:\s+(\d+)", text).group(1)) / 1024


def import_walls(targets: dict[str, str], reps: int) -> dict[str, list[float]]:
    """Alternate bare starts and imports; the first round warms the caches and is dropped."""
    walls: dict[str, list[float]] = {"<bare>": [], **{k: [] for k in targets}}
    for r in range(reps + 1):
        for label in ["<bare>", *targets]:
            code = "pass" if label == "<bare>" else f"import {targets[label]}"
            t = wall_of(code)
            if r:
                walls[label].append(t)
    return walls


def import_profile(module: str, top: int = 10) -> list[tuple[str, float, float]]:
    """The slowest imports under ``module`` by cumulative time (``python -X importtime``)."""
    import subprocess

    err = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        capture_output=True,
        text=True,
        check=True,
    ).stderr
    entries = []
    for line in err.splitlines():
        m = re.match(r"import time:\s+(\d+)\s+\|\s+(\d+)\s+\|(\s*)(\S+)", line)
        if m:
            entries.append((m.group(4), int(m.group(1)) / 1e3, int(m.group(2)) / 1e3, len(m.group(3))))
    ranked = sorted(entries, key=lambda e: -e[2])
    return [(name, self_ms, cum_ms) for name, self_ms, cum_ms, _ in ranked[:top]]


def measure_imports(peers: list[str], quick: bool) -> tuple[dict[str, float], float, dict[str, list[float]]]:
    """Import wall time of wakelog and each peer SDK minus a bare start; also the bare start and raw walls."""
    targets = {"wakelog": "wakelog"}
    for config in peers:
        name = ADAPTERS[config].module
        if name and name not in targets.values():
            targets[config.split("-")[0]] = name
    print("  … import walls", file=sys.stderr, flush=True)
    walls = import_walls({"wakelog": "wakelog"}, 3 if quick else 15)
    if len(targets) > 1:
        others = import_walls({k: v for k, v in targets.items() if k != "wakelog"}, 1 if quick else 5)
        walls.update({k: v for k, v in others.items() if k != "<bare>"})
    bare = median(walls["<bare>"])
    imports = {label: median(v) - bare for label, v in walls.items() if label != "<bare>"}
    return imports, bare, walls


def measure_inits(peers: list[str], quick: bool) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """Offline init() (and the in-process import) in fresh processes; failures by configuration."""
    plan: dict[str, tuple[dict[str, Any], int]] = {"wakelog": ({"task": "init"}, 2 if quick else 9)}
    for config in peers:
        if config in INIT_CONFIGS_PEERS:
            plan[config] = ({"task": "init"}, 1 if quick else 3)
    raw_init, errors = run_rounds(plan)
    inits = {
        c: {
            "init_s": agg(r, "init_s"),
            "import_s": agg(r, "import_s"),
            "modules": median(x["modules_loaded"] for x in r),
            "finish_s": agg(r, "finish_s"),
        }
        for c, r in raw_init.items()
        if r
    }
    return inits, errors


def memory_plan(peers: list[str], quick: bool, n: int) -> dict[str, tuple[dict[str, Any], int]]:
    plan: dict[str, tuple[dict[str, Any], int]] = {
        "wakelog": ({"task": "memory", "n": n}, 1 if quick else 3),
        "floor-queue": ({"task": "memory", "n": n}, 1),
    }
    for config in peers:
        plan[config] = ({"task": "memory", "n": steps_for(config, FULL_STEPS, quick, 500)}, 1)
    return plan


def memory_with_numpy(quick: bool, n: int, errors: dict[str, str]) -> list[dict[str, Any]]:
    """wakelog's memory children with numpy imported first (failures go to ``errors``)."""
    raw_np: list[dict[str, Any]] = []
    for rep in range(1 if quick else 3):
        print(f"  … wakelog memory with numpy ({rep + 1})", file=sys.stderr, flush=True)
        try:
            raw_np.append(run_child({"task": "memory", "config": "wakelog", "n": n, "numpy": True}))
        except ChildError as exc:
            errors["wakelog (memory, numpy)"] = str(exc)
    return raw_np


def float_medians(runs: list[dict[str, Any]]) -> dict[str, Any]:
    return {k: median(r[k] for r in runs) for k in runs[0] if isinstance(runs[0][k], float)}


def memory_rows(
    raw_mem: dict[str, list[dict[str, Any]]],
    raw_np: list[dict[str, Any]],
    plan: dict[str, tuple[dict[str, Any], int]],
    bare_rss: float,
    bare_np_rss: float,
) -> dict[str, dict[str, Any]]:
    """Medians per configuration, as MB above the matching bare interpreter."""
    mem: dict[str, dict[str, Any]] = {}
    for config, runs in raw_mem.items():
        if not runs:
            continue
        m = float_medians(runs)
        m["n"] = plan[config][0]["n"]
        m["sdk_mb"] = m["rss_after_log_mb"] - bare_rss
        m["sdk_peak_mb"] = m["peak_rss_mb"] - bare_rss
        m["after_import_mb"] = m["rss_after_import_mb"] - bare_rss
        m["after_init_mb"] = m["rss_after_init_mb"] - bare_rss
        mem[config] = m
    if raw_np:
        m = float_medians(raw_np)
        m["sdk_mb"] = m["rss_after_log_mb"] - bare_np_rss
        m["sdk_peak_mb"] = m["peak_rss_mb"] - bare_np_rss
        m["sdk_vs_child_numpy_mb"] = m["rss_after_log_mb"] - m["rss_after_numpy_mb"]
        mem["wakelog+numpy"] = m
    return mem


def print_import_table(imports: dict[str, float], inits: dict[str, dict[str, Any]]) -> None:
    lines = []
    for label, t in imports.items():
        config = label if label in inits else next((c for c in inits if c.startswith(label)), None)
        i = inits.get(config) if config else None
        lines.append(
            [
                label,
                fmt_s(t),
                fmt_s(i["import_s"][0]) if i else "–",
                f"{i['modules']:.0f}" if i else "–",
                f"{config}: {fmt_s(i['init_s'][0])} (min {fmt_s(i['init_s'][1])})" if i else "–",
            ]
        )
    for config, i in inits.items():
        if not any(row[4].startswith(config + ":") for row in lines):
            lines.append(
                [
                    config,
                    "–",
                    fmt_s(i["import_s"][0]),
                    f"{i['modules']:.0f}",
                    f"{config}: {fmt_s(i['init_s'][0])} (min {fmt_s(i['init_s'][1])})",
                ]
            )
    print(
        table(
            [
                "SDK",
                "import (wall − bare)",
                "import in-process",
                "modules (import+init)",
                "init() median (min)",
            ],
            lines,
        )
    )


def print_memory_table(mem: dict[str, dict[str, Any]], n: int) -> None:
    mlines = []
    for config, m in mem.items():
        mlines.append(
            [
                config,
                m.get("n", n),
                fmt_mb(m["after_import_mb"]) if "after_import_mb" in m else "–",
                fmt_mb(m["after_init_mb"]) if "after_init_mb" in m else "–",
                fmt_mb(m["sdk_mb"]),
                fmt_mb(m["sdk_peak_mb"]),
                fmt_mb(m["helpers_rss_mb"]) if m.get("helpers_rss_mb") else "–",
            ]
        )
    print(
        table(
            [
                "config",
                "steps",
                "+RSS after import",
                "+after init",
                "+after logging",
                "+peak",
                "helper procs",
            ],
            mlines,
        )
    )
    print(
        "+ = above the bare interpreter's RSS (wakelog+numpy: above a bare interpreter that imported numpy)."
    )


def import_budget(
    report: Report, imports: dict[str, float], bare: float, inits: dict[str, dict[str, Any]], peers: list[str]
) -> None:
    wi = imports["wakelog"]
    parts = [
        f"import wakelog {fmt_s(wi)} (fresh interpreter minus bare start {fmt_s(bare)}) — budget ≤ 150 ms"
    ]
    if "wakelog" in inits:
        parts.append(
            f"in-process {fmt_s(inits['wakelog']['import_s'][0])}, "
            f"{inits['wakelog']['modules']:.0f} modules after init()"
        )
    # Keyed by the first configuration of each peer SDK, so that run_all lines the peers up in columns.
    config_of = {c.split("-")[0]: c for c in reversed(peers)}
    versus = {
        config_of[label]: f"{fmt_s(t)} ({times(wi, t)})" for label, t in imports.items() if label != "wakelog"
    }
    parts += [
        f"import {label} {fmt_s(t)} ({times(wi, t)})" for label, t in imports.items() if label != "wakelog"
    ]
    report.budget(
        "import wakelog",
        wi * 1e3,
        150.0,
        "ms",
        " — ".join(parts),
        shown=fmt_s(wi),
        limit="≤ 150 ms",
        peers=versus,
    )


def init_budget(report: Report, inits: dict[str, dict[str, Any]]) -> None:
    wi_init = inits["wakelog"]["init_s"][0]
    parts = [
        f"offline init() {fmt_s(wi_init)} (min {fmt_s(inits['wakelog']['init_s'][1])}) — budget ≤ 200 ms"
    ]
    versus = {
        c: f"{fmt_s(i['init_s'][0])} ({times(wi_init, i['init_s'][0])})"
        for c, i in inits.items()
        if c != "wakelog"
    }
    parts += [f"{c} {text}" for c, text in versus.items()]
    report.budget(
        "offline init()",
        wi_init * 1e3,
        200.0,
        "ms",
        " — ".join(parts),
        shown=fmt_s(wi_init),
        limit="≤ 200 ms",
        peers=versus,
    )


def memory_budget(report: Report, mem: dict[str, dict[str, Any]], n: int) -> None:
    w = mem["wakelog"]
    parts = [
        f"SDK memory +{fmt_mb(w['sdk_mb'])} above the bare interpreter after import+init+"
        f"{n // 1000}k steps (peak +{fmt_mb(w['sdk_peak_mb'])}) — budget ≤ 30 MB"
    ]
    if "wakelog+numpy" in mem:
        parts.append(f"with numpy in both +{fmt_mb(mem['wakelog+numpy']['sdk_mb'])}")
    floors, versus = {}, {}
    if "floor-queue" in mem:
        floors["floor-queue"] = f"+{fmt_mb(mem['floor-queue']['sdk_mb'])}"
        parts.append(f"floor-queue {floors['floor-queue']}")
    for config, m in mem.items():
        if ADAPTERS.get(config) and ADAPTERS[config].kind == "peer":
            helper = f" + helpers {fmt_mb(m['helpers_rss_mb'])}" if m.get("helpers_rss_mb") else ""
            versus[config] = f"+{fmt_mb(m['sdk_mb'])}{helper} ({m['n']} steps)"
            parts.append(f"{config} {versus[config]}")
    report.budget(
        "SDK memory",
        w["sdk_mb"],
        30.0,
        "MB",
        " — ".join(parts),
        shown=f"+{fmt_mb(w['sdk_mb'])}",
        limit="≤ 30 MB",
        floors=floors,
        peers=versus,
    )


def print_profiles(report: Report, always: bool) -> None:
    """Where the time goes, for each start-up budget that was missed (or all of them with ``always``)."""
    missed = {b["what"] for b in report.data["budgets"] if not b["ok"]}
    if always or "import wakelog" in missed:
        prof = import_profile("wakelog")
        report.data["import_profile"] = prof
        print("\nslowest imports under `import wakelog` (python -X importtime; self ms, cumulative ms):")
        for name, self_ms, cum_ms in prof:
            print(f"  {cum_ms:8.1f} ms cum  {self_ms:7.1f} ms self  {name}")
    if always or "offline init()" in missed:
        prof = run_child(
            {"task": "profile", "config": "wakelog", "phase": "init", "n": 0, "sort": "cumulative", "top": 20}
        )["profile"]
        report.data["init_profile"] = prof
        print("\ncProfile of wakelog.init(mode='offline'):\n" + prof)


def main() -> None:
    p = parser(__doc__.split("\n")[0])
    p.add_argument(
        "--profile", action="store_true", help="print the import and init profiles even when in budget"
    )
    args = p.parse_args()
    report = Report("startup", args)
    report.header("import, offline init() and SDK memory")
    quick = args.quick
    peers = peer_configs(args)

    imports, bare, walls = measure_imports(peers, quick)
    inits, errors = measure_inits(peers, quick)

    print("  … bare interpreter RSS", file=sys.stderr, flush=True)
    bare_rss = median(vm_rss_mb(output_of(STATUS)) for _ in range(3))
    bare_np_rss = median(vm_rss_mb(output_of("import numpy; " + STATUS)) for _ in range(3))
    n = 2000 if quick else FULL_STEPS
    mem_plan = memory_plan(peers, quick, n)
    raw_mem, mem_err = run_rounds(mem_plan)
    errors.update({f"{k} (memory)": v for k, v in mem_err.items()})
    raw_np = memory_with_numpy(quick, n, errors)
    for config, err in errors.items():
        report.note(f"{config}: FAILED — {err}")
    mem = memory_rows(raw_mem, raw_np, mem_plan, bare_rss, bare_np_rss)
    report.data["results"] = {
        "import_wall_s": imports,
        "bare_start_s": bare,
        "walls": walls,
        "init": inits,
        "memory": mem,
        "bare_rss_mb": bare_rss,
        "bare_numpy_rss_mb": bare_np_rss,
    }
    report.data["errors"] = errors

    print()
    print(
        f"Bare interpreter: start {fmt_s(bare)} (median of {len(walls['<bare>'])}), RSS {fmt_mb(bare_rss)}; "
        f"with numpy imported {fmt_mb(bare_np_rss)}."
    )
    print_import_table(imports, inits)
    print()
    print_memory_table(mem, n)
    print()

    import_budget(report, imports, bare, inits, peers)
    if "wakelog" in inits:
        init_budget(report, inits)
    if "wakelog" in mem:
        memory_budget(report, mem, n)
    print_profiles(report, args.profile)
    report.finish()


if __name__ == "__main__":
    main()
