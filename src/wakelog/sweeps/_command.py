"""A trial's command line, from the sweep's ``command`` and its macros, the way wandb's agent builds it.

The default command is ``${env} ${interpreter} ${program} ${args}``. An item that is exactly a
macro is replaced by its list of words (an unknown macro by nothing); ``${envvar:NAME}`` anywhere
in an item becomes that environment variable (its name when unset). The argument forms, for
parameters ``{"lr": 0.1, "deep": False}``:

=========================  ==========================================
``${args}``                ``--lr=0.1 --deep=False``
``${args_no_hyphens}``     ``lr=0.1 deep=False``
``${args_no_equals}``      ``--lr 0.1 --deep False``
``${args_no_boolean_flags}`` ``--lr=0.1`` (a true boolean is ``--deep``)
``${args_json}``           ``{"lr": 0.1, "deep": false}`` (one word)
``${args_json_file}``      the path of a file holding that JSON
``${args_append_hydra}``   ``+lr=0.1 +deep=False``
``${args_override_hydra}`` ``++lr=0.1 ++deep=False``
=========================  ==========================================

Values are written with Python's ``str`` (``True``, ``None``, ``[1, 2]``), as wandb does;
``${interpreter}`` is ``python`` and ``${env}`` is ``/usr/bin/env`` (not on Windows).
"""

from __future__ import annotations

import json
import os
import platform
import re
from collections.abc import Mapping
from typing import Any

DEFAULT_COMMAND = ("${env}", "${interpreter}", "${program}", "${args}")
_ENVVAR = re.compile(r"\$\{envvar:([A-Z0-9_]*)\}")


def argument_forms(params: Mapping[str, Any]) -> dict[str, list[str]]:
    """Every ``${args…}`` macro's words for these parameters."""
    forms: dict[str, list[str]] = {
        "args": [],
        "args_no_hyphens": [],
        "args_no_equals": [],
        "args_no_boolean_flags": [],
        "args_append_hydra": [],
        "args_override_hydra": [],
    }
    for name, value in params.items():
        flag = f"{name}={value}"
        forms["args"].append("--" + flag)
        forms["args_no_hyphens"].append(flag)
        forms["args_no_equals"] += [f"--{name}", str(value)]
        forms["args_append_hydra"].append("+" + flag)
        forms["args_override_hydra"].append("++" + flag)
        if not isinstance(value, bool):
            forms["args_no_boolean_flags"].append("--" + flag)
        elif value:
            forms["args_no_boolean_flags"].append("--" + name)
    forms["args_json"] = [json.dumps(dict(params))]
    return forms


def _with_envvars(item: str, environ: Mapping[str, str]) -> str:
    return _ENVVAR.sub(lambda m: environ.get(m.group(1), m.group(1)), item)


def build_command(
    command: list[Any] | None,
    program: str | None,
    params: Mapping[str, Any],
    args_json_file: str,
    environ: Mapping[str, str] | None = None,
) -> list[str]:
    """The argv of one trial."""
    environ = os.environ if environ is None else environ
    macros = argument_forms(params)
    macros["interpreter"] = ["python"]
    macros["program"] = [program] if program else []
    macros["args_json_file"] = [args_json_file]
    macros["env"] = [] if platform.system() == "Windows" else ["/usr/bin/env"]
    argv: list[str] = []
    for raw in command or DEFAULT_COMMAND:
        item = _with_envvars(str(raw), environ)
        if item.startswith("${") and item.endswith("}"):
            argv += macros.get(item[2:-1], [])
        else:
            argv.append(item)
    return argv


def needs_json_file(command: list[Any] | None) -> bool:
    return "${args_json_file}" in [str(item) for item in command or DEFAULT_COMMAND]
