"""The opt-in wandb alias: Paddle's own WandbCallback records with wakelog, unchanged.

Each case runs in a subprocess, so that ``sys.modules["wandb"]`` and ``PYTHONPATH`` are exactly
what a user's process would have.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests._env import child_env
from tests._env import pythonpath as child_pythonpath
from tests.conftest import history, records, user_keys
from wakelog.integration.paddle import WandbAliasError, alias_path, install_wandb_alias, uninstall_wandb_alias
from wakelog.runlog import find_runlog

pytestmark = pytest.mark.paddle
REPO = Path(__file__).resolve().parents[2]

# A script written for wandb and Paddle's own callback; nothing in it mentions wakelog.
PADDLE_SCRIPT = """
import warnings
warnings.simplefilter("ignore")
import paddle
from paddle.static import InputSpec
from tests.integration.paddle_helpers import Digits, hapi_model

callback = paddle.callbacks.WandbCallback(project="dropin", mode="offline", name="paddle-own")
model = hapi_model()
model.fit(Digits(0, 64), Digits(64, 96), batch_size=16, epochs=2, verbose=0, callbacks=[callback])
import wandb
print("wandb module:", wandb.__name__)
"""


def run_python(
    code: str, cwd: Path, pythonpath: list[str | Path] = (), **env: str
) -> subprocess.CompletedProcess:
    environ = child_env(**env)
    environ["PYTHONPATH"] = child_pythonpath(*pythonpath, REPO)
    return subprocess.run(
        [sys.executable, "-c", code],
        check=False,
        capture_output=True,
        text=True,
        cwd=cwd,
        env=environ,
        timeout=120,
    )


@pytest.fixture
def fake_wandb(tmp_path: Path) -> Path:
    """A folder holding a stand-in for a real wandb installation."""
    folder = tmp_path / "site"
    (folder / "wandb").mkdir(parents=True)
    (folder / "wandb" / "__init__.py").write_text("REAL = True\n")
    return folder


def test_paddle_wandbcallback_records_with_wakelog_through_the_alias(tmp_path: Path) -> None:
    pytest.importorskip("paddle")
    done = run_python(PADDLE_SCRIPT, tmp_path, [alias_path()])
    assert done.returncode == 0, done.stderr[-3000:]
    assert "wandb module: wakelog" in done.stdout
    (run_dir,) = [p for p in (tmp_path / "wakelog").iterdir() if p.name.startswith("offline-run-")]
    find_runlog(run_dir)
    (run,) = [r.data for r in records(run_dir, "run") if "project" in r.data]
    assert run["project"] == "dropin" and run["name"] == "paddle-own"
    definitions = {r.data["name"]: r.data for r in records(run_dir, "metric")}
    assert definitions["train/*"]["step_metric"] == "train/step"
    assert definitions["eval/*"]["step_metric"] == "epoch"
    rows = [user_keys(row) for row in history(run_dir)]
    train = [row for row in rows if "train/step" in row]
    evals = [row for row in rows if "eval/acc" in row]
    assert [row["train/step"] for row in train] == list(range(1, 9))  # every batch, from 1
    assert set(train[0]) == {"train/step", "train/loss", "train/acc"}
    assert [row["epoch"] for row in evals] == [0, 1]
    assert records(run_dir, "exit")[0].data["state"] == "finished"  # on_train_end finished it


def test_the_alias_is_not_active_without_opting_in(tmp_path: Path) -> None:
    code = (
        "import sys, wakelog, wakelog.integration.paddle\n"
        "print('wandb' in sys.modules)\n"
        "try:\n"
        "    import wandb\n"
        "except ImportError:\n"
        "    print('no wandb')\n"
        "else:\n"
        "    print('wandb from', wandb.__file__)\n"
    )
    done = run_python(code, tmp_path)
    if "wandb from" in done.stdout and "_wandb_shim" not in done.stdout:
        pytest.skip("a real wandb is installed in this environment")
    assert done.stdout.split("\n")[:2] == ["False", "no wandb"], done.stdout + done.stderr


def test_a_wandb_run_folder_in_the_working_directory_is_not_a_real_wandb(tmp_path: Path) -> None:
    (tmp_path / "wandb" / "offline-run-x").mkdir(parents=True)  # what a real wandb leaves behind
    done = run_python("import wandb; print(wandb.__name__)", tmp_path, [alias_path()])
    assert done.stdout.strip() == "wakelog", done.stderr


def test_the_shim_refuses_to_hide_a_real_wandb(tmp_path: Path, fake_wandb: Path) -> None:
    code = "import wandb; print(wandb.__name__, getattr(wandb, 'REAL', False))"
    refused = run_python(code, tmp_path, [alias_path(), fake_wandb])
    assert refused.returncode != 0
    assert "WandbAliasError" in refused.stderr and str(fake_wandb / "wandb") in refused.stderr
    assert "would be hidden" in refused.stderr
    # The real one first on the path: it is simply imported, the alias never runs.
    assert run_python(code, tmp_path, [fake_wandb, alias_path()]).stdout.split() == ["wandb", "True"]
    # Forcing is possible, and says so.
    forced = run_python(code, tmp_path, [alias_path(), fake_wandb], WAKELOG_WANDB_ALIAS="force")
    assert forced.stdout.split() == ["wakelog", "False"]
    assert "is installed" in forced.stderr


def test_install_wandb_alias_refuses_to_hide_a_real_wandb(tmp_path: Path, fake_wandb: Path) -> None:
    code = (
        "from wakelog.integration.paddle import install_wandb_alias, WandbAliasError\n"
        "try:\n"
        "    install_wandb_alias()\n"
        "except WandbAliasError as exc:\n"
        "    print('refused:', exc)\n"
        "import warnings\n"
        "with warnings.catch_warnings(record=True) as caught:\n"
        "    warnings.simplefilter('always')\n"
        "    install_wandb_alias(force=True)\n"
        "import wandb\n"
        "print(wandb.__name__, len(caught))\n"
    )
    done = run_python(code, tmp_path, [fake_wandb])
    lines = done.stdout.strip().split("\n")
    assert lines[0].startswith("refused:") and str(fake_wandb / "wandb") in lines[0], done.stderr
    assert lines[1] == "wakelog 1"


def test_install_wandb_alias_in_process() -> None:
    if "wandb" in sys.modules:
        pytest.skip("a wandb module is already imported")
    try:
        module = install_wandb_alias()
        import wandb
        import wandb.errors

        assert wandb is module is sys.modules["wakelog"]
        assert wandb.errors.UsageError is sys.modules["wakelog"].UsageError
        assert install_wandb_alias() is module  # idempotent
    except WandbAliasError:
        pytest.skip("a real wandb is installed in this environment")
    finally:
        uninstall_wandb_alias()
    assert "wandb" not in sys.modules


def test_command_line_helpers(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "wakelog.integration.paddle", "alias-path"],
        check=False,
        capture_output=True,
        text=True,
    )
    assert done.stdout.strip() == alias_path() and Path(alias_path(), "wandb", "__init__.py").is_file()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "wakelog.integration.paddle",
            "with-alias",
            sys.executable,
            "-c",
            "import wandb; print(wandb.__name__)",
        ],
        check=False,
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert done.stdout.strip() == "wakelog", done.stderr
    assert (
        subprocess.run(
            [sys.executable, "-m", "wakelog.integration.paddle"], check=False, capture_output=True
        ).returncode
        == 2
    )
