"""Reports and dashboards against the real app on SQLite and PostgreSQL: drafts, saves and their
conflicts, publishing, history, diff, revert, duplicate, pin, delete, share links, the bundle of
runs ingested through the ingest route, the HTML export, and bad input refused whole."""

from __future__ import annotations

import hashlib
import html.parser
import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from tests.harness import InProcessServer
from tests.server.conftest import Team as BaseTeam
from tests.server.conftest import add_team, post_records
from wakelog.server.limits import FailureThrottle
from wakelog.store.schema import comment_threads

API = "/api/v1"
PNG = b"\x89PNG\r\n\x1a\n" + b"pixels" * 10


class Team(BaseTeam):
    @property
    def project(self) -> str:
        return f"{self.entity}/proj"


@pytest.fixture
def team(server: InProcessServer) -> Iterator[Team]:
    """A fresh team entity (writer and other members, a reader, a boss), a project with a run,
    and a second entity where the writer is only a viewer."""
    entity = f"r{uuid.uuid4().hex[:8]}"
    roles = {"writer": "member", "other": "member", "reader": "viewer", "boss": "admin"}
    with server.client() as admin:
        keys = add_team(admin, entity, roles)
        assert admin.post(f"{API}/entities", json={"name": f"{entity}-ro"}).status_code == 201
        ro = admin.put(f"{API}/entities/{entity}-ro/members/writer-{entity}", json={"role": "viewer"})
        assert ro.is_success
        for project in (f"{entity}/proj", f"{entity}/other", f"{entity}-ro/proj"):
            assert post_records(admin, f"{project}/r1", [[0, "run", 1.0, {"name": "one"}]]).status_code == 200
    yield Team(server, entity, keys)


def markdown(block_id: str, text: str) -> dict[str, Any]:
    return {"id": block_id, "type": "markdown", "text": text}


def panels(block_id: str, runsets: list[dict], panel_list: list[dict]) -> dict[str, Any]:
    return {"id": block_id, "type": "panels", "runsets": runsets, "panels": panel_list}


def create(client: httpx.Client, project: str, title: str = "Weekly", blocks: list | None = None) -> dict:
    made = client.post(
        f"{API}/projects/{project}/reports", json={"title": title, "spec": {"blocks": blocks or []}}
    )
    assert made.status_code == 201, made.text
    return made.json()


def save(
    client: httpx.Client, report: dict, blocks: list, *, title: str | None = None, base: int | None = None
) -> httpx.Response:
    body = {
        "title": title or report["title"],
        "description": report["description"],
        "spec": {"blocks": blocks},
        "base_version": report["version"] if base is None else base,
    }
    return client.put(f"{API}/reports/{report['entity']}/{report['project']}/{report['id']}", json=body)


def url(report: dict, tail: str = "") -> str:
    return f"{API}/reports/{report['entity']}/{report['project']}/{report['id']}{tail}"


def audit_actions(team: Team) -> list[str]:
    with team.client("admin") as admin:
        entries = admin.get(f"{API}/audit", params={"entity": team.entity, "limit": 1000}).json()["entries"]
    return [e["action"] for e in entries if e["action"].startswith("report.")]


# -- the document's life -------------------------------------------------------------------------
def test_drafts_saves_conflicts_publishing_history_diff_and_revert(team: Team) -> None:
    with team.client("writer") as writer, team.client("reader") as reader, team.client("other") as other:
        report = create(writer, team.project, blocks=[markdown("intro", "# v1")])
        assert (report["status"], report["version"], report["published_version"]) == ("draft", 1, None)
        assert reader.get(f"{API}/projects/{team.project}/reports").json() == [], "drafts are invisible"
        assert reader.get(url(report)).status_code == 404
        assert [r["id"] for r in other.get(f"{API}/projects/{team.project}/reports").json()] == [report["id"]]

        v2 = save(writer, report, [markdown("intro", "# v2"), markdown("more", "text")])
        assert v2.status_code == 200, v2.text
        stale = save(other, report, [markdown("intro", "mine")])  # edited version 1, now 2
        assert stale.status_code == 409 and stale.json()["version"] == 2, stale.text
        assert "version 2" in stale.json()["detail"]

        published = writer.post(url(report, "/publish")).json()
        assert (published["status"], published["published_version"]) == ("published", 2)
        v3 = save(writer, v2.json(), [markdown("more", "text"), markdown("intro", "# v2")], title="Weekly 3")
        assert v3.json()["version"] == 3
        seen = reader.get(url(report)).json()
        assert (seen["version"], seen["title"], seen["share"]) == (2, "Weekly", None), (
            "readers see the published one"
        )
        assert reader.get(url(report), params={"version": 3}).status_code == 403
        assert reader.get(url(report, "/history")).status_code == 403

        history = writer.get(url(report, "/history")).json()
        assert [(h["version"], h["published"]) for h in history] == [(3, False), (2, True), (1, False)]
        assert writer.get(url(report), params={"version": 1}).json()["spec"]["blocks"][0]["text"] == "# v1"

        changes = writer.get(url(report, "/diff"), params={"from": 1, "to": 3}).json()
        assert changes["title"] == {"before": "Weekly", "after": "Weekly 3"}
        assert {c["block_id"]: c["change"] for c in changes["changes"]} == {
            "intro": "changed",
            "more": "added",
        }
        moved = writer.get(url(report, "/diff"), params={"from": 2, "to": 3}).json()["changes"]
        assert [(c["block_id"], c["change"]) for c in moved] == [("intro", "moved")]
        assert writer.get(url(report, "/diff"), params={"from": 1, "to": 9}).status_code == 404

        reverted = writer.post(url(report, "/revert"), json={"version": 1}).json()
        assert (reverted["version"], reverted["title"]) == (4, "Weekly")
        assert reverted["spec"] == {"blocks": [markdown("intro", "# v1")]}
        assert writer.post(url(report, "/unpublish")).json()["status"] == "draft"
        assert reader.get(url(report)).status_code == 404
    assert audit_actions(team) == ["report.unpublish", "report.revert", "report.publish", "report.create"]


def test_a_project_open_to_signed_in_users_shows_them_its_published_reports(team: Team) -> None:
    with team.client("writer") as writer, team.server.client() as admin:
        draft, shown = create(writer, team.project, "Draft"), create(writer, team.project, "Shown")
        writer.post(url(shown, "/publish"))
        name = f"outsider-{team.entity}"
        assert admin.post(f"{API}/users", json={"username": name}).status_code == 201
        key = admin.post(f"{API}/keys", json={"user": name}).json()["key"]
        with team.server.client(key) as outsider:
            assert outsider.get(f"{API}/projects/{team.project}/reports").status_code == 404
            opened = admin.patch(f"{API}/projects/{team.project}", json={"visibility": "signed_in"})
            assert opened.status_code == 200, opened.text
            listed = outsider.get(f"{API}/projects/{team.project}/reports").json()
            assert [r["id"] for r in listed] == [shown["id"]]
            assert outsider.get(url(shown, "/bundle")).status_code == 200
            assert outsider.get(url(draft)).status_code == 404
            assert outsider.post(url(shown, "/publish")).status_code == 403


def test_duplicate_into_writable_projects_only(team: Team) -> None:
    with team.client("writer") as writer:
        report = create(writer, team.project, blocks=[markdown("intro", "hello")])
        save(writer, report, [markdown("intro", "hello again")])
        copy = writer.post(url(report, "/duplicate"), json={"project": "other"})
        assert copy.status_code == 201, copy.text
        made = copy.json()
        assert (made["project"], made["title"], made["status"], made["version"]) == (
            "other",
            "Copy of Weekly",
            "draft",
            1,
        )
        assert made["spec"]["blocks"][0]["text"] == "hello again" and made["id"] != report["id"]
        assert len(writer.get(url(made, "/history")).json()) == 1, "a copy has its own history"
        refused = writer.post(
            url(report, "/duplicate"), json={"entity": f"{team.entity}-ro", "project": "proj"}
        )
        assert refused.status_code == 403 and "member" in refused.json()["detail"]
        with team.client("admin") as admin:
            assert admin.get(f"{API}/projects/{team.entity}-ro/proj/reports").json() == [], (
                "nothing made there"
            )
        missing = writer.post(url(report, "/duplicate"), json={"project": "nope"})
        assert missing.status_code == 404


def test_one_pinned_report_is_the_projects_dashboard(team: Team) -> None:
    with team.client("writer") as writer, team.client("reader") as reader:
        first, second = create(writer, team.project, "First"), create(writer, team.project, "Second")
        assert reader.get(f"{API}/projects/{team.project}/dashboard").status_code == 404
        for report in (first, second):
            writer.post(url(report, "/publish"))
        assert writer.post(url(first, "/pin")).json()["pinned"] is True
        assert writer.post(url(second, "/pin")).json()["pinned"] is True
        listed = {
            r["title"]: r["pinned"] for r in reader.get(f"{API}/projects/{team.project}/reports").json()
        }
        assert listed == {"First": False, "Second": True}
        assert reader.get(f"{API}/projects/{team.project}/dashboard").json()["id"] == second["id"]
        assert writer.post(url(first, "/unpin")).json()["pinned"] is False, (
            "unpinning another changes nothing"
        )
        assert reader.get(f"{API}/projects/{team.project}/dashboard").json()["id"] == second["id"]
        writer.post(url(second, "/unpin"))
        assert reader.get(f"{API}/projects/{team.project}/dashboard").status_code == 404
    assert audit_actions(team).count("report.pin") == 3


def test_delete_by_author_or_admin(team: Team) -> None:
    with team.client("writer") as writer, team.client("other") as other, team.client("boss") as boss:
        mine, second = create(writer, team.project, "Mine"), create(writer, team.project, "Second")
        refused = other.delete(url(mine))
        assert refused.status_code == 403 and "author" in refused.json()["detail"]
        assert writer.delete(url(mine)).status_code == 204
        assert writer.get(url(mine)).status_code == 404
        assert boss.delete(url(second)).status_code == 204
    assert audit_actions(team).count("report.delete") == 2


def test_share_links_open_the_published_bundle_and_nothing_else(team: Team) -> None:
    with team.client("writer") as writer, team.server.anonymous() as anyone:
        report = create(writer, team.project, blocks=[markdown("intro", "shared")])
        made = writer.post(url(report, "/share")).json()
        token = made["token"]
        assert made["url"] == f"/share/{token}" and len(token) >= 43
        assert writer.get(url(report)).json()["share"] == {
            "prefix": token[:8],
            "created_at": made["created_at"],
        }
        assert anyone.get(f"{API}/shared/{token}").status_code == 404, "not published yet"
        writer.post(url(report, "/publish"))
        bundle = anyone.get(f"{API}/shared/{token}").json()
        assert bundle["report"]["spec"]["blocks"][0]["text"] == "shared" and bundle["report"]["share"] is None
        for other_route in (url(report), url(report, "/bundle"), f"{API}/projects/{team.project}/reports"):
            answer = anyone.get(other_route, headers={"Authorization": f"Bearer {token}"})
            assert answer.status_code == 401, other_route
        replaced = writer.post(url(report, "/share")).json()["token"]
        assert anyone.get(f"{API}/shared/{token}").status_code == 404, "the old token stops at once"
        assert anyone.get(f"{API}/shared/{replaced}").status_code == 200
        assert writer.delete(url(report, "/share")).status_code == 204
        assert anyone.get(f"{API}/shared/{replaced}").status_code == 404
        assert writer.get(url(report)).json()["share"] is None
    with team.server.client() as admin:
        rows = admin.get(f"{API}/audit", params={"entity": team.entity, "action": "report.share"}).json()
    assert token not in json.dumps(rows) and replaced not in json.dumps(rows), "tokens are never stored"
    assert audit_actions(team).count("report.unshare") == 1


def test_wrong_share_tokens_are_throttled_per_address(team: Team, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(team.server.app.state.limits, "key_failures", FailureThrottle(2))
    with team.server.anonymous() as anyone:
        guesses = [anyone.get(f"{API}/shared/{'x' * 43}").status_code for _ in range(8)]
    # the third wrong guess closes the door for 1 s, the next ones for 2, 4, 8 s: one lands on it
    assert guesses[:3] == [404, 404, 404] and 429 in guesses[3:], guesses


# -- bad input -------------------------------------------------------------------------------------
def _line(panel_id: str = "p1", **config: Any) -> dict[str, Any]:
    return {"id": panel_id, "kind": "line", "title": "", "config": {"metrics": ["loss"], **config}}


BAD_SPECS = [
    ({"blocks": [panels("b", [], [{"id": "p", "kind": "pie", "config": {}}])]}, "unknown panel kind 'pie'"),
    ({"blocks": [markdown("a", "x"), markdown("a", "y")]}, "id 'a' is already used"),
    ({"blocks": [panels("b", [{"id": "b", "filter": ""}], [])]}, "id 'b' is already used"),
    ({"blocks": [panels("b", [{"id": "s", "colors": {"r1": "red"}}], [])]}, "colour 'red' of run 'r1'"),
    (
        {"blocks": [panels("b", [], [{"id": "p", "kind": "line", "config": [1]}])]},
        "panel 'p' config: must be an object",
    ),
    ({"blocks": [panels("b", [{"id": "s", "filter": "config.lr <"}], [])]}, "runset 's' filter"),
    ({"blocks": [panels("b", [], [_line("p", log_y="yes")])]}, "log_y"),
    ({"blocks": [{"id": "x", "type": "video"}]}, "unknown block type 'video'"),
    ({"blocks": [markdown("bad id!", "x")]}, "id 'bad id!'"),
    ({"blocks": [markdown("a", "x" * 100_001)]}, "longer than 100,000"),
    ({"blocks": [markdown(f"b{i}", "") for i in range(201)]}, "over the 200 allowed"),
    ({"blocks": [panels("b", [{"id": "s", "runs": ["ok", "no/slash"]}], [])]}, "runset 's' runs"),
    ({"blocks": [], "extra": 1}, "unknown field 'extra'"),
]


@pytest.mark.parametrize(("spec", "said"), BAD_SPECS, ids=[s for _, s in BAD_SPECS])
def test_bad_specs_are_refused_naming_the_problem_and_nothing_is_saved(
    team: Team, spec: dict, said: str
) -> None:
    with team.client("writer") as writer:
        report = create(writer, team.project, blocks=[markdown("keep", "kept")])
        answer = (
            save(writer, report, spec["blocks"])
            if "extra" not in spec
            else writer.put(
                url(report), json={"title": "t", "description": "", "spec": spec, "base_version": 1}
            )
        )
        assert answer.status_code == 400 and said in answer.json()["detail"], answer.text
        made = writer.post(f"{API}/projects/{team.project}/reports", json={"title": "New", "spec": spec})
        assert made.status_code == 400 and said in made.json()["detail"], made.text
        after = writer.get(url(report)).json()
        assert (after["version"], after["spec"]["blocks"][0]["text"]) == (1, "kept")
        assert [r["title"] for r in writer.get(f"{API}/projects/{team.project}/reports").json()] == ["Weekly"]


def test_oversized_deep_and_malformed_bodies_are_refused(team: Team) -> None:
    with team.client("writer") as writer:
        report = create(writer, team.project)
        big = {"blocks": [markdown(f"b{i}", "x" * 99_000) for i in range(12)]}
        answer = save(writer, report, big["blocks"])
        assert answer.status_code in (400, 413) and ("bytes" in answer.json()["detail"]), answer.text
        deep = (
            '{"title": "t", "description": "", "base_version": 1, "spec": '
            + "[" * 10_000
            + "]" * 10_000
            + "}"
        )
        answer = writer.put(url(report), content=deep, headers={"content-type": "application/json"})
        assert answer.status_code == 400 and "nests deeper" in answer.json()["detail"], answer.text
        for body, said in (
            ({"title": "", "description": "", "spec": {"blocks": []}, "base_version": 1}, "title"),
            ({"title": "t", "description": "", "spec": {"blocks": []}}, "base_version"),
            ({"title": "t", "description": "", "spec": {"blocks": []}, "base_version": "1"}, "base_version"),
            ({"title": "t", "description": 5, "spec": {"blocks": []}, "base_version": 1}, "description"),
            ({"title": "t", "description": "", "spec": [], "base_version": 1}, "must be an object"),
        ):
            answer = writer.put(url(report), json=body)
            assert answer.status_code == 400 and said in answer.json()["detail"], (body, answer.text)
        assert writer.post(url(report, "/revert"), json={"version": 0}).status_code == 400
        assert writer.get(url(report)).json()["version"] == 1
        assert writer.get(f"{API}/reports/{team.project}/bad%20id").status_code == 400


# -- the bundle ------------------------------------------------------------------------------------
def put_file(client: httpx.Client, run: str, name: str, content: bytes) -> str:
    sha = hashlib.sha256(content).hexdigest()
    stored = client.put(
        f"{API}/runs/{run}/blobs/{sha}", params={"offset": 0, "total": len(content)}, content=content
    )
    assert stored.json()["complete"] is True
    entry = {"name": name, "sha256": sha, "size": len(content)}
    assert client.post(f"{API}/runs/{run}/files", json={"files": [entry]}).status_code == 200
    return sha


def ingest_runs(client: httpx.Client, project: str, *, name: str = "base") -> dict[str, str]:
    """Two runs through the ingest route: history of 3,000 steps, config, summary, metadata with
    a git commit, diff.patch and requirements.txt, an image at steps 10 and 20."""
    hashes = {}
    for index, run_id in enumerate(("ra", "rb")):
        run = f"{project}/{run_id}"
        records: list[list[Any]] = [
            [0, "run", 1.0, {"name": f"{name}-{run_id}", "group": "g", "tags": ["t"]}],
            [1, "config", 1.0, {"update": {"lr": 0.1 * (index + 1)}}],
            [2, "metadata", 1.0, {"git": {"commit": f"{index}" * 40, "remote": "x"}, "python": "3.11"}],
        ]
        for step in range(3000):
            records.append(
                [
                    3 + step,
                    "history",
                    2.0 + step,
                    {"_step": step, "loss": 1.0 / (step + 1), "eval/acc": step / 3000},
                ]
            )
        seq = 3 + 3000
        for step in (10, 20):
            stub = {"_type": "image-file", "path": f"media/images/sample_{step}.png", "caption": f"at {step}"}
            records.append([seq, "history", 9000.0 + step, {"_step": 3000 + step, "sample": stub}])
            seq += 1
        assert post_records(client, run, records).status_code == 200
        hashes[f"{run_id}/diff"] = put_file(client, run, "diff.patch", f"diff {run_id}\n".encode())
        put_file(client, run, "requirements.txt", b"numpy==2.1.0\n# comment\npaddlepaddle==3.0.0\n")
        for step in (10, 20):
            put_file(client, run, f"media/images/sample_{step}.png", PNG + run_id.encode() + bytes([step]))
    return hashes


def bundle_spec() -> list[dict[str, Any]]:
    return [
        markdown("intro", "# Results"),
        panels(
            "charts",
            [
                {"id": "all", "name": "All", "filter": "config.lr > 0.15", "colors": {"rb": "#123456"}},
                {"id": "fixed", "name": "Fixed", "runs": ["ra", "gone"]},
            ],
            [
                _line("loss", metrics=["loss", "eval/*"]),
                {"id": "pics", "kind": "media", "title": "", "config": {"key": "sample", "step": 3015}},
                {"id": "tbl", "kind": "table", "title": "", "config": {"columns": ["config.lr"]}},
            ],
        ),
    ]


def test_the_bundle_resolves_run_sets_series_environment_and_media(team: Team) -> None:
    with team.client("writer") as writer, team.client("reader") as reader:
        hashes = ingest_runs(writer, team.project)
        report = create(writer, team.project, blocks=bundle_spec())
        writer.post(url(report, "/publish"))
        answer = reader.get(url(report, "/bundle"))
        assert answer.status_code == 200, answer.text
        bundle = answer.json()
    assert bundle["runsets"] == {"all": ["rb"], "fixed": ["ra"]}, "filter applied now; gone runs left out"
    assert set(bundle["runs"]) == {"ra", "rb"}
    rb = bundle["runs"]["rb"]
    assert (rb["name"], rb["color"], rb["group"], rb["tags"], rb["config"]) == (
        "base-rb",
        "#123456",
        "g",
        ["t"],
        {"lr": 0.2},
    )
    assert rb["environment"] == {
        "git_commit": "1" * 40,
        "git_diff_sha256": hashes["rb/diff"],
        "packages": {"numpy": "2.1.0", "paddlepaddle": "3.0.0"},
    }
    assert re.fullmatch(r"#[0-9a-f]{6}", bundle["runs"]["ra"]["color"])
    loss = bundle["series"]["loss"]
    assert set(loss) == {"ra", "rb"} and set(loss["ra"]) == {"loss", "eval/acc"}, "globs expanded"
    points = loss["rb"]["loss"]
    assert 0 < len(points["x"]) == len(points["y"]) <= 1000, "downsampled as the history route does"
    assert points["x"] == sorted(points["x"]) and points["x"][-1] > 2900 and max(points["y"]) <= 1.0
    pics = bundle["media"]["pics"]["ra"]
    assert pics["step"] == 3010 and pics["items"][0]["caption"] == "at 10"
    assert pics["items"][0]["url_or_data"].endswith(
        "/runs/" + team.project + "/ra/files/media/images/sample_10.png"
    )
    assert bundle["report"]["id"] == report["id"] and bundle["generated_at"] > 0


def test_the_bundle_carries_a_histogram_panels_steps(team: Team) -> None:
    """A histogram panel's runs (its max_runs of them, else 6) with the key's logged steps, at most
    500 each (evenly picked), other values of the key and runs without it left out."""
    hist = {"_type": "histogram", "values": [1, 2], "bins": [0.0, 0.5, 1.0]}
    with team.client("writer") as writer:
        for run, steps in (("h1", 1200), ("h2", 3), ("h3", 4)):
            records: list[list[Any]] = [[0, "run", 1.0, {"name": run}]]
            records += [
                [s + 1, "history", 1.0, {"_step": s, "w": {**hist, "values": [s, 1]}}] for s in range(steps)
            ]
            records.append([steps + 1, "history", 1.0, {"_step": steps, "w": "not a histogram"}])
            for lo in range(0, len(records), 500):
                assert (
                    post_records(writer, f"{team.project}/{run}", records[lo : lo + 500]).status_code == 200
                )
        runset = {"id": "set", "name": "all", "filter": "", "runs": ["h1", "h2", "h3", "r1"]}
        block = [
            {"id": "hp", "kind": "histogram", "title": "", "config": {"key": "w", "max_runs": 2}},
            {"id": "all", "kind": "histogram", "title": "", "config": {"key": "w"}},
        ]
        report = create(writer, team.project, blocks=[panels("b", [runset], block)])
        bundle = writer.get(url(report, "/bundle")).json()
    assert list(bundle["histograms"]["hp"]) == ["h1", "h2"], "the panel's max_runs, in the run set's order"
    assert list(bundle["histograms"]["all"]) == ["h1", "h2", "h3"], "r1 logged no histogram"
    steps = bundle["histograms"]["hp"]["h1"]
    assert len(steps) == 500 and steps[0]["step"] == 0 and steps[-1]["step"] < 1200
    assert [s["step"] for s in steps] == sorted({s["step"] for s in steps}), "evenly picked, in order"
    assert bundle["histograms"]["hp"]["h2"] == [
        {"step": s, "value": {**hist, "values": [s, 1]}} for s in range(3)
    ]


# -- the HTML export -------------------------------------------------------------------------------
STAND_IN = (
    "<!doctype html><html><head><title>report</title></head><body><div id=root></div>"
    '<script id="wakelog-bundle" type="application/json"><!--WAKELOG_BUNDLE--></script>'
    "<script>window.ok = true</script></body></html>"
)
HOSTILE = "</script><script>alert(1)</script><!-- \u2028\u2029 & <b>"


class _Scripts(html.parser.HTMLParser):
    """The script elements of a page as a browser's tokenizer splits them."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self._open: dict[str, str | None] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            self._open = dict(attrs)
            self.scripts.append((self._open, ""))

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            attrs, text = self.scripts[-1]
            self.scripts[-1] = (attrs, text + data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._open = None


def test_export_embeds_the_bundle_safely_and_opens_offline(team: Team, tmp_path: Path) -> None:
    app = team.server.app
    with team.client("writer") as writer:
        ingest_runs(writer, team.project, name=HOSTILE)
        report = create(
            writer, team.project, title=HOSTILE, blocks=[markdown("evil", HOSTILE), *bundle_spec()[1:]]
        )
        app.state.export_template = tmp_path / "missing.html"
        missing = writer.get(url(report, "/export.html"))
        assert missing.status_code == 503 and "missing.html is missing" in missing.json()["detail"]
        page = tmp_path / "report-export.html"
        page.write_text(STAND_IN)
        app.state.export_template = page
        try:
            answer = writer.get(url(report, "/export.html"))
            expected = writer.get(url(report, "/bundle")).json()
        finally:
            del app.state.export_template
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/html")
    assert answer.headers["content-disposition"] == f'attachment; filename="report-{report["id"]}.html"'
    text = answer.text
    assert "\u2028" not in text and "\u2029" not in text and "</script><script>alert" not in text
    scripts = _Scripts()
    scripts.feed(text)
    assert [attrs.get("id") for attrs, _ in scripts.scripts] == ["wakelog-bundle", None], "nothing broke out"
    embedded = json.loads(scripts.scripts[0][1])
    assert (
        embedded["report"]["title"] == HOSTILE and embedded["report"]["spec"]["blocks"][0]["text"] == HOSTILE
    )
    assert embedded["runs"]["ra"]["name"] == f"{HOSTILE}-ra"
    for run_id in ("ra", "rb"):  # each run's config, environment and summary: the auditor's archive
        for part in ("config", "environment", "summary"):
            assert embedded["runs"][run_id][part] == expected["runs"][run_id][part], (run_id, part)
    assert embedded["runs"]["rb"]["config"] == {"lr": 0.2} and embedded["runs"]["rb"]["summary"]["loss"]
    assert embedded["runs"]["rb"]["environment"]["git_commit"] == "1" * 40
    assert embedded["series"] == expected["series"]
    image = embedded["media"]["pics"]["ra"]["items"][0]["url_or_data"]
    assert image.startswith("data:image/png;base64,"), "media embedded: the file opens offline"


# -- comments on reports and their panels ----------------------------------------------------------
def test_threads_on_a_report_and_its_panels_follow_who_reads_it(team: Team) -> None:
    reader_name = f"reader-{team.entity}"
    with team.client("writer") as writer, team.client("reader") as reader, team.client("boss") as boss:
        report = create(writer, team.project, blocks=[panels("charts", [], [_line("p1")])])
        writer.post(url(report, "/publish"))
        started = writer.post(url(report, "/threads"), json={"body": f"@{reader_name} see this"})
        assert started.status_code == 201, started.text
        whole = started.json()
        assert whole["target"] == {"kind": "report", "report_id": report["id"], "panel_id": None}
        on_panel = writer.post(url(report, "/threads"), json={"body": "odd dip", "panel_id": "p1"}).json()
        assert on_panel["target"]["panel_id"] == "p1"
        wrong = writer.post(url(report, "/threads"), json={"body": "x", "panel_id": "nope"})
        assert wrong.status_code == 400 and "'nope'" in wrong.json()["detail"]

        assert [t["id"] for t in reader.get(url(report, "/threads")).json()] == [whole["id"], on_panel["id"]]
        assert reader.post(url(report, "/threads"), json={"body": "me too"}).status_code == 403
        mention = next(
            n for n in reader.get(f"{API}/notifications").json()["notifications"] if n["event"] == "mention"
        )
        assert "on report Weekly" in mention["title"] and mention["run"]["report_id"] == report["id"]

        reply = writer.post(
            url(report, f"/threads/{on_panel['id']}/comments"), json={"body": f"@{reader_name} again"}
        )
        assert reply.status_code == 201
        mentions = [
            n for n in reader.get(f"{API}/notifications").json()["notifications"] if n["event"] == "mention"
        ]
        assert mentions[0]["run"]["panel_id"] == "p1", "a reply on a panel's thread links to the panel"
        assert writer.patch(url(report, f"/threads/{on_panel['id']}"), json={"resolved": True}).json()[
            "resolved_at"
        ]
        edited = writer.patch(url(report, f"/comments/{reply.json()['id']}"), json={"body": "edited"})
        assert edited.json()["body"] == "edited"
        assert boss.delete(url(report, f"/comments/{reply.json()['id']}")).status_code == 204
        run_thread = writer.get(f"{API}/runs/{team.project}/r1/threads").json()
        assert run_thread == [], "a report's threads are not its runs'"
        assert (
            writer.patch(
                f"{API}/runs/{team.project}/r1/threads/{whole['id']}", json={"resolved": True}
            ).status_code
            == 404
        )

        writer.post(url(report, "/unpublish"))
        assert reader.get(url(report, "/threads")).status_code == 404, "a draft's threads are the writers'"
        db = team.server.app.state.db
        assert writer.delete(url(report)).status_code == 204
    with db.read() as conn:
        left = conn.execute(
            sa.select(comment_threads.c.id).where(comment_threads.c.id.in_([whole["id"], on_panel["id"]]))
        ).all()
    assert left == [], "a deleted report's threads go with it"


# -- wakelog.Api -----------------------------------------------------------------------------------
def test_the_api_lists_and_fetches_reports(team: Team) -> None:
    import wakelog
    from wakelog.errors import CommError

    with team.client("writer") as writer:
        draft = create(writer, team.project, "Draft", blocks=[markdown("a", "wip")])
        shown = create(writer, team.project, "Shown", blocks=[panels("b", [{"id": "all"}], [_line("p")])])
        writer.post(url(shown, "/publish"))
    base = team.server.url
    mine = wakelog.Api(overrides={"base_url": base, "api_key": team.keys["writer"], "entity": team.entity})
    theirs = wakelog.Api(overrides={"base_url": base, "api_key": team.keys["reader"]})
    try:
        listed = mine.reports("proj")
        assert [(r.id, r.title, r.status) for r in listed] == [
            (shown["id"], "Shown", "published"),
            (draft["id"], "Draft", "draft"),
        ]
        assert listed[1].spec == {"blocks": [markdown("a", "wip")]}, "the spec is fetched when asked for"
        assert listed[1].url == f"{base}/{team.entity}/proj/reports/{draft['id']}"
        assert [r.id for r in theirs.reports(team.project)] == [shown["id"]], "readers see published ones"
        one = theirs.report(f"{base}/{team.project}/reports/{shown['id']}")
        assert (one.title, one.version, one.pinned, one.updated_at) == (
            "Shown",
            1,
            False,
            shown["updated_at"],
        )
        assert one.spec["blocks"][0]["panels"][0]["id"] == "p"
        assert one.bundle()["runsets"] == {"all": ["r1"]}
        with pytest.raises(CommError, match="404"):
            theirs.report(f"{team.project}/{draft['id']}")
    finally:
        mine.close()
        theirs.close()


# -- the docs' examples ----------------------------------------------------------------------------
def test_the_docs_examples_run(team: Team, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """docs/collaboration.md's report examples, run against this server (its "team/digits" is
    this test's project)."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "collaboration.md").read_text()
    section = text[text.index("## Reports and dashboards") : text.index("### Comments on reports")]
    blocks = re.findall(r"```python\n(.*?)```", section, re.DOTALL)
    assert len(blocks) == 2
    project = f"{team.entity}/digits"
    with team.client("writer") as writer:
        for run_id, tags in (("baseline", []), ("t1", ["tuned"]), ("t2", ["tuned"])):
            records = [
                [0, "run", 1.0, {"name": run_id, "tags": tags}],
                [1, "history", 2.0, {"_step": 0, "loss": 1.0, "eval/acc": 0.5, "acc": 0.4}],
                [2, "history", 3.0, {"_step": 1, "loss": 0.5, "eval/acc": 0.7, "acc": 0.6}],
            ]
            assert post_records(writer, f"{project}/{run_id}", records).status_code == 200
    page = tmp_path / "report-export.html"
    page.write_text(STAND_IN)
    monkeypatch.setattr(team.server.app.state, "export_template", page, raising=False)
    monkeypatch.setenv("WAKELOG_BASE_URL", team.server.url)
    monkeypatch.setenv("WAKELOG_API_KEY", team.keys["writer"])
    monkeypatch.chdir(tmp_path)
    scope: dict[str, Any] = {}
    try:
        for index, block in enumerate(blocks):
            code = compile(block.replace("team/digits", project), f"collaboration.md example {index}", "exec")
            exec(code, scope)
    finally:
        for client in ("http", "api"):
            if client in scope:
                scope[client].close()
    assert scope["bundle"]["runsets"] == {"tuned": ["t2", "t1"], "base": ["baseline"]}
    assert set(scope["runs"]) == {"baseline", "t1", "t2"}
    assert scope["weekly"].pinned is True and scope["link"]["url"].startswith("/share/")
    assert '"title":"Weekly"' in (tmp_path / "weekly.html").read_text()
    with team.client("reader") as reader:
        assert reader.get(f"{API}/projects/{project}/dashboard").json()["title"] == "Weekly"
