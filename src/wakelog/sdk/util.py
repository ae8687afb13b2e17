"""``wakelog.util``: the helpers of ``wandb.util`` that training scripts call."""

from __future__ import annotations

import random

_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
# Ids must not follow the user's random.seed(): seeded scripts would reuse run ids.
_RANDOM = random.SystemRandom()


def generate_id(length: int = 8) -> str:
    """A random run id: ``length`` characters of lower-case letters and digits, as wandb's."""
    return "".join(_RANDOM.choices(_ID_ALPHABET, k=length))


__all__ = ["generate_id"]
