"""The filter language's tokenizer: text to tokens (strings, numbers, names, operators)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from wakelog.server.query.filters.syntax import BARE, KEYWORDS, MAX_LENGTH, NUMBER, FilterError

_INFINITY = re.compile(r"[-+](inf|infinity)\b", re.IGNORECASE)


@dataclass
class Token:
    kind: str  # "(" ")" "," "op" "string" "number" "keyword" "field" "end"
    value: Any
    pos: int
    text: str


def describe(token: Token) -> str:
    if token.kind == "end":
        return "the end of the filter"
    return repr(token.text)


def tokenize(text: str) -> list[Token]:
    if not isinstance(text, str):
        raise FilterError("a filter must be text", 0)
    if len(text) > MAX_LENGTH:
        raise FilterError(f"the filter is longer than {MAX_LENGTH} characters", MAX_LENGTH)
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        token, i = _next_token(text, i)
        tokens.append(token)
    tokens.append(Token("end", None, n, ""))
    return tokens


def _next_token(text: str, i: int) -> tuple[Token, int]:
    """The token that starts at ``text[i]`` (not a space), and where the next one may start."""
    ch = text[i]
    if ch in "(),":
        return Token(ch, ch, i, ch), i + 1
    if ch in "=!<>":
        return _operator(text, i)
    if ch in "\"'":
        value, end = _read_string(text, i)
        return Token("string", value, i, text[i:end]), end
    if ch.isdigit() or (ch in "-+." and i + 1 < len(text) and (text[i + 1].isdigit() or text[i + 1] == ".")):
        return _number_token(text, i)
    if ch in "-+" and text[i + 1 : i + 4].lower() == "inf":
        return _infinity(text, i)
    if ch == "`" or BARE.match(text, i):
        return _name(text, i)
    raise FilterError(f"unexpected character {ch!r}", i, "a field, a value, an operator or '('")


def _operator(text: str, i: int) -> tuple[Token, int]:
    two = text[i : i + 2]
    if two in ("==", "!=", "<>", "<=", ">="):
        op = {"==": "=", "<>": "!="}.get(two, two)
        return Token("op", op, i, two), i + 2
    if text[i] == "!":
        raise FilterError("'!' must be followed by '='", i, "!=")
    return Token("op", text[i], i, text[i]), i + 1


def _number_token(text: str, start: int) -> tuple[Token, int]:
    match = NUMBER.match(text, start)
    if not match:
        raise FilterError(f"malformed number {text[start : start + 12]!r}", start, "a number")
    i = match.end()
    if i < len(text) and (text[i].isalnum() or text[i] in "_."):
        raise FilterError(f"malformed number {text[start : i + 1]!r}", start, "a number")
    return Token("number", _number(match.group()), start, match.group()), i


def _infinity(text: str, start: int) -> tuple[Token, int]:
    ch = text[start]
    match = _INFINITY.match(text, start)
    if not match:
        raise FilterError(f"unexpected {ch!r}", start, "a field, a value or '('")
    return Token("number", -math.inf if ch == "-" else math.inf, start, match.group()), match.end()


def _name(text: str, start: int) -> tuple[Token, int]:
    """A field name (dotted, with `quoted` segments), or a keyword."""
    segments, i = _read_path(text, start)
    raw = text[start:i]
    if len(segments) == 1 and not raw.startswith("`") and raw.lower() in KEYWORDS:
        return Token("keyword", raw.lower(), start, raw), i
    return Token("field", segments, start, raw), i


def _number(text: str) -> int | float:
    if re.fullmatch(r"[-+]?\d{1,19}", text):
        return int(text)
    return float(text)


_ESCAPES = {'"': '"', "'": "'", "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


def _read_string(text: str, i: int) -> tuple[str, int]:
    quote, start = text[i], i
    i += 1
    out: list[str] = []
    while i < len(text):
        ch = text[i]
        if ch == quote:
            return _paired("".join(out), start), i + 1
        if ch == "\\":
            if i + 1 >= len(text):
                break
            code = text[i + 1]
            if code == "u":
                digits = text[i + 2 : i + 6]
                if not re.fullmatch(r"[0-9a-fA-F]{4}", digits):
                    raise FilterError("\\u must be followed by 4 hexadecimal digits", i, "\\uXXXX")
                out.append(chr(int(digits, 16)))
                i += 6
                continue
            if code not in _ESCAPES:
                raise FilterError(f"unknown escape \\{code}", i, "one of \\\" \\' \\\\ \\n \\t \\uXXXX")
            out.append(_ESCAPES[code])
            i += 2
            continue
        out.append(ch)
        i += 1
    raise FilterError("unterminated string", start, f"a closing {quote}")


def _paired(text: str, start: int) -> str:
    """``\\uXXXX`` escapes of a surrogate pair joined into one character; a lone surrogate (no
    database stores one) refused."""
    try:
        return text.encode("utf-16", "surrogatepass").decode("utf-16")
    except UnicodeDecodeError:
        raise FilterError("a string holds a lone surrogate (\\ud800-\\udfff)", start, "a pair") from None


def _read_path(text: str, i: int) -> tuple[list[str], int]:
    segments: list[str] = []
    while True:
        if i < len(text) and text[i] == "`":
            start = i
            i += 1
            chars: list[str] = []
            while True:
                if i >= len(text):
                    raise FilterError("unterminated `quoted` name", start, "a closing `")
                if text[i] == "`":
                    if text[i + 1 : i + 2] == "`":
                        chars.append("`")
                        i += 2
                        continue
                    i += 1
                    break
                chars.append(text[i])
                i += 1
            segments.append("".join(chars))
        else:
            match = BARE.match(text, i)
            if not match:
                raise FilterError("expected a name after '.'", i, "a name")
            segments.append(match.group())
            i = match.end()
        if i < len(text) and text[i] == ".":
            i += 1
            continue
        return segments, i
