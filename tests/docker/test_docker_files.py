"""The deployment files: compose services, replicas, ordering, health checks; a non-root image."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

DOCKER_DIR = Path(__file__).resolve().parents[2] / "docker"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((DOCKER_DIR / "compose.yaml").read_text())
    return document


@pytest.fixture(scope="module")
def dockerfile() -> str:
    return (DOCKER_DIR / "Dockerfile").read_text()


def test_compose_has_the_services_of_a_scaled_out_deployment(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) == {"postgres", "redis", "migrate", "api", "worker", "sandbox"}


@pytest.mark.parametrize("service", ["api", "worker"], ids=["api", "worker"])
def test_compose_runs_two_replicas(compose: dict[str, Any], service: str) -> None:
    assert compose["services"][service]["deploy"]["replicas"] == 2


@pytest.mark.parametrize("service", ["api", "worker"], ids=["api", "worker"])
def test_compose_starts_after_the_migration_succeeded(compose: dict[str, Any], service: str) -> None:
    depends = compose["services"][service]["depends_on"]

    assert depends["migrate"]["condition"] == "service_completed_successfully"
    assert depends["redis"]["condition"] == "service_healthy"


def test_compose_migration_runs_once_after_postgres_is_healthy(compose: dict[str, Any]) -> None:
    migrate = compose["services"]["migrate"]

    assert migrate["command"] == ["db", "upgrade"]
    assert migrate["restart"] == "no"
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"


@pytest.mark.parametrize(
    "service",
    ["postgres", "redis", "api", "worker", "sandbox"],
    ids=["postgres", "redis", "api", "worker", "sandbox"],
)
def test_compose_service_has_a_healthcheck(compose: dict[str, Any], service: str) -> None:
    assert compose["services"][service]["healthcheck"]["test"]


def test_compose_api_health_is_readiness(compose: dict[str, Any]) -> None:
    assert "/readyz" in " ".join(compose["services"]["api"]["healthcheck"]["test"])


def test_compose_sandbox_is_an_optional_profile(compose: dict[str, Any]) -> None:
    assert compose["services"]["sandbox"]["profiles"] == ["sandbox"]
    assert all("profiles" not in s for name, s in compose["services"].items() if name != "sandbox")


def test_compose_pmbridge_services_share_one_image(compose: dict[str, Any]) -> None:
    images = {compose["services"][name]["image"] for name in ("migrate", "api", "worker", "sandbox")}

    assert images == {"pmbridge:latest"}


def test_compose_runs_in_production_mode_with_redis_and_postgres(compose: dict[str, Any]) -> None:
    env = compose["services"]["api"]["environment"]

    assert env["PMBRIDGE_MODE"] == "production"
    assert env["PMBRIDGE_DATABASE_URL"].startswith("postgresql+psycopg://")
    assert env["PMBRIDGE_REDIS_URL"].startswith("redis://redis:")
    assert env["PMBRIDGE_LOG_FORMAT"] == "json"


def test_compose_requires_a_secret_key_instead_of_a_default(compose: dict[str, Any]) -> None:
    assert ":?" in compose["services"]["api"]["environment"]["PMBRIDGE_SECRET_KEY"]


def test_dockerfile_final_stage_runs_as_a_non_root_user(dockerfile: str) -> None:
    final_stage = dockerfile.rsplit("\nFROM ", 1)[1]
    users = re.findall(r"^USER\s+(\S+)", final_stage, flags=re.MULTILINE)

    assert users, "the final stage sets no USER: it would run as root"
    assert users[-1].split(":")[0] not in {"root", "0"}


def test_dockerfile_builds_from_a_slim_base_in_two_stages(dockerfile: str) -> None:
    bases = re.findall(r"^FROM\s+(\S+)", dockerfile, flags=re.MULTILINE)

    assert len(bases) == 2
    assert all(base.endswith("-slim") for base in bases)


def test_dockerfile_defaults_to_the_api_without_an_embedded_worker(dockerfile: str) -> None:
    assert 'ENTRYPOINT ["pmbridge"]' in dockerfile
    assert 'CMD ["serve", "--no-worker"' in dockerfile
