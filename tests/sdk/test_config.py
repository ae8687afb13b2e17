"""run.config: access, updates, wandb's change error, locking, masking, input forms."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

import wakelog
from tests.conftest import records
from wakelog.errors import ConfigError, UsageError
from wakelog.sdk._config import MASK, Config


def test_attribute_and_item_access() -> None:
    run = wakelog.init(mode="offline", config={"lr": 0.1, "layers": [64, 32]})
    assert run.config.lr == 0.1 and run.config["layers"] == [64, 32]
    run.config.batch = 32
    run.config["epochs"] = 3
    assert dict(run.config.items()) == {"lr": 0.1, "layers": [64, 32], "batch": 32, "epochs": 3}
    with pytest.raises(AttributeError, match="missing"):
        _ = run.config.missing


def test_changing_a_value_raises_wandbs_error_and_applies_nothing() -> None:
    config = Config()
    config.update({"lr": 0.1, "batch": 32})
    with pytest.raises(ConfigError, match="Attempted to change value of key 'lr' from 0.1 to 0.2"):
        config.update({"new": 1, "lr": 0.2})
    assert "new" not in config and config.lr == 0.1
    config.update({"lr": 0.2}, allow_val_change=True)
    assert config.lr == 0.2
    config.update({"lr": 0.2})  # same value: fine


def test_argparse_namespace_yaml_file_and_nested_dicts(tmp_path: Path) -> None:
    args = argparse.Namespace(lr=0.01, optimizer="adam", _private=1)
    config_file = tmp_path / "params.yaml"
    config_file.write_text("wandb_version: 1\nepochs:\n  desc: passes\n  value: 7\nmodel: {depth: 50}\n")
    config = Config()
    config.update(args)
    config.update(str(config_file))
    config.update({"data": {"root": "/data", "aug": {"flip": True}}})
    assert config.as_dict() == {
        "lr": 0.01,
        "optimizer": "adam",
        "epochs": 7,
        "model": {"depth": 50},
        "data": {"root": "/data", "aug": {"flip": True}},
    }


def test_numpy_and_paddle_scalars_become_python_numbers() -> None:
    import numpy as np

    config = Config()
    config.update({"a": np.float32(0.5), "b": np.int64(3), "c": np.array(2.0)})
    assert config.as_dict() == {"a": 0.5, "b": 3, "c": 2.0}
    assert type(config.b) is int


@pytest.mark.paddle
def test_paddle_scalar_tensor_in_config() -> None:
    paddle = pytest.importorskip("paddle")
    config = Config()
    config.update({"t": paddle.to_tensor(0.25)})
    assert config.t == 0.25


def test_locked_keys_ignore_user_updates_with_a_warning() -> None:
    config = Config()
    config.update_locked({"lr": 0.5}, user="sweep")
    with pytest.warns(UserWarning, match="locked by 'sweep'"):
        config.update({"lr": 0.1, "batch": 8})
    assert config.as_dict() == {"lr": 0.5, "batch": 8}
    assert config.locked_keys == {"lr": "sweep"}


def test_secret_looking_keys_are_masked_before_they_are_recorded() -> None:
    with pytest.warns(UserWarning, match="looks like a secret"):
        run = wakelog.init(
            mode="offline", config={"db_password": "hunter2", "oss": {"access_key": "AKIA"}, "lr": 1}
        )
    assert run.config.db_password == MASK and run.config.oss == {"access_key": MASK}
    run.finish()
    recorded = repr([r.data for r in records(run.run_dir)])
    assert "hunter2" not in recorded and "AKIA" not in recorded
    assert "hunter2" not in (run.run_dir / f"run-{run.id}.wakelog").read_text(errors="replace")


def test_keys_lose_leading_dashes_and_changes_are_recorded() -> None:
    run = wakelog.init(mode="offline", config={"--lr": 0.1})
    run.config.update({"epochs": 2})
    run.finish()
    updates = [r.data["update"] for r in records(run.run_dir, "config")]
    assert updates == [{"lr": 0.1}, {"epochs": 2}]


def test_include_and_exclude_keys() -> None:
    run = wakelog.init(mode="offline", config={"a": 1, "b": 2}, config_include_keys=["a"])
    assert run.config.as_dict() == {"a": 1}
    run.finish()
    run = wakelog.init(mode="offline", config={"a": 1, "b": 2}, config_exclude_keys=["a"])
    assert run.config.as_dict() == {"b": 2}
    run.finish()
    with pytest.raises(UsageError, match="not both"):
        wakelog.init(mode="offline", config={"a": 1}, config_include_keys=["a"], config_exclude_keys=["b"])


def test_config_defaults_yaml_in_the_working_directory_is_loaded(tmp_path: Path) -> None:
    (tmp_path / "config-defaults.yaml").write_text("lr:\n  value: 0.3\nepochs: 4\n")
    run = wakelog.init(mode="offline", config={"epochs": 9})
    assert run.config.as_dict() == {"lr": 0.3, "epochs": 9}


def test_media_and_unknown_objects(tmp_path: Path) -> None:
    import numpy as np

    config = Config()
    with pytest.raises(TypeError, match="media"):
        config.update({"img": wakelog.Image(np.zeros((2, 2)))})
    with pytest.warns(UserWarning, match="string form"):
        config.update({"fn": print})
    assert config.fn == str(print)


@pytest.mark.parametrize("bad", [42, [1, 2], "no-such-file.yaml"])
def test_unreadable_sources_are_refused(bad: object) -> None:
    with pytest.raises(UsageError):
        Config().update(bad)


@pytest.mark.parametrize(
    ("key", "secret"),
    [
        ("db_password", True),
        ("hfToken", True),
        ("OSS_ACCESS_KEY_ID", True),
        ("apiKey", True),
        ("AWS_SECRET_ACCESS_KEY", True),
        ("github-token", True),
        ("credentials", True),
        ("num_passes", False),
        ("author", False),
        ("max_tokens", False),
        ("pad_token_id", False),
        ("eos_token", False),
        ("token_type_ids", False),
        ("hf_token", True),
        ("auth_token_file", True),
        ("learning_rate", False),
    ],
)
def test_secret_detection_matches_whole_words(key: str, secret: bool) -> None:
    from wakelog._secrets import looks_secret

    assert looks_secret(key) is secret
