"""This process's cgroups read from fake ``/sys/fs/cgroup`` trees (version 1 and 2), as Docker,
Kubernetes and batch schedulers lay them out."""

from __future__ import annotations

from pathlib import Path

import pytest

from wakelog._cgroup import Cgroups, CpuQuota


def tree(tmp_path: Path, membership: str, files: dict[str, str]) -> Cgroups:
    """A cgroup mount under ``tmp_path`` holding ``files`` (paths under the mount), and this
    process's ``/proc/self/cgroup`` saying ``membership``."""
    root = tmp_path / "cgroup"
    root.mkdir()
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text + "\n")
    (tmp_path / "membership").write_text(membership + "\n")
    return Cgroups(root=root, membership=tmp_path / "membership")


@pytest.mark.parametrize(
    ("membership", "files", "cores", "version", "directory", "used"),
    [
        (  # Kubernetes on cgroup v2: the container's cgroup under the pod's
            "0::/kubepods/pod7/ctr",
            {
                "kubepods/pod7/ctr/cpu.max": "150000 100000",
                "kubepods/pod7/ctr/cpu.stat": "usage_usec 2500000\nuser_usec 2000000\nsystem_usec 500000",
                "cpu.max": "max 100000",
            },
            1.5,
            2,
            "kubepods/pod7/ctr",
            2.5,
        ),
        (  # Docker on cgroup v1: cpu and cpuacct mounted together
            "12:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n1:name=systemd:/docker/abc",
            {
                "cpu/docker/abc/cpu.cfs_quota_us": "50000",
                "cpu/docker/abc/cpu.cfs_period_us": "100000",
                "cpu/docker/abc/cpuacct.usage": "1250000000",
            },
            0.5,
            1,
            "cpu/docker/abc",
            1.25,
        ),
    ],
)
def test_a_quota_and_the_cpu_its_cgroup_used(
    tmp_path: Path,
    membership: str,
    files: dict[str, str],
    cores: float,
    version: int,
    directory: str,
    used: float,
) -> None:
    cgroups = tree(tmp_path, membership, files)
    quota = cgroups.cpu_quota()
    assert quota == CpuQuota(cores, version, cgroups.root / directory)
    assert cgroups.cpu_used(quota) == used


def test_a_container_sees_its_own_cgroup_at_the_mount_root(tmp_path: Path) -> None:
    """The path in /proc/self/cgroup is the host's; inside the container it does not exist."""
    cgroups = tree(tmp_path, "0::/system.slice/docker-abc.scope", {"cpu.max": "200000 100000"})
    quota = cgroups.cpu_quota()
    assert quota is not None and quota.cores == 2.0 and quota.directory == cgroups.root


def test_the_tightest_quota_of_the_cgroup_and_its_ancestors_wins(tmp_path: Path) -> None:
    cgroups = tree(
        tmp_path,
        "0::/job/step",
        {"job/cpu.max": "100000 100000", "job/step/cpu.max": "400000 100000"},
    )
    quota = cgroups.cpu_quota()
    assert quota is not None and quota.cores == 1.0 and quota.directory == cgroups.root / "job"


@pytest.mark.parametrize(
    ("membership", "files"),
    [
        ("0::/ctr", {"ctr/cpu.max": "max 100000"}),  # version 2, unlimited
        ("4:cpu,cpuacct:/ctr", {"cpu/ctr/cpu.cfs_quota_us": "-1", "cpu/ctr/cpu.cfs_period_us": "100000"}),
        ("0::/ctr", {"ctr/cpu.max": "lots 100000"}),  # garbage
        ("0::/ctr", {"ctr/cpu.max": "100000 0"}),
        ("0::/ctr", {}),  # no cpu controller files at all
        ("", {"cpu.max": "100000 100000"}),  # not in any cgroup (or not Linux)
        ("4:memory:/ctr", {"memory/ctr/memory.limit_in_bytes": "1"}),  # no cpu hierarchy
    ],
)
def test_no_quota_reads_as_none(tmp_path: Path, membership: str, files: dict[str, str]) -> None:
    assert tree(tmp_path, membership, files).cpu_quota() is None


def test_usage_not_kept_beside_the_quota_reads_as_none(tmp_path: Path) -> None:
    cgroups = tree(tmp_path, "0::/ctr", {"ctr/cpu.max": "100000 100000", "ctr/cpu.stat": "nr_periods 3"})
    quota = cgroups.cpu_quota()
    assert quota is not None and cgroups.cpu_used(quota) is None


def test_no_membership_file_means_no_cgroups(tmp_path: Path) -> None:
    cgroups = Cgroups(root=tmp_path, membership=tmp_path / "missing")
    assert cgroups.dirs("cpu") == [] and cgroups.cpu_quota() is None
