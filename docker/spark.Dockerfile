# The Spark image of docker-compose.yml: master, workers and the Thrift server.
#
# The official apache/spark image (Java 17, Scala 2.13; no Hudi: see
# docs/spark-notes.md, "Containers need Java 17")
# plus two things the project needs:
# - the PostgreSQL JDBC driver, so the Thrift server's Hive metastore client can
#   keep the catalog in the `postgres` service. It is downloaded from Maven
#   Central when the image is built (on your machine: nothing is vendored here)
#   and checked against the .sha1 Maven Central publishes beside it.
# - scripts/thrift-server.sh and its log settings: the same start script as
#   `make thrift-up` and the tests, so what CI tests is what compose runs.
#
# SPARK_IMAGE: the newest apache/spark tag with Java 17 known to this project;
# any apache/spark 4.x *-java17-* tag works (the SQL needs Spark 4.0 or later).
ARG SPARK_IMAGE=apache/spark:4.1.1-scala2.13-java17-ubuntu
FROM ${SPARK_IMAGE}

ARG POSTGRES_JDBC_VERSION=42.7.4
USER root
# The JDBC driver, checked against the .sha1 Maven Central publishes; and the
# folders docker-compose.yml mounts volumes on, writable by whatever uid the
# services run as (WEB_EVENTS_UID), like /tmp: a new named volume takes them over.
RUN set -eux; \
    jar="postgresql-${POSTGRES_JDBC_VERSION}.jar"; \
    url="https://repo1.maven.org/maven2/org/postgresql/postgresql/${POSTGRES_JDBC_VERSION}/${jar}"; \
    cd /opt/spark/jars; \
    wget -nv -O "${jar}" "${url}"; \
    echo "$(wget -qO- "${url}.sha1" | cut -c1-40)  ${jar}" | sha1sum -c -; \
    chmod 644 "${jar}"; \
    mkdir -p /web_events/data /web_events/exports /web_events/warehouse; \
    chmod 1777 /web_events/exports /web_events/warehouse

COPY scripts/thrift-server.sh /web_events/project/scripts/thrift-server.sh
COPY conf/log4j2-thrift.properties /web_events/project/conf/log4j2-thrift.properties

ENV SPARK_HOME=/opt/spark
WORKDIR /web_events
USER spark
