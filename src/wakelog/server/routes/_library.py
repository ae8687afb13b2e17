"""Calling the account and team libraries from a route: off the event loop, errors as HTTP errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import HTTPException
from starlette.concurrency import run_in_threadpool

from wakelog.server.accounts import AccountError

_Result = TypeVar("_Result")


async def call_library(function: Callable[..., _Result], *args: Any, **kwargs: Any) -> _Result:
    """Run a library function in the thread pool; its ``AccountError`` becomes an HTTP error."""
    try:
        return await run_in_threadpool(function, *args, **kwargs)
    except AccountError as exc:
        raise HTTPException(exc.status, str(exc)) from None
