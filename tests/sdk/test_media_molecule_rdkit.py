"""Molecule.from_rdkit / Molecule.from_smiles: RDKit molecules stored as PDB, as wandb does."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from wakelog.sdk.media import Molecule

Chem = pytest.importorskip("rdkit.Chem")


def pdb_atoms(molecule: Molecule, run_dir: Path) -> list[str]:
    stub = molecule.to_stub(run_dir, "mol", 0)
    assert stub["_type"] == "molecule-file" and stub["path"].endswith(".pdb")
    text = (run_dir / "files" / stub["path"]).read_text()
    return [line for line in text.splitlines() if line.startswith(("ATOM", "HETATM"))]


def element(atom_line: str) -> str:
    return atom_line[76:78].strip()


def test_from_smiles_adds_hydrogens_and_3d_coordinates(tmp_path: Path) -> None:
    molecule = Molecule.from_smiles("CCO", caption="ethanol")
    assert molecule.format == "pdb"
    atoms = pdb_atoms(molecule, tmp_path)
    assert sorted(element(a) for a in atoms) == sorted("CCO" + "H" * 6)
    z = {float(a[46:54]) for a in atoms}
    assert len(z) > 1  # embedded in 3-D, not a flat drawing
    assert molecule.to_stub(tmp_path, "m", 1)["caption"] == "ethanol"


def test_from_smiles_without_conversion_keeps_the_heavy_atoms(tmp_path: Path) -> None:
    atoms = pdb_atoms(Molecule.from_smiles("CCO", convert_to_3d_and_optimize=False), tmp_path)
    assert [element(a) for a in atoms] == ["C", "C", "O"]


def test_from_smiles_sanitize_false_accepts_what_rdkit_would_reject(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="could not parse the SMILES"):
        Molecule.from_smiles("C(C)(C)(C)(C)C")  # a five-valent carbon fails sanitisation
    molecule = Molecule.from_smiles("C(C)(C)(C)(C)C", sanitize=False, convert_to_3d_and_optimize=False)
    assert len(pdb_atoms(molecule, tmp_path)) == 6


def test_from_rdkit_takes_a_mol_a_mol_file_and_the_first_molecule_of_an_sdf(tmp_path: Path) -> None:
    benzene = Chem.MolFromSmiles("c1ccccc1")
    quick = Molecule.from_rdkit(benzene, mmff_optimize_molecule_max_iterations=5)
    assert len(pdb_atoms(quick, tmp_path)) == 12
    mol_file = tmp_path / "water.mol"
    mol_file.write_text(Chem.MolToMolBlock(Chem.MolFromSmiles("O")))
    atoms = pdb_atoms(Molecule.from_rdkit(str(mol_file), convert_to_3d_and_optimize=False), tmp_path)
    assert [element(a) for a in atoms] == ["O"]
    sdf = tmp_path / "two.sdf"
    with Chem.SDWriter(str(sdf)) as writer:
        writer.write(Chem.MolFromSmiles("N"))
        writer.write(Chem.MolFromSmiles("CC"))
    atoms = pdb_atoms(Molecule.from_rdkit(sdf, convert_to_3d_and_optimize=False), tmp_path)
    assert [element(a) for a in atoms] == ["N"]


def test_from_rdkit_refusals(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"reads only \['mol', 'sdf'\]"):
        Molecule.from_rdkit(str(tmp_path / "x.pdb"))
    with pytest.raises(FileNotFoundError, match="no such file"):
        Molecule.from_rdkit(str(tmp_path / "missing.mol"))
    with pytest.raises(TypeError, match="rdkit.Chem.Mol or a path"):
        Molecule.from_rdkit(42)
    with pytest.raises(TypeError, match="SMILES str"):
        Molecule.from_smiles(b"CCO")  # type: ignore[arg-type]


def test_missing_rdkit_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "rdkit", None)  # as if not installed
    with pytest.raises(ImportError, match=r"wakelog\[media\]"):
        Molecule.from_smiles("CCO")
    with pytest.raises(ImportError, match=r"wakelog\[media\]"):
        Molecule.from_rdkit("x.mol")
