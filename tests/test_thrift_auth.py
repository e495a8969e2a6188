"""Who may connect to the project's Thrift server, without starting Spark.

scripts/thrift-server.sh runs against a stand-in spark-submit (SPARK_HOME points
at it) that records its arguments, so each test sees what the server would be
started with, or that it is not started at all. The dbt profile is rendered the
way dbt renders it, and handed to the client dbt-spark builds.
"""

from __future__ import annotations

import os
import subprocess
from argparse import Namespace
from pathlib import Path
from typing import Any

import pytest
import yaml
from dbt.adapters.spark.connections import SparkCredentials
from dbt.config.renderer import ProfileRenderer
from dbt.flags import set_from_args
from dbt_common.context import set_invocation_context

PROJECT_DIR = Path(__file__).resolve().parents[1]
SCRIPT = PROJECT_DIR / "scripts" / "thrift-server.sh"
NO_AUTH_REFUSED = (
    "thrift-server: error: THRIFT_BIND_HOST=0.0.0.0 lets other machines connect, "
    "and THRIFT_AUTH=NONE checks no one"
)


@pytest.fixture
def fake_spark(tmp_path: Path) -> Path:
    """A SPARK_HOME whose bin/spark-submit writes its arguments, one a line, and exits."""
    submit = tmp_path / "spark" / "bin" / "spark-submit"
    submit.parent.mkdir(parents=True)
    submit.write_text('#!/usr/bin/env bash\nprintf "%s\\n" "$@" > "$FAKE_ARGS"\n')
    submit.chmod(0o755)
    return tmp_path / "spark"


def run_script(fake_spark: Path, **settings: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    """`thrift-server.sh run` (the foreground mode docker-compose uses) with `settings`."""
    args_file = fake_spark.parent / "args"
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("THRIFT_") and key != "SPARK_HOME"
    }
    env |= {
        "SPARK_HOME": str(fake_spark),
        "FAKE_ARGS": str(args_file),
        "THRIFT_STATE_DIR": str(fake_spark.parent / "state"),
        **settings,
    }
    result = subprocess.run(
        [str(SCRIPT), "run"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return result, args_file


def hiveconf(args_file: Path) -> dict[str, str]:
    args = args_file.read_text().splitlines()
    pairs = [args[i + 1] for i, arg in enumerate(args[:-1]) if arg == "--hiveconf"]
    return dict(pair.split("=", 1) for pair in pairs)


def test_loopback_needs_no_authentication(fake_spark: Path) -> None:
    result, args_file = run_script(fake_spark)
    assert result.returncode == 0, result.stderr
    assert "WARNING" not in result.stderr
    conf = hiveconf(args_file)
    assert conf["hive.server2.thrift.bind.host"] == "127.0.0.1"
    assert conf["hive.server2.authentication"] == "NONE"


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.10", "::"])
def test_beyond_loopback_without_authentication_is_refused(fake_spark: Path, host: str) -> None:
    result, args_file = run_script(fake_spark, THRIFT_BIND_HOST=host)
    assert result.returncode == 1
    assert result.stderr.startswith(NO_AUTH_REFUSED.replace("0.0.0.0", host))
    assert len(result.stderr.strip().splitlines()) == 1
    assert not args_file.exists()  # spark-submit never ran


def test_allowed_without_authentication_it_warns_at_every_start(fake_spark: Path) -> None:
    for _ in range(2):
        result, args_file = run_script(
            fake_spark, THRIFT_BIND_HOST="0.0.0.0", THRIFT_ALLOW_UNAUTHENTICATED="1"
        )
        assert result.returncode == 0, result.stderr
        assert "WARNING: listening on 0.0.0.0:10000 WITHOUT AUTHENTICATION" in result.stderr
        assert hiveconf(args_file)["hive.server2.thrift.bind.host"] == "0.0.0.0"
        args_file.unlink()


def test_ldap_authentication_reaches_the_server(fake_spark: Path) -> None:
    result, args_file = run_script(fake_spark, THRIFT_BIND_HOST="0.0.0.0", THRIFT_AUTH="LDAP")
    assert result.returncode == 1
    assert result.stderr.strip() == "thrift-server: error: THRIFT_AUTH=LDAP needs THRIFT_LDAP_URL"
    assert not args_file.exists()

    result, args_file = run_script(
        fake_spark,
        THRIFT_BIND_HOST="0.0.0.0",
        THRIFT_AUTH="LDAP",
        THRIFT_LDAP_URL="ldap://ldap.example.com",
        THRIFT_LDAP_BASE_DN="ou=people,dc=example,dc=com",
    )
    assert result.returncode == 0, result.stderr
    assert "WARNING" not in result.stderr
    conf = hiveconf(args_file)
    assert conf["hive.server2.authentication"] == "LDAP"
    assert conf["hive.server2.authentication.ldap.url"] == "ldap://ldap.example.com"
    assert conf["hive.server2.authentication.ldap.baseDN"] == "ou=people,dc=example,dc=com"


def test_kerberos_needs_its_principal_and_keytab(fake_spark: Path) -> None:
    result, _ = run_script(
        fake_spark, THRIFT_AUTH="KERBEROS", THRIFT_KERBEROS_PRINCIPAL="hive/_HOST@EXAMPLE.COM"
    )
    assert result.returncode == 1
    assert "THRIFT_AUTH=KERBEROS needs THRIFT_KERBEROS_KEYTAB" in result.stderr


def test_an_unknown_mode_is_refused(fake_spark: Path) -> None:
    result, args_file = run_script(fake_spark, THRIFT_AUTH="PASSWORD")
    assert result.returncode == 1
    assert "THRIFT_AUTH=PASSWORD: use NONE, NOSASL, LDAP, KERBEROS or CUSTOM" in result.stderr
    assert not args_file.exists()


def thrift_credentials(monkeypatch: pytest.MonkeyPatch, **env: str) -> SparkCredentials:
    """The `thrift` output of profiles/profiles.yml as dbt renders it with `env`."""
    for name in ("THRIFT_AUTH", "THRIFT_PASSWORD", "THRIFT_USER"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    set_from_args(Namespace(), {})
    set_invocation_context(dict(os.environ))
    profiles = yaml.safe_load((PROJECT_DIR / "profiles" / "profiles.yml").read_text())
    output: dict[str, Any] = ProfileRenderer({}).render_data(
        profiles["web_events"]["outputs"]["thrift"]
    )
    return SparkCredentials.from_dict({**output, "type": "spark"})


def test_the_profile_passes_credentials_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    plain = thrift_credentials(monkeypatch)
    # the client (PyHive) refuses a password in any mode but LDAP and CUSTOM
    assert (plain.auth, plain.password, plain.kerberos_service_name) == ("NONE", None, None)

    ldap = thrift_credentials(
        monkeypatch, THRIFT_AUTH="LDAP", THRIFT_USER="ana", THRIFT_PASSWORD="s3cr't $x"
    )
    assert (ldap.auth, ldap.user, ldap.password) == ("LDAP", "ana", "s3cr't $x")

    kerberos = thrift_credentials(monkeypatch, THRIFT_AUTH="KERBEROS", THRIFT_PASSWORD="unused")
    assert (kerberos.password, kerberos.kerberos_service_name) == (None, "hive")
