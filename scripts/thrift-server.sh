#!/usr/bin/env bash
# The project's Spark Thrift server (HiveThriftServer2): the one way it is
# started, by `make thrift-up`, by the pytest fixtures and by docker-compose, so
# that what CI tests is what compose runs.
#
#   scripts/thrift-server.sh start [SPARK-SUBMIT-OPTION...]  in the background; returns once the
#                                                        port accepts connections (idempotent)
#   scripts/thrift-server.sh run   [SPARK-SUBMIT-OPTION...]  in the foreground, logging to stdout
#                                                        (containers: the server is PID 1's child)
#   scripts/thrift-server.sh stop      stops the server this state folder started, nothing else
#   scripts/thrift-server.sh status    exit 0 when it runs and accepts connections
#
# Extra options go to spark-submit, e.g. `--conf spark.executor.memory=1g`.
#
# Settings (environment variables, with their defaults):
#   THRIFT_BIND_HOST          127.0.0.1       address the server listens on; any address
#                             beyond loopback needs THRIFT_AUTH (or the override below)
#   THRIFT_AUTH               NONE            who may connect (HiveServer2's authentication):
#                             NONE or NOSASL (anyone), LDAP (THRIFT_LDAP_URL, optional
#                             THRIFT_LDAP_BASE_DN / THRIFT_LDAP_DOMAIN), KERBEROS
#                             (THRIFT_KERBEROS_PRINCIPAL, THRIFT_KERBEROS_KEYTAB), CUSTOM
#                             (THRIFT_CUSTOM_AUTH_CLASS, its jar passed with --jars).
#                             dbt's profile reads the same THRIFT_AUTH, with THRIFT_USER
#                             and THRIFT_PASSWORD.
#   THRIFT_ALLOW_UNAUTHENTICATED  (empty)     1: listen beyond loopback without
#                             authentication anyway (a private container network);
#                             a warning says so at every start
#   THRIFT_PORT               10000
#   THRIFT_STATE_DIR          <project>/.thrift   pid file, log, Derby metastore, warehouse
#   THRIFT_WAREHOUSE_DIR      $THRIFT_STATE_DIR/warehouse
#   THRIFT_MASTER             local[*]        or spark://host:7077 for a standalone cluster
#   THRIFT_DRIVER_MEMORY      2g
#   THRIFT_SHUFFLE_PARTITIONS 8
#   THRIFT_DRIVER_HOST        (this host)     the driver's name as executors on a cluster see it
#   THRIFT_UI_PORT            (empty)         the Spark UI's port; empty turns the UI off
#   THRIFT_METASTORE_URL      Derby in $THRIFT_STATE_DIR/metastore_db (one process only:
#                             never the `local` target's metastore_db)
#   THRIFT_METASTORE_DRIVER, THRIFT_METASTORE_USER, THRIFT_METASTORE_PASSWORD
#                             for another metastore database (Postgres in docker-compose)
#   THRIFT_START_TIMEOUT      300             seconds `start` waits for the port
#   SPARK_HOME                the Spark to run: /opt/spark in the apache/spark image; when
#                             unset, the pyspark package of the project's .venv
#                             (docs/spark-notes.md, "Spark from the virtualenv")
#
# Server settings that are not negotiable: session time zone UTC (SPEC) and ANSI
# mode on, pinned explicitly (Spark 4's default, what real clusters run; see
# docs/thrift.md).
set -euo pipefail

PROJECT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIND_HOST="${THRIFT_BIND_HOST:-127.0.0.1}"
PORT="${THRIFT_PORT:-10000}"
STATE_DIR="${THRIFT_STATE_DIR:-$PROJECT_DIR/.thrift}"
MASTER="${THRIFT_MASTER:-local[*]}"
START_TIMEOUT="${THRIFT_START_TIMEOUT:-300}"
APP_CLASS=org.apache.spark.sql.hive.thriftserver.HiveThriftServer2

die() {
    echo "thrift-server: error: $*" >&2
    exit 1
}

say() {
    echo "thrift-server: $*"
}

absolute() {
    case "$1" in
        /*) echo "$1" ;;
        *) echo "$PWD/$1" ;;
    esac
}

STATE_DIR="$(absolute "$STATE_DIR")"
WAREHOUSE_DIR="$(absolute "${THRIFT_WAREHOUSE_DIR:-$STATE_DIR/warehouse}")"
PID_FILE="$STATE_DIR/thrift-server.pid"
LOG_FILE="$STATE_DIR/thrift-server.log"
AUTH="${THRIFT_AUTH:-NONE}"
# Marks the JVM as this state folder's server, so `stop` never kills anything else.
MARKER="spark.web_events.thrift.stateDir=$STATE_DIR"

find_spark_home() {
    if [[ -n "${SPARK_HOME:-}" ]]; then
        echo "$SPARK_HOME"
        return
    fi
    local python
    for python in "$PROJECT_DIR/.venv/bin/python" python3; do
        if command -v "$python" >/dev/null 2>&1 &&
            "$python" -c 'import pyspark, os; print(os.path.dirname(pyspark.__file__))' 2>/dev/null; then
            return
        fi
    done
    if [[ -x /opt/spark/bin/spark-submit ]]; then
        echo /opt/spark
        return
    fi
    die "no Spark found: set SPARK_HOME, or run 'make setup' to install pyspark in .venv"
}

is_loopback() {
    case "$BIND_HOST" in
        127.* | localhost | ::1 | "[::1]") return 0 ;;
        *) return 1 ;;
    esac
}

require() {
    local name
    for name in "$@"; do
        [[ -n "${!name:-}" ]] || die "THRIFT_AUTH=$AUTH needs $name"
    done
}

# Before anything starts: the authentication settings are complete, and a
# server that others can reach either checks who connects or says loudly
# that it does not.
check_authentication() {
    case "$AUTH" in
        NONE | NOSASL) ;;
        LDAP) require THRIFT_LDAP_URL ;;
        KERBEROS) require THRIFT_KERBEROS_PRINCIPAL THRIFT_KERBEROS_KEYTAB ;;
        CUSTOM) require THRIFT_CUSTOM_AUTH_CLASS ;;
        *) die "THRIFT_AUTH=$AUTH: use NONE, NOSASL, LDAP, KERBEROS or CUSTOM" ;;
    esac
    if is_loopback || [[ "$AUTH" != NONE && "$AUTH" != NOSASL ]]; then
        return 0
    fi
    if [[ "${THRIFT_ALLOW_UNAUTHENTICATED:-}" != 1 ]]; then
        die "THRIFT_BIND_HOST=$BIND_HOST lets other machines connect, and THRIFT_AUTH=$AUTH checks no one: set THRIFT_AUTH=LDAP|KERBEROS|CUSTOM (see the top of this script), or THRIFT_ALLOW_UNAUTHENTICATED=1 on a network only you reach"
    fi
    {
        echo "thrift-server: WARNING ****************************************************"
        echo "thrift-server: WARNING: listening on $BIND_HOST:$PORT WITHOUT AUTHENTICATION"
        echo "thrift-server: WARNING: (THRIFT_ALLOW_UNAUTHENTICATED=1). Anyone who reaches this"
        echo "thrift-server: WARNING: address can read and drop every table the server can."
        echo "thrift-server: WARNING ****************************************************"
    } >&2
}

# HiveServer2's authentication options for THRIFT_AUTH.
authentication_options() {
    AUTH_OPTIONS=(--hiveconf "hive.server2.authentication=$AUTH")
    case "$AUTH" in
        LDAP)
            AUTH_OPTIONS+=(--hiveconf "hive.server2.authentication.ldap.url=$THRIFT_LDAP_URL")
            [[ -n "${THRIFT_LDAP_BASE_DN:-}" ]] &&
                AUTH_OPTIONS+=(--hiveconf "hive.server2.authentication.ldap.baseDN=$THRIFT_LDAP_BASE_DN")
            [[ -n "${THRIFT_LDAP_DOMAIN:-}" ]] &&
                AUTH_OPTIONS+=(--hiveconf "hive.server2.authentication.ldap.Domain=$THRIFT_LDAP_DOMAIN")
            ;;
        KERBEROS)
            AUTH_OPTIONS+=(
                --hiveconf "hive.server2.authentication.kerberos.principal=$THRIFT_KERBEROS_PRINCIPAL"
                --hiveconf "hive.server2.authentication.kerberos.keytab=$THRIFT_KERBEROS_KEYTAB"
            )
            ;;
        CUSTOM)
            AUTH_OPTIONS+=(--hiveconf "hive.server2.custom.authentication.class=$THRIFT_CUSTOM_AUTH_CLASS")
            ;;
    esac
    return 0
}

# The local address that reaches the server (a wildcard bind is reached on loopback).
probe_host() {
    case "$BIND_HOST" in
        0.0.0.0 | "" | "*") echo 127.0.0.1 ;;
        ::) echo ::1 ;;
        *) echo "$BIND_HOST" ;;
    esac
}

accepts_connections() {
    (exec 3<>"/dev/tcp/$(probe_host)/$PORT") 2>/dev/null
}

command_line_of() {
    if [[ -r "/proc/$1/cmdline" ]]; then
        tr '\0' ' ' <"/proc/$1/cmdline"
    else
        ps -ww -o args= -p "$1" 2>/dev/null || true
    fi
}

# The pid in the pid file, if that process is alive and is this folder's server.
our_pid() {
    [[ -f "$PID_FILE" ]] || return 1
    local pid
    pid="$(cat "$PID_FILE")"
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    local args
    args="$(command_line_of "$pid")"
    [[ "$args" == *"$APP_CLASS"* && "$args" == *"$MARKER "* ]] || return 1
    echo "$pid"
}

# The Hive metastore's persistent classes (package.jdo of Spark 4's built-in
# Hive 2.3 client), for DataNucleus to create every table at start.
metastore_model_classes() {
    local names=(
        MDatabase MFieldSchema MType MTable MConstraint MSerDeInfo MOrder
        MColumnDescriptor MStringList MStorageDescriptor MPartition MIndex MRole
        MRoleMap MGlobalPrivilege MDBPrivilege MTablePrivilege MPartitionPrivilege
        MTableColumnPrivilege MPartitionColumnPrivilege MPartitionEvent MMasterKey
        MDelegationToken MTableColumnStatistics MPartitionColumnStatistics
        MVersionTable MResourceUri MFunction MNotificationLog MNotificationNextId
    )
    local IFS=,
    echo "${names[*]/#/org.apache.hadoop.hive.metastore.model.}"
}

spark_submit_command() {
    local spark_home
    spark_home="$(find_spark_home)"
    [[ -x "$spark_home/bin/spark-submit" ]] || die "no bin/spark-submit under SPARK_HOME=$spark_home"
    export SPARK_HOME="$spark_home"

    # Loopback server: Spark's own ports (driver, block manager, UI) stay on
    # loopback too, instead of the host's first network address.
    if [[ "$BIND_HOST" == 127.0.0.1 || "$BIND_HOST" == localhost ]]; then
        export SPARK_LOCAL_IP="${SPARK_LOCAL_IP:-127.0.0.1}"
    fi
    local log4j="$PROJECT_DIR/conf/log4j2-thrift.properties"
    local metastore_url="${THRIFT_METASTORE_URL:-jdbc:derby:;databaseName=$STATE_DIR/metastore_db;create=true}"
    COMMAND=(
        "$spark_home/bin/spark-submit"
        --class "$APP_CLASS"
        --name web_events_thrift
        --master "$MASTER"
        --driver-memory "${THRIFT_DRIVER_MEMORY:-2g}"
        --driver-java-options "-Dderby.system.home=$STATE_DIR -Dlog4j2.configurationFile=file:$log4j"
        --conf "$MARKER"
        # SPEC: results must not depend on the machine's time zone.
        --conf spark.sql.session.timeZone=UTC
        # Pinned, not inherited: the SQL is written for ANSI mode (docs/spark-notes.md,
        # "ANSI mode depends on the connection").
        --conf spark.sql.ansi.enabled=true
        --conf "spark.sql.shuffle.partitions=${THRIFT_SHUFFLE_PARTITIONS:-8}"
        --conf spark.sql.adaptive.enabled=true
        --conf "spark.sql.warehouse.dir=$WAREHOUSE_DIR"
        --conf "spark.hadoop.javax.jdo.option.ConnectionURL=$metastore_url"
        # An empty metastore database gets its tables on first start (Derby or
        # Postgres), all of them at once: created lazily, on first use, a
        # table's DDL waits on the open transaction that needs it, and on
        # Postgres the first `create table` hangs for ever.
        --conf spark.hadoop.datanucleus.schema.autoCreateAll=true
        --conf spark.hadoop.hive.metastore.schema.verification=false
        --conf spark.hadoop.datanucleus.autoStartMechanism=Classes
        --conf "spark.hadoop.datanucleus.autoStartClassNames=$(metastore_model_classes)"
        --conf spark.ui.showConsoleProgress=false
        # Answer each statement when it has finished, not at once with a handle
        # that dbt-spark then polls: one round trip less per statement. Over
        # 20 short queries polled the way dbt-spark does, the median went from
        # 0.36-0.50 s to 0.21-0.43 s (alternating servers, 4 rounds).
        --conf spark.sql.hive.thriftServer.async=false
    )
    if [[ -n "${THRIFT_METASTORE_DRIVER:-}" ]]; then
        COMMAND+=(--conf "spark.hadoop.javax.jdo.option.ConnectionDriverName=$THRIFT_METASTORE_DRIVER")
    fi
    if [[ -n "${THRIFT_METASTORE_USER:-}" ]]; then
        COMMAND+=(--conf "spark.hadoop.javax.jdo.option.ConnectionUserName=$THRIFT_METASTORE_USER")
    fi
    if [[ -n "${THRIFT_METASTORE_PASSWORD:-}" ]]; then
        COMMAND+=(--conf "spark.hadoop.javax.jdo.option.ConnectionPassword=$THRIFT_METASTORE_PASSWORD")
    fi
    if [[ -n "${THRIFT_DRIVER_HOST:-}" ]]; then
        # The name executors on other machines use to reach this driver (compose: the service).
        COMMAND+=(--conf "spark.driver.host=$THRIFT_DRIVER_HOST")
    fi
    if [[ -n "${THRIFT_UI_PORT:-}" ]]; then
        COMMAND+=(--conf spark.ui.enabled=true --conf "spark.ui.port=$THRIFT_UI_PORT")
    else
        COMMAND+=(--conf spark.ui.enabled=false)
    fi
    authentication_options
    COMMAND+=(
        "$@"
        spark-internal
        --hiveconf "hive.server2.thrift.bind.host=$BIND_HOST"
        --hiveconf "hive.server2.thrift.port=$PORT"
        "${AUTH_OPTIONS[@]}"
    )
}

# A server killed while it writes a table (`create table ... as select`,
# `insert overwrite`) leaves the write's uncommitted files in the table's folder
# (`_temporary/`, `.spark-staging-*`). For a table the crash left out of the
# catalog, that folder alone makes every later `create table` of the same name
# fail with LOCATION_ALREADY_EXISTS. Before the server starts nothing writes to
# its warehouse, so such leftovers are removed (remote warehouses are left alone).
remove_uncommitted_writes() {
    [[ -d "$WAREHOUSE_DIR" ]] || return 0
    local leftover
    while IFS= read -r -d '' leftover; do
        say "removing an uncommitted write left by a stopped server: $leftover"
        rm -rf -- "$leftover"
    done < <(find "$WAREHOUSE_DIR" -mindepth 2 -maxdepth 3 \
        \( -name _temporary -o -name '.spark-staging-*' \) -prune -print0)
}

print_log_tail() {
    if [[ -f "$LOG_FILE" ]]; then
        echo "--- last lines of $LOG_FILE ---" >&2
        tail -n "${1:-40}" "$LOG_FILE" >&2
        echo "---" >&2
    fi
}

# Waits until the server accepts connections; fails (printing its log) if it dies first.
wait_until_ready() {
    local pid="$1" deadline=$((SECONDS + START_TIMEOUT))
    while ((SECONDS < deadline)); do
        if ! kill -0 "$pid" 2>/dev/null; then
            rm -f "$PID_FILE"
            print_log_tail
            die "the Thrift server (pid $pid) exited before accepting connections on $BIND_HOST:$PORT"
        fi
        if accepts_connections; then
            say "Spark Thrift server up at $BIND_HOST:$PORT (pid $pid, master $MASTER, log $LOG_FILE)"
            return 0
        fi
        sleep 1
    done
    print_log_tail
    stop_server >&2
    die "the Thrift server did not accept connections on $BIND_HOST:$PORT within ${START_TIMEOUT}s"
}

start_server() {
    check_authentication
    mkdir -p "$STATE_DIR"
    local pid
    if pid="$(our_pid)"; then
        say "already running (pid $pid)"
        wait_until_ready "$pid"
        return
    fi
    rm -f "$PID_FILE"
    if accepts_connections; then
        die "port $PORT on $(probe_host) is taken by another process (not the server of $STATE_DIR): stop it or set THRIFT_PORT"
    fi
    spark_submit_command "$@"
    remove_uncommitted_writes
    [[ -f "$LOG_FILE" ]] && mv -f "$LOG_FILE" "$LOG_FILE.1"
    # Its own session (process group): a Ctrl-C in the calling shell does not
    # reach it, and `stop` can signal the whole group.
    local detach=()
    command -v setsid >/dev/null 2>&1 && detach=(setsid)
    (cd "$STATE_DIR" && exec "${detach[@]}" "${COMMAND[@]}" >"$LOG_FILE" 2>&1 </dev/null) &
    pid=$!
    echo "$pid" >"$PID_FILE"
    say "starting (pid $pid, log $LOG_FILE)"
    wait_until_ready "$pid"
}

stop_server() {
    local pid
    if ! pid="$(our_pid)"; then
        if [[ -f "$PID_FILE" ]]; then
            say "pid file $PID_FILE is stale (no such server running): removed"
            rm -f "$PID_FILE"
        else
            say "no Thrift server running for $STATE_DIR"
        fi
        return 0
    fi
    say "stopping pid $pid"
    # The whole group when the server leads one (started with setsid), else just it.
    local target="$pid"
    [[ "$(ps -o pgid= -p "$pid" 2>/dev/null | tr -d ' ')" == "$pid" ]] && target="-$pid"
    kill -TERM -- "$target" 2>/dev/null || true
    local deadline=$((SECONDS + 30))
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do
        sleep 1
    done
    if kill -0 "$pid" 2>/dev/null; then
        say "still alive after 30s: killing pid $pid"
        kill -KILL -- "$target" 2>/dev/null || true
    fi
    rm -f "$PID_FILE"
    say "stopped"
}

status_server() {
    local pid
    if pid="$(our_pid)" && accepts_connections; then
        say "running (pid $pid) at $BIND_HOST:$PORT, log $LOG_FILE"
        return 0
    fi
    if pid="$(our_pid)"; then
        say "starting (pid $pid), not yet accepting connections on $BIND_HOST:$PORT"
    else
        say "not running for $STATE_DIR"
    fi
    return 1
}

run_foreground() {
    check_authentication
    mkdir -p "$STATE_DIR"
    spark_submit_command "$@"
    remove_uncommitted_writes
    cd "$STATE_DIR"
    say "running in the foreground at $BIND_HOST:$PORT (master $MASTER)"
    exec "${COMMAND[@]}"
}

main() {
    local action="${1:-}"
    shift || true
    case "$action" in
        start) start_server "$@" ;;
        run) run_foreground "$@" ;;
        stop) stop_server ;;
        status) status_server ;;
        *)
            sed -n '2,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
            exit 2
            ;;
    esac
}

main "$@"
