"""Media file layout: safe keys, atomic content-addressed writes, and a light import."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from hypothesis import example, given, settings
from hypothesis import strategies as st

from tests._env import child_env
from wakelog.sdk.media._files import safe_key, write_media_file


def test_safe_key_examples() -> None:
    assert safe_key("train/loss") == "train_loss"
    assert safe_key("a.b-c_D9") == "a.b-c_D9"
    assert safe_key("..") == "__"
    assert safe_key("../../etc/passwd") == "___.._etc_passwd"  # no separator left, so ".." is inert
    assert safe_key("") == "_"
    assert safe_key("é\x00\\") == "___"
    assert len(safe_key("k" * 1000)) == 100


@settings(max_examples=200, deadline=None)
@given(st.text())
@example("..")
@example("../x")
@example("a/../../b")
@example("\x00")
@example("C:\\windows\\..\\x")
@example("🙂/ünï")
def test_safe_key_never_escapes(key: str) -> None:
    name = safe_key(key)
    assert name and len(name) <= 100 and not name.startswith(".")
    assert all(c.isascii() and (c.isalnum() or c in "._-") for c in name)
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = Path(tmp)
        stub = write_media_file(run_dir, "images", key, 3, data=b"x", ext="png")
        folder = (run_dir / "files" / "media" / "images").resolve()
        target = (run_dir / "files" / stub["path"]).resolve()
        assert target.parent == folder and target.read_bytes() == b"x"
        assert len(target.name.encode()) < 255
        assert os.listdir(folder) == [target.name]


def test_write_is_content_addressed(tmp_path: Path) -> None:
    a = write_media_file(tmp_path, "html", "k", 1, data=b"abc", ext="html")
    b = write_media_file(tmp_path, "html", "k", 1, data=b"abc", ext="html")
    c = write_media_file(tmp_path, "html", "k", 1, data=b"abd", ext="html")
    assert a == b and a["path"] != c["path"]
    assert a["path"] == f"media/html/k_1_{a['sha256'][:20]}.html"
    assert a["size"] == 3
    assert sorted(p.name for p in (tmp_path / "files" / "media" / "html").iterdir()) == sorted(
        [Path(a["path"]).name, Path(c["path"]).name]
    )


def test_truncated_file_is_rewritten(tmp_path: Path) -> None:
    stub = write_media_file(tmp_path, "html", "k", 1, data=b"abc", ext="html")
    target = tmp_path / "files" / stub["path"]
    target.write_bytes(b"")  # e.g. left empty by a crash
    write_media_file(tmp_path, "html", "k", 1, data=b"abc", ext="html")
    assert target.read_bytes() == b"abc"


def test_import_is_light() -> None:
    code = (
        "import sys, wakelog.sdk.media as m; m.Image, m.plot.line; "
        "heavy = [n for n in ('numpy', 'PIL', 'pandas', 'paddle') if n in sys.modules]; "
        "assert not heavy, heavy"
    )
    env = child_env(PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
