"""Every rich media type through log(): as a value, in a list, and in a Table cell."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import wakelog
from tests.conftest import history, user_keys

pytest.importorskip("imageio_ffmpeg")
pytest.importorskip("soundfile")


def media(tmp_path: Path) -> dict[str, object]:
    pdb = tmp_path / "water.pdb"
    pdb.write_text("HETATM    1  O   HOH A   1       0.000   0.000   0.000  1.00  0.00           O\nEND\n")
    return {
        "video": wakelog.Video(np.zeros((3, 3, 8, 8), np.uint8), fps=3, format="mp4"),
        "audio": wakelog.Audio(np.zeros(800), sample_rate=8000),
        "cloud": wakelog.Object3D(np.ones((5, 3))),
        "molecule": wakelog.Molecule(pdb),
        "chart": wakelog.Plotly({"data": [{"type": "scatter", "y": [1, 2]}]}),
        "page": wakelog.Html("<b>hi</b>"),
    }


TYPES = {
    "video": "video-file",
    "audio": "audio-file",
    "cloud": "object3D-file",
    "molecule": "molecule-file",
    "chart": "plotly-file",
    "page": "html-file",
}


def test_each_type_logs_as_value_list_and_table_cell(tmp_path: Path) -> None:
    run = wakelog.init(project="p", mode="offline")
    items = media(tmp_path)
    run.log(items)
    run.log({"list": list(items.values())})
    table = wakelog.Table(columns=list(items), data=[list(items.values())])
    run.log({"table": table})
    run.finish()
    run_dir = Path(run.dir).parent
    rows = [user_keys(r) for r in history(run_dir)]
    files = run_dir / "files"
    for key, kind in TYPES.items():
        stub = rows[0][key]
        assert stub["_type"] == kind, key
        assert (files / stub["path"]).stat().st_size == stub["size"]
    assert [s["_type"] for s in rows[1]["list"]] == list(TYPES.values())
    stored = json.loads((files / rows[2]["table"]["path"]).read_text())
    assert stored["columns"] == list(TYPES)
    assert [cell["_type"] for cell in stored["data"][0]] == list(TYPES.values())
    for cell in stored["data"][0]:
        assert (files / cell["path"]).is_file()
