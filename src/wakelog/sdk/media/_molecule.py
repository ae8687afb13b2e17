"""Molecules: structure files (PDB, mmCIF, SDF, MOL2…) stored as they are, drawn by the web app."""

from __future__ import annotations

import os
from typing import Any

from ._source import FileMedia, check_caption, extension_of, is_file_like, is_path, read_file_like, read_path

FORMATS = ("pdb", "pqr", "mmcif", "mcif", "cif", "sdf", "sd", "gro", "mol2", "mmtf")


class Molecule(FileMedia):
    """A molecule from a structure file.

    Args:
        data_or_path: a path to a pdb, pqr, mmcif, mcif, cif, sdf, sd, gro, mol2 or mmtf
            file, or a file object (then ``file_type`` names the format).
        caption: text shown with the molecule.
        file_type: the format of a file object (e.g. ``"pdb"``).
    """

    _log_type = "molecule-file"
    _kind = "molecule"

    def __init__(self, data_or_path: Any, caption: str | None = None, file_type: str | None = None) -> None:
        self._caption = check_caption(caption, "Molecule")
        if is_path(data_or_path):
            name = os.fspath(data_or_path)
            ext = extension_of(name, FORMATS)
            if ext is None:
                raise ValueError(f"Molecule file {name!r} is not one of {list(FORMATS)} (by its extension)")
            self._raw = read_path(name, "Molecule")
        elif is_file_like(data_or_path):
            if file_type is None or str(file_type).lower() not in FORMATS:
                raise ValueError(
                    f"Molecule from a file object needs file_type= one of {list(FORMATS)}; got {file_type!r}"
                )
            ext = str(file_type).lower()
            self._raw = read_file_like(data_or_path, "Molecule")
        else:
            raise TypeError(
                f"Molecule takes a structure file path or a file object; got {type(data_or_path).__name__}"
            )
        self._ext = ext

    @property
    def format(self) -> str:
        return self._ext

    def _content(self) -> tuple[bytes, str]:
        return self._raw, self._ext

    def __repr__(self) -> str:
        return f"Molecule({self._ext}, {len(self._raw)} bytes)"
