"""Rich media logged by the stock wandb client (``WANDB_BASE_URL`` at the server), shown by the
run's media tab with the same viewers as wakelog's own: a gif video, audio, a mesh, a molecule
and an HTML page. tests/integration/test_wandb_client.py proves the stored values are the SDK's."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.integration.test_wandb_client import CLIENT, _media_files, python, wandb_env
from tests.web.conftest import ENTITY, PROJECT, Pages, Seeded, shot
from tests.web.test_rich_media import drawn_pixels

SCRIPT = f"""
import wandb
run = wandb.init(entity="{ENTITY}", project="{PROJECT}", id="wandbmedia", name="wandb-media")
run.log({{
    "video": wandb.Video("clip.gif", caption="a clip"),
    "audio": wandb.Audio("tone.wav", caption="a tone"),
    "mesh": wandb.Object3D("mesh.obj"),
    "molecule": wandb.Molecule("mol.pdb"),
    "page": wandb.Html("<h1>From wandb</h1>"),
}})
run.finish()
"""


@pytest.fixture(scope="module")
def wandb_media_run(seeded: Seeded) -> str:
    if not (CLIENT / "wandb" / "__init__.py").exists():
        pytest.skip(f"the wandb client is not installed in {CLIENT} (scripts/test.sh installs it)")
    workdir = seeded.tmp / "wandb-media"
    _media_files(workdir)
    done = python("-c", SCRIPT, cwd=workdir, env=wandb_env(seeded.server, workdir))
    assert done.returncode == 0, done.stderr[-3000:]
    return "wandbmedia"


def _region(page: Any, name: str) -> Any:
    return page.get_by_role("region", name=name, exact=True)


def test_media_logged_by_the_wandb_client_is_shown(pages: Pages, wandb_media_run: str) -> None:
    page = pages.new()
    page.goto(pages.url(f"/{ENTITY}/{PROJECT}/runs/{wandb_media_run}?tab=media"))
    gif = _region(page, "video").locator("img")
    expect(gif).to_have_js_property("complete", True)
    assert gif.evaluate("i => i.naturalWidth") == 8
    expect(_region(page, "video").get_by_text("a clip")).to_be_visible()
    audio = _region(page, "audio").locator("audio")
    page.wait_for_function("a => a.readyState >= 1", arg=audio.element_handle())
    assert abs(audio.evaluate("a => a.duration") - 0.1) < 0.01  # 800 samples at 8 kHz
    mesh = _region(page, "mesh").get_by_test_id("object3d")
    mesh.scroll_into_view_if_needed()
    expect(mesh).to_have_attribute("data-state", "ready")
    assert drawn_pixels(mesh.locator("canvas")) > 50
    molecule = _region(page, "molecule").get_by_test_id("molecule")
    molecule.scroll_into_view_if_needed()
    expect(molecule).to_have_attribute("data-state", "ready")
    expect(molecule).to_have_attribute("data-atoms", "1")
    frame = _region(page, "page").locator("iframe")
    assert frame.get_attribute("sandbox") == ""
    expect(page.frame_locator("iframe.media-html").get_by_role("heading", name="From wandb")).to_be_visible()
    # wandb's Html links W&B's stylesheet: the file's CSP blocks it, nothing is fetched from wandb.ai
    blocked = [
        e for e in pages.errors if "https://app.wandb.ai/normalize.css" in e and "Content Security" in e
    ]
    assert blocked, pages.errors
    pages.errors[:] = [e for e in pages.errors if e not in blocked]
    _region(page, "video").scroll_into_view_if_needed()
    shot(page, "wandb-client-media")
