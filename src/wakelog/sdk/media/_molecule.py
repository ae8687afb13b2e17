"""Molecules: structure files (PDB, mmCIF, SDF, MOL2…) stored as they are, drawn by the web app.

``Molecule.from_rdkit``/``from_smiles`` turn an RDKit molecule (from the ``wakelog[media]``
extra), a ``.mol``/``.sdf`` file or a SMILES string into a PDB block, as wandb does:
hydrogens added, embedded in 3-D and MMFF-optimised unless told not to.
"""

from __future__ import annotations

import io
import os
from typing import Any

from ._source import FileMedia, check_caption, extension_of, is_file_like, is_path, read_file_like, read_path

FORMATS = ("pdb", "pqr", "mmcif", "mcif", "cif", "sdf", "sd", "gro", "mol2", "mmtf")
#: The files ``from_rdkit`` reads with RDKit (only the first molecule of an SDF).
RDKIT_FORMATS = ("mol", "sdf")


def _rdkit() -> Any:
    try:
        from rdkit import Chem  # type: ignore[import-not-found, import-untyped, unused-ignore]
        from rdkit.Chem import AllChem  # type: ignore[import-not-found, import-untyped, unused-ignore]
    except ImportError:
        raise ImportError(
            "Molecule.from_rdkit and Molecule.from_smiles need RDKit: pip install 'wakelog[media]'"
        ) from None
    return Chem, AllChem


def _read_rdkit_file(chem: Any, path: str) -> Any:
    ext = extension_of(path, RDKIT_FORMATS)
    if ext is None:
        raise ValueError(f"Molecule.from_rdkit reads only {list(RDKIT_FORMATS)} files; got {path!r}")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"Molecule.from_rdkit: no such file {path!r}")
    if ext == "sdf":
        with chem.SDMolSupplier(path) as supplier:
            molecule = next(iter(supplier), None)
    else:
        molecule = chem.MolFromMolFile(path)
    if molecule is None:
        raise ValueError(f"Molecule.from_rdkit: RDKit could not read a molecule from {path!r}")
    return molecule


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

    @classmethod
    def from_rdkit(
        cls,
        data_or_path: Any,
        caption: str | None = None,
        convert_to_3d_and_optimize: bool = True,
        mmff_optimize_molecule_max_iterations: int = 200,
    ) -> Molecule:
        """A molecule from an ``rdkit.Chem.Mol`` or a ``.mol``/``.sdf`` file, stored as PDB.

        With ``convert_to_3d_and_optimize`` hydrogens are added, the molecule is
        embedded in 3-D and MMFF-optimised for at most
        ``mmff_optimize_molecule_max_iterations`` steps (slow for large molecules).
        """
        chem, all_chem = _rdkit()
        if is_path(data_or_path):
            molecule = _read_rdkit_file(chem, os.fspath(data_or_path))
        elif isinstance(data_or_path, chem.rdchem.Mol):
            molecule = data_or_path
        else:
            raise TypeError(
                "Molecule.from_rdkit takes an rdkit.Chem.Mol or a path to a .mol or .sdf file; "
                f"got {type(data_or_path).__name__}"
            )
        if convert_to_3d_and_optimize:
            molecule = chem.AddHs(molecule)
            all_chem.EmbedMolecule(molecule)
            all_chem.MMFFOptimizeMolecule(molecule, maxIters=mmff_optimize_molecule_max_iterations)
        return cls(io.StringIO(chem.MolToPDBBlock(molecule)), caption=caption, file_type="pdb")

    @classmethod
    def from_smiles(
        cls,
        data: str,
        caption: str | None = None,
        sanitize: bool = True,
        convert_to_3d_and_optimize: bool = True,
        mmff_optimize_molecule_max_iterations: int = 200,
    ) -> Molecule:
        """A molecule from a SMILES string, stored as ``from_rdkit`` does.

        ``sanitize`` runs RDKit's chemical sanity checks while parsing.
        """
        chem, _ = _rdkit()
        if not isinstance(data, str):
            raise TypeError(f"Molecule.from_smiles takes a SMILES str; got {type(data).__name__}")
        molecule = chem.MolFromSmiles(data, sanitize=sanitize)
        if molecule is None:
            raise ValueError(f"Molecule.from_smiles: RDKit could not parse the SMILES string {data!r}")
        return cls.from_rdkit(
            molecule,
            caption=caption,
            convert_to_3d_and_optimize=convert_to_3d_and_optimize,
            mmff_optimize_molecule_max_iterations=mmff_optimize_molecule_max_iterations,
        )

    @property
    def format(self) -> str:
        return self._ext

    def _content(self) -> tuple[bytes, str]:
        return self._raw, self._ext

    def __repr__(self) -> str:
        return f"Molecule({self._ext}, {len(self._raw)} bytes)"
