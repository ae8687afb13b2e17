"""``run.summary``: the final value of every metric, readable and overridable by the user."""

from __future__ import annotations

from collections.abc import Callable, ItemsView, Iterator, KeysView
from typing import Any

from wakelog.sdk._metrics import SummaryTracker
from wakelog.sdk._values import normalise


class Summary:
    """A dict-like view of the run summary.

    Reads first wait (briefly) for the writer thread to catch up, so a value just logged is
    visible; writes are recorded as explicit summary updates that win until the key is logged
    again.
    """

    _tracker: SummaryTracker
    _on_update: Callable[[dict[str, Any], list[str]], None]
    _sync: Callable[[], Any]

    def __init__(
        self,
        tracker: SummaryTracker,
        on_update: Callable[[dict[str, Any], list[str]], None],
        sync: Callable[[], Any],
    ) -> None:
        object.__setattr__(self, "_tracker", tracker)
        object.__setattr__(self, "_on_update", on_update)
        object.__setattr__(self, "_sync", sync)

    def _current(self) -> dict[str, Any]:
        self._sync()
        return self._tracker.snapshot()

    def __getitem__(self, key: str) -> Any:
        return self._current()[key]

    def __getattr__(self, key: str) -> Any:
        try:
            return self._current()[key]
        except KeyError:
            raise AttributeError(f"summary has no key {key!r}") from None

    def __contains__(self, key: object) -> bool:
        return key in self._current()

    def __iter__(self) -> Iterator[str]:
        return iter(self._current())

    def __len__(self) -> int:
        return len(self._current())

    def __repr__(self) -> str:
        return f"Summary({self._current()!r})"

    def get(self, key: str, default: Any = None) -> Any:
        return self._current().get(key, default)

    def keys(self) -> KeysView[str]:
        return self._current().keys()

    def items(self) -> ItemsView[str, Any]:
        return self._current().items()

    def as_dict(self) -> dict[str, Any]:
        return self._current()

    def __setitem__(self, key: str, value: Any) -> None:
        self.update({key: value})

    def __setattr__(self, key: str, value: Any) -> None:
        self.update({key: value})

    def __delitem__(self, key: str) -> None:
        if key not in self:
            raise KeyError(key)
        self._on_update({}, [key])

    def update(self, values: dict[str, Any]) -> None:
        clean = {}
        for key, value in values.items():
            if not isinstance(key, str):
                raise TypeError(f"summary keys must be str, got {type(key).__name__}")
            clean[key] = normalise(value, allow_media=False)
        self._on_update(clean, [])
