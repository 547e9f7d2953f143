"""deploy/ validated offline (no container engine runs here): the compose file against the
Compose Specification's JSON schema (vendored in deploy/schemas), the Kubernetes manifests
with kubernetes-validate's bundled schemas, and the rules of issue 12 checked on both: every
DEVIA_* variable is a Settings field, devia's health checks hit /readyz, secrets are
referenced (never literal), persistent data sits on named volumes / claims."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from api.cli.main import app
from api.settings import Settings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
COMPOSE = DEPLOY / "compose.yaml"
SCHEMA = DEPLOY / "schemas" / "compose-spec.json"
SCHEMA_SHA256 = "46b7d35f19dd93a05f8fea530291bf84d881c1791ec167ecf0e6fb94e639d496"
K8S_FILES = sorted((DEPLOY / "k8s").glob("*.yaml"))
K8S_VERSION = "1.33"
DEVIA_SERVICES = ("api", "worker")
SECRET_WORDS = re.compile(r"(PASSWORD|API_KEY|SECRET|TOKEN)$", re.IGNORECASE)
INTERPOLATION = re.compile(r"\$\{(?P<name>[A-Z0-9_]+)(?P<op>:\?|:-|\?|-)?(?P<rest>[^}]*)\}")
SETTINGS_VARS = {f"DEVIA_{name.upper()}" for name in Settings.model_fields}
SECRET_SETTINGS = {
    f"DEVIA_{name.upper()}"
    for name, field in Settings.model_fields.items()
    if "SecretStr" in str(field.annotation)
}


def is_secret(name: str) -> bool:
    return bool(SECRET_WORDS.search(name)) or name in SECRET_SETTINGS


def compose() -> dict[str, Any]:
    return dict(yaml.safe_load(COMPOSE.read_text()))


def k8s_documents() -> Iterator[tuple[Path, dict[str, Any]]]:
    for path in K8S_FILES:
        for document in yaml.safe_load_all(path.read_text()):
            if document:
                yield path, document


def containers(document: dict[str, Any]) -> list[dict[str, Any]]:
    spec = document.get("spec", {})
    template = spec.get("template") or spec.get("jobTemplate", {}).get("spec", {}).get(
        "template", {}
    )
    pod = template.get("spec", {})
    return list(pod.get("containers", [])) + list(pod.get("initContainers", []))


def test_vendored_schema_is_the_recorded_one() -> None:
    assert hashlib.sha256(SCHEMA.read_bytes()).hexdigest() == SCHEMA_SHA256
    assert json.loads(SCHEMA.read_text())["title"] == "Compose Specification"


def test_compose_file_matches_the_compose_specification() -> None:
    schema = json.loads(SCHEMA.read_text())
    validator = jsonschema.Draft7Validator(schema)
    errors = sorted(validator.iter_errors(compose()), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)


def test_the_schema_check_catches_a_broken_file() -> None:
    broken = compose()
    broken["services"]["api"]["healthcheck"]["interval"] = ["15s"]
    broken["services"]["worker"]["restart_policy"] = "always"
    validator = jsonschema.Draft7Validator(json.loads(SCHEMA.read_text()))
    assert len(list(validator.iter_errors(broken))) >= 2


@pytest.mark.parametrize("path", K8S_FILES, ids=lambda p: p.name)
def test_kubernetes_manifests_match_the_api_schemas(path: Path) -> None:
    documents = [d for d in yaml.safe_load_all(path.read_text()) if d]
    assert documents
    for document in documents:
        kubernetes_validate.validate(document, K8S_VERSION, strict=True)


def test_the_kubernetes_check_catches_a_broken_manifest() -> None:
    _, deployment = next((p, d) for p, d in k8s_documents() if d["kind"] == "Deployment")
    deployment["spec"]["replicas"] = "three"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, K8S_VERSION, strict=True)


def test_compose_stack_has_the_services_of_issue_12() -> None:
    services = compose()["services"]
    qdrant = [name for name in services if name.startswith("qdrant-")]
    assert len(qdrant) == 3
    for name in qdrant:
        assert services[name]["environment"]["QDRANT__CLUSTER__ENABLED"] == "true"
    assert {"api", "worker", "vllm", "postgres"} <= set(services)
    env = services["api"]["environment"]
    assert env["DEVIA_INDEX_REPLICAS"] == "2" and env["DEVIA_INDEX"].startswith("http://qdrant-")
    assert env["DEVIA_RUN_WORKER"] == "false"  # the API only enqueues
    assert services["api"]["command"] == ["devia", "serve"]
    assert services["worker"]["command"] == ["devia", "worker"]
    assert services["worker"]["deploy"]["replicas"] >= 2
    assert env["DEVIA_DB_URL"].startswith("postgresql+psycopg://")
    # the vLLM service runs the flags of deploy/vllm/serve.sh, mounted from the repository
    mounts = services["vllm"]["volumes"]
    assert any(m.startswith("./vllm/serve.sh:") for m in mounts)
    assert (COMPOSE.parent / "vllm" / "serve.sh").is_file()


def test_devia_commands_in_the_manifests_exist() -> None:
    registered = {c.name or c.callback.__name__ for c in app.registered_commands}  # type: ignore[union-attr]
    for service in DEVIA_SERVICES:
        assert compose()["services"][service]["command"][1] in registered
    for _path, document in k8s_documents():
        for container in containers(document):
            command = container.get("command", [])
            if command[:1] == ["devia"]:
                assert command[1] in registered, command


def test_every_devia_variable_is_a_settings_field() -> None:
    used: set[str] = set()
    for service in compose()["services"].values():
        used |= {k for k in service.get("environment", {}) if k.startswith("DEVIA_")}
    for _path, document in k8s_documents():
        if document["kind"] == "ConfigMap":
            used |= {k for k in document["data"] if k.startswith("DEVIA_")}
        for container in containers(document):
            used |= {e["name"] for e in container.get("env", []) if e["name"].startswith("DEVIA_")}
    assert used, "no DEVIA_ variables found"
    assert used <= SETTINGS_VARS, f"not Settings fields: {sorted(used - SETTINGS_VARS)}"
    # and the values parse: Settings accepts the ConfigMap as it stands
    config = next(d for _p, d in k8s_documents() if d["kind"] == "ConfigMap")
    Settings(**{k.removeprefix("DEVIA_").lower(): v for k, v in config["data"].items()})


def test_devia_health_checks_hit_readyz() -> None:
    services = compose()["services"]
    for name in DEVIA_SERVICES:
        test = " ".join(services[name]["healthcheck"]["test"])
        assert "/readyz" in test, name
    probed = 0
    for _path, document in k8s_documents():
        for container in containers(document):
            if container.get("command", [])[:2] in (["devia", "serve"], ["devia", "worker"]):
                assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
                probed += 1
    assert probed == 2


def _literal_secret(value: str) -> bool:
    """True when a secret-named value is not wholly a required ${VAR:?} reference."""
    match = INTERPOLATION.fullmatch(value)
    return not (match and match.group("op") == ":?")


def test_secret_settings_are_known() -> None:
    assert {"DEVIA_INDEX_API_KEY", "DEVIA_LLM_API_KEY"} <= SECRET_SETTINGS


def test_no_secrets_in_the_compose_file() -> None:
    for name, service in compose()["services"].items():
        for key, value in service.get("environment", {}).items():
            if is_secret(key):
                assert not _literal_secret(str(value)), f"{name}.{key} holds a literal secret"
            if "://" in str(value) and "@" in str(value):  # credentials inside a URL
                userinfo = str(value).split("://", 1)[1].split("@", 1)[0]
                if ":" in userinfo:
                    password = userinfo.split(":", 1)[1]
                    assert INTERPOLATION.fullmatch(password), f"{name}.{key}: password in URL"


def test_no_secrets_in_the_kubernetes_manifests() -> None:
    for path, document in k8s_documents():
        assert document["kind"] != "Secret", f"{path.name} embeds a Secret"
        if document["kind"] == "ConfigMap":
            assert not any(is_secret(k) for k in document["data"]), path.name
        for container in containers(document):
            for env in container.get("env", []):
                if is_secret(env["name"]) or env["name"] == "DEVIA_DB_URL":
                    assert "secretKeyRef" in env.get("valueFrom", {}), (path.name, env["name"])


def test_persistent_data_is_on_named_volumes_and_claims() -> None:
    spec = compose()
    declared = set(spec["volumes"])
    for name in ("postgres", "qdrant-0", "qdrant-1", "qdrant-2", "api", "worker"):
        mounts = spec["services"][name]["volumes"]
        named = [m.split(":", 1)[0] for m in mounts if not m.startswith((".", "/"))]
        assert named and set(named) <= declared, name
    claims = {
        d["metadata"]["name"] for _p, d in k8s_documents() if d["kind"] == "PersistentVolumeClaim"
    }
    templated = {
        d["metadata"]["name"]
        for _p, d in k8s_documents()
        if d["kind"] == "StatefulSet" and d["spec"].get("volumeClaimTemplates")
    }
    assert {"devia-data", "model-cache"} <= claims
    assert {"postgres", "qdrant"} <= templated
