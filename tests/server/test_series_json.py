"""Numeric series in JSON answers (``server/http.py``): numpy arrays written by orjson must read back
as the very numbers they hold, and the non-finite ones as the strings the API promises ("NaN",
"Infinity", "-Infinity"), whatever the array holds."""

from __future__ import annotations

import json
import math

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from wakelog.server.http import json_numbers, series_json_response

_WRITTEN = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def refuse(constant: str) -> None:
    raise AssertionError(f"{constant} is not JSON")


def read_back(values: list[float | str]) -> np.ndarray:
    return np.array([_WRITTEN[v] if isinstance(v, str) else v for v in values], dtype=np.float64)


@given(
    hnp.arrays(np.float64, st.integers(0, 50), elements=st.floats(width=64)),
    hnp.arrays(np.int64, st.integers(0, 50)),
)
def test_a_series_reads_back_as_the_numbers_it_holds(values: np.ndarray, steps: np.ndarray) -> None:
    strided = values[::2]  # a view that is not contiguous
    body = {"steps": json_numbers(steps), "values": json_numbers(values)}
    body["every_other"] = json_numbers(strided)
    answer = json.loads(series_json_response(body).body, parse_constant=refuse)
    assert answer["steps"] == steps.tolist()
    for name, array in (("values", values), ("every_other", strided)):
        back = read_back(answer[name])
        assert back.tobytes() == np.where(np.isnan(array), math.nan, array).tobytes()  # -0.0 and all
        non_finite = [v for v in answer[name] if isinstance(v, str)]
        assert len(non_finite) == int((~np.isfinite(array)).sum())
