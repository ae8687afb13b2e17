"""The HTTP client for the server's ingest API (one small seam at the I/O edge).

Errors are sorted by what the caller should do: ``RetryableError`` (network trouble, 5xx, 429) —
try again later; ``SequenceGap`` — resend from ``ack + 1``; ``RejectedError`` (other 4xx) —
retrying cannot help, tell the user.
"""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import msgspec

from wakelog._version import __version__
from wakelog.errors import CommError

UPLOAD_CHUNK = 8 * 1024 * 1024
_encoder = msgspec.msgpack.Encoder()


class RetryableError(CommError):
    """The server could not be reached or had a temporary problem."""


class RejectedError(CommError):
    """The server refused the request; the message has its reason."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"server refused the request ({status}): {detail}")
        self.status = status
        self.detail = detail


class SequenceGap(CommError):
    def __init__(self, ack: int) -> None:
        super().__init__(f"the server has records up to seq {ack}")
        self.ack = ack


def _detail(response: httpx.Response) -> str:
    try:
        return str(response.json().get("detail", response.text))
    except ValueError:
        return response.text[:200]


class ServerClient:
    """One server's ingest API. ``transport`` replaces the network (tests pass an in-process app)."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
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
        if response.status_code >= 500 or response.status_code == 429:
            raise RetryableError(f"{self.base_url} answered {response.status_code}: {_detail(response)}")
        if response.status_code == 409 and "ack" in response.text:
            raise SequenceGap(int(response.json()["ack"]))
        if response.status_code >= 400:
            raise RejectedError(response.status_code, _detail(response))
        return response

    def whoami(self) -> str | None:
        """The username behind the key (the default entity), if the server says."""
        try:
            username = self._request("GET", "/api/v1/auth/me").json().get("username")
        except RejectedError as exc:
            if exc.status == 404:
                return None
            raise
        return None if username is None else str(username)

    def run(self, run_path: str) -> dict[str, Any] | None:
        """A run's detail (identity, state, config, summary, last step), or None if unknown."""
        try:
            detail: dict[str, Any] = self._request("GET", f"/api/v1/runs/{run_path}").json()
        except RejectedError as exc:
            if exc.status == 404:
                return None
            raise
        return detail

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
        return int(response.json()["ack"])

    def upload_file(
        self, run_path: str, path: Path, progress: Callable[[int], None] | None = None
    ) -> tuple[str, int]:
        """Upload a file's content for the run (resuming a partial upload, skipping known content)."""
        digest, size = hashlib.sha256(), 0
        with open(path, "rb") as f:
            while block := f.read(1024 * 1024):
                digest.update(block)
                size += len(block)
        # The bytes hashed are the bytes sent: a file that grows meanwhile (a live run's files) is
        # uploaded as it was when hashed, and picked up again by the next scan.
        sha256 = digest.hexdigest()
        blob = f"/api/v1/runs/{run_path}/blobs/{sha256}"
        status = self._request("GET", blob).json()
        offset = size if status.get("complete") else int(status.get("received", 0))
        with open(path, "rb") as f:
            f.seek(offset)
            while offset < size or size == 0:
                chunk = f.read(min(UPLOAD_CHUNK, size - offset))
                result = self._request(
                    "PUT", blob, params={"offset": offset, "total": size}, content=chunk
                ).json()
                offset = int(result["received"])
                if progress:
                    progress(len(chunk))
                if size == 0 or result.get("complete"):
                    break
        return sha256, size

    def attach_files(self, run_path: str, files: list[dict[str, Any]]) -> None:
        self._request("POST", f"/api/v1/runs/{run_path}/files", json={"files": files})
