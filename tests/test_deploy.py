"""deploy/: the Kubernetes manifests and the Dockerfiles, checked without a cluster.

Every manifest is validated (strict: unknown fields are errors) against the Kubernetes
API's own JSON schemas (``kubernetes-validate`` bundles them per release), for the oldest
release the manifests need and the newest bundled; a broken manifest must fail. Then what
the schema cannot see: references between the manifests (secrets, config, selectors,
ports, the gateway pods the web tier names), the flags they pass to ``codeact``, and the
Dockerfiles (parsed; the kernel image's ``codeact kernelspec install`` line is run).
"""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

kv = pytest.importorskip("kubernetes_validate")
dockerfile_parse = pytest.importorskip("dockerfile_parse")

REPO = Path(__file__).resolve().parents[1]
K8S = REPO / "deploy/k8s"
DOCKER = REPO / "deploy/docker"
MIN_VERSION = "1.31.0"  # pod appArmorProfile (1.30), procMount with hostUsers: false
VERSIONS = (MIN_VERSION, kv.latest_version())
NOT_APPLIED = {"kustomization.yaml", "secrets.example.yaml"}
NAMESPACE = "codeact"


def manifests() -> list[Path]:
    return sorted(p for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")


def docs(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def all_objects() -> list[dict[str, Any]]:
    return [d for p in manifests() for d in docs(p)]


def objects(kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in all_objects() if d["kind"] == kind}


def first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0]


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("path", manifests(), ids=lambda p: p.name)
def test_every_manifest_is_valid_kubernetes(path, version):
    found = docs(path)
    assert found, f"{path.name} has no objects"
    for doc in found:
        try:
            kv.validate(doc, version, strict=True)
        except kv.ValidationError as exc:
            where = "/".join(str(p) for p in exc.path)
            pytest.fail(f"{path.name}: {doc['kind']} {doc['metadata']['name']} at {where}: "
                        f"{first_line(exc)}")


@pytest.mark.parametrize("breakage", ["replicas as text", "a misspelt field",
                                      "no selector", "a field newer than the schema"])
def test_a_broken_manifest_fails(breakage):
    doc = objects("Deployment")["codeact-web"]
    pod = doc["spec"]["template"]["spec"]
    if breakage == "replicas as text":
        doc["spec"]["replicas"] = "three"
    elif breakage == "a misspelt field":
        pod["containers"][0]["imagePullPolcy"] = "Always"
    elif breakage == "no selector":
        del doc["spec"]["selector"]
    else:  # appArmorProfile came in 1.30: the 1.25 schema has no such field
        doc = objects("StatefulSet")["enterprise-gateway"]
        with pytest.raises(kv.ValidationError, match="appArmorProfile"):
            kv.validate(doc, "1.25.0", strict=True)
        return
    with pytest.raises(kv.ValidationError):
        kv.validate(doc, kv.latest_version(), strict=True)


def test_the_kustomization_applies_every_manifest_but_the_secret_example():
    k = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    assert k["namespace"] == NAMESPACE
    assert set(k["resources"]) == {p.name for p in manifests()} - NOT_APPLIED
    images = {i["name"] for i in k["images"]}
    used = {c["image"].split(":")[0] for c in containers()}
    assert {i for i in used if i.startswith("codeact-")} == images


def test_everything_is_in_one_namespace():
    for d in all_objects():
        if d["kind"] == "Namespace":
            assert d["metadata"]["name"] == NAMESPACE
        else:
            assert d["metadata"].get("namespace") == NAMESPACE, d["metadata"]["name"]


def workloads() -> list[dict[str, Any]]:
    return [d for d in all_objects() if d["kind"] in ("Deployment", "StatefulSet")]


def containers() -> list[dict[str, Any]]:
    return [c for w in workloads() for c in w["spec"]["template"]["spec"]["containers"]]


def test_secret_and_config_references_resolve():
    secret = objects("Secret")["codeact-secrets"]
    config = objects("ConfigMap")["codeact-config"]
    for c in containers():
        for env in c.get("env", []):
            ref = env.get("valueFrom", {}).get("secretKeyRef")
            if ref:
                assert ref["name"] == "codeact-secrets"
                assert ref["key"] in secret["stringData"], (c["name"], ref)
        for src in c.get("envFrom", []):
            assert src["configMapRef"]["name"] == config["metadata"]["name"]


def test_services_and_policies_select_pods_that_exist():
    labels = [w["spec"]["template"]["metadata"]["labels"] for w in workloads()]
    for w in workloads():
        sel = w["spec"]["selector"]["matchLabels"]
        assert sel.items() <= w["spec"]["template"]["metadata"]["labels"].items()
    for name, svc in objects("Service").items():
        matched = [w for w in workloads() if svc["spec"]["selector"].items()
                   <= w["spec"]["template"]["metadata"]["labels"].items()]
        assert len(matched) == 1, name
        ports = {p["name"] for c in matched[0]["spec"]["template"]["spec"]["containers"]
                 for p in c.get("ports", [])}
        for p in svc["spec"]["ports"]:
            assert p["targetPort"] in ports, (name, p)
    for kind in ("NetworkPolicy", "PodDisruptionBudget"):
        for name, obj in objects(kind).items():
            sel = (obj["spec"].get("podSelector") or obj["spec"]["selector"])["matchLabels"]
            assert any(sel.items() <= lab.items() for lab in labels), (kind, name)
    assert objects("Service")["codeact-web"]["spec"]["sessionAffinity"] == "None"


def test_the_web_tier_names_every_gateway_pod_and_the_installed_kernelspec():
    config = objects("ConfigMap")["codeact-config"]["data"]
    gw = objects("StatefulSet")["enterprise-gateway"]
    svc = objects("Service")[gw["spec"]["serviceName"]]
    assert svc["spec"]["clusterIP"] == "None"  # headless: one DNS name per pod
    port = svc["spec"]["ports"][0]["port"]
    want = [f"http://{gw['metadata']['name']}-{i}.{svc['metadata']['name']}:{port}"
            for i in range(gw["spec"]["replicas"])]
    assert config["CODEACT_RUNTIME"].split(",") == want
    assert config["CODEACT_RUNTIME_KERNEL"] == kernelspec_install_args()["--name"]


def cli_help(*args: str) -> str:
    from codeact.cli.root import app

    r = CliRunner().invoke(app, [*args, "--help"], env={"COLUMNS": "200"})
    assert r.exit_code == 0, r.output
    return r.output


def test_the_web_containers_flags_are_codeact_serves():
    (web,) = [c for c in containers() if c["image"].startswith("codeact-web")]
    assert web["args"][0] == "serve"
    text = cli_help("serve")
    for flag in [a for a in web["args"] if a.startswith("--")]:
        assert re.search(rf"{re.escape(flag)}\b", text), flag
    probe = web["readinessProbe"]["httpGet"]["path"]
    from codeact.server.routes.meta import router
    from codeact.server.security import PUBLIC_PREFIXES

    assert probe in {getattr(r, "path", None) for r in router.routes}
    assert probe.startswith(PUBLIC_PREFIXES)  # probes carry no token


@pytest.mark.slow
def test_the_web_container_starts_with_its_manifests_args_and_env(tmp_path):
    """`codeact serve` with the Deployment's args and the env the manifests give it
    (ConfigMap, the example Secret; SQLite for the database URL), gateways not yet up:
    it must start and answer its probe."""
    import subprocess
    import sys
    import time

    import httpx

    (web,) = [c for c in containers() if c["image"].startswith("codeact-web")]
    secret = objects("Secret")["codeact-secrets"]["stringData"]
    env = dict(objects("ConfigMap")["codeact-config"]["data"])
    for e in web["env"]:
        ref = e.get("valueFrom", {}).get("secretKeyRef")
        env[e["name"]] = secret[ref["key"]] if ref else e["value"]
    env["CODEACT_DB_URL"] = f"sqlite:///{tmp_path}/server.db"
    port = _free_port()
    args = [a.replace("$(CODEACT_DB_URL)", env["CODEACT_DB_URL"]) for a in web["args"]]
    args = [str(tmp_path) if a == "/data" else a for a in args]
    args[args.index("--port") + 1] = str(port)
    proc = subprocess.Popen([sys.executable, "-m", "codeact.cli", *args],
                            env={**os.environ, **env, "HOME": str(tmp_path)},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
            try:
                r = httpx.get(f"http://127.0.0.1:{port}{web['readinessProbe']['httpGet']['path']}",
                              timeout=1)
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline
                time.sleep(0.2)
        assert r.status_code == 200 and r.json() == {"ok": True}
        private = httpx.get(f"http://127.0.0.1:{port}/api/conversations", timeout=5)
        assert private.status_code == 401  # the token from the Secret is in force
    finally:
        proc.terminate()
        proc.wait(20)


def dockerfile(name: str) -> Any:
    return dockerfile_parse.DockerfileParser(path=str(DOCKER / name))


@pytest.mark.parametrize("name", ["web.Dockerfile", "kernel.Dockerfile"])
def test_dockerfiles_parse_copy_what_exists_and_run_unprivileged(name):
    df = dockerfile(name)
    assert df.baseimage and df.baseimage.startswith("python:3.11")
    steps = df.structure
    users = [s["value"] for s in steps if s["instruction"] == "USER"]
    assert users and users[-1] not in ("root", "0"), "the image must not run as root"
    for s in steps:
        if s["instruction"] == "COPY":
            *sources, _dest = shlex.split(s["value"])
            for src in sources:
                assert (REPO / src).exists(), f"{name}: COPY {src}: no such path"
    exposed = {int(s["value"]) for s in steps if s["instruction"] == "EXPOSE"}
    image = "codeact-" + name.removesuffix(".Dockerfile")
    ports = {p["containerPort"] for c in containers() if c["image"].startswith(image)
             for p in c.get("ports", [])}
    assert exposed == ports, (name, exposed, ports)


def kernelspec_install_args() -> dict[str, str]:
    """The kernel image's ``codeact kernelspec install`` options, as a dict."""
    df = dockerfile("kernel.Dockerfile")
    runs = [s["value"] for s in df.structure if s["instruction"] == "RUN"]
    for run in runs:
        for part in run.split("&&"):
            words = shlex.split(part)
            if words[1:3] == ["kernelspec", "install"]:
                args = words[3:]
                return dict(zip(args[::2], args[1::2], strict=True))
    raise AssertionError("kernel.Dockerfile does not run `codeact kernelspec install`")


def test_the_kernel_images_kernelspec_line_works(tmp_path, monkeypatch):
    """Run the Dockerfile's own install line (into a temp prefix) through the real CLI."""
    from codeact.cli.root import app

    args = kernelspec_install_args()
    args["--prefix"] = str(tmp_path)
    args["--kernel-env"] = "self"
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "share/jupyter"))
    r = CliRunner().invoke(app, ["kernelspec", "install",
                                 *[x for kv_ in args.items() for x in kv_]])
    assert r.exit_code == 0, r.output
    spec = tmp_path / "share/jupyter/kernels" / args["--name"] / "kernel.json"
    assert spec.exists()
    gw_env = dockerfile("kernel.Dockerfile").envs
    assert gw_env["EG_DEFAULT_KERNEL_NAME"] == gw_env["EG_ALLOWED_KERNELS"] == args["--name"]


def test_docs_walk_through_every_file():
    text = (REPO / "docs/deploy.md").read_text()
    for p in [*K8S.glob("*.yaml"), *DOCKER.glob("*.Dockerfile")]:
        assert p.name in text, f"docs/deploy.md never mentions {p.name}"


EG = Path(os.environ.get("CODEACT_TEST_EG",
                         REPO / ".venv-gateway/bin/jupyter-enterprisegateway"))


@pytest.mark.slow
def test_the_kernel_tier_blocks_every_attack_on_a_real_enterprise_gateway(tmp_path):
    """The kernel image's tier, without the image: Enterprise Gateway from the image's own
    lock (.ci/run makes .venv-gateway), its EG_* settings and CMD from the Dockerfile, the
    kernelspec from the Dockerfile's install line, the kernelspec name the web tier asks
    for from the ConfigMap; codeact's gateway session runs the whole attack self-test."""
    import json
    import signal
    import subprocess
    import time

    import httpx

    from codeact.runtime import selftest
    from codeact.runtime.sandboxes import SandboxConfig
    from codeact.runtime.sandboxes.bwrap import check_bwrap

    if not EG.exists():
        pytest.skip(f"no Enterprise Gateway at {EG} (.ci/run makes .venv-gateway)")
    if not check_bwrap()[0]:
        pytest.skip("bubblewrap unusable here")
    args = kernelspec_install_args()
    args["--prefix"] = str(tmp_path)
    args.pop("--kernel-env")  # the image's path; here the host's default kernel env
    from codeact.cli.root import app

    r = CliRunner().invoke(app, ["kernelspec", "install", *[x for a in args.items() for x in a]])
    assert r.exit_code == 0, r.output
    df = dockerfile("kernel.Dockerfile")
    (cmd,) = [json.loads(s["value"]) for s in df.structure if s["instruction"] == "CMD"]
    assert cmd[:2] == ["jupyter", "enterprisegateway"]
    port, token = _free_port(), "t0ken"
    argv = [str(EG), *[a for a in cmd[2:] if not a.startswith(("--ip=", "--port="))],
            "--ip=127.0.0.1", f"--port={port}"]
    env = {**os.environ, **{k: v for k, v in df.envs.items() if k.startswith("EG_")},
           "EG_AUTH_TOKEN": token, "JUPYTER_PATH": str(tmp_path / "share/jupyter"),
           "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime")}
    if os.geteuid() == 0:  # the image runs as uid 10001; Enterprise Gateway refuses root
        env |= {"EG_UNAUTHORIZED_USERS": "nobody-at-all", "EG_PROHIBITED_UIDS": "99999"}
    log = tmp_path / "eg.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env,
                                cwd=tmp_path, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, log.read_text()[-3000:]
            try:
                if httpx.get(f"{url}/api", timeout=1, headers={
                        "Authorization": f"token {token}"}).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.2)
        kernel = objects("ConfigMap")["codeact-config"]["data"]["CODEACT_RUNTIME_KERNEL"]
        config = SandboxConfig(backend="gateway", gateway_urls=(url,), gateway_token=token,
                               gateway_kernel=kernel, interrupt_grace=1.0)
        results = selftest.run(config=config, checkout=REPO)
        assert len(results) == len(selftest.ATTACKS)
        assert [f"{r.name}: {r.detail}" for r in results if not r.blocked] == []
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
