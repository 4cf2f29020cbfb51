"""docker/ is checked without a Docker engine: the compose file's structure, the Dockerfiles' rules, and that
every environment variable the product and the instance read is declared in .env.example and passed by compose.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

DOCKER = Path(__file__).resolve().parents[2] / "docker"
ENV_REF = re.compile(r"\{env:\s*([A-Z0-9_]+)\s*\}")


def env_example() -> dict[str, str]:
    pairs = [
        line.split("=", 1)
        for line in (DOCKER / ".env.example").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    return {k: v for k, v in pairs}


def compose() -> dict:
    return yaml.safe_load((DOCKER / "docker-compose.yml").read_text())


def test_compose_has_postgres_code_location_webserver_and_daemon_with_health_checks():
    services = compose()["services"]
    assert set(services) == {"postgres", "user_code", "webserver", "daemon"}
    for name, service in services.items():
        assert "healthcheck" in service, name
        assert service.get("restart") == "unless-stopped", name
    assert services["daemon"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "postgres-data:/var/lib/postgresql/data" in services["postgres"]["volumes"]
    assert "artifacts:/data/artifacts" in services["user_code"]["volumes"]
    assert set(compose()["volumes"]) == {"postgres-data", "artifacts"}


def test_every_variable_read_is_in_env_example_and_passed_by_compose():
    read = set()
    for name in ("dagster.yaml", "difyops.yaml", "workspace.yaml"):
        read |= set(ENV_REF.findall((DOCKER / name).read_text()))
    declared = set(env_example())
    assert read - declared == set(), "missing from .env.example"
    text = (DOCKER / "docker-compose.yml").read_text()
    # `$${X}` is compose's escape for a variable of the container itself, not one compose passes in
    passed = set(re.findall(r"(?<!\$)\$\{([A-Z0-9_]+)\}", text))
    assert read - passed == set(), "not passed by docker-compose.yml"
    assert passed - declared == set(), "compose uses variables .env.example does not declare"


def test_env_example_holds_no_real_secret():
    for key, value in env_example().items():
        if any(word in key for word in ("PASSWORD", "SECRET", "TOKEN")):
            assert value in ("change-me", ""), key


@pytest.mark.parametrize("name", ["Dockerfile_user_code", "Dockerfile_dagster"])
def test_dockerfiles_follow_the_rules(name):
    lines = [
        line.strip() for line in (DOCKER / name).read_text().splitlines() if line.strip() and not line.startswith("#")
    ]
    instructions = [line.split()[0] for line in lines if line.split()[0].isupper()]
    base = next(line for line in lines if line.startswith("FROM"))
    assert ":" in base and ":latest" not in base, "base image must be pinned"
    assert "USER" in instructions, "must not run as root"
    assert instructions.index("USER") > max(i for i, x in enumerate(instructions) if x == "RUN"), (
        "USER after the last RUN"
    )
    assert any("uv sync --frozen --no-dev" in line for line in lines), "install exactly the lock, without dev tools"
    assert "CMD" in instructions and "EXPOSE" in instructions
    copied = [line.split()[1:-1] for line in lines if line.startswith("COPY")]
    root = DOCKER.parent
    for sources in copied:
        for source in sources:
            assert (root / source).exists(), f"{name} copies {source}, which does not exist"


def test_the_code_location_image_has_a_grpc_health_check():
    text = (DOCKER / "Dockerfile_user_code").read_text()
    assert "HEALTHCHECK" in text and "grpc-health-check" in text
