"""Settings, and the one place their precedence is decided.

Lowest first: defaults < user settings file < workspace settings file < environment
(``WAKELOG_*``, then ``WANDB_*`` as a fallback) < ``wakelog.setup(settings)`` < a ``Settings``
object given to ``init`` < ``init``'s own arguments. ``resolve_settings`` applies that order;
nothing else merges settings. One exception, as in wandb: a sweep agent's trial (``sweep_id`` from
the environment) stays in the sweep's project and entity (the environment's), whatever the script
passes to ``init``.
"""

from __future__ import annotations

import configparser
import dataclasses
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from wakelog._dirs import config_dir
from wakelog._warn import warn
from wakelog.errors import UsageError
from wakelog.sdk import _wandb_settings

_log = logging.getLogger(__name__)

MODES = ("online", "offline", "disabled")
CONSOLE_MODES = ("auto", "wrap", "redirect", "off")
RESUME_MODES = ("allow", "must", "never", "auto")
DISTRIBUTED_MODES = ("rank0", "all")


@dataclass(init=False)
class Settings:
    """Every setting, all optional: ``None`` means "not set here, ask the next source".

    Environment names are ``WAKELOG_`` + the upper-case field name unless ``_ENV_NAMES`` says
    otherwise; each is also read as ``WANDB_…`` when the ``WAKELOG_`` one is absent.

    Every name wandb's ``Settings`` takes is accepted too (``sdk/_wandb_settings.py``): one that
    means something here sets the wakelog setting (``x_disable_stats`` → ``disable_stats``), the
    rest are noted once at debug level. Any other name is a ``TypeError``, as in wandb.
    """

    mode: str | None = None
    project: str | None = None
    entity: str | None = None
    base_url: str | None = None
    api_key: str | None = None
    root_dir: str | None = None
    run_id: str | None = None
    run_name: str | None = None
    run_group: str | None = None
    run_job_type: str | None = None
    run_tags: tuple[str, ...] | None = None
    run_notes: str | None = None
    resume: str | None = None
    silent: bool | None = None
    quiet: bool | None = None
    console: str | None = None
    ignore_globs: tuple[str, ...] | None = None
    save_code: bool | None = None
    disable_git: bool | None = None
    disable_stats: bool | None = None
    stats_sampling_interval: float | None = None
    flush_interval: float | None = None
    finish_timeout: float | None = None
    uploader_linger: float | None = None
    strict: bool | None = None
    distributed: str | None = None
    config_dir: str | None = None
    sweep_id: str | None = None
    sweep_param_path: str | None = None
    sync_tensorboard: bool | None = None
    sync_visualdl: bool | None = None
    artifact_dir: str | None = None
    cache_dir: str | None = None
    cache_max_bytes: float | None = None

    def __init__(self, **values: Any) -> None:
        ignored = []
        for name, value in values.items():
            target = _field_for(name)
            if target is None:
                ignored.append(name)
            else:
                setattr(self, target, _coerce(target, value, "Settings"))
        if ignored:
            _log.debug("wandb settings with no meaning in wakelog, ignored: %s", ", ".join(sorted(ignored)))

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def explicit(self) -> dict[str, Any]:
        """The settings this object sets (not ``None``)."""
        return {k: v for k, v in self.as_dict().items() if v is not None}


# Environment names that are not simply the upper-cased field name (matching wandb's).
_ENV_NAMES = {
    "root_dir": "DIR",
    "run_name": "NAME",
    "run_job_type": "JOB_TYPE",
    "run_tags": "TAGS",
    "run_notes": "NOTES",
    "stats_sampling_interval": "STATS_SAMPLING_INTERVAL",
}
_FIELD_TYPES = {f.name: f.type for f in fields(Settings)}


def _field_for(name: str) -> str | None:
    """The wakelog field a ``Settings`` keyword sets; None for a wandb one without meaning here."""
    if name in _FIELD_TYPES:
        return name
    wandb_name = "x" + name if name.startswith("_") else name
    if wandb_name in _wandb_settings.ALIASES:
        return _wandb_settings.ALIASES[wandb_name]
    if wandb_name in _wandb_settings.WITHOUT_MEANING:
        return None
    raise TypeError(f"Settings.__init__() got an unexpected keyword argument {name!r}")


_CHOICES = {
    "mode": MODES,
    "console": CONSOLE_MODES,
    "resume": RESUME_MODES,
    "distributed": DISTRIBUTED_MODES,
}
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _coerce(name: str, value: Any, source: str) -> Any:
    """Turn a raw value (often a string from the environment or a file) into the field's type."""
    if value is None:
        return None
    kind = _FIELD_TYPES[name]
    where = f"setting {name!r} from {source}"
    for marker, convert in _CONVERTERS:
        if marker in kind:
            return convert(value, where)
    return _to_text(name, value, where)


def _to_bool(value: Any, where: str) -> bool:
    if isinstance(value, str):
        low = value.strip().lower()
        if low not in _TRUE | _FALSE:
            raise UsageError(f"{where}: expected true/false, got {value!r}")
        return low in _TRUE
    return bool(value)


def _to_number(value: Any, where: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise UsageError(f"{where}: expected a number, got {value!r}") from None
    if not number >= 0:
        raise UsageError(f"{where}: expected a number ≥ 0, got {value!r}")
    return number


def _to_tuple(value: Any, where: str) -> tuple[str, ...]:
    items = value.split(",") if isinstance(value, str) else list(value)
    return tuple(str(item).strip() for item in items if str(item).strip())


def _to_text(name: str, value: Any, where: str) -> str:
    text = str(value) if isinstance(value, os.PathLike) else value
    if not isinstance(text, str):
        raise UsageError(f"{where}: expected a string, got {type(text).__name__}")
    if name == "mode":
        text = {"dryrun": "offline", "run": "online"}.get(text, text)
    if name == "console":  # wandb's two flavours of wrapping
        text = {"wrap_raw": "wrap", "wrap_emu": "wrap"}.get(text, text)
    if name in _CHOICES and text not in _CHOICES[name]:
        raise UsageError(f"{where}: {text!r} is not one of {', '.join(_CHOICES[name])}")
    return text


#: How a field's annotation (a string: ``"bool | None"``) picks its converter; text is the rest.
_CONVERTERS: tuple[tuple[str, Callable[[Any, str], Any]], ...] = (
    ("bool", _to_bool),
    ("float", _to_number),
    ("tuple", _to_tuple),
)


DEFAULTS = Settings(
    mode="online",
    base_url="http://127.0.0.1:8080",
    root_dir=".",
    silent=False,
    quiet=False,
    console="auto",
    ignore_globs=(),
    save_code=False,
    disable_git=False,
    disable_stats=False,
    stats_sampling_interval=10.0,
    flush_interval=0.1,
    finish_timeout=60.0,
    uploader_linger=600.0,
    strict=False,
    distributed="rank0",
    sync_tensorboard=False,
    sync_visualdl=False,
)


def env_settings(environ: dict[str, str] | os._Environ[str] | None = None) -> dict[str, Any]:
    """Settings from ``WAKELOG_*`` variables, with ``WANDB_*`` read where ours is absent."""
    environ = os.environ if environ is None else environ
    found: dict[str, Any] = {}
    for name in _FIELD_TYPES:
        suffix = _ENV_NAMES.get(name, name.upper())
        for variable in (f"WAKELOG_{suffix}", f"WANDB_{suffix}", *_WANDB_ENV.get(name, ())):
            raw = environ.get(variable)
            if raw is not None:
                found[name] = _coerce(name, raw, f"${variable}")
                break
    return found


# wandb's own variables for the settings it calls x_…: WANDB_X_DISABLE_STATS or WANDB__DISABLE_STATS.
_WANDB_ENV = {
    ours: (f"WANDB_{theirs.upper()}", f"WANDB__{theirs[2:].upper()}")
    for theirs, ours in _wandb_settings.ALIASES.items()
}


def settings_files(root_dir: str | None = None) -> list[Path]:
    """The settings files in precedence order: the user's, then the workspace's."""
    workspace = Path(root_dir or ".") / "wakelog" / "settings"
    return [config_dir() / "settings", workspace]


def file_settings(path: Path) -> dict[str, Any]:
    """Settings from an INI file's ``[default]`` section (what ``wakelog offline`` writes)."""
    parser = configparser.ConfigParser()
    try:
        if not parser.read(path, encoding="utf-8"):
            return {}
    except configparser.Error as exc:
        raise UsageError(f"settings file {path} cannot be parsed: {exc}") from None
    if not parser.has_section("default"):
        return {}
    found = {}
    for key, raw in parser.items("default"):
        if key not in _FIELD_TYPES:
            raise UsageError(f"settings file {path}: unknown setting {key!r}")
        found[key] = _coerce(key, raw, str(path))
    return found


def write_file_setting(path: Path, key: str, value: str | None) -> None:
    """Set (or with ``None`` remove) one setting in a settings file."""
    if key not in _FIELD_TYPES:
        raise UsageError(f"unknown setting {key!r}")
    parser = configparser.ConfigParser()
    parser.read(path, encoding="utf-8")
    if not parser.has_section("default"):
        parser.add_section("default")
    if value is None:
        parser.remove_option("default", key)
    else:
        _coerce(key, value, str(path))
        parser.set("default", key, value)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        parser.write(f)


def _accepts(name: str) -> bool:
    try:
        _field_for(name)
    except TypeError:
        return False
    return True


#: What ``wakelog.setup(settings)`` set for the whole process: above the environment, below ``init``'s.
_process_settings = Settings()


def set_process_settings(settings: Settings | None) -> None:
    global _process_settings
    _process_settings = settings if settings is not None else Settings()


def resolve_settings(user_settings: Settings | dict[str, Any] | None = None, **init_args: Any) -> Settings:
    """Merge every source in precedence order into one complete ``Settings``."""
    if isinstance(user_settings, dict):
        unknown = [name for name in user_settings if not _accepts(name)]
        if unknown:
            raise UsageError(f"unknown settings: {', '.join(sorted(unknown))}")
        user_settings = Settings(**user_settings)
    elif user_settings is not None and not isinstance(user_settings, Settings):
        raise UsageError(f"settings must be a wakelog.Settings or a dict, got {type(user_settings).__name__}")
    explicit_args = {k: _coerce(k, v, "init() argument") for k, v in init_args.items() if v is not None}
    env = env_settings()
    env.update(_process_settings.explicit())
    user = user_settings.explicit() if user_settings else {}
    # Where the workspace is decides which workspace settings file applies.
    root = explicit_args.get("root_dir") or user.get("root_dir") or env.get("root_dir")
    merged = DEFAULTS.explicit()
    for path in settings_files(root):
        merged.update(file_settings(path))
    merged.update(env)
    merged.update(user)
    merged.update(explicit_args)
    if env.get("sweep_id"):
        _keep_sweep_place(merged, env)
    return dataclasses.replace(Settings(), **merged)


def _keep_sweep_place(merged: dict[str, Any], env: dict[str, Any]) -> None:
    """A sweep agent's trial belongs to the sweep's project and entity (the server joins trials
    to runs there): the agent's environment wins over the script's own choice, with a warning."""
    for name in ("project", "entity"):
        if env.get(name) and merged.get(name) != env[name]:
            warn(
                f"wakelog: init({name}={merged[name]!r}) is ignored in a sweep: the run goes to {env[name]!r}"
            )
            merged[name] = env[name]
