# The `dbt` service of docker-compose.yml: the project with its pinned
# requirements, running scripts/pipeline.py against the Thrift server
# (`--target thrift`; THRIFT_HOST/THRIFT_PORT name the server).
FROM python:3.11-slim

WORKDIR /web_events/project
COPY requirements.txt ./
RUN pip install --no-cache-dir -r requirements.txt

COPY . ./
# docker-compose runs this as the host user (WEB_EVENTS_UID), who owns no
# folder here: dbt's target/ and logs/, the run state and the exports are
# writable by any uid, like /tmp; a new named volume takes them over.
RUN mkdir -p target logs /web_events/run /web_events/exports \
    && chmod 1777 . target logs profiles /web_events/run /web_events/exports
ENV WEB_EVENTS_HOME=/web_events/project \
    HOME=/tmp \
    PYTHONUNBUFFERED=1
ENTRYPOINT ["python", "scripts/pipeline.py"]
CMD ["run", "--target", "thrift", "--events", "/web_events/data/source_event_data.json", "--export-dir", "/web_events/exports"]
