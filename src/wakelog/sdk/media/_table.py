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
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from types import UnionType
from typing import TYPE_CHECKING, Any

from wakelog._warn import warn

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
LOG_MODES = ("IMMUTABLE", "MUTABLE", "INCREMENTAL")
#: Media that hold tables themselves, so cannot sit in a cell.
_NOT_CELLS = ("Table", "CustomChart", "JoinedTable")


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
    if name in _NOT_CELLS:
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


def _dtype_kind(dtype: Any) -> str | None:
    """The column kind a ``cast``/``dtype`` type names; ``None`` for "any"."""
    import numbers

    if dtype is None or dtype is Any or dtype is object:
        return None
    if isinstance(dtype, Media):
        return type(dtype).__name__
    if isinstance(dtype, type):
        if issubclass(dtype, bool):
            return "bool"
        if issubclass(dtype, numbers.Number) and not issubclass(dtype, complex):
            return "number"
        for base, kind in ((Media, None), (str, "str"), (list | tuple, "list"), (dict, "dict")):
            if issubclass(dtype, base):
                return kind or dtype.__name__
        if issubclass(dtype, _dt.datetime | _dt.date | _dt.time):
            return "str"
        if dtype.__module__ == "numpy" and dtype.__name__.startswith("bool"):  # numpy.bool_
            return "bool"
    raise TypeError(
        f"Table column type {dtype!r} is not one a cell can hold; use bool, int, float, str, list, dict, "
        "datetime, or a media class such as Image"
    )


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


def _columns_and_data(columns: Any, data: Any, rows: Any, dataframe: Any) -> tuple[Any, Any]:
    """Table's ways to pass rows (data=, the older rows=, a DataFrame) reduced to columns and rows."""
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
        return _dataframe_rows(dataframe)
    return columns, data


class _Increments:
    """What an INCREMENTAL table and the increments it logged share: each written increment's file."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.paths: dict[int, str] = {}


class Table(Media):
    """A table of rows, logged as a JSON file.

    Args:
        columns: column names (default ``col0``, ``col1``, ... when data is given).
        data: rows, as a list of sequences, a 2-D array, or a DataFrame.
        rows: same as ``data`` (older spelling); pass one of them.
        dataframe: a pandas DataFrame; column names become ``str``.
        dtype: a type for every column, or a list with one per column (see :meth:`cast`).
        optional: whether columns may hold ``None`` (one bool, or a list with one per column).
        allow_mixed_types: let a column hold values of different types.
        log_mode: ``"IMMUTABLE"`` (logged once: later logs repeat what was logged first),
            ``"MUTABLE"`` (each log writes the table as it is then) or ``"INCREMENTAL"``
            (each log writes only the rows added since the previous one; readers show the union).

    Without ``allow_mixed_types`` a column's type (bool, number, str, list, dict
    or a media class) is fixed by its first non-None value, and other types
    raise TypeError. Values are normalised on the way in (numpy scalars to
    Python, arrays to lists, one-element tensors to scalars, datetimes to ISO
    text), so the table holds its own copy.
    """

    #: Rows a chart helper keeps (wandb's limit for plot tables); tables themselves are not cut.
    MAX_ROWS = 10000

    def __init__(
        self,
        columns: Sequence[str] | None = None,
        data: Any = None,
        rows: Any = None,
        dataframe: pd.DataFrame | None = None,
        dtype: Any = None,
        optional: bool | Sequence[bool] = True,
        allow_mixed_types: bool = False,
        log_mode: str = "IMMUTABLE",
    ) -> None:
        if log_mode not in LOG_MODES:
            raise ValueError(f"Table log_mode must be one of {list(LOG_MODES)}; got {log_mode!r}")
        columns, data = _columns_and_data(columns, data, rows, dataframe)
        row_list = _rows_of(data)
        if columns is None:
            columns = [f"col{i}" for i in range(len(row_list[0]))] if row_list else []
        self._columns = _check_columns(columns)
        self._types: list[str | None] = [None] * len(self._columns)
        self._optional = self._per_column(optional, "optional", bool)
        for i, kind in enumerate(self._per_column(dtype, "dtype", object)):
            self._types[i] = _dtype_kind(kind)
        self._rows: list[list[Any]] = []
        self._allow_mixed = bool(allow_mixed_types)
        self._lock = threading.RLock()  # the writer may serialise while the user still adds rows
        self.log_mode = log_mode
        self._logged: Table | None = None  # IMMUTABLE: the first logged copy; INCREMENTAL: the last increment
        self._logged_rows = 0  # INCREMENTAL: rows already in logged increments
        self._increment: tuple[int, _Increments] | None = None  # set on increments, not on the table
        self._chain = _Increments() if log_mode == "INCREMENTAL" else None
        self._warned = False  # IMMUTABLE: edits after logging were reported
        for i, row in enumerate(row_list):
            self._append(row, f"row {i}")

    def _per_column(self, value: Any, name: str, kind: type) -> list[Any]:
        if not isinstance(value, list | tuple):
            return [value] * len(self._columns)
        if len(value) != len(self._columns):
            raise ValueError(f"Table {name} has {len(value)} entries for {len(self._columns)} columns")
        if kind is bool and not all(isinstance(v, bool) for v in value):
            raise TypeError(f"Table {name} must be a bool or a list of bools; got {value!r}")
        return list(value)

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

    def column_kind(self, name: str) -> str | None:
        """The type class column ``name`` is fixed to (``"number"``, ``"str"``, ``"Image"``...), or None."""
        return self._types[self._index(name)]

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

    def get_index(self) -> list[int]:
        """The row indexes 0..nrows-1 (a column of them links rows of another table to this one)."""
        return list(range(len(self._rows)))

    def iterrows(self) -> Iterator[tuple[int, list[Any]]]:
        """``(index, row)`` for every row, in order; each row is a copy."""
        yield from enumerate(self.data)

    def get_dataframe(self) -> pd.DataFrame:
        import pandas as pd

        with self._lock:
            frame: pd.DataFrame = pd.DataFrame.from_records(
                [list(r) for r in self._rows], columns=list(self._columns)
            )
        return frame

    # -- writing -----------------------------------------------------------------
    def add_data(self, *row: Any) -> None:
        """Append one row; it must have one value per column."""
        self._mutated()
        self._append(row, f"row {len(self._rows)}")

    add_row = add_data

    def add_column(self, name: str, data: Any, optional: bool = False) -> None:
        """Append a column; ``data`` needs one value per existing row (``None`` only if ``optional``)."""
        if not isinstance(name, str):
            raise TypeError(f"Table column names must be str; got {name!r} ({type(name).__name__})")
        if self.log_mode == "INCREMENTAL" and self._logged is not None:
            raise ValueError(
                f"Table.add_column({name!r}): an INCREMENTAL table cannot gain columns once logged"
            )
        values = _column_values(name, data)
        self._mutated()
        with self._lock:
            if name in self._columns:
                raise ValueError(f"Table already has a column {name!r}")
            if self._columns and len(values) != len(self._rows):
                raise ValueError(
                    f"Table.add_column({name!r}) got {len(values)} values for {len(self._rows)} rows"
                )
            normal = [_normalize(v) for v in values]
            kind = self._check_kinds(name, None, bool(optional), normal, 0)
            if not self._columns:
                self._rows = [[] for _ in normal]
            for row, value in zip(self._rows, normal, strict=True):
                row.append(value)
            self._columns.append(name)
            self._types.append(kind)
            self._optional.append(bool(optional))

    def add_computed_columns(self, fn: Callable[[int, dict[str, Any]], dict[str, Any]]) -> None:
        """Add the columns ``fn(index, row_as_dict)`` returns for every row (a dict of name -> value)."""
        if self.log_mode == "INCREMENTAL":
            raise ValueError("Table.add_computed_columns is not available for log_mode='INCREMENTAL' tables")
        new: dict[str, list[Any]] = {}
        for index, row in self.iterrows():
            result = fn(index, dict(zip(self._columns, row, strict=True)))
            if not isinstance(result, dict):
                raise TypeError(
                    f"Table.add_computed_columns: fn must return a dict; "
                    f"got {type(result).__name__} for row {index}"
                )
            for key, value in result.items():
                new.setdefault(key, []).append(value)
        for key, values in new.items():
            if len(values) != len(self._rows):
                raise ValueError(f"Table.add_computed_columns: fn returned {key!r} for only some rows")
            self.add_column(key, values, optional=True)

    def cast(self, col_name: str, dtype: Any, optional: bool = False) -> None:
        """Fix column ``col_name`` to ``dtype`` (bool, int/float, str, list, dict, datetime or a media class).

        Existing values must fit (``None`` only if ``optional``); later rows are checked against it.
        """
        kind = _dtype_kind(dtype)
        with self._lock:
            index = self._index(col_name)
            for i, row in enumerate(self._rows):
                value = row[index]
                have = _kind(value)
                if have is None and not optional:
                    raise TypeError(
                        f"Table.cast({col_name!r}): row {i} is None; pass optional=True to allow None"
                    )
                if have is not None and kind is not None and have != kind:
                    raise TypeError(
                        f"Table.cast({col_name!r}, {getattr(dtype, '__name__', dtype)}): row {i} holds a "
                        f"{have} ({value!r}), not a {kind}"
                    )
            self._types[index] = kind
            self._optional[index] = bool(optional)

    def _index(self, name: str) -> int:
        try:
            return self._columns.index(name)
        except ValueError:
            raise KeyError(f"Table has no column {name!r}; columns are {self._columns}") from None

    def _check_kinds(
        self, column: str, expected: str | None, optional: bool, values: list[Any], first_row: int
    ) -> str | None:
        """Check values of one column against its type; return the (possibly newly fixed) type."""
        for offset, value in enumerate(values):
            kind = _kind(value)
            if kind is None:
                if not optional:
                    raise TypeError(
                        f"Table column {column!r} is not optional, but row {first_row + offset} is None"
                    )
                continue
            if self._allow_mixed:
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
                self._check_kinds(c, t, o, [v], nrow)
                for c, t, o, v in zip(self._columns, self._types, self._optional, normal, strict=True)
            ]
            self._types = types
            self._rows.append(normal)

    def _mutated(self) -> None:
        if self.log_mode == "IMMUTABLE" and self._logged is not None and not self._warned:
            self._warned = True
            warn(
                "wakelog: this Table (log_mode='IMMUTABLE') was logged already, so logging it again logs "
                "what it held then; use log_mode='MUTABLE' to log its changes"
            )

    # -- logging -----------------------------------------------------------------
    def snapshot(self, start: int = 0) -> Table:
        """A copy (of the rows from ``start`` on) that later edits to this table do not change."""
        copy = Table.__new__(Table)
        with self._lock:
            copy._columns = list(self._columns)
            copy._types = list(self._types)
            copy._optional = list(self._optional)
            copy._rows = [list(r) for r in self._rows[start:]]
        copy._allow_mixed = self._allow_mixed
        copy._lock = threading.RLock()
        copy.log_mode = self.log_mode
        copy._logged, copy._logged_rows, copy._increment, copy._chain = None, 0, None, None
        copy._warned = False
        return copy

    def frozen(self) -> Table:
        """What ``log()`` records, by ``log_mode``: the first logged copy, a fresh copy, or the new rows."""
        with self._lock:
            if self.log_mode == "MUTABLE":
                return self.snapshot()
            if self.log_mode == "IMMUTABLE":
                if self._logged is None:
                    self._logged = self.snapshot()
                return self._logged
            if self._chain is not None and (self._logged is None or len(self._rows) > self._logged_rows):
                number = (
                    0
                    if self._logged is None or self._logged._increment is None
                    else self._logged._increment[0] + 1
                )
                increment = self.snapshot(self._logged_rows)
                increment._increment = (number, self._chain)
                self._logged, self._logged_rows = increment, len(self._rows)
            assert self._logged is not None
            return self._logged

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
        stub.update(ncols=len(columns), nrows=len(rows), columns=columns, log_mode=self.log_mode)
        if self._increment is not None:
            number, chain = self._increment
            with chain.lock:
                chain.paths.setdefault(number, stub["path"])  # a re-logged increment keeps its first file
                earlier = [chain.paths[n] for n in sorted(chain.paths) if n < number]
            stub.update(
                _type="incremental-table-file", increment_num=number, previous_increments_paths=earlier
            )
        return stub

    def __repr__(self) -> str:
        return f"Table(columns={self._columns}, nrows={len(self._rows)}, log_mode={self.log_mode!r})"


def _column_values(name: str, data: Any) -> list[Any]:
    if isinstance(data, list | tuple):
        return list(data)
    arr = to_numpy(data) if not isinstance(data, str | bytes | dict) else None
    if arr is None or arr.ndim == 0:
        raise TypeError(
            f"Table.add_column({name!r}) needs a list, tuple, array or tensor of values; "
            f"got {type(data).__name__}"
        )
    return list(arr)
