"""Image arrays to 8-bit pixels, with wandb's range rule.

wandb guesses the range of an array from its minimum and maximum and then
*truncates* (``astype(uint8)``), it never rounds:

- all values in [0, 1]: multiplied by 255 (0.999 → 254, 0.5 → 127);
- all values in [-1, 1] (some below 0): mapped -1 → 0, 1 → 255 by ``127.5 * (x + 1)``;
- anything else: clipped to [0, 255], then truncated (100.9 → 100).

The rule looks at the whole array, alpha included, and applies to integer and
boolean arrays too (an integer array of 0s and 1s becomes 0 and 255). The
arithmetic runs in the array's own dtype, as numpy does for wandb, so results
are byte-identical. A NaN anywhere makes the minimum NaN, so such an array is
clipped, not scaled (wandb does the same); NaN pixels become 0. With
``normalize=False`` the values are cast to uint8 as they are.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

_CHANNELS = (1, 3, 4)


def check_array(arr: np.ndarray) -> tuple[np.ndarray, int, int]:
    """Validate an image array; return an HW/HWC view of it (CHW is transposed) and its height, width."""
    shape = tuple(arr.shape)
    if arr.size == 0:
        raise ValueError(f"Image got an empty array (shape {shape}); it needs at least one pixel")
    if arr.ndim == 3:
        if shape[-1] in _CHANNELS:
            pass
        elif shape[0] in _CHANNELS:
            arr = arr.transpose(1, 2, 0)  # CHW -> HWC
        else:
            raise ValueError(
                f"Image got an array of shape {shape}: neither the last (HWC) nor the first (CHW) "
                f"dimension is a channel count of 1, 3 or 4"
            )
        if arr.shape[-1] == 1:
            arr = arr[..., 0]
    elif arr.ndim != 2:
        hint = "; log a list of Images for a batch" if arr.ndim == 4 else ""
        raise ValueError(f"Image got an array of shape {shape}; expected 2 (HW) or 3 (HWC/CHW) dims{hint}")
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"Image arrays must hold bool, integer or float values; got dtype {arr.dtype}")
    return arr, int(arr.shape[0]), int(arr.shape[1])


def to_uint8(arr: np.ndarray, normalize: bool = True) -> np.ndarray:
    """Pixel values of a checked HW/HWC array as C-contiguous uint8 (see the module docstring)."""
    import numpy as np

    if arr.dtype.kind == "b":
        arr = arr.astype(np.uint8)
    if not normalize:
        return _cast(arr)
    low, high = arr.min(), arr.max()
    if low >= 0 and high <= 1:
        return _cast(arr * 255)
    if low >= -1 and high <= 1:
        return _cast(127.5 * (arr + 1))
    if arr.dtype.kind in "ui":
        return np.ascontiguousarray(np.clip(arr, 0, 255).astype(np.uint8))
    return _cast(np.clip(arr, 0, 255))


def _cast(arr: np.ndarray) -> np.ndarray:
    """``astype(uint8)`` with NaN as 0 (a bare cast leaves NaN to the platform)."""
    import numpy as np

    if arr.dtype.kind == "f":
        arr = np.where(np.isnan(arr), 0, arr)
    with np.errstate(invalid="ignore"):  # out-of-range casts wrap, as wandb's do with normalize=False
        return np.ascontiguousarray(arr.astype(np.uint8))
