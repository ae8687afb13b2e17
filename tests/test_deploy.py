"""deploy/: the facts that hold without a container engine or helm (neither runs here).

* The server image installs wakelog with exactly the step ``scripts/cluster.sh`` runs (the one
  script ``deploy/install-server.sh``), so the loopback cluster test exercises what the image holds.
* ``compose.yaml`` parses, and refers only to services, volumes and files it has.
* The Helm chart's values parse and every ``.Values.x.y`` a template reads is set in values.yaml.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
CHART = DEPLOY / "helm" / "wakelog"
INSTALL = "deploy/install-server.sh"


def run_lines(dockerfile: Path) -> list[str]:
    """The Dockerfile's instructions, continuation lines joined."""
    text = re.sub(r"\\\n", " ", dockerfile.read_text())
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def install_extras() -> list[str]:
    match = re.search(r'"\$src\[([a-z0-9,]+)\]"', (ROOT / INSTALL).read_text())
    assert match, f"{INSTALL} installs $src[extras]"
    return match.group(1).split(",")


def test_the_image_and_the_cluster_script_install_the_server_with_one_step() -> None:
    runs = [line for line in run_lines(DEPLOY / "Dockerfile") if line.startswith("RUN ")]
    installs = [line for line in runs if "pip install" in line or INSTALL in line]
    assert len(installs) == 1 and f"sh {INSTALL} /src python" in installs[0], installs
    script = (ROOT / "scripts" / "cluster.sh").read_text()
    assert re.search(rf'^\s*sh "\$ROOT/{INSTALL}" "\$ROOT" "\$PY"$', script, re.M), "cluster.sh runs it"
    others = [line for line in script.splitlines() if "pip install" in line and "moto[server]" not in line]
    assert not others, "cluster.sh installs nothing else of the server's (moto stands in for S3)"
    # What the step installs is what a cluster needs, by the names pyproject gives them.
    pyproject = (ROOT / "pyproject.toml").read_text()  # tomllib is 3.11+; the section's keys suffice
    section = pyproject.split("[project.optional-dependencies]", 1)[1].split("\n[", 1)[0]
    extras = re.findall(r"^([a-z0-9-]+) = \[", section, re.M)
    assert install_extras() == ["server", "postgres", "s3"]
    assert set(install_extras()) <= set(extras)


def test_the_image_has_the_files_it_copies() -> None:
    lines = run_lines(DEPLOY / "Dockerfile")
    copies = [shlex.split(line)[1:-1] for line in lines if line.startswith("COPY ")]
    ignore = (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines()
    for sources in copies:
        for source in sources:
            assert (ROOT / source).exists(), source
            assert f"!{source.rstrip('/')}" in {line.rstrip("/") for line in ignore}, f"{source} is sent"


def compose() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def test_compose_refers_only_to_what_it_defines() -> None:
    spec = compose()
    services, volumes = spec["services"], set(spec.get("volumes") or {})
    assert {"postgres", "pgbouncer", "minio", "wakelog", "nginx"} <= set(services)
    for name, service in services.items():
        assert set(service.get("depends_on") or {}) <= set(services), f"{name} depends on a service not here"
        for mount in service.get("volumes") or []:
            source = mount.split(":", 1)[0]
            if source.startswith("."):
                assert (DEPLOY / source).exists(), f"{name} mounts {source}, which is not in deploy/"
            else:
                assert source in volumes, f"{name} mounts volume {source}, not defined"
        build = service.get("build")
        if build is not None:
            context = DEPLOY / (build if isinstance(build, str) else build["context"])
            dockerfile = "Dockerfile" if isinstance(build, str) else build.get("dockerfile", "Dockerfile")
            assert (context / dockerfile).is_file(), f"{name} builds {context / dockerfile}"
        if name in ("postgres", "pgbouncer", "minio", "wakelog", "nginx"):
            assert "healthcheck" in service, f"{name} has no healthcheck"


def test_compose_runs_replicas_behind_nginx_on_pgbouncer_in_session_mode() -> None:
    spec = compose()["services"]
    server = spec["wakelog"]
    assert server["deploy"]["replicas"] == "${WAKELOG_REPLICAS:-3}"
    assert any("pgbouncer:6432" in arg for arg in server["command"])
    assert "server wakelog:8080" in (DEPLOY / "nginx.conf").read_text()
    ini = (DEPLOY / "pgbouncer" / "pgbouncer.ini").read_text()
    assert re.search(r"^pool_mode = session$", ini, re.M)
    # The init service runs the image's init script, which the Dockerfile installs.
    assert spec["init"]["entrypoint"][0] == "wakelog-init-db"
    assert "deploy/init-db.sh /usr/local/bin/wakelog-init-db" in (DEPLOY / "Dockerfile").read_text()


def test_the_compose_nginx_config_passes_nginx_own_check(tmp_path: Path) -> None:
    """``nginx -t`` on deploy/nginx.conf, with the replicas' host (compose's DNS name) and the log
    (the container's stdout) pointed at this machine."""
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if nginx is None:
        pytest.skip("nginx is not installed (scripts/test.sh installs it)")
    conf = (DEPLOY / "nginx.conf").read_text()
    assert "server wakelog:8080" in conf and "/dev/stdout" in conf
    conf = conf.replace("server wakelog:8080", "server 127.0.0.1:9")
    (tmp_path / "nginx.conf").write_text(conf.replace("/dev/stdout", str(tmp_path / "access.log")))
    done = subprocess.run(
        [
            nginx,
            "-t",
            "-p",
            str(tmp_path),
            "-c",
            str(tmp_path / "nginx.conf"),
            "-e",
            str(tmp_path / "error.log"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def proxy_directives(text: str) -> set[str]:
    """nginx's request-passing directives (proxy_*, body size, keepalive), one normalised line each."""
    text = text.replace("\\$", "$")  # cluster.sh writes its config from a shell here-document
    pattern = r"^\s*((?:proxy_|client_max_body_size|keepalive )[^;]*;)"
    found = {" ".join(line.split()) for line in re.findall(pattern, text, re.M)}
    return {line for line in found if not line.startswith("proxy_temp_path")}  # a loopback folder


def test_compose_and_the_loopback_cluster_proxy_alike() -> None:
    """deploy/nginx.conf and the proxy scripts/cluster.sh writes pass requests on the same way, so
    the loopback test covers the settings live events and retries depend on."""
    compose_proxy = proxy_directives((DEPLOY / "nginx.conf").read_text())
    loopback_proxy = proxy_directives((ROOT / "scripts" / "cluster.sh").read_text())
    assert "proxy_buffering off;" in compose_proxy
    assert compose_proxy == loopback_proxy


def values_paths(node: Any, prefix: str = "") -> set[str]:
    """Every dotted path in values.yaml (maps' keys, at every depth)."""
    paths = {prefix} if prefix else set()
    if isinstance(node, dict):
        for key, value in node.items():
            paths |= values_paths(value, f"{prefix}.{key}" if prefix else key)
    return paths


def test_the_chart_reads_only_values_it_defines() -> None:
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    assert chart["apiVersion"] == "v2" and chart["name"] == "wakelog" and chart["version"]
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    defined = values_paths(values)
    templates = sorted((CHART / "templates").iterdir())
    kinds = {"Deployment", "Service", "Ingress", "ConfigMap", "Secret"}
    used: dict[str, str] = {}
    named = set()
    for template in templates:
        text = template.read_text()
        for path in re.findall(r"\.Values\.([A-Za-z0-9_.]+)", text):
            used[path.rstrip(".")] = template.name
        named |= set(re.findall(r'define "([^"]+)"', text))
        kinds -= set(re.findall(r"^kind: (\w+)$", text, re.M))
    missing = {path: where for path, where in used.items() if path not in defined}
    assert not missing, f"templates read values that values.yaml does not set: {missing}"
    assert not kinds, f"the chart has no {kinds}"
    for template in templates:
        for name in re.findall(r'include "([^"]+)"', template.read_text()):
            assert name in named, f"{template.name} includes {name}, defined nowhere"
    assert values["replicaCount"] >= 2


@pytest.mark.parametrize("template", sorted(p.name for p in (CHART / "templates").glob("*.yaml")))
def test_each_template_is_yaml_once_its_actions_are_gone(template: str) -> None:
    """Not a render: each ``{{ … }}`` replaced by a scalar, the rest must parse as YAML (a wrong
    indent or a stray character shows)."""
    text = (CHART / "templates" / template).read_text()
    lines = []
    for line in text.splitlines():
        stripped = line.strip()
        if re.fullmatch(r"\{\{-?.*-?\}\}", stripped) and stripped.count("{{") == 1:
            continue  # a control line (if, range, with, end, include … | nindent)
        lines.append(re.sub(r"\{\{.*?\}\}", "x", line))
    yaml.safe_load("\n".join(lines))


def test_docs_deploy_names_only_what_exists() -> None:
    """docs/deploy.md: every deploy/ or scripts/ path it names is there, and every cluster.sh command
    it shows is one the script takes."""
    text = (ROOT / "docs" / "deploy.md").read_text()
    for path in set(re.findall(r"\b((?:deploy|scripts|tests|bench)/[\w./-]*\w)", text)) - {"deploy/.env"}:
        assert (ROOT / path).exists(), f"docs/deploy.md names {path}, which is not there"
    script = (ROOT / "scripts" / "cluster.sh").read_text()
    accepted = set(re.findall(r"^([a-z-]+)\)", script, re.M))
    shown = set(re.findall(r"scripts/cluster\.sh ([a-z-]+)", text))
    assert shown and shown <= accepted, f"docs/deploy.md shows {shown - accepted}, which cluster.sh refuses"
