"""The HTTP client for the server's ingest API (one small seam at the I/O edge).

Errors are sorted by what the caller should do: ``RetryableError`` (network trouble, 5xx, 429) —
try again later; ``SequenceGap`` — resend from ``ack + 1``; ``RejectedError`` (other 4xx) —
retrying cannot help, tell the user. A chunk of an upload that collides with another upload of the
same content (``chunk_rejected``: two runs of one user saving the same file at once) is no refusal:
``upload_file`` asks where the content stands and goes on from there.
"""

from __future__ import annotations

import gzip
import hashlib
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import msgspec

from wakelog._backoff import Backoff
from wakelog._version import __version__
from wakelog.errors import CommError

UPLOAD_CHUNK = 8 * 1024 * 1024
STREAM_PIECE = 1024 * 1024
#: How often one upload goes on after colliding with another of the same content before giving up
#: for now (a ``RetryableError``: the uploader's next scan tries again).
UPLOAD_RETRIES = 8
#: The longest interval between a live run's batches a server may ask for (what ``wakelog server
#: --max-send-interval`` takes); a longer or malformed one is ignored.
MAX_SEND_INTERVAL = 60.0
_encoder = msgspec.msgpack.Encoder()


def _pieces(f: Any, length: int) -> Iterator[bytes]:
    """The next ``length`` bytes of ``f`` in small pieces: a chunk is streamed, never held whole
    (8 MiB buffers, copied on the way, kept the uploader's memory up by ~150 MB on big files)."""
    while length > 0:
        piece = f.read(min(STREAM_PIECE, length))
        if not piece:
            raise OSError(f"{f.name} is shorter than when it was hashed")
        length -= len(piece)
        yield piece


class RetryableError(CommError):
    """The server could not be reached or had a temporary problem; ``retry_after``: the seconds
    it asked the client to wait (its ``Retry-After``, on a 429 or 503), if it said."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RejectedError(CommError):
    """The server refused the request; the message has its reason."""

    def __init__(self, status: int, detail: str, body: dict[str, Any] | None = None) -> None:
        super().__init__(f"server refused the request ({status}): {detail}")
        self.status = status
        self.detail = detail
        self.body = body or {}  # the answer's fields: ``code``, and ``received`` for a chunk

    @property
    def code(self) -> str | None:
        code = self.body.get("code")
        return code if isinstance(code, str) else None


class SequenceGap(CommError):
    def __init__(self, ack: int) -> None:
        super().__init__(f"the server has records up to seq {ack}")
        self.ack = ack


def _body(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _detail(response: httpx.Response) -> str:
    return str(_body(response).get("detail", response.text[:200]))


def _retry_after(response: httpx.Response) -> float | None:
    """The ``Retry-After`` seconds of an answer (capped at 10 minutes), or None."""
    try:
        return min(max(float(response.headers["retry-after"]), 0.0), 600.0)
    except (KeyError, ValueError):
        return None  # absent, or an HTTP date (wakelog's server sends seconds)


def _hash_file(path: Path) -> tuple[str, int]:
    """(sha256, size) of the file as it is now. The bytes hashed are the bytes sent: a file that
    grows meanwhile (a live run's files) is uploaded as it was when hashed, and picked up again by
    the next scan."""
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as f:
        while block := f.read(1024 * 1024):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size


class ServerClient:
    """One server's ingest API. ``transport`` replaces the network (tests pass an in-process app)."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        self._sleep = sleep  # injectable: tests wait out upload collisions in simulated time
        #: The server answered a batch with ``stop``: someone stopped the run in the web app.
        self.stop_requested = False
        #: The seconds the server asked to leave between a live run's batches with its last answer
        #: (it is busy: server/pacing.py); None: it asked for nothing.
        self.send_interval: float | None = None
        self._http = httpx.Client(
            base_url=self.base_url,
            auth=("api", api_key),
            timeout=timeout,
            headers={"User-Agent": f"wakelog/{__version__}"},
            transport=transport,
        )

    def close(self) -> None:
        self._http.close()

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise RetryableError(f"cannot reach {self.base_url}: {exc}") from exc
        self._raise_for(response)
        return response

    def _raise_for(self, response: httpx.Response) -> None:
        """Raise the error an answer means (nothing for a success)."""
        if response.status_code >= 500 or response.status_code == 429:
            raise RetryableError(
                f"{self.base_url} answered {response.status_code}: {_detail(response)}",
                _retry_after(response),
            )
        if response.status_code == 409 and _body(response).get("code") == "sequence_gap":
            raise SequenceGap(int(response.json()["ack"]))
        if response.status_code >= 400:
            raise RejectedError(response.status_code, _detail(response), _body(response))

    def whoami(self) -> str | None:
        """The username behind the key (the default entity), if the server says; remembered for the
        next ``init()`` (``sdk/_login.remember_entity``)."""
        from wakelog.sdk._login import remember_entity

        try:
            username = self._request("GET", "/api/v1/auth/me").json().get("username")
        except RejectedError as exc:
            if exc.status == 404:
                return None
            raise
        if username is None:
            return None
        remember_entity(self.base_url, self._api_key, str(username))
        return str(username)

    def run(self, run_path: str) -> dict[str, Any] | None:
        """A run's detail (identity, state, config, summary, last step), or None if unknown."""
        try:
            detail: dict[str, Any] = self._request("GET", f"/api/v1/runs/{run_path}").json()
        except RejectedError as exc:
            if exc.status == 404:
                return None
            raise
        return detail

    def rewind(self, run_path: str, step: int) -> bool:
        """Rewind the run to ``step`` (its history after it cut away); False if the server does
        not know the run. Raises ``RejectedError`` for a step the run has not logged."""
        try:
            self._request("POST", f"/api/v1/runs/{run_path}/rewind", json={"step": step})
        except RejectedError as exc:
            if exc.status == 404:
                return False
            raise
        return True

    def ack(self, run_path: str) -> int:
        return int(self._request("GET", f"/api/v1/runs/{run_path}/ack").json()["ack"])

    def send_records(self, run_path: str, records: list[Any]) -> int:
        body = gzip.compress(_encoder.encode(records), compresslevel=1)
        response = self._request(
            "POST",
            f"/api/v1/runs/{run_path}/records",
            content=body,
            headers={"Content-Type": "application/msgpack", "Content-Encoding": "gzip"},
        )
        answer = response.json()
        if answer.get("stop") is True:
            self.stop_requested = True
        interval = answer.get("interval")
        valid = type(interval) in (int, float) and 0 < interval <= MAX_SEND_INTERVAL
        self.send_interval = float(interval) if valid else None
        return int(answer["ack"])

    def upload_file(
        self, run_path: str, path: Path, progress: Callable[[int], None] | None = None
    ) -> tuple[str, int]:
        """Upload a file's content for the run (resuming a partial upload, skipping known content).

        Another upload of the same content by the same user (a parallel run saving the same
        file) may finish it or move it on meanwhile: a rejected chunk is no refusal, the upload
        asks where the content stands and goes on from there, with backoff, a bounded number of
        times (then ``RetryableError``: the caller tries again later).
        """
        sha256, size = _hash_file(path)
        self.upload_content(run_path, path, sha256, size, progress)
        return sha256, size

    def upload_content(
        self, run_path: str, path: Path, sha256: str, size: int, progress: Callable[[int], None] | None = None
    ) -> None:
        """Upload a file whose sha256 and size are known (``upload_file`` without hashing first);
        the server checks the hash when the upload completes."""
        backoff = Backoff(0.05, 2.0)
        for _ in range(UPLOAD_RETRIES):
            try:
                self._send_content(run_path, path, sha256, size, progress)
                return
            except RejectedError as exc:
                if exc.code != "chunk_rejected":
                    raise
                self._sleep(backoff.next())
        raise RetryableError(
            f"the upload of {path.name} kept colliding with another upload of the same content"
        )

    def _send_content(
        self, run_path: str, path: Path, sha256: str, size: int, progress: Callable[[int], None] | None
    ) -> None:
        blob = f"/api/v1/runs/{run_path}/blobs/{sha256}"
        status = self._request("GET", blob).json()
        complete = bool(status.get("complete"))
        offset = size if complete else int(status.get("received", 0))
        with open(path, "rb") as f:
            # At least one PUT until the server says complete: every byte may be staged already
            # (the server stopped between the last chunk and publishing it), and then an empty
            # last chunk publishes the content.
            while not complete:
                length = min(UPLOAD_CHUNK, size - offset)
                f.seek(offset)
                result = self._request(
                    "PUT",
                    blob,
                    params={"offset": offset, "total": size},
                    content=_pieces(f, length),
                    headers={"Content-Length": str(length)},
                ).json()
                received, complete = int(result["received"]), bool(result.get("complete"))
                if progress:
                    progress(length)
                if not complete and length == 0 and received == offset:
                    raise RetryableError(f"the server did not complete the upload of {path.name}")
                offset = received

    def upload_whole(self, run_path: str, contents: list[tuple[str, bytes]]) -> None:
        """Upload small contents (sha256, bytes) whole in one request; the server checks each
        against its hash and refuses the request (nothing recorded) if one does not match."""
        body = b"".join(bytes.fromhex(sha) + len(data).to_bytes(8, "big") + data for sha, data in contents)
        self._request("POST", f"/api/v1/runs/{run_path}/blobs", content=body)

    def attach_files(self, run_path: str, files: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Point run file names at uploaded content; returns the files the server refused
        (``{"name", "detail"}`` each: a name it does not take), the rest are attached."""
        answer = self._request("POST", f"/api/v1/runs/{run_path}/files", json={"files": files}).json()
        refused = answer.get("refused") if isinstance(answer, dict) else None
        return list(refused) if isinstance(refused, list) else []
