"""The server's side of ``init(resume="must")`` and ``init(resume_from=…)``: look up a run this
machine has not recorded, after rewinding it for ``resume_from``.

The SDK asks through the lookup ``wakelog/__init__.py`` registers (``sdk/_hooks.set_server_lookup``)
and turns the answer into the state the run continues from (``sdk/_resume.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from wakelog.errors import UsageError

if TYPE_CHECKING:
    from wakelog.sdk._hooks import ServerRun


def server_run(
    base_url: str, api_key: str, entity: str | None, project: str, run_id: str, rewind_to: int | None = None
) -> ServerRun | None:
    """The run's entity, project, detail and ack on the server; None when it does not know the run.

    ``entity`` None means the key's user. ``rewind_to``: the run is rewound to that step first
    (``POST …/rewind``); ``UsageError`` with the server's reason when it refuses (a step the run
    has not logged, no right to write). Raises ``CommError`` when the server cannot be asked.
    """
    from wakelog.transport.client import RejectedError, ServerClient

    client = ServerClient(base_url, api_key, timeout=10.0)
    try:
        entity = entity or client.whoami() or "default"
        run_path = f"{entity}/{project}/{run_id}"
        if rewind_to is not None:
            try:
                if not client.rewind(run_path, rewind_to):
                    return None
            except RejectedError as exc:
                raise UsageError(f"the server refused to rewind run {run_path}: {exc.detail}") from None
        detail = client.run(run_path)
        if detail is None:
            return None
        return {"entity": entity, "project": project, "detail": detail, "ack": client.ack(run_path)}
    finally:
        client.close()
