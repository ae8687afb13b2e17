"""3-D objects: point clouds (stored as wandb's ``.pts.json``) and mesh/scene files.

A point cloud file is compact JSON: from an array, the list of its rows (``[x, y, z]``,
``[x, y, z, category]`` or ``[x, y, z, r, g, b]``); from a scene (``from_point_cloud``),
``{"type": "lidar/beta", "vectors": [...], "points": [...], "boxes": [...]}``.
"""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ._convert import to_numpy
from ._source import FileMedia, check_caption, extension_of, is_file_like, is_path, read_file_like, read_path

if TYPE_CHECKING:
    import numpy as np

FORMATS = ("obj", "gltf", "glb", "babylon", "stl", "pts.json")
POINT_CLOUD_TYPES = ("lidar/beta",)
_COLUMNS = (3, 4, 6)


def _points(data: Any) -> np.ndarray:
    arr = to_numpy(data)
    if arr.dtype.kind == "O":
        raise TypeError(
            "Object3D takes an array of points, a scene dict, a file path or a file object; "
            f"got {type(data).__name__}"
        )
    if arr.ndim != 2 or arr.shape[1] not in _COLUMNS or arr.dtype.kind not in "biuf":
        raise ValueError(
            f"Object3D points must be an (N, 3) [x y z], (N, 4) [x y z category] or (N, 6) "
            f"[x y z r g b] array of numbers; got shape {tuple(arr.shape)}, dtype {arr.dtype}"
        )
    return arr


def _json(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode("utf-8")


def _scene(data: Mapping[str, Any]) -> bytes:
    """A ``{"type": "lidar/beta", ...}`` dict as its pts.json file."""
    import numpy as np

    if data.get("type") not in POINT_CLOUD_TYPES:
        raise ValueError(
            f"Object3D scene type must be one of {list(POINT_CLOUD_TYPES)}; got {data.get('type')!r}"
        )
    scene: dict[str, Any] = {"type": data["type"]}
    for name in ("vectors", "points", "boxes"):
        value = data.get(name, [])
        scene[name] = value.tolist() if isinstance(value, np.ndarray) else _plain(value)
    return _json(scene)


def _plain(value: Any) -> Any:
    """Lists, dicts and numpy values as plain JSON-able Python."""
    import numpy as np

    if isinstance(value, np.ndarray | np.generic):
        return value.tolist()
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


class Object3D(FileMedia):
    """A point cloud or a 3-D model.

    Args:
        data_or_path: an ``(N, 3)``, ``(N, 4)`` or ``(N, 6)`` array of points; a
            ``{"type": "lidar/beta", "points": ..., "boxes": ..., "vectors": ...}`` scene; a
            path to an obj, gltf, glb, babylon, stl or pts.json file; or a file object (with
            ``file_type``).
        caption: text shown with the object.
        file_type: the format of a file object (e.g. ``"obj"``).

    Arrays are turned into JSON now (the file is as large as the list; there is no other work
    to defer), files are read now.
    """

    _log_type = "object3D-file"
    _kind = "object3D"

    def __init__(self, data_or_path: Any, caption: str | None = None, file_type: str | None = None) -> None:
        self._caption = check_caption(caption, "Object3D")
        if is_path(data_or_path):
            name = os.fspath(data_or_path)
            ext = extension_of(name, FORMATS)
            if ext is None:
                raise ValueError(f"Object3D file {name!r} is not one of {list(FORMATS)} (by its extension)")
            self._raw, self._ext = read_path(name, "Object3D"), ext
        elif is_file_like(data_or_path):
            if file_type not in FORMATS:
                raise ValueError(
                    f"Object3D from a file object needs file_type= one of {list(FORMATS)}; got {file_type!r}"
                )
            self._raw, self._ext = read_file_like(data_or_path, "Object3D"), str(file_type)
        elif isinstance(data_or_path, Mapping):
            self._raw, self._ext = _scene(data_or_path), "pts.json"
        else:
            self._raw, self._ext = _json(_points(data_or_path).tolist()), "pts.json"

    @classmethod
    def from_numpy(cls, data: Any) -> Object3D:
        """A point cloud from an ``(N, 3|4|6)`` array."""
        return cls(_points(data))

    @classmethod
    def from_file(cls, data_or_path: Any, file_type: str | None = None) -> Object3D:
        return cls(data_or_path, file_type=file_type)

    @classmethod
    def from_point_cloud(
        cls,
        points: Sequence[Any],
        boxes: Sequence[Mapping[str, Any]],
        vectors: Sequence[Mapping[str, Any]] | None = None,
        point_cloud_type: str = "lidar/beta",
    ) -> Object3D:
        """A scene of points with labelled boxes (see ``box3d``) and arrows (``{"start", "end"}``)."""
        return cls({"type": point_cloud_type, "points": points, "boxes": boxes, "vectors": vectors or []})

    @property
    def format(self) -> str:
        return self._ext

    def _content(self) -> tuple[bytes, str]:
        return self._raw, self._ext

    def __repr__(self) -> str:
        return f"Object3D({self._ext}, {len(self._raw)} bytes)"


def _rotation(quaternion: np.ndarray) -> np.ndarray:
    """The matrix R of the unit quaternion (r, x, y, z) that rotates row vectors as ``v @ R``."""
    import numpy as np

    norm = np.linalg.norm(quaternion)
    if not norm > 0:
        raise ValueError("box3d orientation must be a non-zero quaternion (r, x, y, z)")
    r, i, j, k = quaternion / norm
    return np.array(
        [
            [1 - 2 * (j * j + k * k), 2 * (i * j + k * r), 2 * (i * k - j * r)],
            [2 * (i * j - k * r), 1 - 2 * (i * i + k * k), 2 * (j * k + i * r)],
            [2 * (i * k + j * r), 2 * (j * k - i * r), 1 - 2 * (i * i + j * j)],
        ]
    )


def box3d(
    *,
    center: Any,
    size: Any,
    orientation: Any,
    color: Sequence[float],
    label: str | None = None,
    score: float | None = None,
) -> dict[str, Any]:
    """A box for ``Object3D.from_point_cloud``: its 8 corners from a center, a size (x, y, z) and
    an orientation quaternion (r, x, y, z), with an RGB ``color`` in [0, 1], a label and a score."""
    import numpy as np

    parts = {"center": (center, 3), "size": (size, 3), "orientation": (orientation, 4)}
    values = {}
    for name, (value, length) in parts.items():
        arr = np.asarray(value, dtype=np.float64)
        if arr.shape != (length,):
            raise ValueError(f"box3d {name} must have {length} numbers; got shape {arr.shape}")
        values[name] = arr
    unit = np.array(list(itertools.product((-1, 1), repeat=3)), dtype=np.float64)
    corners = values["center"] + (0.5 * values["size"] * unit) @ _rotation(values["orientation"])
    return {"corners": [tuple(c) for c in corners.tolist()], "color": color, "label": label, "score": score}
