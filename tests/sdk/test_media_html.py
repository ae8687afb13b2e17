"""wakelog Html (the plot helpers: test_media_plots.py)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from wakelog.sdk.media import Html


def read(run_dir: Path, stub: dict) -> str:
    return (run_dir / "files" / stub["path"]).read_text(encoding="utf-8")


# -- Html -------------------------------------------------------------------------------


def test_html_string(tmp_path: Path) -> None:
    stub = Html("<p>héllo</p>", inject=False).to_stub(tmp_path, "report", 3)
    assert set(stub) == {"_type", "path", "sha256", "size"}
    assert stub["_type"] == "html-file"
    assert stub["path"].startswith("media/html/report_3_") and stub["path"].endswith(".html")
    assert read(tmp_path, stub) == "<p>héllo</p>"
    assert stub["size"] == len("<p>héllo</p>".encode())


@pytest.mark.parametrize(
    ("html", "before", "after"),
    [
        ("<html><HEAD lang='x'><title>t</title></head></html>", "<HEAD lang='x'>", "<title>"),
        ("<html><body>b</body></html>", "<html><head>", "</head><body>"),
        ("<p>fragment</p>", "", "<p>fragment</p>"),
    ],
)
def test_html_inject(html: str, before: str, after: str) -> None:
    out = Html(html).html
    start = out.index('<base target="_blank">')
    assert out[:start].endswith(before)
    assert "<style>" in out and "http" not in out
    assert out[out.index("</style>") + len("</style>") :].startswith(after)


def test_html_sources(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text("<i>file</i>", encoding="utf-8")
    for source in (page, str(page), io.StringIO("<i>file</i>"), io.BytesIO(b"<i>file</i>"), b"<i>file</i>"):
        assert Html(source, inject=False).html == "<i>file</i>"
    assert Html("no markup, not a file", inject=False).html == "no markup, not a file"
    before = Html(page, inject=False)
    page.write_text("changed", encoding="utf-8")
    assert read(tmp_path, before.to_stub(tmp_path, "p", 0)) == "<i>file</i>"


def test_html_refusals(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="Html takes"):
        Html(42)
    with pytest.raises(ValueError, match="not UTF-8"):
        Html(b"\xff\xfe<p>")
    with pytest.raises(FileNotFoundError):
        Html(tmp_path / "missing.html")
    with pytest.raises(ValueError, match="UTF-8"):
        Html("\ud800")


# -- confusion_matrix ---------------------------------------------------------------------
