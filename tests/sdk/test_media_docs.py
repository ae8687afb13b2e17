"""The ```python examples in docs/media.md run, in order, and their assertions hold."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "media.md"


def test_media_doc_examples_run() -> None:
    pytest.importorskip("pandas")  # one example round-trips a DataFrame
    pytest.importorskip("matplotlib")  # one renders a figure
    blocks = re.findall(r"^```python\n(.*?)^```", DOC.read_text(encoding="utf-8"), flags=re.M | re.S)
    assert len(blocks) >= 6
    namespace: dict = {"__name__": "media_doc"}
    for i, block in enumerate(blocks):
        exec(compile(block, f"{DOC.name}[block {i}]", "exec"), namespace)
