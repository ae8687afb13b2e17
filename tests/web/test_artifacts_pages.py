"""The artifact pages in a real browser: a project's artifacts by type, an artifact's versions,
a version's files with their previews (text, image, table, JSON), a manifest diff between two
picked versions, the lineage graph at a few hundred nodes, the run's logged and used artifacts,
the model registry, and the pages in Chinese.

Most artifacts are made through the HTTP routes the SDK uses (content uploaded with the run-scoped
blob routes, then the manifest posted), so those tests do not depend on the SDK's Artifact; a table
of images added with ``artifact.add`` is logged by the real SDK.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.server.conftest import post_records
from tests.web.conftest import ENTITY, PROJECT, Pages, Seeded, run_finished_script, shot
from tests.web.test_accessibility import axe_source, check_page  # noqa: F401  (a fixture)
from tests.web.test_image_overlays import BACKGROUND, CAR, MASK_ALPHA, wait_pixel

ARTIFACTS = f"/{ENTITY}/{PROJECT}/artifacts"
#: Runs that used the dataset's newest version: more than the lineage graph shows in one column.
CONSUMERS = 150


def png(width: int, height: int) -> bytes:
    """A small RGB PNG (a gradient), made with the imaging library the SDK's media use."""
    from PIL import Image

    image = Image.new("RGB", (width, height))
    image.putdata([(x * 255 // width, y * 255 // height, 128) for y in range(height) for x in range(width)])
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


TABLE = {"columns": ["id", "label", "score"], "data": [[1, "cat", 0.9], [2, "dog", 0.75], [3, "bird", 0.5]]}
V0_FILES: dict[str, bytes] = {
    "README.md": b"# Flowers\nversion zero\n",
    "data/train.csv": b"id,label\n1,cat\n2,dog\n",
    "data/labels.json": json.dumps({"0": "cat", "1": "dog"}).encode(),
    "images/sample.png": png(48, 32),
    "preview.table.json": json.dumps(TABLE).encode(),
}
# v1: README changed, labels.json removed, extra.txt added, the rest the same.
V1_FILES: dict[str, bytes] = {
    **{k: v for k, v in V0_FILES.items() if k != "data/labels.json"},
    "README.md": b"# Flowers\nversion one: cleaned labels\n",
    "data/extra.txt": b"more rows\n",
}


def upload(http: Any, run_id: str, content: bytes) -> str:
    sha = hashlib.sha256(content).hexdigest()
    answer = http.put(
        f"/api/v1/runs/{ENTITY}/{PROJECT}/{run_id}/blobs/{sha}",
        params={"offset": 0, "total": len(content)},
        content=content,
    )
    assert answer.status_code in (200, 201, 204), answer.text
    return sha


def log_version(
    http: Any, run_id: str, name: str, type_: str, files: dict[str, bytes], **extra: Any
) -> dict[str, Any]:
    """Upload the files as the run, then post the manifest: what ``run.log_artifact`` sends."""
    entries = {
        path: {
            "digest": base64.b64encode(hashlib.md5(content).digest()).decode(),
            "sha256": upload(http, run_id, content),
            "size": len(content),
            "ref": None,
            "extra": {},
        }
        for path, content in files.items()
    }
    body = {
        "name": name,
        "type": type_,
        "manifest": {"version": 1, "entries": entries},
        "run_id": run_id,
        **extra,
    }
    answer = http.post(f"/api/v1/projects/{ENTITY}/{PROJECT}/artifacts", json=body)
    assert answer.status_code in (200, 201), answer.text
    return answer.json()  # type: ignore[no-any-return]


def use(http: Any, run_id: str, artifact: str) -> None:
    answer = http.post(
        f"/api/v1/runs/{ENTITY}/{PROJECT}/{run_id}/artifacts/used",
        json={"artifact": f"{ENTITY}/{PROJECT}/{artifact}"},
    )
    assert answer.status_code == 200, answer.text


@dataclass
class Logged:
    alpha: str
    beta: str


@pytest.fixture(scope="module")
def logged(seeded: Seeded) -> Iterator[Logged]:
    """alpha logs dataset v0 and v1; beta uses dataset v1 and logs model v0 and v1; many small
    runs use dataset v1; the registry's `flowers` collection holds both models."""
    alpha, beta = seeded.ids["alpha"], seeded.ids["beta"]
    with seeded.server.client() as http:
        log_version(
            http, alpha, "flowers", "dataset", V0_FILES, aliases=["baseline"], description="the first cut"
        )
        log_version(
            http,
            alpha,
            "flowers",
            "dataset",
            V1_FILES,
            metadata={"rows": 2, "source": "field study"},
            tags=["cleaned", "field notes"],
            ttl=30 * 86400,
        )
        use(http, beta, "flowers:v1")
        for epoch in range(2):
            log_version(
                http,
                beta,
                "classifier",
                "model",
                {"model.pdparams": bytes([epoch]) * 4096},
                metadata={"epoch": epoch},
            )
        now = time.time()
        for i in range(CONSUMERS):
            run_id = f"eval{i:03d}"
            answer = post_records(
                http, f"{ENTITY}/{PROJECT}/{run_id}", [[0, "run", now, {"id": run_id, "name": f"eval-{i}"}]]
            )
            assert answer.status_code == 200, answer.text
            use(http, run_id, "flowers:latest")
        for version, alias in (("v0", "staging"), ("v1", "production")):
            answer = http.post(
                f"/api/v1/registry/{ENTITY}/flowers-classifier/links",
                json={"artifact": f"{ENTITY}/{PROJECT}/classifier:{version}", "aliases": [alias]},
            )
            assert answer.status_code in (200, 201), answer.text
    yield Logged(alpha, beta)


def test_artifacts_list_versions_files_and_diff(pages: Pages, logged: Logged) -> None:
    page = pages.new()
    page.goto(pages.url(f"/{ENTITY}/{PROJECT}"))
    page.get_by_role("link", name="Artifacts", exact=True).click()
    page.wait_for_url(re.compile(f"{ARTIFACTS}$"))
    datasets = page.get_by_test_id("artifact-type-dataset")
    expect(datasets.locator("tr[data-name=flowers]")).to_contain_text("v1")
    expect(page.get_by_test_id("artifact-type-model").locator("tr[data-name=classifier]")).to_contain_text(
        "2"
    )
    shot(page, "artifacts-list-en")

    datasets.get_by_role("link", name="flowers", exact=True).click()
    page.wait_for_url(re.compile(f"{ARTIFACTS}/flowers$"))
    versions = page.get_by_test_id("versions")
    expect(versions.locator("tbody tr")).to_have_count(2)
    expect(versions.locator("tr[data-version=v1]")).to_contain_text("latest")
    expect(versions.locator("tr[data-version=v0]")).to_contain_text("baseline")
    expect(versions.locator("tr[data-version=v0]")).to_contain_text("the first cut")
    expect(versions.locator("tr[data-version=v1]").get_by_role("link", name=logged.alpha)).to_be_visible()
    shot(page, "artifact-versions-en")

    # Pick the two versions (by keyboard: Space ticks a focused box) and compare them.
    compare = page.get_by_test_id("compare-versions")
    expect(compare).to_be_disabled()
    for version in ("v0", "v1"):
        page.get_by_label(f"Pick {version} to compare").focus()
        page.keyboard.press("Space")
    compare.click()
    page.wait_for_url(re.compile(f"{ARTIFACTS}/flowers/v1\\?tab=diff&against=v0$"))
    diff = page.get_by_test_id("diff-table")
    expect(page.get_by_test_id("diff-counts")).to_contain_text("1 added, 1 removed, 1 changed")
    expect(diff.locator("tr[data-path='data/extra.txt']")).to_have_attribute("data-status", "added")
    expect(diff.locator("tr[data-path='data/labels.json']")).to_have_attribute("data-status", "removed")
    expect(diff.locator("tr[data-path='README.md']")).to_have_attribute("data-status", "changed")
    shot(page, "artifact-diff-en")


def test_a_versions_files_preview_as_text_table_image_and_json(pages: Pages, logged: Logged) -> None:
    page = pages.new()
    page.goto(pages.url(f"{ARTIFACTS}/flowers/latest"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("flowers:v1")
    expect(page.get_by_test_id("artifact-metadata")).to_contain_text("field study")
    facts = page.locator(".overview .facts")
    expect(facts).to_contain_text("cleaned, field notes")  # the version's tags and TTL
    expect(facts).to_contain_text("Kept until")
    expect(facts).not_to_contain_text("deleted (no TTL)")
    # Files: a text file, the table, the image, each with its download link.
    page.get_by_role("tab", name="Files").click()
    tree = page.get_by_test_id("file-tree")
    readme = tree.get_by_role("button", name="README.md", exact=True)
    readme.focus()
    page.keyboard.press("Enter")
    preview = page.get_by_test_id("file-preview")
    expect(preview.get_by_test_id("file-text")).to_contain_text("version one: cleaned labels")
    download = preview.get_by_role("link", name="Download", exact=True)
    href = download.get_attribute("href")
    assert href is not None
    assert page.request.get(pages.url(href)).body() == V1_FILES["README.md"]

    tree.get_by_role("button", name="preview.table.json").click()
    table = page.get_by_role("table", name="preview.table.json")
    expect(table.get_by_role("row")).to_have_count(1 + len(TABLE["data"]))
    expect(table).to_contain_text("bird")

    tree.get_by_role("button", name="sample.png").click()
    image = page.get_by_test_id("file-preview").get_by_role("img", name="images/sample.png")
    expect(image).to_be_visible()
    page.wait_for_function("() => document.querySelector('.preview-image')?.naturalWidth === 48")
    shot(page, "artifact-files-image-en")

    # An older version's JSON, indented.
    page.goto(pages.url(f"{ARTIFACTS}/flowers/baseline?tab=files&file=data%2Flabels.json"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("flowers:v0")
    expect(page.get_by_test_id("file-text")).to_contain_text('"0": "cat"')
    page.get_by_role("tab", name="Overview").click()
    expect(page.locator(".overview .facts")).to_contain_text("deleted (no TTL)")
    shot(page, "artifact-files-json-en")


# A table whose cells are images (one with a mask), added to an artifact and never logged to the
# run: its pictures exist only as the artifact's entries, at the paths the table's JSON names.
TABLE_ARTIFACT_SCRIPT = """
import numpy as np
run = wakelog.init(name="table-artifact")
mask = np.zeros((30, 40), dtype=np.uint8)
mask[15:, 20:] = 2
masks = {"segmentation": {"mask_data": mask, "class_labels": {0: "background", 2: "car"}}}
table = wakelog.Table(columns=["name", "picture"])
grey = lambda level: np.full((30, 40, 3), level, dtype=np.uint8)
table.add_data("plain", wakelog.Image(grey(200), caption="plain"))
table.add_data("masked", wakelog.Image(grey(40), caption="masked", masks=masks))
artifact = wakelog.Artifact("pictures", type="dataset")
artifact.add(table, "samples")
run.log_artifact(artifact)
run.finish()
"""


def test_a_table_of_images_in_an_artifact_shows_the_artifacts_images(pages: Pages, seeded: Seeded) -> None:
    run_finished_script(seeded, "table_artifact", TABLE_ARTIFACT_SCRIPT)
    page = pages.new()
    page.goto(pages.url(f"{ARTIFACTS}/pictures/latest?tab=files&file=samples.table.json"))
    table = page.get_by_role("table", name="samples.table.json")
    expect(table.get_by_role("row")).to_have_count(3)
    images = table.locator("img.mt-thumb")
    expect(images).to_have_count(2)
    files = f"/api/v1/artifacts/{ENTITY}/{PROJECT}/pictures:v0/files/media/"
    for alt in ("plain", "masked"):
        src = table.get_by_role("img", name=alt).get_attribute("src")
        assert src is not None and src.startswith(files), src
    page.wait_for_function(
        "() => [...document.querySelectorAll('img.mt-thumb')]"
        ".every((img) => img.complete && img.naturalWidth === 40)"
    )
    # The mask is the artifact's file too: drawn over the picture.
    canvas = table.get_by_test_id("overlay-canvas")
    wait_pixel(canvas, 0.8, 0.75, [*CAR, MASK_ALPHA])
    wait_pixel(canvas, 0.2, 0.2, [*BACKGROUND, MASK_ALPHA])
    shot(page, "artifact-files-image-table-en")


def test_the_lineage_graph_folds_hundreds_of_runs_and_lists_its_nodes(pages: Pages, logged: Logged) -> None:
    page = pages.new()
    page.goto(pages.url(f"{ARTIFACTS}/flowers/v1?tab=lineage"))
    lineage = page.get_by_test_id("lineage")
    page.get_by_test_id("lineage-canvas").locator("canvas").first.wait_for()
    # alpha → flowers:v0, v1 → beta and 150 eval runs → classifier v0, v1: 156 nodes, the runs
    # that used v1 folded to one column's budget.
    expect(page.get_by_test_id("lineage-counts")).to_contain_text("156 nodes")
    expect(page.get_by_test_id("lineage-counts")).to_contain_text("folded")
    shot(page, "artifact-lineage-en")
    lineage.get_by_text("The graph as a list").click()
    folded = lineage.locator(".lineage-list li[data-kind=more]")
    expect(folded).to_have_count(1)
    expect(folded).to_have_text(re.compile(r"^\s*\+\d+ more$"))
    expect(lineage.locator(".lineage-list li[data-kind=artifact]")).to_have_count(4)

    # The list's links go where the graph's nodes go: the model logged from the dataset.
    lineage.get_by_role("link", name="classifier:v1").click()
    page.wait_for_url(re.compile(f"{ARTIFACTS}/classifier/v1$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("classifier:v1")
    expect(page.get_by_test_id("artifact-metadata")).to_contain_text("epoch")


def test_the_run_page_lists_what_the_run_logged_and_used(pages: Pages, logged: Logged) -> None:
    page = pages.new()
    page.goto(pages.url(f"/{ENTITY}/{PROJECT}/runs/{logged.beta}"))
    section = page.get_by_test_id("run-artifacts")
    expect(section.get_by_test_id("run-used")).to_contain_text("flowers:v1")
    expect(section.get_by_test_id("run-logged")).to_contain_text("classifier:v0")
    expect(section.get_by_test_id("run-logged")).to_contain_text("classifier:v1")
    section.scroll_into_view_if_needed()
    shot(page, "run-artifacts-en")
    section.get_by_role("link", name="flowers:v1").click()
    page.wait_for_url(re.compile(f"{ARTIFACTS}/flowers/v1$"))


def test_the_model_registry_shows_collections_with_their_aliases(pages: Pages, logged: Logged) -> None:
    page = pages.new()
    page.goto(pages.url("/"))
    page.get_by_test_id("registry-links-nav").get_by_role("link", name=ENTITY).click()
    page.wait_for_url(re.compile(f"/registry/{ENTITY}$"))
    expect(
        page.get_by_test_id("registry-collections").locator("tr[data-name=flowers-classifier]")
    ).to_contain_text("2")
    shot(page, "registry-en")
    page.get_by_role("link", name="flowers-classifier").click()
    links = page.get_by_test_id("registry-links")
    expect(links.locator("tr[data-version='classifier:v1']")).to_contain_text("production")
    expect(links.locator("tr[data-version='classifier:v0']")).to_contain_text("staging")
    shot(page, "registry-collection-en")
    links.get_by_role("link", name=f"{ENTITY}/{PROJECT}/classifier:v1").click()
    page.wait_for_url(re.compile(f"{ARTIFACTS}/classifier/v1$"))


def test_the_artifact_pages_in_chinese(pages: Pages, logged: Logged) -> None:
    page = pages.new(locale="zh-CN")
    page.goto(pages.url(ARTIFACTS))
    expect(page.get_by_role("heading", level=1)).to_contain_text("制品")
    expect(page.get_by_role("columnheader", name="版本数").first).to_be_visible()
    shot(page, "artifacts-list-zh")
    page.goto(pages.url(f"{ARTIFACTS}/flowers/v1?tab=diff&against=v0"))
    expect(page.get_by_test_id("diff-counts")).to_contain_text("新增 1，删除 1，修改 1")
    shot(page, "artifact-diff-zh")
    page.goto(pages.url(f"/registry/{ENTITY}/flowers-classifier"))
    expect(page.get_by_role("columnheader", name="注册表别名")).to_be_visible()
    shot(page, "registry-collection-zh")


@pytest.mark.parametrize("language", ["en", "zh"])
def test_the_artifact_pages_pass_axe(pages: Pages, logged: Logged, axe_source: str, language: str) -> None:  # noqa: F811
    page = pages.new(locale={"en": "en-US", "zh": "zh-CN"}[language])
    page.goto(pages.url(ARTIFACTS))
    page.get_by_test_id("artifact-type-dataset").wait_for()
    check_page(page, axe_source, f"artifacts-{language}")
    page.goto(pages.url(f"{ARTIFACTS}/flowers"))
    page.get_by_test_id("versions").wait_for()
    check_page(page, axe_source, f"artifact-{language}")
    page.goto(pages.url(f"{ARTIFACTS}/flowers/v1?tab=files&file=preview.table.json"))
    page.get_by_role("table", name="preview.table.json").wait_for()
    check_page(page, axe_source, f"artifact-files-{language}")
    page.goto(pages.url(f"{ARTIFACTS}/flowers/v1?tab=diff&against=v0"))
    page.get_by_test_id("diff-table").wait_for()
    check_page(page, axe_source, f"artifact-diff-{language}")
    page.goto(pages.url(f"{ARTIFACTS}/flowers/v1?tab=lineage"))
    page.get_by_test_id("lineage-canvas").locator("canvas").first.wait_for()
    check_page(page, axe_source, f"artifact-lineage-{language}")
    page.goto(pages.url(f"/registry/{ENTITY}/flowers-classifier"))
    page.get_by_test_id("registry-links").wait_for()
    check_page(page, axe_source, f"registry-{language}")
