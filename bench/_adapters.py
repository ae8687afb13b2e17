"""The configurations a benchmark can run: wakelog, the floors and the peer SDKs.

Each configuration is an ``Adapter``: how to import it, start a run, log one row of scalars,
finish, and read every point back. Adapters run only inside a benchmark child process
(``_child.py``), one configuration per process, so one SDK's imports and threads never touch
another's timings. Nothing here imports an SDK at module level.

How the peers are run follows ``reference/peer-bench.md``: wandb with ``WANDB_MODE=offline`` in the
environment as well as ``mode="offline"``; MLflow's file store needs ``MLFLOW_ALLOW_FILE_STORE``;
Aim's fast mode is its tracking thread (``__AIM_ENABLE_TRACKING_THREAD__``), whose queue is
drained before the run is closed (``close()`` alone does not wait for it).
"""

from __future__ import annotations

import json
import os
import struct
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

#: The five scalar keys logged at every step.
KEYS = ("loss", "acc", "lr", "grad_norm", "epoch")

LogFn = Callable[[dict[str, float], int], Any]


def make_row(i: int) -> dict[str, float]:
    """One step's five float scalars (a fresh dict, as a training loop builds one)."""
    return {
        "loss": 1.0 / (i + 1),
        "acc": i * 1e-5,
        "lr": 0.001,
        "grad_norm": 0.5 + (i % 7) * 0.1,
        "epoch": i / 1000.0,
    }


def dir_bytes(path: Path) -> int:
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                pass
    return total


class Adapter:
    """One configuration. ``workdir`` is an empty folder private to the child process."""

    name = ""
    #: The top-level module that must be importable for this configuration to run.
    module: str | None = None
    #: Environment variables set by the parent before the child starts.
    env: ClassVar[dict[str, str]] = {}
    #: Steps to run in the full mode when 20k would take too long (the result is extrapolated).
    max_steps: int | None = None
    #: True when the flush/drain time grows with the number of queued steps (extrapolated then).
    async_flush = False
    #: Where the configuration sits in the tables: "floor", "wakelog" or "peer".
    kind = "peer"
    note = ""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir

    def import_sdk(self) -> None:
        """Import the SDK (timed as the import cost)."""

    def init(self) -> None:
        """Start a run (timed as the init cost)."""

    def logger(self) -> LogFn:
        """The callable the loop times: ``fn(row, step)``."""
        raise NotImplementedError

    def finish(self) -> None:
        """End the run; when this returns every point must be on disk (timed as flush)."""

    def verify(self, n: int) -> dict[str, Any]:
        """Read the points back: ``{"rows": …, "points": …}`` (points = non-underscore values)."""
        raise NotImplementedError

    def disk_bytes(self) -> int:
        """Bytes the SDK wrote for this run."""
        return dir_bytes(self.workdir)


# -- floors ------------------------------------------------------------------------------------
class FloorNone(Adapter):
    """No logging at all: what remains is the cost of the timer itself."""

    name, kind = "floor-none", "floor"

    def logger(self) -> LogFn:
        return None  # type: ignore[return-value]  # the loop skips the call

    def verify(self, n: int) -> dict[str, Any]:
        return {"rows": n, "points": n * len(KEYS)}

    def disk_bytes(self) -> int:
        return 0


class FloorList(Adapter):
    """Append each row to a list in memory: a Python call plus an append."""

    name, kind = "floor-list", "floor"

    def init(self) -> None:
        self.rows: list[tuple[int, dict[str, float]]] = []

    def logger(self) -> LogFn:
        append = self.rows.append

        def log(row: dict[str, float], step: int) -> None:
            append((step, row))

        return log

    def verify(self, n: int) -> dict[str, Any]:
        return {"rows": len(self.rows), "points": sum(len(r) for _, r in self.rows)}

    def disk_bytes(self) -> int:
        return 0


class FloorQueue(Adapter):
    """``queue.SimpleQueue`` + one background thread writing JSON lines: the least a
    non-blocking SDK with a writer thread can do."""

    name, kind = "floor-queue", "floor"

    def init(self) -> None:
        import queue

        self.path = self.workdir / "floor-queue.jsonl"
        self.queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._write, name="floor-writer", daemon=True)
        self.thread.start()

    def _write(self) -> None:
        get, dumps = self.queue.get, json.dumps
        with open(self.path, "w", encoding="utf-8") as f:
            while True:
                item = get()
                if item is None:
                    break
                step, row = item
                f.write(dumps({**row, "_step": step}) + "\n")

    def logger(self) -> LogFn:
        put = self.queue.put

        def log(row: dict[str, float], step: int) -> None:
            put((step, row))

        return log

    def finish(self) -> None:
        self.queue.put(None)
        self.thread.join()

    def verify(self, n: int) -> dict[str, Any]:
        rows = points = 0
        with open(self.path, encoding="utf-8") as f:
            for line in f:
                record = json.loads(line)
                rows += 1
                points += sum(1 for k in record if not k.startswith("_"))
        return {"rows": rows, "points": points}


# -- wakelog -----------------------------------------------------------------------------------
class Wakelog(Adapter):
    """wakelog offline with default settings (system metrics and console capture on)."""

    name, kind, module = "wakelog", "wakelog", "wakelog"
    explicit_step = True

    def import_sdk(self) -> None:
        import wakelog

        self.sdk = wakelog

    def init(self) -> None:
        self.run = self.sdk.init(mode="offline", dir=str(self.workdir), project="bench")

    def logger(self) -> LogFn:
        if self.explicit_step:
            return self.sdk.log
        log = self.sdk.log
        return lambda row, step: log(row)

    def finish(self) -> None:
        self.sdk.finish(quiet=True)

    def runlog_path(self) -> Path:
        from wakelog.runlog import find_runlog

        return find_runlog(self.run.run_dir)

    def verify(self, n: int) -> dict[str, Any]:
        from wakelog.runlog import RecordType, read_runlog

        result = read_runlog(self.runlog_path())
        rows = points = 0
        steps: set[int] = set()
        for record in result.records:
            if record.type == RecordType.HISTORY:
                rows += 1
                points += sum(1 for k in record.data if not k.startswith("_"))
                steps.add(record.data.get("_step"))
        return {"rows": rows, "points": points, "distinct_steps": len(steps), "damage": len(result.damage)}

    def disk_bytes(self) -> int:
        return self.runlog_path().stat().st_size

    def extra(self) -> dict[str, Any]:
        run_dir = self.run.run_dir
        return {"run_dir_bytes": dir_bytes(run_dir)} if run_dir else {}


class WakelogAutoStep(Wakelog):
    """wakelog, ``log(row)`` without ``step=`` (each call commits its row at once)."""

    name = "wakelog-autostep"
    explicit_step = False


# -- peers -------------------------------------------------------------------------------------
class WandbOffline(Adapter):
    """wandb offline: ``mode="offline"`` and ``WANDB_MODE=offline`` (peer-bench.md's fair setup)."""

    name, module = "wandb-offline", "wandb"
    env: ClassVar[dict[str, str]] = {"WANDB_MODE": "offline", "WANDB_SILENT": "true"}

    def import_sdk(self) -> None:
        import wandb

        self.sdk = wandb

    def init(self) -> None:
        self.run = self.sdk.init(mode="offline", dir=str(self.workdir), project="bench")

    def logger(self) -> LogFn:
        return self.sdk.log

    def finish(self) -> None:
        self.sdk.finish()

    def _file(self) -> Path:
        return next(self.workdir.glob("wandb/offline-run-*/run-*.wandb"))

    def verify(self, n: int) -> dict[str, Any]:
        from wandb.proto import wandb_internal_pb2

        rows = points = 0
        for payload in read_leveldb_log(self._file()):
            record = wandb_internal_pb2.Record()
            record.ParseFromString(payload)
            if record.WhichOneof("record_type") == "history":
                rows += 1
                keys = (item.key or "/".join(item.nested_key) for item in record.history.item)
                points += sum(1 for key in keys if not key.startswith("_"))
        return {"rows": rows, "points": points}

    def disk_bytes(self) -> int:
        return self._file().stat().st_size


class _Mlflow(Adapter):
    module = "mlflow"
    uri = ""

    def import_sdk(self) -> None:
        import mlflow

        self.sdk = mlflow

    def init(self) -> None:
        self.sdk.set_tracking_uri(self.tracking_uri())
        self.sdk.set_experiment("bench")
        self.run_id = self.sdk.start_run().info.run_id

    def tracking_uri(self) -> str:
        raise NotImplementedError

    def logger(self) -> LogFn:
        return self.sdk.log_metrics

    def finish(self) -> None:
        self.sdk.end_run()

    def verify(self, n: int) -> dict[str, Any]:
        client = self.sdk.tracking.MlflowClient()
        history = {key: client.get_metric_history(self.run_id, key) for key in KEYS}
        steps = {m.step for values in history.values() for m in values}
        return {"rows": len(steps), "points": sum(len(v) for v in history.values())}


class MlflowSqlite(_Mlflow):
    """MLflow 3's default store: SQLite (``sqlite:///mlflow.db``)."""

    name = "mlflow-sqlite"
    max_steps = 1000

    def tracking_uri(self) -> str:
        return f"sqlite:///{self.workdir / 'mlflow.db'}"


class MlflowFile(_Mlflow):
    """MLflow's file store (``MLFLOW_ALLOW_FILE_STORE=true``)."""

    name = "mlflow-file"
    env: ClassVar[dict[str, str]] = {"MLFLOW_ALLOW_FILE_STORE": "true"}
    max_steps = 5000

    def tracking_uri(self) -> str:
        return (self.workdir / "mlruns").as_uri()


class Aim(Adapter):
    """Aim with its defaults (synchronous ``track``); system tracking and terminal capture off."""

    name, module = "aim", "aim"
    max_steps = 5000

    def import_sdk(self) -> None:
        import aim

        self.sdk = aim

    def init(self) -> None:
        self.repo_path = str(self.workdir / "aimrepo")
        self.run = self.sdk.Run(
            repo=self.repo_path,
            experiment="bench",
            system_tracking_interval=None,
            capture_terminal_logs=False,
        )
        self.hash = self.run.hash

    def logger(self) -> LogFn:
        track = self.run.track
        return lambda row, step: track(row, step=step)

    def finish(self) -> None:
        self.run.close()

    def verify(self, n: int) -> dict[str, Any]:
        from aim.sdk.index_manager import RepoIndexManager

        repo = self.sdk.Repo(self.repo_path)
        RepoIndexManager.get_index_manager(repo).index(self.hash)  # what `aim up` does in the background
        run = self.sdk.Run(self.hash, repo=self.repo_path, read_only=True)
        points, steps = 0, set()
        for metric in run.metrics():
            if metric.name.startswith("__"):
                continue
            indices = metric.data.indices_list()
            points += len(indices)
            steps.update(indices)
        return {"rows": len(steps), "points": points}


class AimTrackThread(Aim):
    """Aim's fast mode: ``track`` queues to a tracking thread; ``finish`` waits for its queue."""

    name = "aim-trackthread"
    env: ClassVar[dict[str, str]] = {"__AIM_ENABLE_TRACKING_THREAD__": "1"}
    async_flush = True

    def finish(self) -> None:
        from aim.sdk.repo import Repo

        queue = getattr(Repo, "tracking_queue", None)
        if queue is not None:
            queue._queue.join()  # close() does not wait for the queued track() calls
        self.run.close()


class VisualDL(Adapter):
    """VisualDL's ``LogWriter``: one ``add_scalar`` per key (it has no multi-key call)."""

    name, module = "visualdl", "visualdl"

    def import_sdk(self) -> None:
        import visualdl

        self.sdk = visualdl

    def init(self) -> None:
        self.writer = self.sdk.LogWriter(logdir=str(self.workdir / "vdl"))

    def logger(self) -> LogFn:
        add = self.writer.add_scalar

        def log(row: dict[str, float], step: int) -> None:
            for key, value in row.items():
                add(key, value, step)

        return log

    def finish(self) -> None:
        self.writer.close()

    def verify(self, n: int) -> dict[str, Any]:
        from visualdl import LogReader

        path = next((self.workdir / "vdl").glob("vdlrecords*"))
        reader = LogReader(file_path=str(path))
        series = {key: reader.get_data("scalar", key) for key in KEYS}
        steps = {item.id for values in series.values() for item in values}
        return {"rows": len(steps), "points": sum(len(v) for v in series.values())}


ADAPTERS: dict[str, type[Adapter]] = {
    cls.name: cls
    for cls in (
        FloorNone,
        FloorList,
        FloorQueue,
        Wakelog,
        WakelogAutoStep,
        WandbOffline,
        MlflowSqlite,
        MlflowFile,
        Aim,
        AimTrackThread,
        VisualDL,
    )
}
PEERS = [name for name, cls in ADAPTERS.items() if cls.kind == "peer"]
#: Measured elsewhere and left out here, with the reason (printed by every benchmark).
SKIPPED_PEERS = {
    "mlflow-server": "not run: a local `mlflow server` starts ~15 processes (~3 GB RSS) and takes 15-50 s "
    "to come up on this kind of machine, which does not fit the 10-minute suite; see "
    "reference/peer-bench.md (sync ≈ 60 ms per call, async drains 20k steps in ≈ 16 s)",
}


# -- the wandb transaction log -----------------------------------------------------------------
_WANDB_HEADER = 7  # ":W&B" + 2-byte magic + 1-byte version
_BLOCK = 32 * 1024
_RECORD_HEADER = struct.Struct("<IHB")  # CRC-32C, length, chunk type
_FULL, _FIRST, _MIDDLE, _LAST = 1, 2, 3, 4


def read_leveldb_log(path: Path) -> list[bytes]:
    """The payloads of a wandb ``.wandb`` file (LevelDB log format: 32 KiB blocks of chunks).

    Written from the format's description: each chunk has a 7-byte header (checksum, length,
    type); a record is one FULL chunk or FIRST, MIDDLE…, LAST; a block's tail shorter than a
    header is zero padding. Checksums are not checked: this only counts what was written.
    """
    data = path.read_bytes()
    if data[:4] != b":W&B":
        raise ValueError(f"{path}: not a wandb transaction log")
    pos, out, partial = _WANDB_HEADER, [], bytearray()
    size = len(data)
    while pos + _RECORD_HEADER.size <= size:
        left_in_block = _BLOCK - pos % _BLOCK
        if left_in_block < _RECORD_HEADER.size:
            pos += left_in_block
            continue
        _, length, kind = _RECORD_HEADER.unpack_from(data, pos)
        start = pos + _RECORD_HEADER.size
        chunk = data[start : start + length]
        pos = start + length
        if kind == _FULL:
            out.append(bytes(chunk))
        elif kind == _FIRST:
            partial = bytearray(chunk)
        elif kind == _MIDDLE:
            partial += chunk
        elif kind == _LAST:
            partial += chunk
            out.append(bytes(partial))
            partial = bytearray()
        elif kind == 0 and length == 0:  # zero padding to the end of the block
            pos += _BLOCK - pos % _BLOCK if pos % _BLOCK else 0
    return out
