"""docker/ is checked without a Docker engine: the compose file against the Compose Specification's JSON schema
(after compose's own variable interpolation), the Dockerfiles with hadolint and the project's rules, and that every
environment variable the product and the Dagster instance read is declared in .env.example and reaches the
containers that read it.
"""

from __future__ import annotations

import importlib.resources
import json
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from difyops_dagster.settings import parse_settings
from difyops_dagster_tests.deploy.docker_files import DOCKER, ROOT, env_example

ENV_REF = re.compile(r"\{env:\s*([A-Z0-9_]+)\s*\}")
COMPOSE_VAR = re.compile(r"\$\$|\$\{([A-Za-z0-9_]+)\}")
# Variables the Python code reads itself (everything else comes through `{env: NAME}` in a settings file).
CODE_ENV_READ = re.compile(
    r"""(?:os\.environ\[|os\.environ\.get\(|os\.getenv\(|EnvVar\(|_ENV_VAR\s*=\s*)["']([A-Z][A-Z0-9_]+)["']"""
)
DAGSTER_SERVICES = ("user_code", "webserver", "daemon")


def interpolate(node, env: dict[str, str]):
    """Compose's interpolation, applied as compose does it (to string values of the parsed file), for the forms
    this project uses: `${NAME}` from the env file and `$$` for a literal `$`."""

    def value(match: re.Match) -> str:
        if match.group(0) == "$$":
            return "$"
        assert match.group(1) in env, f"docker-compose.yml uses ${{{match.group(1)}}}, .env.example lacks it"
        return env[match.group(1)]

    if isinstance(node, dict):
        return {key: interpolate(item, env) for key, item in node.items()}
    if isinstance(node, list):
        return [interpolate(item, env) for item in node]
    return COMPOSE_VAR.sub(value, node) if isinstance(node, str) else node


def compose() -> dict:
    return interpolate(yaml.safe_load((DOCKER / "docker-compose.yml").read_text()), env_example())


def compose_schema_errors(document: dict) -> list[str]:
    schema_file = importlib.resources.files("check_jsonschema.builtin_schemas.vendor") / "compose-spec.json"
    schema = json.loads(schema_file.read_text())
    validator = jsonschema.validators.validator_for(schema)(schema)
    return sorted(f"{'/'.join(map(str, e.path))}: {e.message}" for e in validator.iter_errors(document))


def vars_in(*names: str) -> set[str]:
    return {var for name in names for var in ENV_REF.findall((DOCKER / name).read_text())}


def vars_read_by_code() -> set[str]:
    return {var for path in (ROOT / "difyops_dagster").rglob("*.py") for var in CODE_ENV_READ.findall(path.read_text())}


def test_the_compose_file_is_valid_under_the_compose_specification():
    assert compose_schema_errors(compose()) == []


def test_the_compose_schema_check_can_fail():
    broken = compose()
    broken["services"]["daemon"]["restart"] = "sometimes"
    broken["services"]["webserver"]["healthcheck"]["interval"] = ["30s"]
    assert len(compose_schema_errors(broken)) == 2


def test_compose_runs_postgres_code_location_webserver_and_daemon_with_health_checks_and_volumes():
    document = compose()
    services = document["services"]
    assert set(services) == {"postgres", *DAGSTER_SERVICES}
    for name, service in services.items():
        assert service.get("restart") == "unless-stopped", name
        assert service["healthcheck"]["test"], name
    assert "pg_isready" in services["postgres"]["healthcheck"]["test"][1]
    assert services["user_code"]["healthcheck"]["test"][1:] == ["dagster", "api", "grpc-health-check", "-p", "4000"]
    assert services["daemon"]["healthcheck"]["test"][1:] == ["dagster-daemon", "liveness-check"]
    assert "/server_info" in " ".join(services["webserver"]["healthcheck"]["test"])
    for name in DAGSTER_SERVICES:
        assert services[name]["depends_on"]["postgres"]["condition"] == "service_healthy", name
    assert services["daemon"]["depends_on"]["user_code"]["condition"] == "service_healthy"
    assert "postgres-data:/var/lib/postgresql/data" in services["postgres"]["volumes"]
    assert "artifacts:/data/artifacts" in services["user_code"]["volumes"]
    assert set(document["volumes"]) == {"postgres-data", "artifacts"}
    # DefaultRunLauncher: runs execute inside user_code, so no container needs the Docker socket.
    assert "docker.sock" not in (DOCKER / "docker-compose.yml").read_text()


def test_every_variable_the_product_and_the_instance_read_is_declared_and_reaches_its_containers():
    declared = set(env_example())
    environment = {name: set(service.get("environment", {})) for name, service in compose()["services"].items()}
    instance = vars_in("dagster.yaml")
    product = vars_in("difyops.yaml") | vars_read_by_code()
    workspace = vars_in("workspace.yaml")
    assert "DIFYOPS_CONFIG" in product, "the scan of the code must find the settings file variable"
    assert (instance | product | workspace) - declared == set(), "missing from .env.example"
    for name in DAGSTER_SERVICES:
        assert instance - environment[name] == set(), f"{name} cannot open the Dagster instance"
    assert product - environment["user_code"] == set(), "user_code (where sensors and runs execute) lacks these"
    for name in ("webserver", "daemon"):
        assert workspace - environment[name] == set(), f"{name} cannot find the code server"


def test_env_example_declares_nothing_unused():
    text = "\n".join((DOCKER / name).read_text() for name in ("docker-compose.yml", "dagster.yaml", "difyops.yaml"))
    used = set(COMPOSE_VAR.findall(text)) | vars_in("dagster.yaml", "difyops.yaml", "workspace.yaml")
    assert set(env_example()) - used == set()


def test_env_example_holds_no_real_secret():
    for key, value in env_example().items():
        if (
            any(word in key for word in ("PASSWORD", "SECRET", "TOKEN", "_KEY", "WEBHOOK_URL"))
            and key != "SYNC_WEBHOOK_URL"
        ):
            assert value == "change-me", key


def test_the_docker_settings_file_loads_with_the_example_values():
    settings = parse_settings(
        yaml.safe_load((DOCKER / "difyops.yaml").read_text()), env_example(), "docker/difyops.yaml"
    )
    assert settings.storage.local_dir == "/data/artifacts"
    assert settings.sync and settings.video and settings.workflows and settings.reports
    assert settings.notify.slack is not None and settings.notify.run_failures


@pytest.mark.parametrize("name", ["Dockerfile_user_code", "Dockerfile_dagster"])
def test_hadolint_finds_nothing_in_the_dockerfiles(name):
    hadolint = Path(sys.executable).with_name("hadolint")
    result = subprocess.run(
        [str(hadolint), "--no-color", "--failure-threshold", "info", str(DOCKER / name)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (result.returncode, result.stdout) == (0, ""), result.stdout + result.stderr


def test_hadolint_fails_a_bad_dockerfile(tmp_path):
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN pip install dagster\nUSER root\nCMD dagster dev\n")
    hadolint = Path(sys.executable).with_name("hadolint")
    result = subprocess.run([str(hadolint), "--no-color", str(bad)], capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "DL3007" in result.stdout and "DL3013" in result.stdout


@pytest.mark.parametrize("name", ["Dockerfile_user_code", "Dockerfile_dagster"])
def test_dockerfiles_install_the_lock_as_a_numeric_non_root_user(name):
    lines = [line.strip() for line in (DOCKER / name).read_text().splitlines() if line.strip()[:1].isupper()]
    instructions = [line.split()[0] for line in lines]
    base = next(line for line in lines if line.startswith("FROM"))
    assert ":" in base and ":latest" not in base, "base image must be pinned"
    user = next(line for line in lines if line.startswith("USER")).split()[1]
    assert user.split(":")[0].isdigit() and user.split(":")[0] != "0", "a numeric, non-root user"
    last_run = max(i for i, x in enumerate(instructions) if x == "RUN")
    assert instructions.index("USER") > last_run, "USER after the last RUN"
    assert any("uv sync --frozen --no-dev" in line for line in lines), "install exactly the lock, without dev tools"
    for line in lines:
        if line.startswith("COPY"):
            for source in line.split()[1:-1]:
                assert (ROOT / source).exists(), f"{name} copies {source}, which does not exist"


def test_the_code_location_image_serves_grpc_and_checks_its_health():
    text = (DOCKER / "Dockerfile_user_code").read_text()
    assert 'HEALTHCHECK --interval=30s --timeout=10s --retries=3 CMD ["dagster", "api", "grpc-health-check"' in text
    assert '"code-server", "start", "-h", "0.0.0.0", "-p", "4000", "-m", "difyops_dagster.definitions"' in text
