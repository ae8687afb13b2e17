"""wakelog.Object3D (point clouds as wandb's pts.json, 3-D files, box3d) and wakelog.Molecule."""

from __future__ import annotations

import io
import itertools
import json
from pathlib import Path

import numpy as np
import pytest

from wakelog.sdk.media import Molecule, Object3D, box3d


def content(run_dir: Path, stub: dict) -> bytes:
    return (run_dir / "files" / stub["path"]).read_bytes()


@pytest.mark.parametrize("columns", [3, 4, 6])
def test_point_cloud_is_compact_json_of_rows(tmp_path: Path, columns: int) -> None:
    points = np.arange(2 * columns, dtype=np.float32).reshape(2, columns) / 2
    stub = Object3D(points, caption="cloud").to_stub(tmp_path, "pc", 4)
    assert set(stub) == {"_type", "path", "sha256", "size", "caption"}
    assert stub["_type"] == "object3D-file"
    assert stub["path"].startswith("media/object3D/pc_4_") and stub["path"].endswith(".pts.json")
    assert content(tmp_path, stub) == json.dumps(points.tolist(), separators=(",", ":")).encode()


def test_integer_points_stay_integers(tmp_path: Path) -> None:
    stub = Object3D(np.array([[1, 2, 3]])).to_stub(tmp_path, "i", 0)
    assert content(tmp_path, stub) == b"[[1,2,3]]"


def test_point_cloud_scene_layout(tmp_path: Path) -> None:
    box = box3d(
        center=(1, 2, 3), size=(2, 4, 6), orientation=(1, 0, 0, 0), color=(1, 0, 0), label="car", score=0.9
    )
    vector = {"start": [0, 0, 0], "end": [1, 1, 1]}
    obj = Object3D.from_point_cloud(points=np.zeros((2, 3)), boxes=[box], vectors=[vector])
    scene = json.loads(content(tmp_path, obj.to_stub(tmp_path, "scene", 0)))
    assert list(scene) == ["type", "vectors", "points", "boxes"]
    assert (
        scene["type"] == "lidar/beta" and scene["points"] == [[0.0] * 3] * 2 and scene["vectors"] == [vector]
    )
    (stored,) = scene["boxes"]
    assert stored["label"] == "car" and stored["score"] == 0.9 and stored["color"] == [1, 0, 0]
    assert stored["corners"] == [
        [1 + x, 2 + 2 * y, 3 + 3 * z] for x, y, z in itertools.product((-1, 1), repeat=3)
    ]


def test_box3d_rotates_corners() -> None:
    quarter = (np.cos(np.pi / 4), 0, 0, np.sin(np.pi / 4))  # 90 degrees about z
    box = box3d(center=(0, 0, 0), size=(2, 0, 0), orientation=quarter, color=(0, 0, 1))
    xy = {(round(x, 9), round(y, 9)) for x, y, _ in box["corners"]}
    assert xy == {(0.0, 1.0), (0.0, -1.0)}  # the x extent now lies along y
    with pytest.raises(ValueError, match="non-zero quaternion"):
        box3d(center=(0, 0, 0), size=(1, 1, 1), orientation=(0, 0, 0, 0), color=(0, 0, 0))
    with pytest.raises(ValueError, match="center must have 3 numbers"):
        box3d(center=(0, 0), size=(1, 1, 1), orientation=(1, 0, 0, 0), color=(0, 0, 0))


@pytest.mark.parametrize(
    "name", ["mesh.obj", "scene.glb", "model.gltf", "part.STL", "x.babylon", "c.pts.json"]
)
def test_files_keep_bytes_and_extension(tmp_path: Path, name: str) -> None:
    source = tmp_path / name
    source.write_bytes(b"3-d bytes")
    stub = Object3D(source).to_stub(tmp_path, "m", 0)
    assert stub["path"].endswith("." + name.split(".", 1)[1].lower())
    assert content(tmp_path, stub) == b"3-d bytes"
    from_io = Object3D(io.StringIO("v 0 0 0\n"), file_type="obj").to_stub(tmp_path, "o", 0)
    assert content(tmp_path, from_io) == b"v 0 0 0\n" and from_io["path"].endswith(".obj")


@pytest.mark.parametrize(
    ("value", "kwargs", "error", "match"),
    [
        (np.zeros((3, 5)), {}, ValueError, "got shape \\(3, 5\\)"),
        (np.zeros(3), {}, ValueError, "got shape \\(3,\\)"),
        ("mesh.fbx", {}, ValueError, "not one of"),
        ("gone.obj", {}, FileNotFoundError, "gone.obj"),
        (io.StringIO("x"), {}, ValueError, "needs file_type="),
        ({"type": "radar"}, {}, ValueError, "scene type must be one of \\['lidar/beta'\\]"),
        (object(), {}, TypeError, "Object3D takes"),
        (np.zeros((1, 3)), {"caption": 2}, TypeError, "caption must be a str"),
    ],
)
def test_object3d_refusals(value: object, kwargs: dict, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        Object3D(value, **kwargs)


@pytest.mark.parametrize("ext", ["pdb", "pqr", "mmcif", "mcif", "cif", "sdf", "sd", "gro", "mol2", "mmtf"])
def test_molecule_files(tmp_path: Path, ext: str) -> None:
    source = tmp_path / f"protein.{ext}"
    source.write_bytes(b"ATOM      1  N   ALA A   1")
    stub = Molecule(source, caption="ala").to_stub(tmp_path, "mol", 1)
    assert set(stub) == {"_type", "path", "sha256", "size", "caption"}
    assert stub["_type"] == "molecule-file"
    assert stub["path"].startswith("media/molecule/mol_1_") and stub["path"].endswith("." + ext)
    assert content(tmp_path, stub) == source.read_bytes()


def test_molecule_from_file_object_and_refusals(tmp_path: Path) -> None:
    stub = Molecule(io.StringIO("HETATM"), file_type="pdb").to_stub(tmp_path, "m", 0)
    assert content(tmp_path, stub) == b"HETATM" and stub["path"].endswith(".pdb")
    with pytest.raises(ValueError, match="needs file_type="):
        Molecule(io.StringIO("x"))
    with pytest.raises(ValueError, match="not one of"):
        Molecule("ligand.xyz")
    with pytest.raises(TypeError, match="Molecule takes"):
        Molecule(np.zeros((2, 3)))
