"""The pipeline through a Thrift server that submits to a standalone Spark cluster.

A master and one worker from the pyspark wheel, on loopback and free ports; the
Thrift server runs `scripts/thrift-server.sh run` (its foreground mode) with
`THRIFT_MASTER=spark://...`, as the docker-compose service does, so the SQL runs
in executors of another JVM: the events are read and the exports written by the
worker, the part files published by the run command.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.harness import (
    assert_same_exports,
    bad_inputs_folder,
    oracle_exports,
    read_exports,
    run_pipeline,
)
from tests.e2e.spark_servers import StandaloneCluster, ThriftServer

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StandaloneCluster]:
    spark = StandaloneCluster(work_dir=tmp_path_factory.mktemp("standalone"))
    try:
        spark.start()
        yield spark
    finally:
        spark.stop()


@pytest.fixture(scope="module")
def cluster_thrift_server(
    cluster: StandaloneCluster, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ThriftServer]:
    server = ThriftServer(
        state_dir=tmp_path_factory.mktemp("cluster_thrift_state"),
        master=cluster.url,
        foreground=True,
        spark_submit_options=(
            "--conf",
            f"spark.executor.cores={cluster.worker_cores}",
            "--conf",
            "spark.executor.memory=1g",
        ),
    )
    try:
        server.start()
        yield server
    finally:
        server.stop()


def test_bad_inputs_on_a_standalone_cluster_equal_the_oracle(
    cluster: StandaloneCluster, cluster_thrift_server: ThriftServer, tmp_path: Path
) -> None:
    events = bad_inputs_folder(tmp_path / "events")
    export_dir = tmp_path / "exports"

    run = run_pipeline(events, export_dir, "thrift", env=cluster_thrift_server.client_env())

    assert run.returncode == 0, (
        f"{run.output[-6000:]}\n{cluster_thrift_server.log_tail()}\n{cluster.logs()}"
    )
    assert_same_exports(read_exports(export_dir), oracle_exports([events], tmp_path / "oracle"))
    # the work ran in the worker's executor, not in the server's JVM
    assert list((cluster.work_dir / "worker").glob("app-*/*/stderr"))
