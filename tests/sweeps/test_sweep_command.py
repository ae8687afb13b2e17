"""A trial's command line: wandb's macros expanded the way wandb's agent expands them."""

from __future__ import annotations

import json

from wakelog.sweeps._command import build_command

PARAMS = {"lr": 0.1, "deep": False, "wide": True, "layers": [64, 32], "opt": None}


def test_the_default_command_is_env_python_program_args() -> None:
    argv = build_command(None, "train.py", {"lr": 0.1, "batch_size": 32}, "/x.json")
    assert argv == ["/usr/bin/env", "python", "train.py", "--lr=0.1", "--batch_size=32"]


def test_every_argument_macro() -> None:
    def expand(macro: str) -> list[str]:
        return build_command([f"${{{macro}}}"], None, PARAMS, "/tmp/a.json")

    assert expand("args") == ["--lr=0.1", "--deep=False", "--wide=True", "--layers=[64, 32]", "--opt=None"]
    assert expand("args_no_hyphens") == ["lr=0.1", "deep=False", "wide=True", "layers=[64, 32]", "opt=None"]
    assert expand("args_no_equals")[:4] == ["--lr", "0.1", "--deep", "False"]
    assert expand("args_no_boolean_flags") == ["--lr=0.1", "--wide", "--layers=[64, 32]", "--opt=None"]
    assert expand("args_append_hydra")[0] == "+lr=0.1"
    assert expand("args_override_hydra")[0] == "++lr=0.1"
    assert json.loads(expand("args_json")[0]) == PARAMS
    assert expand("args_json_file") == ["/tmp/a.json"]
    assert expand("unknown_macro") == []


def test_a_custom_command_keeps_its_words_and_reads_envvars() -> None:
    command = [
        "${env}",
        "${interpreter}",
        "-u",
        "${program}",
        "--cfg=${args}",
        "${envvar:CUDA_SLOT}",
        "${args}",
    ]
    argv = build_command(command, "fit.py", {"lr": 1}, "/a.json", environ={"CUDA_SLOT": "3"})
    # An item is a macro only when it is the macro entirely: "--cfg=${args}" stays as written.
    assert argv == ["/usr/bin/env", "python", "-u", "fit.py", "--cfg=${args}", "3", "--lr=1"]
    assert build_command(["run-${envvar:MISSING}"], None, {}, "/a.json", environ={}) == ["run-MISSING"]
