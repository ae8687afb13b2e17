"""``run.config``: the run's hyper-parameters, with wandb's rules.

Attribute and item access; ``update`` takes a dict, an argparse ``Namespace``, absl flags or a
YAML file path; changing a value raises ``ConfigError`` unless ``allow_val_change``; keys locked
by a sweep ignore later user writes (with a warning); values that look like secrets are masked
before they leave the process. Every accepted change is handed to ``on_change`` once.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, ItemsView, Iterator, KeysView, Mapping, ValuesView
from pathlib import Path
from typing import Any

from wakelog._secrets import MASK, looks_secret
from wakelog._warn import warn
from wakelog.errors import ConfigError, UsageError
from wakelog.sdk._values import BadValue, normalise


def mask_secrets(values: dict[str, Any], path: str = "") -> dict[str, Any]:
    """A copy of ``values`` with secret-looking keys masked (nested too), warning for each."""
    masked: dict[str, Any] = {}
    for key, value in values.items():
        dotted = f"{path}{key}"
        if looks_secret(key) and value not in (None, "", MASK) and not isinstance(value, dict):
            warn(
                f"wakelog: config key {dotted!r} looks like a secret; its value is masked "
                "and never leaves this process"
            )
            masked[key] = MASK
        elif isinstance(value, dict):
            masked[key] = mask_secrets(value, dotted + ".")
        else:
            masked[key] = value
    return masked


def load_yaml(path: str | os.PathLike[str]) -> dict[str, Any]:
    """A YAML config file; wandb's ``{key: {value: …, desc: …}}`` form is unwrapped."""
    import yaml

    try:
        with open(path, encoding="utf-8") as f:
            loaded = yaml.safe_load(f)
    except (OSError, yaml.YAMLError) as exc:
        raise UsageError(f"cannot read config file {path}: {exc}") from None
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise UsageError(f"config file {path} must hold a mapping, not a {type(loaded).__name__}")
    return {
        str(k): (v["value"] if isinstance(v, dict) and "value" in v else v)
        for k, v in loaded.items()
        if k != "wandb_version"
    }


def as_mapping(source: Any) -> dict[str, Any]:
    """Turn anything ``config.update`` accepts into a plain dict."""
    if source is None:
        return {}
    if isinstance(source, Mapping):
        return dict(source)
    if isinstance(source, (str, os.PathLike)):
        return load_yaml(source)
    if hasattr(source, "flag_values_dict"):  # absl.flags.FLAGS
        return dict(source.flag_values_dict())
    if hasattr(source, "__dict__") and not callable(source):  # argparse.Namespace and friends
        return {k: v for k, v in vars(source).items() if not k.startswith("_")}
    raise UsageError(
        f"config: cannot read a {type(source).__name__}; pass a dict, an argparse Namespace, "
        "absl flags or a YAML file path"
    )


def _clean_key(key: Any) -> str:
    text = str(key).strip("-")
    if not text:
        raise UsageError("config: empty key")
    return text


def _same(old: Any, new: Any) -> bool:
    if isinstance(old, float) and isinstance(new, float) and math.isnan(old) and math.isnan(new):
        return True
    return bool(old == new)


def _config_value(key: str, value: Any) -> Any:
    try:
        return normalise(value, allow_media=False)
    except BadValue as exc:
        from wakelog.sdk.media import Media

        if isinstance(value, Media):
            raise TypeError(f"config[{key!r}]: media objects cannot be config values") from None
        warn(f"wakelog: config[{key!r}]: {exc}; stored as its string form")
        return str(value)


def _masked(key: str, value: Any) -> Any:
    """``value`` with secrets masked: a dict's by their own keys, anything else by ``key``."""
    if isinstance(value, dict):
        return mask_secrets(value, key + ".")
    if looks_secret(key):
        return mask_secrets({key: value})[key]
    return value


class Config:
    """A run's configuration. Changes reach the run log through ``on_change``."""

    _items: dict[str, Any]
    _locked: dict[str, str]
    _on_change: Callable[[dict[str, Any]], None] | None

    def __init__(self, on_change: Callable[[dict[str, Any]], None] | None = None) -> None:
        object.__setattr__(self, "_items", {})
        object.__setattr__(self, "_locked", {})
        object.__setattr__(self, "_on_change", on_change)

    # -- reading --------------------------------------------------------------------------
    def __getitem__(self, key: str) -> Any:
        return self._items[key]

    def __getattr__(self, key: str) -> Any:
        try:
            return self._items[key]
        except KeyError:
            raise AttributeError(f"config has no key {key!r}") from None

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Config({self._items!r})"

    def get(self, key: str, default: Any = None) -> Any:
        return self._items.get(key, default)

    def keys(self) -> KeysView[str]:
        return self._items.keys()

    def items(self) -> ItemsView[str, Any]:
        return self._items.items()

    def values(self) -> ValuesView[Any]:
        return self._items.values()

    def as_dict(self) -> dict[str, Any]:
        return dict(self._items)

    # -- writing --------------------------------------------------------------------------
    def __setitem__(self, key: str, value: Any) -> None:
        self.update({key: value})

    def __setattr__(self, key: str, value: Any) -> None:
        self.update({key: value})

    def update(self, source: Any, allow_val_change: bool | None = None) -> None:
        """Add or change keys; all of ``source`` is checked before anything is applied."""
        self._apply(as_mapping(source), allow_val_change=bool(allow_val_change), lock_as=None)

    def setdefaults(self, source: Any) -> None:
        """Add the keys of ``source`` that the config does not have yet."""
        fresh = {k: v for k, v in as_mapping(source).items() if _clean_key(k) not in self._items}
        self._apply(fresh, allow_val_change=False, lock_as=None)

    def update_locked(self, source: Any, user: str = "sweep") -> None:
        """Set keys that later user writes cannot change (how sweeps pin their parameters)."""
        self._apply(as_mapping(source), allow_val_change=True, lock_as=user)

    merge_locked = update_locked

    def _apply(self, source: dict[str, Any], *, allow_val_change: bool, lock_as: str | None) -> None:
        changes: dict[str, Any] = {}
        for raw_key, raw_value in source.items():
            key = _clean_key(raw_key)
            if lock_as is None and self._refuse_locked(key, raw_value):
                continue
            value = _masked(key, _config_value(key, raw_value))
            if key in self._items and _same(self._items[key], value):
                continue
            if key in self._items and not allow_val_change:
                raise ConfigError(
                    f"Attempted to change value of key {key!r} from {self._items[key]!r} to "
                    f"{value!r}. If you really want to do this, pass allow_val_change=True to "
                    "config.update()"
                )
            changes[key] = value
        self._items.update(changes)
        if lock_as is not None:
            for key in source:
                self._locked[_clean_key(key)] = lock_as
        if changes and self._on_change is not None:
            self._on_change(changes)

    def _refuse_locked(self, key: str, value: Any) -> bool:
        """Whether ``key`` is locked (by a sweep); warns when the refused write would change it."""
        if key not in self._locked:
            return False
        if key not in self._items or not _same(self._items[key], value):
            warn(f"wakelog: config item {key!r} was locked by {self._locked[key]!r} (ignored update)")
        return True

    def persist(self) -> None:
        """Record the whole config again (wandb's ``persist``): what was changed in place, such
        as an item of a nested dict, reaches the run log and the server."""
        if not self._items or self._on_change is None:
            return
        # Secrets were masked when they were set; what changed in place is normalised again.
        current = {key: _config_value(key, value) for key, value in self._items.items()}
        self._items.update(current)
        self._on_change(current)

    @property
    def locked_keys(self) -> dict[str, str]:
        return dict(self._locked)


def filter_keys(
    values: dict[str, Any], include: list[str] | None, exclude: list[str] | None
) -> dict[str, Any]:
    """Apply ``init``'s ``config_include_keys`` / ``config_exclude_keys``."""
    if include and exclude:
        raise UsageError("init: pass config_include_keys or config_exclude_keys, not both")
    if include:
        return {k: v for k, v in values.items() if k in include}
    if exclude:
        return {k: v for k, v in values.items() if k not in exclude}
    return values


def defaults_file(cwd: Path | None = None) -> Path:
    """wandb loads ``config-defaults.yaml`` from the working directory; so do we."""
    return (cwd or Path.cwd()) / "config-defaults.yaml"
