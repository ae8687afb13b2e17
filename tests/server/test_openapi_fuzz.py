"""Fuzz every documented endpoint of a real server (schemathesis, from its own OpenAPI schema).

Requests are authenticated with the admin key and built from ``/api/v1/openapi.json``, valid and
invalid alike; no answer may be a server error (5xx), and every error answer carries one of the
documented ``code``s. Bounded: a few examples per operation and generation mode, on each backend.
(Driven through schemathesis's Python API: its pytest plugin's lazy fixture schemas do not work
with this pytest.)
"""

from __future__ import annotations

import os
from typing import Any

import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from tests.harness import InProcessServer
from wakelog.server.errors import ErrorCode

CODES = {code.value for code in ErrorCode}

#: Examples per operation and mode: every operation on both backends stays well under a minute.
#: WAKELOG_TEST_FUZZ_EXAMPLES=50 WAKELOG_TEST_FUZZ_RANDOM=1 digs deeper, with new inputs each time.
MAX_EXAMPLES = int(os.environ.get("WAKELOG_TEST_FUZZ_EXAMPLES", "5"))
RANDOM = os.environ.get("WAKELOG_TEST_FUZZ_RANDOM") == "1"


def fuzz(
    session: requests.Session, operation: Any, mode: GenerationMode, base_url: str, headers: dict[str, str]
) -> tuple[int, list[str]]:
    """Call ``operation`` with up to MAX_EXAMPLES generated requests; (calls made, problems: server
    errors and error answers without a known code)."""
    calls: list[int] = []
    errors: list[str] = []
    name = f"{operation.method.upper()} {operation.path} ({mode.value})"

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=not RANDOM,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def call(case: schemathesis.Case) -> None:
        # Streamed, and closed after the status line: the SSE routes never end their bodies. A
        # connection each: one kept alive across a slow generation of the next case may be closed
        # by the server (its keep-alive timeout) as the next request goes out, a reset that says
        # nothing of the endpoint.
        request = case.as_transport_kwargs(base_url=base_url, headers={**headers, "Connection": "close"})
        with session.request(**request, stream=True, timeout=30) as response:
            status = response.status_code
            code = response.json().get("code") if status >= 400 and case.method != "HEAD" else None
        calls.append(status)
        if status >= 500:
            errors.append(f"{name} -> {status}: {case.as_curl_command(headers=headers)}")
        elif status >= 400 and code not in CODES:
            errors.append(f"{name} -> {status} with code {code!r}: {case.as_curl_command(headers=headers)}")

    try:
        call()
    except Unsatisfiable:  # nothing invalid to make: an operation without parameters or body
        if mode is GenerationMode.POSITIVE:
            raise
    return len(calls), errors


def test_no_endpoint_answers_with_a_server_error(server: InProcessServer) -> None:
    headers = {"Authorization": f"Bearer {server.key}"}
    schema = schemathesis.openapi.from_url(f"{server.url}/api/v1/openapi.json", headers=headers)
    server_errors: list[str] = []
    calls = 0
    session = requests.Session()
    for result in schema.get_all_operations():
        operation = result.ok()
        modes = list(GenerationMode)
        if not (len(operation.query) or len(operation.headers) or len(operation.body.items)):
            # Only path parameters: free-form strings, nothing invalid to make (and slow to find out).
            modes = [GenerationMode.POSITIVE]
        for mode in modes:
            made, errors = fuzz(session, operation, mode, server.url, headers)
            calls += made
            server_errors += errors
    assert calls > 50
    assert not server_errors, "\n".join(server_errors)
