"""CRC-32C (Castagnoli) and the "masked" form TFRecord files store.

Pure Python and table-driven: tfevents files of a training run are small, and this keeps the
reader free of compiled dependencies. The ``crc32c`` package is used instead when installed.
"""

from __future__ import annotations

from collections.abc import Callable

_POLY = 0x82F63B78  # CRC-32C, reflected
_MASK_DELTA = 0xA282EAD8


def _table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ _POLY if crc & 1 else crc >> 1
        table.append(crc)
    return table


_TABLE = _table()


def _crc32c_python(data: bytes) -> int:
    crc = 0xFFFFFFFF
    table = _TABLE
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def _fast() -> Callable[[bytes], int] | None:
    try:
        from crc32c import crc32c  # type: ignore[import-not-found]
    except ImportError:
        return None
    return crc32c  # type: ignore[no-any-return]


crc32c: Callable[[bytes], int] = _fast() or _crc32c_python


def masked_crc32c(data: bytes) -> int:
    """The checksum TFRecord framing stores: the CRC rotated right by 15 bits plus a constant."""
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF
