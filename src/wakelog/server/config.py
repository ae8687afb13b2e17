"""Server settings: where data lives and how the server listens."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wakelog._dirs import server_data_dir as default_data_dir


@dataclass
class ServerConfig:
    """``wakelog server``'s options. Defaults: SQLite and a blob folder under ``data_dir``."""

    data_dir: Path = field(default_factory=default_data_dir)
    backend_store: str | None = None  # SQLAlchemy URL; default sqlite:///<data_dir>/wakelog.db
    artifact_root: str | None = None  # fsspec URL; default <data_dir>/blobs
    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 1
    #: Largest request body accepted (ingest batches, upload chunks).
    max_body_bytes: int = 64 * 1024 * 1024
    #: How long a browser session lasts.
    session_seconds: int = 14 * 24 * 3600
    #: Reverse proxies (addresses or networks) whose ``X-Forwarded-For`` / ``-Proto`` are believed.
    #: None by default: the headers are ignored, so nobody can claim another address.
    trusted_proxies: list[str] = field(default_factory=list)
    #: Writes one user may make per second (ingest, uploads: any non-GET request), with bursts of
    #: ``write_burst_seconds`` worth; 0 turns the limit off. A live run sends at most 1 per second.
    write_rate_per_user: float = 200.0
    write_burst_seconds: float = 10.0
    #: The longest interval between a live run's batches that a busy server asks its uploader for
    #: (``server/pacing.py``): how old a live chart's newest point may get. 1.5 s: with the
    #: uploader's 0.2 s polls and an answer's latency, a logged point is on the server within 2 s.
    #: 1.0 turns pacing off.
    max_send_interval: float = 1.5
    #: How often an open event stream checks that its client may still read it (it also checks at
    #: once when this server hears that a key was revoked, a session ended or a member removed).
    access_recheck_seconds: float = 30.0
    #: Free space kept on the disks of the database (SQLite) and the blob folder: below it, new
    #: data is refused with 507 while sign-in and reads keep working (``server/diskguard.py``).
    min_free_bytes: int = 1024**3
    #: Default storage quotas (None: unlimited); an admin sets others per user or entity
    #: (``server/quotas.py``). Bytes: blob content; rows: metric points, console lines, media rows.
    user_max_bytes: int | None = None
    user_max_rows: int | None = None
    entity_max_bytes: int | None = None
    entity_max_rows: int | None = None
    #: Unfinished uploads, and uploaded content no run refers to, are deleted after these many
    #: seconds, by the server every ``gc_seconds`` and by ``wakelog server gc`` (``server/expiry.py``).
    staging_max_age: float = 24 * 3600
    unattached_max_age: float = 7 * 24 * 3600
    gc_seconds: float = 3600
    #: Deleted artifact versions stay in the trash this long before their rows are purged (their
    #: content is then unattached, and goes after ``unattached_max_age`` like any other).
    trash_max_age: float = 7 * 24 * 3600
    #: Runs and projects deleted (put in their trash) are purged with their rows after this;
    #: content only they pointed at is then unattached and goes like any other.
    run_trash_max_age: float = 30 * 24 * 3600
    #: A sweep agent that sends no heartbeat for this long is dead: its unfinished trials crash.
    sweep_agent_timeout: float = 60.0
    #: Notifications (server/notify/): the SMTP server e-mails go through (none: no e-mail),
    #: ``smtp_security`` one of none, starttls, ssl; the password comes from
    #: ``$WAKELOG_SMTP_PASSWORD`` so it is never on a command line.
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: str | None = field(default_factory=lambda: os.environ.get("WAKELOG_SMTP_PASSWORD"))
    smtp_sender: str = "wakelog@localhost"
    smtp_security: str = "none"
    #: The address users open the web app at, for links in e-mails and webhook messages.
    public_url: str | None = None
    #: How long one e-mail or webhook call may take; how often the dispatcher looks for due
    #: sends and crashed runs (0: never by itself; tests step it); how often a send is tried,
    #: waiting ``delivery_backoff`` seconds after the first failure, doubling up to an hour.
    webhook_timeout: float = 10.0
    delivery_poll_seconds: float = 5.0
    delivery_max_attempts: int = 8
    delivery_backoff: float = 30.0

    @property
    def database_url(self) -> str:
        return self.backend_store or f"sqlite:///{self.data_dir / 'wakelog.db'}"

    @property
    def blob_root(self) -> str:
        return self.artifact_root or str(self.data_dir / "blobs")

    def storage_options(self) -> dict[str, Any]:
        """S3 settings from the environment, so MinIO, OSS, COS and BOS endpoints work."""
        options: dict[str, Any] = {}
        endpoint = os.environ.get("WAKELOG_S3_ENDPOINT_URL") or os.environ.get("AWS_ENDPOINT_URL")
        if endpoint and self.blob_root.startswith("s3://"):
            options["client_kwargs"] = {"endpoint_url": endpoint}
        return options

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::") else self.host
        return f"http://{host}:{self.port}"
