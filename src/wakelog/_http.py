"""What wakelog's HTTP clients (the uploader's, ``Api``'s, the sweep agent's) share: the way to the
server, which certificate authorities their HTTPS connections trust, and how they tell an answer
that is not the server's (a redirect, a proxy's page) from one that is.

The way: through the proxy ``HTTPS_PROXY``/``HTTP_PROXY`` name (``NO_PROXY`` excepted), but never
to this machine's own loopback addresses, which a proxy elsewhere cannot reach (a machine set up
to reach the internet through a proxy, as many are, still talks to its own ``wakelog server``).

Trust: the public CAs httpx ships (certifi), unless a variable names a bundle: httpx's own
``SSL_CERT_FILE`` or ``SSL_CERT_DIR``, or what a team with an internal CA (or a network that
inspects TLS) has often set for other clients instead: ``REQUESTS_CA_BUNDLE`` (requests, and so the
wandb client) or ``CURL_CA_BUNDLE``. The first set, in that order, is the bundle.
"""

from __future__ import annotations

import ipaddress
import os
import ssl
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    import httpx

#: The variables that may name a CA bundle (a file, or a folder of hashed certificates), first first.
CA_BUNDLE_VARIABLES = ("SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")

#: What the server's answers come as (``application/json``; MessagePack where a client asks).
_SERVER_TYPES = ("application/json", "application/msgpack", "application/x-msgpack")


def client_options(url: str) -> dict[str, Any]:
    """httpx's options for a client of ``url``: ``verify`` (below), and the environment's proxies
    (``trust_env``) unless ``url`` is this machine's. ``ValueError`` as ``verify``."""
    return {"verify": verify(url), "trust_env": not is_loopback(url)}


def is_loopback(url: str) -> bool:
    """Whether the URL names this machine: ``localhost``, 127.0.0.0/8 or ``::1``."""
    try:
        name = urlsplit(url).hostname
    except ValueError:
        return False
    if not name:
        return False
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def verify(url: str) -> ssl.SSLContext | bool:
    """httpx's ``verify`` for a client of ``url``: for HTTPS, an SSL context trusting the bundle a
    variable names, else True (httpx's default trust). For HTTPS, a variable naming no readable
    bundle raises ``ValueError`` naming it: trusting the default CAs instead would fail later, as
    a certificate error. Plain HTTP reads none (a stale variable does not matter to it)."""
    if not url.lower().startswith("https:"):
        return True
    for name in CA_BUNDLE_VARIABLES:
        path = os.environ.get(name)
        if not path:
            continue
        try:
            if os.path.isdir(path):
                return ssl.create_default_context(capath=path)
            return ssl.create_default_context(cafile=path)
        except (OSError, ssl.SSLError) as exc:
            raise ValueError(f"{name}={path} is not a readable CA certificate bundle: {exc}") from exc
    return True


def redirect(response: httpx.Response) -> str | None:
    """What to tell the user when ``response`` is a redirect (the clients follow none: the API key
    would go along), else None. A proxy sends one from ``http://`` to ``https://``, or from an old
    address to a new one: the server URL should be where it points."""
    if not response.is_redirect:
        return None
    target = response.headers.get("location", "?")
    return (
        f"{response.request.url} answered {response.status_code}, redirecting to {target}: "
        "set the server URL (base_url, WAKELOG_BASE_URL, --host) to where it points"
    )


def not_the_server(response: httpx.Response) -> str | None:
    """What to tell the user when a successful ``response`` is not the server's (says it is
    neither JSON nor MessagePack: a proxy's or portal's page, another web site), else None."""
    kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if not response.content or not kind or kind in _SERVER_TYPES:
        return None
    return (
        f"{response.request.url} answered {response.status_code} with {kind}, "
        "not the wakelog server's JSON: is the server URL right, or is a proxy asking to sign in?"
    )
