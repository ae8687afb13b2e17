"""Turn user values (numpy arrays, framework tensors, sequences) into numpy arrays.

Kept separate because every media type needs the same tensor rules, and the
rules hide a trap: a bfloat16 tensor's ``.numpy()`` returns its raw uint16 bit
patterns, not its values, so it has to be cast to float32 first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np


def _is_bfloat16(obj: Any) -> bool:
    dtype = getattr(obj, "dtype", None)
    return dtype is not None and "bfloat16" in str(dtype).lower()


def _cast_float32(tensor: Any) -> Any:
    """Cast a bf16 tensor with whatever method its framework offers; None if none works."""
    for method, args in (("astype", ("float32",)), ("cast", ("float32",)), ("float", ())):
        fn = getattr(tensor, method, None)
        if callable(fn):
            try:
                return fn(*args)
            except Exception:  # try the next spelling
                continue
    return None


def _tensor_numpy(tensor: Any) -> Any:
    try:
        return tensor.numpy()
    except (RuntimeError, TypeError):
        # torch refuses .numpy() on tensors that need grad or live on a GPU.
        detached = tensor.detach() if callable(getattr(tensor, "detach", None)) else tensor
        if callable(getattr(detached, "cpu", None)):
            detached = detached.cpu()
        return detached.numpy()


def is_tensor_like(obj: Any) -> bool:
    """True for framework tensors: objects with a ``.numpy()`` method that are not numpy arrays."""
    import numpy as np

    return not isinstance(obj, np.ndarray | np.generic) and callable(getattr(obj, "numpy", None))


def to_numpy(obj: Any) -> np.ndarray:
    """Return ``obj`` as a numpy array (possibly sharing memory: copy before keeping it).

    Tensors go through ``.numpy()``; bfloat16 tensors are cast to float32 first, and
    if no cast works the uint16 bit patterns are reinterpreted as float32.
    """
    import numpy as np

    if isinstance(obj, np.ndarray):
        arr = obj
    elif is_tensor_like(obj):
        bf16 = _is_bfloat16(obj)
        source = obj
        if bf16:
            cast = _cast_float32(obj)
            if cast is not None:
                source, bf16 = cast, False
        arr = np.asarray(_tensor_numpy(source))
        if bf16 and arr.dtype == np.uint16:
            arr = (arr.astype(np.uint32) << 16).view(np.float32)
    else:
        arr = np.asarray(obj)
    if arr.dtype.name == "bfloat16":  # e.g. ml_dtypes arrays from JAX
        arr = arr.astype(np.float32)
    return arr
