"""The Dockerfile, compose file and Kubernetes manifests agree with each other
and with the app: images, ports, user, probes and config all line up."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from starlette.routing import Route

from gateway.settings import load_settings
from tests.gateway.harness import settings as harness_settings

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"
K8S = DOCKER / "k8s"
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
IMAGE = f"onedoor/gateway:{VERSION}"


def _dockerfile() -> dict[str, str]:
    text = (DOCKER / "Dockerfile").read_text()
    runtime = text.split("AS runtime", 1)[1]
    return {key: m.group(1).strip() for key in ("EXPOSE", "USER", "HEALTHCHECK", "CMD")
            if (m := re.search(rf"^{key}\s+((?:[^\n]*\\\n)*[^\n]*)$", runtime, re.MULTILINE))}


def _k8s() -> dict[str, dict[str, Any]]:
    docs: dict[str, dict[str, Any]] = {}
    for file in sorted(K8S.glob("*.yaml")):
        for doc in yaml.safe_load_all(file.read_text()):
            docs[doc["kind"]] = doc
    return docs


def _app_paths() -> set[str]:
    from gateway.app import create_app

    async def deny(_: str) -> Any:
        raise AssertionError

    app = create_app(harness_settings(), {}, deny, close_connectors=False)
    return {r.path for r in app.routes if isinstance(r, Route)}


def test_dockerfile_runs_as_non_root_and_checks_health() -> None:
    df = _dockerfile()
    assert df["EXPOSE"] == "8000"
    assert df["USER"].split(":")[0] == "10001"
    assert "/healthz" in df["HEALTHCHECK"] and "/healthz" in _app_paths()
    assert '"--config", "/etc/onedoor/onedoor.toml"' in df["CMD"]


def test_compose_wires_gateway_sandbox_postgres_and_redis() -> None:
    compose = yaml.safe_load((DOCKER / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) >= {"gateway", "sandbox", "postgres", "redis"}
    gateway, sandbox = services["gateway"], services["sandbox"]
    assert gateway["image"] == sandbox["image"] == IMAGE
    assert gateway["ports"] == [f"8000:{_dockerfile()['EXPOSE']}"]
    command = sandbox["command"]
    assert command[command.index("--host") + 1] == "0.0.0.0"
    assert command[command.index("--public-host") + 1] == "sandbox"
    mount = next(v for v in gateway["volumes"] if v.endswith(":/etc/onedoor/onedoor.toml:ro"))
    config = load_settings(DOCKER / mount.split(":")[0].removeprefix("./"))
    assert config.port == 8000 and config.host == "0.0.0.0"
    assert config.audit.url.startswith("postgresql://") and "@postgres:" in config.audit.url
    assert all("//sandbox:" in config.centres.for_centre(c).base_url for c in _centres())
    assert set(gateway["depends_on"]) == {"postgres", "redis", "sandbox"}


def _compose_settings(service: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Any:
    """The settings a compose service's process loads: its mounted TOML under its environment."""
    for key, value in service["environment"].items():
        monkeypatch.setenv(key, str(value))
    mount = next(v for v in service["volumes"] if v.endswith(":/etc/onedoor/onedoor.toml:ro"))
    return load_settings(DOCKER / mount.split(":")[0].removeprefix("./"))


def test_compose_wires_callbacks_the_shared_projection_and_redis(monkeypatch: pytest.MonkeyPatch) -> None:
    """The push centres call the gateway back with the secret it checks; the workers read one
    PostgreSQL projection that the projection-feeder service alone feeds; Redis carries the
    shared cache and the replicas' change notices."""
    from onedoor.model import Centre

    services = yaml.safe_load((DOCKER / "compose.yaml").read_text())["services"]
    gateway, sandbox, feeder = services["gateway"], services["sandbox"], services["projection-feeder"]
    command = sandbox["command"]
    assert command[command.index("--callbacks") + 1] == f"http://gateway:{_dockerfile()['EXPOSE']}"
    with monkeypatch.context() as env:
        serving = _compose_settings(gateway, env)
    with monkeypatch.context() as env:
        feeding = _compose_settings(feeder, env)
    for centre in (Centre.MEDIATION, Centre.LITIGATION, Centre.GOVERNANCE):
        secret = sandbox["environment"][f"ONEDOOR_SANDBOX__{centre.value}__WEBHOOK_SECRET"]
        held = serving.centres.for_centre(centre).webhook_secret
        assert len(secret) >= 32 and held is not None and held.get_secret_value() == secret
    assert serving.projection.enabled and not serving.projection.feed
    assert feeding.projection.enabled and feeding.projection.feed
    assert serving.projection.url == feeding.projection.url
    assert serving.projection.url is not None and serving.projection.url.startswith("postgresql://")
    assert feeder["entrypoint"][-2:] == ["-m", "gateway.projection"]
    assert serving.submissions.broadcast_url == "redis://redis:6379/0"
    cache = serving.centres.cache.redis_url
    assert cache is not None and cache.get_secret_value() == "redis://redis:6379/0"


def _centres() -> list[Any]:
    from onedoor.model import Centre

    return list(Centre)


def test_kubernetes_manifests_match_the_image_and_the_app(tmp_path: Path) -> None:
    docs = _k8s()
    assert set(docs) >= {"Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget",
                         "ConfigMap", "Secret", "Namespace"}
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    assert sorted(kustomization["resources"]) == sorted(p.name for p in K8S.glob("*.yaml")
                                                        if p.name != "kustomization.yaml")
    deployment = docs["Deployment"]
    pod = deployment["spec"]["template"]["spec"]
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"] == labels
    (container,) = pod["containers"]
    assert container["image"] == IMAGE
    (port,) = container["ports"]
    assert str(port["containerPort"]) == _dockerfile()["EXPOSE"]
    assert str(pod["securityContext"]["runAsUser"]) == _dockerfile()["USER"].split(":")[0]
    assert pod["securityContext"]["runAsNonRoot"] is True
    paths = _app_paths()
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz" in paths
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz" in paths
    assert deployment["spec"]["template"]["metadata"]["annotations"]["prometheus.io/path"] in paths
    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        assert container[probe]["httpGet"]["port"] == port["name"]
    assert pod["terminationGracePeriodSeconds"] > 20  # uvicorn's graceful shutdown

    # The config the ConfigMap mounts is the one the container is told to read, and it validates.
    mount = next(m for m in container["volumeMounts"] if m["name"] == "config")
    assert container["args"][container["args"].index("--config") + 1] == \
        f"{mount['mountPath']}/onedoor.toml"
    config_file = tmp_path / "onedoor.toml"
    config_file.write_text(docs["ConfigMap"]["data"]["onedoor.toml"])
    config = load_settings(config_file)
    assert config.mode == "production" and config.port == port["containerPort"]
    assert not config.introspection and config.auth.reject_anonymous
    assert next(v for v in pod["volumes"] if v["name"] == "config")["configMap"]["name"] == \
        docs["ConfigMap"]["metadata"]["name"]

    # Every secret the pod reads exists in the Secret manifest.
    secret = docs["Secret"]
    for env in container["env"]:
        ref = env.get("valueFrom", {}).get("secretKeyRef")
        if ref:
            assert ref["name"] == secret["metadata"]["name"] and ref["key"] in secret["stringData"]
            assert env["name"].startswith("ONEDOOR_")

    service = docs["Service"]
    assert service["spec"]["selector"] == labels
    assert service["spec"]["ports"][0]["targetPort"] == port["name"]
    target = docs["HorizontalPodAutoscaler"]["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", deployment["metadata"]["name"])
    assert docs["HorizontalPodAutoscaler"]["spec"]["minReplicas"] >= 2
    assert docs["PodDisruptionBudget"]["spec"]["selector"]["matchLabels"] == labels


@pytest.mark.parametrize("name", ["onedoor.production.toml"])
def test_documented_configs_validate(name: str) -> None:
    assert load_settings(ROOT / "docs" / name).mode == "production"
