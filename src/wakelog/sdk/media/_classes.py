"""Class ids and names for image masks and boxes: ``Classes`` and the label-map checks.

Labels are kept with ``str`` keys (``{"1": "car"}``), the form they take in JSON, so
stubs, files and the run config all hold the same thing.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from typing import Any


def class_id(value: Any, where: str) -> int:
    """An integer class id (numpy integers too; bools and fractions are refused)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{where} must be an integer class id; got {value!r} ({type(value).__name__})")
    return int(value)


def check_labels(labels: Any, where: str) -> dict[str, str]:
    """``{int: str}`` class labels as ``{"id": name}``; the error names the bad entry."""
    if not isinstance(labels, Mapping):
        raise TypeError(f"{where} must be a dict of integer class ids to names; got {type(labels).__name__}")
    checked: dict[str, str] = {}
    for key, name in labels.items():
        number = class_id(key, f"{where} key {key!r}")
        if not isinstance(name, str):
            raise TypeError(f"{where}[{key!r}] must be a str class name; got {type(name).__name__}")
        checked[str(number)] = name
    return checked


def default_labels(ids: Sequence[int]) -> dict[str, str]:
    """wandb's names for classes nobody named: ``class_<id>``, for the ids that occur."""
    return {str(i): f"class_{i}" for i in sorted(set(ids))}


class Classes:
    """A set of classes, ``[{"id": 1, "name": "car"}, ...]``, as ``wandb.Classes``.

    Give it to ``Image(classes=...)`` (a plain list of such dicts works too).
    """

    def __init__(self, class_set: Sequence[Mapping[str, Any]]) -> None:
        if isinstance(class_set, str | bytes) or not isinstance(class_set, Sequence):
            raise TypeError(
                f"Classes takes a list of {{'id': int, 'name': str}} dicts; got {type(class_set).__name__}"
            )
        labels: dict[str, str] = {}
        for i, entry in enumerate(class_set):
            where = f"classes[{i}]"
            if not isinstance(entry, Mapping) or "id" not in entry or "name" not in entry:
                raise TypeError(f"{where} must be a dict with 'id' and 'name'; got {entry!r}")
            labels.update(check_labels({entry["id"]: entry["name"]}, where))
        self._labels = labels

    @property
    def labels(self) -> dict[str, str]:
        return dict(self._labels)

    def to_json(self) -> list[dict[str, Any]]:
        return [{"id": int(k), "name": v} for k, v in self._labels.items()]

    def __repr__(self) -> str:
        return f"Classes({self.to_json()!r})"


def as_classes(value: Any) -> Classes | None:
    if value is None or isinstance(value, Classes):
        return value
    return Classes(value)
