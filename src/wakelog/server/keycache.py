"""API keys recently checked, and the entities their users were just let into, for a few seconds.

A live run's uploader sends the same key to the same entity about once a second; looking the key
and the membership up again each time was most of a small ingest request's queries. Each replica
keeps, per key (by its sha256, never the key), the user it belongs to and the entities whose
checks it passed, for ``KEY_CACHE_SECONDS``. Only what was allowed is kept: a refusal is always
decided by the database, so a new key, a grant or a new member works at once. A revoked key, a
removed member, a lowered role or a demoted admin takes effect within ``KEY_CACHE_SECONDS`` on every
replica (docs/server.md, "Authentication"), and at once on the replica that made the change (its
routes call ``clear``). Browser sessions are not cached.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from wakelog.server.auth import User

#: How long a replica trusts what it learned about a key.
KEY_CACHE_SECONDS = 5.0
#: Keys kept at most (a replica serving more live keys than this looks the rest up each time).
MAX_KEYS = 10_000


@dataclass
class _Entry:
    user: User
    key_id: int
    until: float
    #: entity → the role held there (None: a server admin's, or an entity being created).
    entities: dict[str, str | None] = field(default_factory=dict)


class KeyCache:
    """Keys (by hash) → their user and the entity checks they passed, until ``ttl`` after learning."""

    def __init__(self, ttl: float = KEY_CACHE_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl, self.clock = ttl, clock
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()

    def user(self, key_hash: str) -> tuple[User, int] | None:
        """The user and key id for a key checked less than ``ttl`` ago, else None."""
        entry = self._fresh(key_hash)
        return None if entry is None else (entry.user, entry.key_id)

    def remember(self, key_hash: str, user: User, key_id: int) -> None:
        with self._lock:
            if len(self._entries) >= MAX_KEYS:
                self._entries.clear()
            self._entries[key_hash] = _Entry(user, key_id, self.clock() + self.ttl)

    def entity(self, key_hash: str, entity: str) -> tuple[bool, str | None]:
        """Whether the key's user passed a check under ``entity`` lately, and the role then held."""
        entry = self._fresh(key_hash)
        if entry is None or entity not in entry.entities:
            return False, None
        return True, entry.entities[entity]

    def allow(self, key_hash: str, entity: str, role: str | None) -> None:
        """Note that the key's user passed a check under ``entity``, holding ``role`` there."""
        entry = self._fresh(key_hash)
        if entry is not None:
            entry.entities[entity] = role  # until the key's own entry expires: never longer

    def clear(self) -> None:
        """Forget everything: this replica changed a key, a user or a membership."""
        with self._lock:
            self._entries.clear()

    def _fresh(self, key_hash: str) -> _Entry | None:
        entry = self._entries.get(key_hash)
        if entry is None or self.clock() >= entry.until:
            return None
        return entry
