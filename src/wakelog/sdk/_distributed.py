"""Which process of a distributed job this is, read from the launcher's environment.

``paddle.distributed.launch`` sets ``PADDLE_TRAINER_ID`` / ``PADDLE_TRAINERS_NUM`` (and
``PADDLE_GLOBAL_RANK``…); torchrun sets ``RANK`` / ``WORLD_SIZE``; MPI and SLURM have their own.
By default only global rank 0 records; ``distributed="all"`` gives every rank a run in one group.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass

_RANK_VARS = ("PADDLE_TRAINER_ID", "PADDLE_GLOBAL_RANK", "RANK", "OMPI_COMM_WORLD_RANK", "PMI_RANK")
_WORLD_VARS = ("PADDLE_TRAINERS_NUM", "PADDLE_GLOBAL_SIZE", "WORLD_SIZE", "OMPI_COMM_WORLD_SIZE", "PMI_SIZE")
_LOCAL_RANK_VARS = ("PADDLE_LOCAL_RANK", "PADDLE_RANK_IN_NODE", "LOCAL_RANK", "OMPI_COMM_WORLD_LOCAL_RANK")
# Values every rank of one job shares, to name the group when the user gave none.
_JOB_VARS = ("PADDLE_JOB_ID", "TORCHELASTIC_RUN_ID", "SLURM_JOB_ID", "PADDLE_MASTER", "MASTER_ADDR")


@dataclass(frozen=True)
class RankInfo:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def _first_int(names: tuple[str, ...], environ: os._Environ[str] | dict[str, str]) -> int | None:
    for name in names:
        raw = environ.get(name)
        if raw is not None and raw.strip().lstrip("-").isdigit():
            return int(raw)
    return None


def detect_rank(environ: os._Environ[str] | dict[str, str] | None = None) -> RankInfo:
    environ = os.environ if environ is None else environ
    rank = _first_int(_RANK_VARS, environ) or 0
    world = _first_int(_WORLD_VARS, environ) or 1
    local = _first_int(_LOCAL_RANK_VARS, environ)
    return RankInfo(rank=rank, world_size=max(world, rank + 1), local_rank=rank if local is None else local)


def shared_group_name(environ: os._Environ[str] | dict[str, str] | None = None) -> str | None:
    """A group name every rank of this job derives alike, or None if the launcher gives no hint."""
    environ = os.environ if environ is None else environ
    for name in _JOB_VARS:
        value = environ.get(name)
        if value:
            return "dist-" + hashlib.sha256(f"{name}={value}".encode()).hexdigest()[:10]
    return None
