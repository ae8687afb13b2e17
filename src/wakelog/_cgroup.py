"""This process's control groups: the CPU and memory a container's or a batch job's limits leave it.

Read from ``/sys/fs/cgroup`` (version 1 or 2) each time asked. In a container the host's figures
say little: ``/proc/stat`` counts every core of the host, while the kernel throttles the container
at its CPU quota and kills it at its memory limit. Off Linux, or where nothing is limited, every
answer is None.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


def read_text(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


@dataclass(frozen=True)
class CpuQuota:
    """A cgroup's CPU quota: ``cores`` of CPU time per second, and the cgroup's directory."""

    cores: float
    version: int
    directory: Path


@dataclass(frozen=True)
class Cgroups:
    """The cgroups ``membership`` (``/proc/self/cgroup``) names, under the mount ``root``."""

    root: Path = Path("/sys/fs/cgroup")
    membership: Path = Path("/proc/self/cgroup")

    def dirs(self, controller: str) -> list[tuple[int, Path]]:
        """Directories of this process's cgroup and its ancestors, innermost first, with the cgroup
        version. Inside a container the cgroup path in ``membership`` often does not exist under the
        mount (the container's own cgroup is mounted at the root), so the mount root is always the
        last candidate."""
        found: list[tuple[int, Path]] = []
        for line in (read_text(self.membership) or "").splitlines():
            parts = line.split(":", 2)
            if len(parts) != 3:
                continue
            hierarchy, controllers, relative = parts
            if hierarchy == "0" and controllers == "":
                version, base = 2, self.root
            elif controller in controllers.split(","):
                version, base = 1, self.root / controller
            else:
                continue
            names = [name for name in relative.split("/") if name and name != ".."]
            for n in range(len(names), -1, -1):
                directory = base.joinpath(*names[:n])
                if directory.is_dir():
                    found.append((version, directory))
        return found

    def cpu_quota(self) -> CpuQuota | None:
        """The tightest CPU quota on this cgroup or an ancestor; None when unlimited or unknown."""
        best: CpuQuota | None = None
        for version, directory in self.dirs("cpu"):
            cores = _quota_cores(version, directory)
            if cores is not None and (best is None or cores < best.cores):
                best = CpuQuota(cores, version, directory)
        return best

    def cpu_used(self, quota: CpuQuota) -> float | None:
        """CPU seconds the quota's cgroup has used (all its processes); None when it is not kept
        there (version 1 keeps it in ``cpuacct``, which containers mount with ``cpu``)."""
        if quota.version == 2:
            for line in (read_text(quota.directory / "cpu.stat") or "").splitlines():
                name, _, value = line.partition(" ")
                if name == "usage_usec" and value.isdigit():
                    return int(value) / 1e6
            return None
        raw = read_text(quota.directory / "cpuacct.usage")
        return int(raw) / 1e9 if raw and raw.isdigit() else None


def _quota_cores(version: int, directory: Path) -> float | None:
    if version == 2:
        quota, _, period = (read_text(directory / "cpu.max") or "max").partition(" ")
        if quota == "max":
            return None
    else:
        names = ("cpu.cfs_quota_us", "cpu.cfs_period_us")
        quota, period = (read_text(directory / name) or "" for name in names)
    try:
        cores = float(quota) / float(period or 100_000)
    except (ValueError, ZeroDivisionError):
        return None
    return cores if cores > 0 else None  # version 1 says -1 for no quota
