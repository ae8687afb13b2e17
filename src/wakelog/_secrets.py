"""What looks like a secret, and how it is masked before it leaves the process.

Shared by the config (secret-looking keys) and the captured command line (``--api-key X``,
``--password=X``, ``db.password=X``, ``https://user:token@host``), so both mask the same words.
"""

from __future__ import annotations

import re

MASK = "********"
# A secret word as a whole part of the key ("db_password", "hfToken", "OSS_ACCESS_KEY_ID"),
# so that "num_passes" or "author" are left alone.
_SECRET_KEY = re.compile(
    r"(^|[_.\-])(password|passwd|pwd|secret|token|api_?key|access_?key|secret_?key|private_?key"
    r"|credentials?|auth_?token)($|[_.\-])",
    re.IGNORECASE,
)
# "--api-key=X", "-token=X", "db.password=X", "+trainer.hf_token=X" (argparse, absl, Hydra forms).
# Tokenizer settings say "token" without naming a secret: "pad_token_id", "eos_token",
# "token_type_ids", "max_token_len".
_TOKENIZER_KEY = re.compile(
    r"(^|_)(pad|bos|eos|unk|sep|cls|mask|start|end|special|max|min|num|vocab)_tokens?($|_)"
    r"|(^|_)tokens?_(ids?|types?|type_ids|len|length|count|num|size)($|_)",
    re.IGNORECASE,
)
_KEY_VALUE = re.compile(r"^(?P<key>[-+]*[A-Za-z_][\w.\-]*)=(?P<value>.*)$", re.DOTALL)
_URL_CREDENTIALS = re.compile(r"(?P<scheme>[A-Za-z][\w+.\-]*://)(?P<user>[^/@:\s]*):(?P<password>[^/@\s]+)@")


def looks_secret(key: str) -> bool:
    """Whether a config key or option name names a secret (camelCase and dashes understood)."""
    name = key.lstrip("-+").replace("-", "_")  # "--api-key" -> "api_key"
    snake = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name)  # camelCase -> camel_Case
    return bool(_SECRET_KEY.search(snake)) and not _TOKENIZER_KEY.search(snake)


def mask_argv(args: list[str]) -> tuple[list[str], int]:
    """``args`` with secret values masked, and how many were: the value of a secret-looking option
    (``--api-key X``, ``--password=X``, ``key.token=X``) and the password of a URL with credentials."""
    masked: list[str] = []
    count = 0
    hide_next = False
    for arg in args:
        if hide_next and not (arg.startswith("-") and len(arg) > 1 and not _is_number(arg)):
            masked.append(MASK)
            count += 1
            hide_next = False
            continue
        hide_next = False
        match = _KEY_VALUE.match(arg)
        if match and looks_secret(match["key"]) and match["value"]:
            masked.append(f"{match['key']}={MASK}")
            count += 1
            continue
        if arg.startswith("-") and looks_secret(arg):
            hide_next = True  # "--api-key X": the next argument is the value
        url_masked, found = _URL_CREDENTIALS.subn(lambda m: f"{m['scheme']}{m['user']}:{MASK}@", arg)
        masked.append(url_masked)
        count += found
    return masked, count


def _is_number(arg: str) -> bool:
    try:
        float(arg)
    except ValueError:
        return False
    return True
