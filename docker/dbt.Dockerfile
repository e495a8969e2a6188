# The `dbt` service of docker-compose.yml: the project with its pinned
# requirements, running scripts/pipeline.py against the Thrift server
# (`--target thrift`; THRIFT_HOST/THRIFT_PORT name the server).
FROM python:3.11-slim

WORKDIR /web_events/project
COPY requirements.txt ./
RUN pip install --no-cache-dir -r requirements.txt

COPY . ./
ENV WEB_EVENTS_HOME=/web_events/project \
    PYTHONUNBUFFERED=1
ENTRYPOINT ["python", "scripts/pipeline.py"]
CMD ["run", "--target", "thrift", "--events", "/web_events/data/source_event_data.json", "--export-dir", "/web_events/exports"]
