"""docker-compose.yml, checked without Docker (no engine on CI machines).

1. The file is valid against the Compose Specification's JSON schema, the copy
   that ships inside the check-jsonschema package (requirements-dev.txt).
2. Its structure holds what the README promises: a master, scalable workers, the
   Thrift server started by the project's own start script and submitting to the
   master, a Postgres metastore, a dbt service on the thrift target, the same
   paths in every container that shares a folder, ports on 127.0.0.1 only,
   healthchecks, Java 17 Spark images.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.e2e.harness import PROJECT_DIR

COMPOSE_FILE = PROJECT_DIR / "docker-compose.yml"
SPARK_DOCKERFILE = PROJECT_DIR / "docker" / "spark.Dockerfile"
DBT_DOCKERFILE = PROJECT_DIR / "docker" / "dbt.Dockerfile"
SHARED_PATHS = ("/web_events/data", "/web_events/exports", "/web_events/run")
INTERPOLATION = re.compile(r"\$\{(\w+)(?::?-([^}]*))?\}")


def interpolate(value: Any) -> Any:
    """Compose's `${NAME:-default}` with nothing set: every default applies."""
    if isinstance(value, str):
        return INTERPOLATION.sub(lambda match: match.group(2) or "", value)
    if isinstance(value, list):
        return [interpolate(item) for item in value]
    if isinstance(value, dict):
        return {key: interpolate(item) for key, item in value.items()}
    return value


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return interpolate(yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


def mounts(service: dict[str, Any]) -> dict[str, str]:
    """container path -> source, for short-syntax volumes."""
    return {volume.split(":")[1]: volume.split(":")[0] for volume in service.get("volumes", [])}


def test_compose_file_is_valid_against_the_compose_specification() -> None:
    checker = Path(sys.executable).parent / "check-jsonschema"
    result = subprocess.run(
        [str(checker), "--builtin-schema", "vendor.compose-spec", str(COMPOSE_FILE)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout


def test_every_service_is_there(services: dict[str, dict[str, Any]]) -> None:
    assert set(services) == {"spark-master", "spark-worker", "spark-thrift", "postgres", "dbt"}


def test_published_ports_are_on_loopback_only(services: dict[str, dict[str, Any]]) -> None:
    published = {
        name: port for name, service in services.items() for port in service.get("ports", [])
    }
    assert published, "nothing is published"
    for name, port in published.items():
        assert isinstance(port, str) and port.startswith("127.0.0.1:"), (name, port)


def test_workers_can_be_scaled(services: dict[str, dict[str, Any]]) -> None:
    worker = services["spark-worker"]
    assert "container_name" not in worker and "ports" not in worker
    assert "spark://spark-master:7077" in worker["command"]
    assert "org.apache.spark.deploy.worker.Worker" in worker["command"]


def test_the_thrift_server_runs_the_projects_start_script(
    services: dict[str, dict[str, Any]],
) -> None:
    thrift = services["spark-thrift"]
    assert thrift["command"][:2] == ["/web_events/project/scripts/thrift-server.sh", "run"]
    env = thrift["environment"]
    assert env["THRIFT_MASTER"] == "spark://spark-master:7077"
    assert env["THRIFT_DRIVER_HOST"] == "spark-thrift"
    assert "127.0.0.1:10000:10000" in thrift["ports"]
    # the image carries the very script the tests run
    dockerfile = SPARK_DOCKERFILE.read_text(encoding="utf-8")
    assert "COPY scripts/thrift-server.sh /web_events/project/scripts/thrift-server.sh" in (
        dockerfile
    )


def test_the_metastore_is_postgres_so_tables_survive_restarts(
    compose: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    env = services["spark-thrift"]["environment"]
    assert env["THRIFT_METASTORE_URL"].startswith("jdbc:postgresql://postgres:5432/")
    assert env["THRIFT_METASTORE_DRIVER"] == "org.postgresql.Driver"
    assert services["spark-thrift"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert mounts(services["postgres"])["/var/lib/postgresql/data"] == "metastore"
    assert mounts(services["spark-thrift"])["/web_events/warehouse"] == "warehouse"
    assert {"metastore", "warehouse"} <= set(compose["volumes"])
    # the JDBC driver reaches the image at build time
    assert "org/postgresql/postgresql/" in SPARK_DOCKERFILE.read_text(encoding="utf-8")


def test_folders_have_the_same_path_wherever_they_are_shared(
    services: dict[str, dict[str, Any]],
) -> None:
    """dbt hands the server absolute paths; the server and its executors open them."""
    for name in ("spark-worker", "spark-thrift", "dbt"):
        for path in SHARED_PATHS:
            assert path in mounts(services[name]), (name, path)
    for path in SHARED_PATHS:
        assert len({mounts(services[name])[path] for name in ("spark-thrift", "dbt")}) == 1
    assert mounts(services["spark-worker"])["/web_events/warehouse"] == "warehouse"
    assert services["dbt"]["environment"]["WEB_EVENTS_RUN_DIR"] == "/web_events/run"


def test_the_dbt_service_runs_the_pipeline_on_the_thrift_target(
    services: dict[str, dict[str, Any]],
) -> None:
    dbt = services["dbt"]
    assert dbt["build"]["dockerfile"] == "docker/dbt.Dockerfile"
    command = dbt["command"]
    assert command[:3] == ["run", "--target", "thrift"]
    assert command[command.index("--export-dir") + 1] == "/web_events/exports"
    assert command[command.index("--events") + 1].startswith("/web_events/data/")
    assert dbt["environment"]["THRIFT_HOST"] == "spark-thrift"
    assert dbt["depends_on"]["spark-thrift"]["condition"] == "service_healthy"
    dockerfile = DBT_DOCKERFILE.read_text(encoding="utf-8")
    assert "pip install --no-cache-dir -r requirements.txt" in dockerfile
    assert 'ENTRYPOINT ["python", "scripts/pipeline.py"]' in dockerfile


def test_long_running_services_have_healthchecks(services: dict[str, dict[str, Any]]) -> None:
    for name in ("spark-master", "spark-worker", "spark-thrift", "postgres"):
        assert services[name]["healthcheck"]["test"], name


def test_spark_runs_on_java_17_without_hudi(services: dict[str, dict[str, Any]]) -> None:
    """Spark 4 needs Java 17; dbt-labs' compose (Java 8, Hudi) cannot start it
    (docs/spark-notes.md, "Containers need Java 17")."""
    image = services["spark-thrift"]["build"]["args"]["SPARK_IMAGE"]
    assert re.fullmatch(r"apache/spark:4\.\d+\.\d+-scala2\.13-java17-ubuntu", image), image
    dockerfile = SPARK_DOCKERFILE.read_text(encoding="utf-8")
    assert f"ARG SPARK_IMAGE={image}" in dockerfile
    code = [
        line
        for text in (dockerfile, COMPOSE_FILE.read_text(encoding="utf-8"))
        for line in text.lower().splitlines()
        if not line.lstrip().startswith("#")
    ]
    assert not [line for line in code if "hudi" in line]


def test_every_service_that_writes_the_exports_runs_as_the_host_user(
    services: dict[str, dict[str, Any]],
) -> None:
    """A CSV in ./exports is the user's (WEB_EVENTS_UID), not root's, and in the dbt
    image every folder it writes is writable by whatever uid that is."""
    raw = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))["services"]
    for name, service in services.items():
        if "/web_events/exports" in mounts(service):
            assert raw[name]["user"] == "${WEB_EVENTS_UID:-1000}:${WEB_EVENTS_GID:-1000}", name
    dockerfile = DBT_DOCKERFILE.read_text(encoding="utf-8")
    assert "chmod 1777 . target logs profiles /web_events/run /web_events/exports" in dockerfile


def test_the_thrift_server_says_it_has_no_authentication_and_dbt_passes_credentials(
    services: dict[str, dict[str, Any]],
) -> None:
    """It listens on every interface of its container (the compose network; the host
    sees it on loopback only), which the start script accepts only when told."""
    env = services["spark-thrift"]["environment"]
    assert env["THRIFT_BIND_HOST"] == "0.0.0.0"
    assert env["THRIFT_ALLOW_UNAUTHENTICATED"] == "1"
    assert env["THRIFT_AUTH"] == "NONE"
    assert {"THRIFT_AUTH", "THRIFT_USER", "THRIFT_PASSWORD"} <= set(services["dbt"]["environment"])
