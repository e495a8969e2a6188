"""The dbt docs site, as a user sees it: generated, served, rendered by headless Chromium.

`dbt docs generate --static` (what `make docs` runs) writes target/index.html (served)
and target/static_index.html (one file, opened without a server). The site is served
from target/ on 127.0.0.1 on a free port, and Chromium (Debian's `chromium`; `make test`
installs it) renders the pages. The assertions are on the rendered DOM: the model,
source, exposure, macro and overview pages show their descriptions and columns, and
the lineage graph draws every node from the JSON source to the CSV exports.
Screenshots land in test-artifacts/ (git-ignored) for a person to look at.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from html.parser import HTMLParser
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.e2e.harness import PROJECT_DIR, run_dbt

TARGET = PROJECT_DIR / "target"
ARTIFACTS = PROJECT_DIR / "test-artifacts"
PROJECT = "web_events"
USER_ACTIVITY = f"model.{PROJECT}.user_activity"
SOURCE = f"source.{PROJECT}.{PROJECT}.raw_event_lines"
EXPORTS = ("user_activity", "hrly_granular_activity", "rejected_events")
REASONS = (
    "malformed_json",
    "missing_event_id",
    "missing_user_id",
    "invalid_user_id",
    "missing_action",
    "invalid_timestamp",
    "invalid_url",
    "duplicate_event",
)
PROBE_PATH = "/__lineage_probe.html"
# A page of the test's own, served beside the site (same origin, so it may read the
# site's DOM): it opens a docs page in an iframe, waits until the lineage graph
# (cytoscape, drawn on <canvas>) has laid out its nodes, and writes them as JSON
# into its own DOM, where --dump-dom can read them.
PROBE_PAGE = """<!doctype html>
<html><body>
<pre id="probe">pending</pre>
<iframe id="site" style="width: 1400px; height: 900px"></iframe>
<script>
var site = document.getElementById("site");
site.src = decodeURIComponent(location.hash.slice(1));
function poll() {
  var doc = site.contentDocument;
  var container = doc && doc.getElementById("cy");
  var cy = container && container._cyreg && container._cyreg.cy;
  if (cy && cy.nodes().length > 0 && cy.nodes()[0].renderedWidth() > 0) {
    var canvases = Array.prototype.filter.call(
      container.getElementsByTagName("canvas"), function (c) { return c.width > 0; });
    document.getElementById("probe").textContent = JSON.stringify({
      canvases: canvases.length,
      nodes: cy.nodes().filter(function (n) { return n.visible(); }).map(function (n) {
        return {id: n.id(), label: n.data("label"), width: n.renderedWidth()};
      }),
      edges: cy.edges().map(function (e) { return [e.source().id(), e.target().id()]; })
    });
    return;
  }
  setTimeout(poll, 250);
}
poll();
</script>
</body></html>
"""


def chromium_path() -> str:
    found = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(found).exists():
        pytest.fail(
            "headless Chromium is needed to check the docs site: "
            "sudo apt-get install -y chromium (`make test` does this as root), "
            "or set CHROMIUM=<path>"
        )
    return found


class VisibleText(HTMLParser):
    """The text a reader sees in the page's main panel (`.app-content`).

    Leaves out the navigation tree (which names every model whatever the page shows),
    <script>/<style>, and what Angular hides (`ng-hide`, e.g. the search results,
    which hold every description as raw text).
    """

    HIDDEN_TAGS = frozenset({"script", "style", "template", "noscript"})
    VOID_TAGS = frozenset(
        {
            "area",
            "base",
            "br",
            "col",
            "embed",
            "hr",
            "img",
            "input",
            "link",
            "meta",
            "source",
            "track",
            "wbr",
        }
    )

    def __init__(self, root_class: str) -> None:
        super().__init__()
        self.root_class = root_class
        self.stack: list[tuple[str, bool, bool]] = []  # (tag, hidden, is_root)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.VOID_TAGS:
            return
        classes = (dict(attrs).get("class") or "").split()
        hidden = tag in self.HIDDEN_TAGS or "ng-hide" in classes
        self.stack.append((tag, hidden, self.root_class in classes))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """`<x/>`: opens and closes at once, holds no text."""

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.stack) - 1, -1, -1):
            if self.stack[depth][0] == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        inside_root = any(is_root for _, _, is_root in self.stack)
        if inside_root and not any(hidden for _, hidden, _ in self.stack):
            self.parts.append(data)

    @classmethod
    def of(cls, dom: str, root_class: str = "app-content") -> str:
        parser = cls(root_class)
        parser.feed(dom)
        parser.close()
        return " ".join(" ".join(parser.parts).split())


@dataclass(frozen=True)
class Browser:
    executable: str
    profile: Path

    def run(self, url: str, *args: str) -> str:
        command = [
            self.executable,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
            f"--user-data-dir={self.profile}",
            "--virtual-time-budget=20000",
            *args,
            url,
        ]
        result = subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)
        assert result.returncode == 0, f"chromium failed on {url}:\n{result.stderr[-3000:]}"
        return result.stdout

    def dom(self, url: str) -> str:
        return self.run(url, "--dump-dom")

    def text(self, url: str) -> str:
        return VisibleText.of(self.dom(url))

    def screenshot(self, url: str, path: Path, size: str = "1600,1000") -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)
        self.run(url, f"--screenshot={path}", f"--window-size={size}")
        return path


class DocsHandler(SimpleHTTPRequestHandler):
    """Serves target/ like `dbt docs serve`, plus the lineage probe page."""

    def do_GET(self) -> None:
        if self.path.split("#")[0].split("?")[0] == PROBE_PATH:
            body = PROBE_PAGE.encode("utf-8")
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        super().do_GET()

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: pytest shows failures, not every request."""


@pytest.fixture(scope="module")
def docs_target() -> Path:
    """`make docs`: the site generated once for the module."""
    run_dbt("docs", "generate", "--static").check()
    for name in ("index.html", "static_index.html", "manifest.json", "catalog.json"):
        assert (TARGET / name).is_file(), f"dbt docs generate left no target/{name}"
    return TARGET


@pytest.fixture(scope="module")
def site(docs_target: Path) -> Iterator[str]:
    handler = partial(DocsHandler, directory=str(docs_target))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Browser:
    return Browser(chromium_path(), tmp_path_factory.mktemp("chromium-profile"))


@pytest.fixture(scope="module")
def manifest(docs_target: Path) -> dict:
    return json.loads((docs_target / "manifest.json").read_text(encoding="utf-8"))


def lineage(browser: Browser, site: str, page: str) -> dict:
    dom = browser.dom(f"{site}{PROBE_PATH}#{page}")
    probe = dom.split('<pre id="probe">', 1)[1].split("</pre>", 1)[0]
    probe = html.unescape(probe)
    assert probe.startswith("{"), f"the lineage graph of {page} did not render: {probe[:300]}"
    return json.loads(probe)


def pre_blocks(dom: str) -> list[str]:
    """The text of each <pre> element (code blocks, the ASCII diagram), line breaks kept."""
    blocks = re.findall(r"<pre\b[^>]*>(.*?)</pre>", dom, flags=re.DOTALL)
    return [html.unescape(re.sub(r"<[^>]+>", "", block)) for block in blocks]


def assert_png(path: Path) -> None:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    # A blank 1600x1000 page compresses to a few kB; a rendered one is far larger.
    assert len(data) > 20_000, f"{path} looks blank ({len(data)} bytes)"


def test_model_page_shows_description_columns_and_shared_docs(
    browser: Browser, site: str, manifest: dict
) -> None:
    url = f"{site}/index.html#!/model/{USER_ACTIVITY}"
    text = browser.text(url)

    assert "user_activity" in text and "One row per accepted event" in text
    columns = manifest["nodes"][USER_ACTIVITY]["columns"]
    assert set(columns) >= {"event_id", "user_id", "time_stamp", "url_level1", "activity"}
    for name in columns:
        assert name in text, f"column {name} missing from the rendered user_activity page"
    # docs blocks (models/docs.md) resolved into the column descriptions
    assert "trimmed and lower-cased" in text
    assert "lower-cased, without" in text
    assert "```" not in text, "a code fence was not rendered as markdown"
    assert_png(browser.screenshot(url, ARTIFACTS / "docs_model_user_activity.png"))


def test_overview_explains_layers_and_the_rules_in_order(browser: Browser, site: str) -> None:
    dom = browser.dom(f"{site}/index.html#!/overview")
    text = VisibleText.of(dom)

    # the layer diagram is a preformatted block, not escaped HTML run into one line
    diagrams = [block for block in pre_blocks(dom) if "STAGING" in block]
    assert diagrams, "the overview's layer diagram is not a preformatted block"
    assert "int_events_deduplicated" in diagrams[0] and "\n" in diagrams[0]
    assert "<pre>" not in text

    assert "from JSON lines to activity tables and CSV exports" in text
    for layer in ("SOURCE", "STAGING", "INTERMEDIATE", "MARTS", "EXPORTS"):
        assert layer in text
    for table in EXPORTS:
        assert f"<export_dir>/{table}.csv" in text
    rules = text[text.index("The rules, in order") :]
    positions = [rules.find(reason) for reason in REASONS]
    assert -1 not in positions, f"a rejection reason is missing from the overview: {positions}"
    assert positions == sorted(positions), "the overview lists the rules out of SPEC order"
    assert "UTC" in text and "url_level1" in text


def test_lineage_graph_runs_from_the_json_source_to_the_csv_exports(
    browser: Browser, site: str
) -> None:
    graph = lineage(browser, site, "/index.html#!/overview?g_v=1")

    assert graph["canvases"] >= 1, "the lineage graph drew no canvas"
    nodes = {node["id"]: node for node in graph["nodes"]}
    listing, ledger = f"source.{PROJECT}.{PROJECT}.file_listing", f"model.{PROJECT}.load_ledger"
    expected = {
        SOURCE,
        listing,
        ledger,
        f"model.{PROJECT}.stg_web_events",
        f"model.{PROJECT}.int_events_validated",
        f"model.{PROJECT}.int_events_deduplicated",
        *(f"model.{PROJECT}.{table}" for table in EXPORTS),
        *(f"exposure.{PROJECT}.{table}_csv" for table in EXPORTS),
        f"exposure.{PROJECT}.hourly_activity_reporting",
    }
    assert expected <= set(nodes), f"missing from the graph: {sorted(expected - set(nodes))}"
    assert all(nodes[node_id]["width"] > 0 for node_id in expected), "a node was not drawn"
    edges = {tuple(edge) for edge in graph["edges"]}
    assert (SOURCE, f"model.{PROJECT}.stg_web_events") in edges
    # the load ledger decides what staging reads
    assert (listing, ledger) in edges and (ledger, f"model.{PROJECT}.stg_web_events") in edges
    for table in EXPORTS:
        assert (f"model.{PROJECT}.{table}", f"exposure.{PROJECT}.{table}_csv") in edges
    assert_png(
        browser.screenshot(f"{site}/index.html#!/overview?g_v=1", ARTIFACTS / "docs_lineage.png")
    )


def test_model_lineage_view_reaches_upstream_and_downstream(browser: Browser, site: str) -> None:
    graph = lineage(browser, site, f"/index.html#!/model/{USER_ACTIVITY}?g_v=1")

    node_ids = {node["id"] for node in graph["nodes"]}
    assert {SOURCE, USER_ACTIVITY, f"exposure.{PROJECT}.user_activity_csv"} <= node_ids


def test_source_page_documents_freshness(browser: Browser, site: str) -> None:
    text = browser.text(f"{site}/index.html#!/source/{SOURCE}")

    assert "raw_event_lines" in text and "file_modification_time" in text
    assert "freshness_warn_after_hours" in text and "freshness_error_after_hours" in text


def test_exposure_and_macro_pages_render(browser: Browser, site: str) -> None:
    exposure = browser.text(f"{site}/index.html#!/exposure/exposure.{PROJECT}.user_activity_csv")
    assert "<export_dir>/user_activity.csv" in exposure and "Web analytics data team" in exposure

    macro = browser.text(f"{site}/index.html#!/macro/macro.{PROJECT}.export_csv")
    assert "export_csv" in macro and "order_by" in macro and "RFC 4180" in macro


def test_static_site_renders_from_a_file_without_a_server(
    browser: Browser, docs_target: Path
) -> None:
    page = f"#!/model/model.{PROJECT}.hrly_granular_activity"
    url = f"{(docs_target / 'static_index.html').as_uri()}{page}"
    text = browser.text(url)

    assert "hrly_granular_activity" in text and "distinct users per UTC hour" in text
    for column in ("time_bucket", "activity_count", "user_count"):
        assert column in text


def test_every_built_column_is_documented(docs_target: Path, manifest: dict) -> None:
    """Columns the catalog found in Spark but the YAML does not describe (built tables only)."""
    catalog = json.loads((docs_target / "catalog.json").read_text(encoding="utf-8"))
    undocumented = {
        unique_id: sorted(
            name
            for name in (column.lower() for column in entry["columns"])
            if not manifest["nodes"][unique_id]["columns"].get(name, {}).get("description")
        )
        for unique_id, entry in catalog["nodes"].items()
        if unique_id in manifest["nodes"]
    }
    assert not {k: v for k, v in undocumented.items() if v}, undocumented
    for unique_id, node in manifest["nodes"].items():
        if node["resource_type"] in {"model", "seed"}:
            assert node["description"], f"{unique_id} has no description"
