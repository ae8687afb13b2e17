"""init(sync_visualdl=True) / wakelog.integration.visualdl.patch(): every LogWriter.add_* call also
lands in the active run, with VisualDL's tags, steps and wall times, and VisualDL's files stay its own."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import wakelog
from tests.conftest import history, user_keys
from tests.harness import InProcessServer, upload
from wakelog.integration import visualdl as bridge

visualdl = pytest.importorskip("visualdl")
from visualdl import LogReader, LogWriter  # noqa: E402

# VisualDL 2.5's PR and ROC curves call np.float, which numpy removed in 1.24; give it back to
# VisualDL's module (a third-party bug) so that its own files hold the curves we compare against.
_NEEDS_NP_FLOAT = not hasattr(np, "float")


@pytest.fixture(autouse=True)
def unpatched(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    if _NEEDS_NP_FLOAT:
        monkeypatch.setattr(np, "float", float, raising=False)
    yield
    bridge.unpatch()


def _reader(logdir: Path) -> LogReader:
    """VisualDL's own reader over the one log file a writer left in ``logdir``."""
    (path,) = logdir.glob("vdlrecords.*")
    return LogReader(file_path=str(path))


def _scalars(logdir: Path, tag: str) -> list[tuple[int, int, float]]:
    """(step, wall time in ms, value) of a scalar tag, as VisualDL's own reader sees it."""
    return [(r.id, r.timestamp, r.value) for r in _reader(logdir).get_data("scalar", tag)]


def _write_training(logdir: Path) -> None:
    """What a Paddle training script writes: scalars every step, media now and then."""
    with LogWriter(logdir=str(logdir)) as writer:
        for step in range(5):
            writer.add_scalar("train/loss", 1.0 / 2 ** (step + 1), step)  # exact in float32
            writer.add_scalar("train/lr", 0.25, step, walltime=1_700_000_000_000 + step)
        writer.add_scalars("eval", {"acc": 0.5, "f1": 0.75}, 4)
        writer.add_image("sample", np.full((4, 6, 3), 0.5), 4)
        writer.add_histogram("weights", np.arange(100.0), 4, buckets=5)
        writer.add_text("note", "epoch 1 done", 4)
        writer.add_audio("tone", np.linspace(-1.0, 1.0, 800), 4, sample_rate=8000)
        truth, scores = np.array([0, 1, 1, 0]), np.array([0.1, 0.9, 0.6, 0.4])
        writer.add_pr_curve("pr", truth, scores, 4, num_thresholds=5)
        writer.add_roc_curve("roc", truth, scores, 4, num_thresholds=5)
        writer.add_embeddings("emb", mat=[[1.0, 2.0], [3.0, 4.0]], metadata=["cat", "dog"])
        writer.add_hparams({"lr": 0.25, "optimizer": "adam", "layers": 3}, ["train/loss"])


def test_live_round_trip_through_the_server(tmp_path: Path) -> None:
    run = wakelog.init(mode="offline", dir=str(tmp_path), project="vdl", sync_visualdl=True)
    _write_training(tmp_path / "vdl")
    run.finish()
    assert not bridge._patch.patched()  # the run that patched VisualDL put it back

    losses = _scalars(tmp_path / "vdl", "train/loss")
    assert [(s, v) for s, _, v in losses] == [(s, 1.0 / 2 ** (s + 1)) for s in range(5)]
    lrs = _scalars(tmp_path / "vdl", "train/lr")
    assert [w for _, w, _ in lrs] == [1_700_000_000_000 + s for s in range(5)]

    with InProcessServer(tmp_path / "server") as server:
        upload(server, run.run_dir)
        with wakelog.Api(overrides={"base_url": server.url, "api_key": server.key}) as api:
            stored = api.run(f"{run.entity}/vdl/{run.id}")
            for tag, expected in (("train/loss", losses), ("train/lr", lrs)):
                rows = stored.scan_history(keys=[tag, "global_step", "_timestamp"])
                assert [(r["global_step"], round(r["_timestamp"] * 1000), r[tag]) for r in rows] == expected
            assert stored.config["lr"] == 0.25 and stored.config["optimizer"] == "adam"
            assert stored.config["layers"] == 3
            assert stored.summary["eval/acc"] == 0.5 and stored.summary["eval/f1"] == 0.75


def test_media_are_converted_as_visualdl_draws_them(tmp_path: Path) -> None:
    run = wakelog.init(mode="offline", dir=str(tmp_path), sync_visualdl=True)
    _write_training(tmp_path / "vdl")
    run.finish()
    media = {k: v for row in history(run.run_dir) for k, v in row.items() if isinstance(v, dict)}
    assert media["sample"]["_type"] == "image-file"
    assert (media["sample"]["width"], media["sample"]["height"]) == (6, 4)
    assert media["weights"]["_type"] == "histogram" and media["weights"]["values"] == [20] * 5
    assert media["weights"]["bins"] == [0.0, 19.8, 39.6, 59.400000000000006, 79.2, 99.0]
    assert media["tone"]["_type"] == "audio-file" and media["tone"]["path"].endswith(".wav")
    assert media["pr"]["_type"] == "custom-chart" and media["pr_table"]["_type"] == "table-file"
    assert media["roc"]["_type"] == "custom-chart" and media["emb"]["_type"] == "table-file"
    note = [r for r in history(run.run_dir) if "note" in r]
    assert note == [{**note[0], "note": "epoch 1 done", "global_step": 4}]

    tags = _reader(tmp_path / "vdl").get_tags()
    assert {k: v for k, v in tags.items() if k not in ("meta_data", "scalar", "scalars")} == {
        "image": ["sample"], "histogram": ["weights"], "text": ["note"], "audio": ["tone"],
        "pr_curve": ["pr"], "roc_curve": ["roc"], "embeddings": ["emb"], "hyper_parameters": ["hparam"],
    }  # fmt: skip


def test_patch_by_hand_mirrors_into_whichever_run_is_active(tmp_path: Path) -> None:
    bridge.patch()
    writer = LogWriter(logdir=str(tmp_path / "vdl"))
    writer.add_scalar("before", 1.0, 0)  # no run: VisualDL alone
    run = wakelog.init(mode="offline", dir=str(tmp_path))
    writer.add_scalar("during", 2.0, 7)
    run.finish()
    writer.add_scalar("after", 3.0, 8)
    writer.close()
    assert bridge._patch.patched()  # a patch made by hand stays until unpatch()
    assert [(r.get("during"), r["global_step"]) for r in history(run.run_dir)] == [(2.0, 7)]
    assert [v for _, _, v in _scalars(tmp_path / "vdl", "after")] == [3.0]


def test_unpatch_restores_visualdl(tmp_path: Path) -> None:
    original = LogWriter.add_scalar, LogWriter.add_image, LogWriter.add_hparams
    bridge.patch()
    assert LogWriter.add_scalar is not original[0]
    with pytest.raises(wakelog.UsageError, match="already patched"):
        bridge.patch()
    bridge.unpatch()
    assert (LogWriter.add_scalar, LogWriter.add_image, LogWriter.add_hparams) == original
    run = wakelog.init(mode="offline", dir=str(tmp_path))
    with LogWriter(logdir=str(tmp_path / "vdl")) as writer:
        writer.add_scalar("loss", 1.0, 0)
    run.finish()
    assert history(run.run_dir) == []


def test_tracking_failures_never_reach_the_training_loop(tmp_path: Path) -> None:
    # strict mode makes wakelog raise for a value it refuses (a text over 1 MiB): the bridge turns
    # that into one warning, and VisualDL, whose own errors propagate as ever, keeps everything.
    run = wakelog.init(mode="offline", dir=str(tmp_path), sync_visualdl=True, settings={"strict": True})
    with LogWriter(logdir=str(tmp_path / "vdl")) as writer:
        with warnings.catch_warnings(record=True) as caught, pytest.raises(TypeError):
            warnings.simplefilter("always")
            writer.add_histogram("bad", np.array(["not", "numbers"]), 1)
        assert not caught
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for step in (2, 3):
                writer.add_text("huge", "x" * (1 << 21), step)  # logged (and refused) at the next step
            writer.add_scalar("loss", 0.5, 4)
        assert len(caught) == 1  # once
        assert "could not record a row of VisualDL's calls (BadValue" in str(caught[0].message)
        run.finish()
        writer.add_scalar("late", 1.0, 5)  # the run is gone under the writer's feet
    assert [(r["loss"], r["global_step"]) for r in history(run.run_dir) if "loss" in r] == [(0.5, 4)]
    texts = _reader(tmp_path / "vdl").get_data("text", "huge")
    assert [len(t.text.encoded_text_string) for t in texts] == [1 << 21] * 2
    assert [v for _, _, v in _scalars(tmp_path / "vdl", "late")] == [1.0]


def test_calls_at_one_step_and_wall_time_share_a_row(tmp_path: Path) -> None:
    run = wakelog.init(mode="offline", dir=str(tmp_path), sync_visualdl=True)
    with LogWriter(logdir=str(tmp_path / "vdl")) as writer:
        for step in range(3):
            for tag in ("loss", "acc", "lr"):
                writer.add_scalar(tag, step / 4, step, walltime=1_000 * step)
        writer.add_scalar("loss", 9.0, 2, walltime=2_000)  # a tag again: a row of its own
        writer.add_scalar("acc", 1.0, 2, walltime=2_001)  # another wall time: too
    run.finish()
    assert [(r["global_step"], r["_timestamp"], sorted(user_keys(r))) for r in history(run.run_dir)] == [
        (0, 0.0, ["acc", "global_step", "loss", "lr"]),
        (1, 1.0, ["acc", "global_step", "loss", "lr"]),
        (2, 2.0, ["acc", "global_step", "loss", "lr"]),
        (2, 2.0, ["global_step", "loss"]),
        (2, 2.001, ["acc", "global_step"]),
    ]
