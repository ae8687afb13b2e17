"""``init(resume="must")`` for a run this machine has not recorded: ask the server.

This is the one place ``init()`` talks to the network, because "must" means the run has to exist
and its steps, sequence numbers, config and summary have to continue from where it stopped.
"""

from __future__ import annotations

from wakelog.errors import CommError, UsageError
from wakelog.sdk._local_runs import LocalRunState
from wakelog.sdk._settings import Settings


def server_state(settings: Settings, run_id: str) -> LocalRunState | None:
    """The run as the server has it, or None when the server does not know it."""
    from wakelog.sdk._login import api_key_for
    from wakelog.transport.client import ServerClient

    base_url = settings.base_url or ""
    key = api_key_for(base_url)
    if not key:
        raise UsageError(f"init(resume='must'): no API key for {base_url} to look the run up")
    client = ServerClient(base_url, key, timeout=10.0)
    try:
        entity = settings.entity or client.whoami() or "default"
        project = settings.project or "uncategorized"
        run_path = f"{entity}/{project}/{run_id}"
        detail = client.run(run_path)
        if detail is None:
            return None
        ack = client.ack(run_path)
    except CommError as exc:
        raise CommError(f"init(resume='must'): cannot look run {run_id!r} up on {base_url}: {exc}") from exc
    finally:
        client.close()
    identity = {
        "id": run_id,
        "project": project,
        "entity": entity,
        **{
            k: detail.get(k)
            for k in ("name", "group", "job_type", "notes", "tags")
            if detail.get(k) is not None
        },
    }
    return LocalRunState(
        run_dir=None,
        identity=identity,
        config=dict(detail.get("config") or {}),
        summary=dict(detail.get("summary") or {}),
        last_step=int(detail.get("last_step", -1)),
        last_seq=ack,
    )
