"""The docs are part of the spec: every setting, command and record type is documented."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import click
import pytest

from wakelog.cli import main
from wakelog.runlog import RecordType
from wakelog.sdk._settings import _ENV_NAMES, Settings

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_every_setting_and_its_environment_variable_is_documented() -> None:
    text = (DOCS / "sdk.md").read_text()
    for field in dataclasses.fields(Settings):
        env = "WAKELOG_" + _ENV_NAMES.get(field.name, field.name.upper())
        assert re.search(rf"^\| `{field.name}` \| `{env}` \|", text, re.MULTILINE), field.name


def _command_lines(group: click.Group, prefix: str = "wakelog") -> list[str]:
    lines = []
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            lines.extend(_command_lines(command, f"{prefix} {name}"))
        else:
            lines.append(f"{prefix} {name}")
    return lines


def test_every_cli_command_is_documented() -> None:
    text = (DOCS / "cli.md").read_text()
    for line in _command_lines(main):
        assert f"`{line}" in text, line


def test_every_record_type_is_documented() -> None:
    text = (DOCS / "runlog.md").read_text()
    for name, value in vars(RecordType).items():
        if name.isupper():
            assert f"| `{value}` |" in text, value


@pytest.mark.parametrize("page", ["sdk.md", "artifacts.md"])
def test_python_examples_run(page: str, tmp_path: Path) -> None:
    blocks = re.findall(r"```python\n(.*?)```", (DOCS / page).read_text(), re.DOTALL)
    assert blocks
    for block in blocks:
        exec(compile(block, f"{page} example", "exec"), {})
