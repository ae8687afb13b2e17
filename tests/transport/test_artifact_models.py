"""``log_model``, ``use_model`` and ``link_model`` (wandb's model helpers) end to end: logged as
``model`` artifacts, linked into the entity's registry, downloaded back (the folder, or the only
file), and refused for artifacts that are not models."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import wakelog
from tests.harness import InProcessServer, upload
from wakelog.sdk.artifacts import ArtifactError
from wakelog.sdk.artifacts._errors import ArtifactTypeError


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessServer]:
    with InProcessServer(tmp_path_factory.mktemp("model-server") / "data") as app:
        yield app


@pytest.fixture(autouse=True)
def reachable(server: InProcessServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Offline runs that can still reach the server for lookups (``use_model`` needs one)."""
    monkeypatch.setenv("WAKELOG_BASE_URL", server.url)
    monkeypatch.setenv("WAKELOG_API_KEY", server.key)
    monkeypatch.setenv("WAKELOG_CACHE_DIR", str(tmp_path / "cache"))


def offline(root: Path, project: str) -> wakelog.Run:
    return wakelog.init(mode="offline", project=project, entity="admin", dir=str(root))


def test_models_are_logged_linked_and_used_back(server: InProcessServer, tmp_path: Path) -> None:
    weights = tmp_path / "ckpt"
    weights.mkdir()
    (weights / "model.pdparams").write_bytes(b"params")
    (weights / "model.pdopt").write_bytes(b"opt")
    single = tmp_path / "head.pdparams"
    single.write_bytes(b"head")
    with offline(tmp_path / "r1", "models") as run:
        logged = run.log_model(str(weights), name="digits-net", aliases=["best"])
        default_named = wakelog.log_model(str(single))
        linked = run.link_model(str(weights), "digits-clf", name="digits-net", aliases=["staging"])
        run_id, run_dir = run.id, Path(run.run_dir)
    assert (logged.type, default_named.type, linked.type) == ("model", "model", "model")
    assert default_named.name == f"run-{run_id}-head.pdparams"  # wandb's default name
    assert upload(server, run_dir).complete
    with server.client() as http:
        versions = http.get("/api/v1/artifacts/admin/models/digits-net/versions").json()
        registry = http.get("/api/v1/registry/admin/digits-clf").json()
    # the same files again: link_model's log is the same version, which is linked
    assert [(v["version"], sorted(v["aliases"])) for v in versions] == [("v0", ["best", "latest"])]
    assert [(v["name"], v["version"], v["registry_aliases"]) for v in registry] == [
        ("digits-net", "v0", ["staging"])
    ]

    with offline(tmp_path / "r2", "models") as user:
        folder = Path(user.use_model("digits-net:best"))
        only_file = Path(wakelog.use_model(f"admin/models/run-{run_id}-head.pdparams:latest"))
        user_dir = Path(user.run_dir)
    assert sorted(p.name for p in folder.iterdir()) == ["model.pdopt", "model.pdparams"]
    assert (folder / "model.pdparams").read_bytes() == b"params"
    assert only_file.is_file() and only_file.read_bytes() == b"head"
    assert upload(server, user_dir).complete
    with wakelog.Api() as api:
        user_run = api.run(f"admin/models/{_run_id(user_dir)}")
        assert sorted(a.name for a in user_run.used_artifacts()) == [
            "digits-net:v0",
            f"run-{run_id}-head.pdparams:v0",
        ]


def _run_id(run_dir: Path) -> str:
    from wakelog.runlog.syncstate import SyncState

    return SyncState.load(run_dir).run_path.rsplit("/", 1)[-1]


def test_model_helpers_refuse_what_is_not_a_model(server: InProcessServer, tmp_path: Path) -> None:
    data = tmp_path / "train.csv"
    data.write_text("x\n1\n")
    with offline(tmp_path / "r1", "not-models") as run:
        run.log_artifact(str(data), name="table", type="dataset")
        run_dir = Path(run.run_dir)
    assert upload(server, run_dir).complete
    with offline(tmp_path / "r2", "not-models") as run:
        with pytest.raises(AssertionError, match="'dataset'"):
            run.use_model("table:latest")
        with pytest.raises(ArtifactTypeError, match="'dataset'"):
            run.link_model(str(data), "clf", name="table")
        with pytest.raises(ArtifactTypeError, match="without entity or project"):
            run.link_model(str(data), "admin/clf")


def test_use_model_without_a_server_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("WAKELOG_BASE_URL", f"http://127.0.0.1:{port}")
    with offline(tmp_path / "r", "nowhere") as run, pytest.raises(ArtifactError, match="no server answered"):
        run.use_model("digits-net:best")
