"""`wakelog export visualdl RUN_PATH DIR`: a run on the server, written back out with VisualDL's
LogWriter, reads back through VisualDL's own LogReader with the same values, steps and wall times."""

from __future__ import annotations

import io
import wave
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

import wakelog
from tests.harness import InProcessServer, upload
from wakelog.cli import main
from wakelog.integration.visualdl import export_run

pytest.importorskip("visualdl")
from visualdl import LogReader

PIXELS = np.arange(4 * 6 * 3, dtype=np.uint8).reshape(4, 6, 3)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[InProcessServer, str]]:
    """A server holding one run with every kind of value the export knows, and a table."""
    run = wakelog.init(mode="offline", dir=str(tmp_path), project="vdl", config={"lr": 0.5, "opt": "adam"})
    for step in range(4):
        run.log({"loss": 1.0 / 2 ** (step + 1), "epoch": step})
    run.log({"train/acc": 0.75, "global_step": 100})  # a row from a bridge: its own x-axis
    run.log(
        {
            "sample": wakelog.Image(PIXELS),
            "weights": wakelog.Histogram(np_histogram=([1, 3, 2], [0.0, 0.5, 1.0, 1.5])),
            "note": "first epoch done",
            "tone": wakelog.Audio(np.zeros(80), sample_rate=8000),
            "preds": wakelog.Table(columns=["a"], data=[[1]]),
        }
    )
    run.finish()
    with InProcessServer(tmp_path / "server") as server:
        upload(server, run.run_dir)
        yield server, f"{run.entity}/vdl/{run.id}"


def _reader(logdir: Path) -> LogReader:
    (path,) = logdir.glob("vdlrecords.*")
    return LogReader(file_path=str(path))


def test_export_reads_back_through_visualdl(served: tuple[InProcessServer, str], tmp_path: Path) -> None:
    server, path = served
    with wakelog.Api(overrides={"base_url": server.url, "api_key": server.key}) as api:
        stored = api.run(path)
        rows = list(stored.scan_history())
        counts = export_run(stored, tmp_path / "out")
    assert dict(counts.written) == {
        "scalar": 9, "image": 1, "histogram": 1, "text": 1, "audio": 1, "hyper_parameters": 1,
    }  # fmt: skip
    assert dict(counts.skipped) == {"table-file": 1}
    reader = _reader(tmp_path / "out")

    wall = {r["_step"]: round(r["_timestamp"] * 1000) for r in rows}
    loss = [(r.id, r.timestamp, r.value) for r in reader.get_data("scalar", "loss")]
    assert loss == [(s, wall[s], 1.0 / 2 ** (s + 1)) for s in range(4)]
    (acc,) = reader.get_data("scalar", "train/acc")
    assert (acc.id, acc.timestamp, acc.value) == (100, wall[4], 0.75)

    (image,) = reader.get_data("image", "sample")  # the stored PNG, byte for byte
    assert (image.id, image.timestamp) == (5, wall[5])
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(image.image.encoded_image_string))), PIXELS)

    (hist,) = reader.get_data("histogram", "weights")
    assert list(hist.histogram.hist) == [1, 3, 2] and list(hist.histogram.bin_edges) == [0.0, 0.5, 1.0, 1.5]
    (text,) = reader.get_data("text", "note")
    assert (text.id, text.timestamp, text.text.encoded_text_string) == (5, wall[5], "first epoch done")
    (audio,) = reader.get_data("audio", "tone")
    with wave.open(io.BytesIO(audio.audio.encoded_audio_string)) as clip:
        assert (clip.getframerate(), clip.getnframes()) == (8000, 80)
    (hparam,) = reader.get_data("hyper_parameters", "hparam")
    assert {h.name for h in hparam.hparam.hparamInfos} == {"lr", "opt"}
    assert {m.name for m in hparam.hparam.metricInfos} == {"loss", "epoch", "train/acc"}


def test_cli_export_prints_what_it_wrote(
    served: tuple[InProcessServer, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server, path = served
    monkeypatch.setenv("WAKELOG_BASE_URL", server.url)
    monkeypatch.setenv("WAKELOG_API_KEY", server.key)
    result = CliRunner().invoke(main, ["export", "visualdl", path, str(tmp_path / "cli")])
    assert result.exit_code == 0, result.output
    assert "wrote 1 audio, 1 histogram, 1 hyper_parameters, 1 image, 9 scalar, 1 text into" in result.output
    assert "skipped (no VisualDL counterpart): 1 table-file" in result.output
    assert sorted(_reader(tmp_path / "cli").get_tags()["scalar"]) == ["epoch", "loss", "train/acc"]
    missing = CliRunner().invoke(
        main, ["export", "visualdl", path.rsplit("/", 1)[0] + "/nope", str(tmp_path / "x")]
    )
    assert missing.exit_code == 1 and "404" in missing.output
