"""Tables: named columns of JSON-able values (and media), stored as a JSON file.

File format: ``{"columns": [...], "data": [[...], ...]}``. Media cells (Image,
Html, Histogram) are replaced by their own stubs, nested in the cell. NaN and
infinities are written as the bare tokens ``NaN``, ``Infinity`` and
``-Infinity``, as Python's ``json`` module (and wandb) do: they round-trip
through ``json.loads`` unchanged, but strict parsers (``JSON.parse``) need a
tolerant mode. Stubs in history never contain them.
"""

from __future__ import annotations

import datetime as _dt
import json
import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from types import UnionType
from typing import TYPE_CHECKING, Any

from ._base import Media
from ._convert import is_tensor_like, to_numpy
from ._files import write_media_file

if TYPE_CHECKING:
    import pandas as pd

_ACCEPTED = (
    "None, bool, int, float, str, list/tuple, dict with str keys, numpy scalars and arrays, tensors, "
    "datetime (stored as ISO text), and media objects (Image, Video, Audio, Object3D, Molecule, Plotly, "
    "Html, Histogram)"
)


def _is_dataframe(value: Any) -> bool:
    return type(value).__module__.startswith("pandas") and callable(getattr(value, "itertuples", None))


def _dataframe_rows(df: pd.DataFrame) -> tuple[list[str], list[list[Any]]]:
    """Column names (as str) and rows of a DataFrame.

    Missing values in non-numeric columns (NaN in pandas string columns, NA,
    NaT) become None, so a text column with gaps keeps one type.
    """
    columns = []
    for i in range(df.shape[1]):
        series = df.iloc[:, i]
        values = series.tolist()
        if getattr(series.dtype, "kind", "O") not in "biufc":
            values = [
                None if missing else v for v, missing in zip(values, series.isna().tolist(), strict=True)
            ]
        columns.append(values)
    rows = [list(r) for r in zip(*columns, strict=True)] if columns else []
    return [str(c) for c in df.columns], rows


#: Subclasses of the plain types (IntEnum, numpy.float64, str enums…) and dates, in the order tried.
_CASTS: tuple[tuple[type | UnionType, Callable[[Any], Any]], ...] = (
    (int, int),
    (float, float),
    (str, str),
    (_dt.datetime | _dt.date | _dt.time, lambda value: value.isoformat()),
)


def _normalize(value: Any, *, nested: bool = False) -> Any:
    """Return ``value`` as plain JSON-able Python (or a frozen Media), or raise TypeError."""
    cls = type(value)
    if value is None or cls in (bool, int, float, str):
        return value
    if isinstance(value, Media):
        return _frozen_media(value, nested=nested)
    if cls.__name__ in ("NAType", "NaTType"):  # pandas missing markers
        return None
    for base, cast in _CASTS:
        if isinstance(value, base):
            return cast(value)
    if isinstance(value, list | tuple):
        return [_normalize(v, nested=True) for v in value]
    if isinstance(value, dict):
        return _normalize_dict(value)
    return _normalize_array_like(value, nested=nested)


def _frozen_media(value: Media, *, nested: bool) -> Media:
    name = type(value).__name__
    if nested:
        raise TypeError(f"Table cells may hold a {name} only directly, not inside a list or dict")
    if name in ("Table", "CustomChart"):
        raise TypeError(f"Table cells cannot hold a {name}; accepted: {_ACCEPTED}")
    return value.frozen()


def _normalize_dict(value: dict[Any, Any]) -> dict[str, Any]:
    out = {}
    for k, v in value.items():
        if not isinstance(k, str):
            raise TypeError(f"Table cells may hold dicts with str keys only; got key {k!r}")
        out[str(k)] = _normalize(v, nested=True)
    return out


def _normalize_array_like(value: Any, *, nested: bool) -> Any:
    """numpy scalars, arrays and tensors; anything else is refused."""
    import numpy as np

    if isinstance(value, np.generic):
        kind = value.dtype.kind
        if kind == "M":
            return str(np.datetime_as_string(value))
        if kind in "biufU":
            return _normalize(value.item(), nested=nested)
    elif isinstance(value, np.ndarray) or is_tensor_like(value):
        arr = to_numpy(value)
        if arr.dtype.kind in "biufUO":
            # A one-element tensor is a scalar (a loss of shape [1]); numpy arrays keep their shape.
            if arr.ndim == 0 or (arr.size == 1 and not isinstance(value, np.ndarray)):
                return _normalize(arr.reshape(())[()], nested=nested)
            return _normalize(arr.tolist(), nested=True)
    raise TypeError(f"Table cells cannot hold a {type(value).__name__}; accepted: {_ACCEPTED}")


_CONTAINER_KINDS: dict[type, str] = {str: "str", list: "list", dict: "dict"}


def _kind(value: Any) -> str | None:
    """Type class of a normalised value; a column keeps the class of its first non-None value."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, Media):
        return type(value).__name__
    return _CONTAINER_KINDS[type(value)]


def _rows_of(data: Any) -> list[Sequence[Any]]:
    if data is None:
        return []
    if not isinstance(data, list | tuple):
        arr = to_numpy(data)
        if arr.ndim != 2:
            raise ValueError(f"Table data array must be 2-D (rows x columns); got shape {tuple(arr.shape)}")
        return list(arr)
    rows: list[Sequence[Any]] = []
    for i, row in enumerate(data):
        if isinstance(row, str | bytes | dict) or not isinstance(row, Iterable):
            raise TypeError(f"Table data must be a list of rows; row {i} is a {type(row).__name__}")
        rows.append(list(row))
    return rows


def _check_columns(columns: Any) -> list[str]:
    if isinstance(columns, str) or not isinstance(columns, Iterable):
        raise TypeError(f"Table columns must be a list of str; got {type(columns).__name__}")
    names = list(columns)
    for name in names:
        if not isinstance(name, str):
            raise TypeError(f"Table column names must be str; got {name!r} ({type(name).__name__})")
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ValueError(f"Table column {name!r} appears twice; column names must be unique")
        seen.add(name)
    return names


class Table(Media):
    """A table of rows, logged as a JSON file.

    Args:
        columns: column names (default ``col0``, ``col1``, ... when data is given).
        data: rows, as a list of sequences, a 2-D array, or a DataFrame.
        rows: same as ``data`` (older spelling); pass one of them.
        dataframe: a pandas DataFrame; column names become ``str``.
        allow_mixed_types: let a column hold values of different types.

    Without ``allow_mixed_types`` a column's type (bool, number, str, list, dict
    or a media class) is fixed by its first non-None value, and other types
    raise TypeError; ``None`` is allowed anywhere. Values are normalised on the
    way in (numpy scalars to Python, arrays to lists, one-element tensors to
    scalars, datetimes to ISO text), so the table holds its own copy.
    """

    def __init__(
        self,
        columns: Sequence[str] | None = None,
        data: Any = None,
        rows: Any = None,
        dataframe: pd.DataFrame | None = None,
        allow_mixed_types: bool = False,
    ) -> None:
        if data is not None and rows is not None:
            raise ValueError("Table takes data= or rows= (the same thing), not both")
        if rows is not None:
            data = rows
        if _is_dataframe(data):
            if dataframe is not None:
                raise ValueError("Table got two DataFrames (data= and dataframe=)")
            dataframe, data = data, None
        if dataframe is not None:
            if data is not None or columns is not None:
                raise ValueError("Table takes dataframe= alone; its columns come from the DataFrame")
            if not _is_dataframe(dataframe):
                raise TypeError(f"Table dataframe must be a pandas DataFrame; got {type(dataframe).__name__}")
            columns, data = _dataframe_rows(dataframe)

        row_list = _rows_of(data)
        if columns is None:
            columns = [f"col{i}" for i in range(len(row_list[0]))] if row_list else []
        self._columns = _check_columns(columns)
        self._types: list[str | None] = [None] * len(self._columns)
        self._rows: list[list[Any]] = []
        self._allow_mixed = bool(allow_mixed_types)
        self._lock = threading.RLock()  # the writer may serialise while the user still adds rows
        for i, row in enumerate(row_list):
            self._append(row, f"row {i}")

    # -- reading -----------------------------------------------------------------
    @property
    def columns(self) -> list[str]:
        return list(self._columns)

    @property
    def data(self) -> list[list[Any]]:
        """A copy of the rows (edit through ``add_data``/``add_column``)."""
        with self._lock:
            return [list(r) for r in self._rows]

    @property
    def nrows(self) -> int:
        return len(self._rows)

    @property
    def ncols(self) -> int:
        return len(self._columns)

    def get_column(self, name: str, convert_to: str | None = None) -> Any:
        """Values of column ``name``; ``convert_to="numpy"`` returns a numpy array."""
        if convert_to not in (None, "numpy"):
            raise ValueError(f"Table.get_column convert_to must be None or 'numpy'; got {convert_to!r}")
        with self._lock:
            index = self._index(name)
            values = [row[index] for row in self._rows]
        if convert_to == "numpy":
            import numpy as np

            return np.array(values)
        return values

    def get_dataframe(self) -> pd.DataFrame:
        import pandas as pd

        with self._lock:
            frame: pd.DataFrame = pd.DataFrame([list(r) for r in self._rows], columns=list(self._columns))
        return frame

    # -- writing -----------------------------------------------------------------
    def add_data(self, *row: Any) -> None:
        """Append one row; it must have one value per column."""
        self._append(row, f"row {len(self._rows)}")

    def add_column(self, name: str, data: Any) -> None:
        """Append a column; ``data`` needs one value per existing row."""
        if not isinstance(name, str):
            raise TypeError(f"Table column names must be str; got {name!r} ({type(name).__name__})")
        if isinstance(data, list | tuple):
            values = list(data)
        else:
            arr = to_numpy(data) if not isinstance(data, str | bytes | dict) else None
            if arr is None or arr.ndim == 0:
                raise TypeError(
                    f"Table.add_column({name!r}) needs a list, tuple, array or tensor of values; "
                    f"got {type(data).__name__}"
                )
            values = list(arr)
        with self._lock:
            if name in self._columns:
                raise ValueError(f"Table already has a column {name!r}")
            if self._columns and len(values) != len(self._rows):
                raise ValueError(
                    f"Table.add_column({name!r}) got {len(values)} values for {len(self._rows)} rows"
                )
            normal = [_normalize(v) for v in values]
            kind = self._check_kinds(name, None, normal, 0)
            if not self._columns:
                self._rows = [[] for _ in normal]
            for row, value in zip(self._rows, normal, strict=True):
                row.append(value)
            self._columns.append(name)
            self._types.append(kind)

    def _index(self, name: str) -> int:
        try:
            return self._columns.index(name)
        except ValueError:
            raise KeyError(f"Table has no column {name!r}; columns are {self._columns}") from None

    def _check_kinds(
        self, column: str, expected: str | None, values: list[Any], first_row: int
    ) -> str | None:
        """Check values of one column against its type; return the (possibly newly fixed) type."""
        for offset, value in enumerate(values):
            kind = _kind(value)
            if kind is None or self._allow_mixed:
                continue
            if expected is None:
                expected = kind
            elif kind != expected:
                raise TypeError(
                    f"Table column {column!r} holds {expected} values, but row {first_row + offset} "
                    f"has a {kind}: {value!r} (use allow_mixed_types=True to allow this)"
                )
        return expected

    def _append(self, row: Sequence[Any], where: str) -> None:
        with self._lock:
            if not self._columns:
                raise ValueError("Table has no columns; pass columns= or use add_column first")
            if len(row) != len(self._columns):
                raise ValueError(
                    f"Table {where} has {len(row)} values but the table has {len(self._columns)} "
                    f"columns {self._columns}"
                )
            normal = [_normalize(v) for v in row]
            nrow = len(self._rows)
            types = [
                self._check_kinds(c, t, [v], nrow)
                for c, t, v in zip(self._columns, self._types, normal, strict=True)
            ]
            self._types = types
            self._rows.append(normal)

    # -- logging -----------------------------------------------------------------
    def frozen(self) -> Table:
        """A copy that later ``add_data``/``add_column`` calls on this table do not change."""
        copy = Table.__new__(Table)
        with self._lock:
            copy._columns = list(self._columns)
            copy._types = list(self._types)
            copy._rows = [list(r) for r in self._rows]
        copy._allow_mixed = self._allow_mixed
        copy._lock = threading.RLock()
        return copy

    def to_stub(self, run_dir: Path, key: str, step: int) -> dict[str, Any]:
        with self._lock:
            columns = list(self._columns)
            rows = [list(r) for r in self._rows]
        data = [
            [
                cell.to_stub(run_dir, f"{key}.{column}", step) if isinstance(cell, Media) else cell
                for column, cell in zip(columns, row, strict=True)
            ]
            for row in rows
        ]
        payload = {"columns": columns, "data": data}
        try:
            raw = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates: fall back to \u escapes
            raw = json.dumps(payload, separators=(",", ":")).encode("ascii")
        stub: dict[str, Any] = {"_type": "table-file"}
        stub.update(write_media_file(run_dir, "table", key, step, data=raw, ext="table.json"))
        stub.update(ncols=len(columns), nrows=len(rows), columns=columns)
        return stub

    def __repr__(self) -> str:
        return f"Table(columns={self._columns}, nrows={len(self._rows)})"
