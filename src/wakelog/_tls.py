"""Which certificate authorities wakelog's HTTPS connections trust.

The public ones httpx ships (certifi), unless a variable names a bundle: httpx's own
``SSL_CERT_FILE`` or ``SSL_CERT_DIR``, or what a team with an internal CA (or a network that
inspects TLS) has often set for other clients instead: ``REQUESTS_CA_BUNDLE`` (requests, and so the
wandb client) or ``CURL_CA_BUNDLE``. The first set, in that order, is the bundle.
"""

from __future__ import annotations

import os
import ssl

#: The variables that may name a CA bundle (a file, or a folder of hashed certificates), first first.
CA_BUNDLE_VARIABLES = ("SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")


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
