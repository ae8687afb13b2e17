"""``DirectRoute`` (``server/http.py``): the endpoint answers the request itself, the route stays in
the OpenAPI schema, and dependencies it would not run are refused when the app is built."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import Response

from wakelog.server.http import DirectRoute


async def echo(request: Request) -> Response:
    return Response(await request.body(), media_type="application/octet-stream")


def test_a_direct_route_answers_itself_and_is_in_the_schema() -> None:
    app = FastAPI()
    router = APIRouter(prefix="/api")
    router.add_api_route("/echo/{name}", echo, methods=["POST"], route_class_override=DirectRoute)
    app.include_router(router)

    async def post() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.post("/api/echo/x", content=b"\x00\x01")

    answer = asyncio.run(post())
    assert (answer.status_code, answer.content) == (200, b"\x00\x01")
    assert "post" in app.openapi()["paths"]["/api/echo/{name}"]


def test_a_direct_route_given_dependencies_is_refused() -> None:
    router = APIRouter(dependencies=[Depends(lambda: None)])
    with pytest.raises(ValueError, match="runs no dependencies"):
        router.add_api_route("/echo", echo, methods=["POST"], route_class_override=DirectRoute)
    with pytest.raises(ValueError, match="runs no dependencies"):
        APIRouter().add_api_route(
            "/echo",
            echo,
            methods=["POST"],
            route_class_override=DirectRoute,
            dependencies=[Depends(lambda: None)],
        )
