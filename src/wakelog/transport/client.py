"""The HTTP client for the server's ingest API (one small seam at the I/O edge).

Errors are sorted by what the caller should do: ``RetryableError`` (network trouble, 5xx, 429) —
try again later; ``SequenceGap`` — resend from ``ack + 1``; ``RejectedError`` (other 4xx) —
retrying cannot help, tell the user. A chunk of an upload that collides with another upload of the
same content (``chunk_rejected``: two runs of one user saving the same file at once) is no refusal:
``upload_file`` asks where the content stands and goes on from there. Nor is an upload over a
body-size limit (413: the server's, or a proxy's in front of it, nginx's ``client_max_body_size``
being 1 MB unless set): content goes in halved chunks, down to ``MIN_UPLOAD_CHUNK``.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

import httpx
import msgspec

from wakelog._backoff import Backoff
from wakelog._http import client_options, not_the_server, redirect
from wakelog._version import __version__
from wakelog.errors import CommError

#: The largest chunk of content one request carries (and the most small contents one
#: ``upload_whole`` sends together).
UPLOAD_CHUNK = 8 * 1024 * 1024
#: The smallest chunk an upload goes down to when requests are refused as too large (413).
MIN_UPLOAD_CHUNK = 64 * 1024
STREAM_PIECE = 1024 * 1024
#: How often one upload goes on after colliding with another of the same content before giving up
#: for now (a ``RetryableError``: the uploader's next scan tries again).
UPLOAD_RETRIES = 8
#: The longest interval between a live run's batches a server may ask for (what ``wakelog server
#: --max-send-interval`` takes); a longer or malformed one is ignored.
MAX_SEND_INTERVAL = 60.0
_encoder = msgspec.msgpack.Encoder()


def _pieces(f: BinaryIO, length: int, name: str) -> Iterator[bytes]:
    """The next ``length`` bytes of ``f`` in small pieces: a chunk is streamed, never held whole
    (8 MiB buffers, copied on the way, kept the uploader's memory up by ~150 MB on big files)."""
    while length > 0:
        piece = f.read(min(STREAM_PIECE, length))
        if not piece:
            raise OSError(f"{name} is shorter than when it was hashed")
        length -= len(piece)
        yield piece


class _Content(NamedTuple):
    """Content to upload: how to open it, its name in messages, its sha256 and its size."""

    source: Callable[[], BinaryIO]
    name: str
    sha256: str
    size: int


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


def _answer(response: httpx.Response, *whole: str) -> dict[str, Any]:
    """A JSON answer of the server's, with a whole number at each of the ``whole`` names; anything
    else (another service's JSON at the server URL) is a ``RejectedError`` saying so."""
    answer = _body(response)
    missing = [name for name in whole if type(answer.get(name)) is not int]
    if missing:
        raise RejectedError(
            response.status_code,
            f"{response.request.url} answered without {', '.join(missing)}: is it a wakelog server?",
        )
    return answer


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
        #: The largest chunk of content a request carries: halved at each 413 (a body-size limit
        #: on the way), and kept so for the uploads after it.
        self.upload_chunk = UPLOAD_CHUNK
        self._http = httpx.Client(
            base_url=self.base_url,
            auth=("api", api_key),
            timeout=timeout,
            headers={"User-Agent": f"wakelog/{__version__}"},
            transport=transport,
            **client_options(self.base_url),
        )

    def close(self) -> None:
        self._http.close()

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise RetryableError(f"cannot reach {self.base_url}: {exc}") from exc
        self._raise_for(response)
        stranger = not_the_server(response)
        if stranger:  # may pass (a proxy's sign-in), so tried again
            raise RetryableError(stranger)
        return response

    def _raise_for(self, response: httpx.Response) -> None:
        """Raise the error an answer means (nothing for a success)."""
        moved = redirect(response)
        if moved:
            raise RejectedError(response.status_code, moved)
        if response.status_code >= 500 or response.status_code == 429:
            raise RetryableError(
                f"{self.base_url} answered {response.status_code}: {_detail(response)}",
                _retry_after(response),
            )
        if response.status_code == 409 and _body(response).get("code") == "sequence_gap":
            raise SequenceGap(int(response.json()["ack"]))
        if response.status_code == 413:
            raise RejectedError(
                413,
                f"{_detail(response)} (the request was over a body-size limit: the server's, or that of a "
                "proxy in front of it, such as nginx's client_max_body_size)",
                _body(response),
            )
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
        return int(_answer(self._request("GET", f"/api/v1/runs/{run_path}/ack"), "ack")["ack"])

    def send_records(self, run_path: str, records: list[Any]) -> int:
        body = gzip.compress(_encoder.encode(records), compresslevel=1)
        response = self._request(
            "POST",
            f"/api/v1/runs/{run_path}/records",
            content=body,
            headers={"Content-Type": "application/msgpack", "Content-Encoding": "gzip"},
        )
        answer = _answer(response, "ack")
        if answer.get("stop") is True:
            self.stop_requested = True
        interval: Any = answer.get("interval")
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

        def source() -> BinaryIO:
            return path.open("rb")  # closed by ``_send_content``

        self._upload(run_path, _Content(source, path.name, sha256, size), progress)

    def _upload(self, run_path: str, content: _Content, progress: Callable[[int], None] | None) -> None:
        """Upload ``content`` in resumable chunks, going on from where it stands after a collision
        with another upload of it."""
        backoff = Backoff(0.05, 2.0)
        for _ in range(UPLOAD_RETRIES):
            try:
                self._send_content(run_path, content, progress)
                return
            except RejectedError as exc:
                if exc.code != "chunk_rejected":
                    raise
                self._sleep(backoff.next())
        raise RetryableError(
            f"the upload of {content.name} kept colliding with another upload of the same content"
        )

    def _send_content(self, run_path: str, content: _Content, progress: Callable[[int], None] | None) -> None:
        source, name, sha256, size = content
        blob = f"/api/v1/runs/{run_path}/blobs/{sha256}"
        status = _answer(self._request("GET", blob))
        complete = bool(status.get("complete"))
        offset = size if complete else int(status.get("received", 0))
        with source() as f:
            # At least one PUT until the server says complete: every byte may be staged already
            # (the server stopped between the last chunk and publishing it), and then an empty
            # last chunk publishes the content.
            while not complete:
                length = min(self.upload_chunk, size - offset)
                f.seek(offset)
                try:
                    result = _answer(
                        self._request(
                            "PUT",
                            blob,
                            params={"offset": offset, "total": size},
                            content=_pieces(f, length, name),
                            headers={"Content-Length": str(length)},
                        ),
                        "received",
                    )
                except RejectedError as exc:
                    if not self._smaller_chunks(exc, length):
                        raise
                    continue  # the same offset in a smaller chunk: a refused body stored nothing
                received, complete = result["received"], bool(result.get("complete"))
                if progress:
                    progress(length)
                if not complete and length == 0 and received == offset:
                    raise RetryableError(f"the server did not complete the upload of {name}")
                offset = received

    def _smaller_chunks(self, exc: RejectedError, sent: int) -> bool:
        """Whether a request of ``sent`` bytes was refused as too large (413) and uploads can go in
        smaller chunks: then they do from now on, half of ``sent`` (``MIN_UPLOAD_CHUNK`` at least)."""
        if exc.status != 413 or sent <= MIN_UPLOAD_CHUNK:
            return False
        self.upload_chunk = max(MIN_UPLOAD_CHUNK, min(self.upload_chunk, sent // 2))
        return True

    def upload_whole(self, run_path: str, contents: list[tuple[str, bytes]]) -> None:
        """Upload small contents (sha256, bytes) whole in one request; the server checks each
        against its hash and refuses the request (nothing recorded) if one does not match. Refused
        as too large (413), they go in two halves, and a content alone in chunks."""
        body = b"".join(bytes.fromhex(sha) + len(data).to_bytes(8, "big") + data for sha, data in contents)
        try:
            self._request("POST", f"/api/v1/runs/{run_path}/blobs", content=body)
        except RejectedError as exc:
            if not self._smaller_chunks(exc, len(body)):
                raise
            if len(contents) == 1:
                sha256, data = contents[0]
                self._upload(
                    run_path, _Content(lambda: io.BytesIO(data), sha256[:12], sha256, len(data)), None
                )
                return
            half = len(contents) // 2
            self.upload_whole(run_path, contents[:half])
            self.upload_whole(run_path, contents[half:])

    def attach_files(self, run_path: str, files: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Point run file names at uploaded content; returns the files the server refused
        (``{"name", "detail"}`` each: a name it does not take), the rest are attached."""
        answer = self._request("POST", f"/api/v1/runs/{run_path}/files", json={"files": files}).json()
        refused = answer.get("refused") if isinstance(answer, dict) else None
        return list(refused) if isinstance(refused, list) else []
