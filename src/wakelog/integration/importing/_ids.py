"""Deterministic run ids for imported runs: the same source always maps to the same run."""

from __future__ import annotations

import hashlib

_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"
LENGTH = 12


def run_id(kind: str, *identity: str) -> str:
    """A 12-character base-36 id from the source format and what identifies the run in it."""
    digest = hashlib.sha256("\x00".join((kind, *identity)).encode("utf-8", "surrogateescape")).digest()
    number = int.from_bytes(digest[:10], "big")
    chars = []
    for _ in range(LENGTH):
        number, index = divmod(number, 36)
        chars.append(_ALPHABET[index])
    return "".join(chars)


def display(text: str) -> str:
    """``text`` as valid UTF-8 (a file name that is not becomes readable with replacement marks)."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
