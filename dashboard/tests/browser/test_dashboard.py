"""The web dashboard in a real browser (headless Debian Chromium driven by Playwright) against a
real topicd, after a 3-day nightly run of the demo data (examples/clinc150-demo.jsonl) with the
local encoder; and the offline report of `topics report`.

Run by scripts/test-dashboard.sh (part of scripts/test.sh), which builds the binaries, installs
Chromium and Playwright and sets:
  TOPICD_BIN, TOPICS_BIN      the binaries
  TOPICD_TEST_EMBED_MODEL     the local encoder's weights (scripts/fetch-model.sh)
  CHROMIUM                    the browser (default /usr/bin/chromium; never downloaded)
  DASHBOARD_SCREENSHOTS       where screenshots go (default target/dashboard; `docs` refreshes
                              docs/dashboard.png and docs/report.png)
  DASHBOARD_METRICS           a JSON file for the page weight and render times (optional)

The tests run in file order and share one server: the label edit of one test is checked to
survive the merge of a later one.
"""

from __future__ import annotations

import datetime
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

REPO = Path(__file__).resolve().parents[3]
DEMO = REPO / "examples" / "clinc150-demo.jsonl"
DAYS = ["2026-11-16", "2026-11-17", "2026-11-18", "2026-11-19"]
TENANT = "banking"
# A phrase of a banking intent that the demo data has (pin_change).
PHRASE = "how do i change the pin of my card"

ADMIN = "dash-admin-secret-0123456789"
READ = "dash-banking-read-secret-0123456789"
WRITE = "dash-banking-write-secret-0123456789"
TOKENS = f"""
[[token]]
name = "ops"
secret = "{ADMIN}"
tenants = ["*"]
role = "admin"

[[token]]
name = "banking-dashboard"
secret = "{READ}"
tenants = ["{TENANT}"]
role = "read"

[[token]]
name = "banking-operator"
secret = "{WRITE}"
tenants = ["{TENANT}"]
role = "write"
"""

# Chromium as the brief of the test machines has it: no sandbox (root in a container), no GPU,
# nothing that talks to the network by itself.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1366, "height": 768}


def env_path(name: str, default: Path) -> Path:
    v = os.environ.get(name)
    return Path(v) if v else default


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method: str, url: str, token: Optional[str] = None, body: Optional[dict] = None):
    headers = {"accept": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["content-type"] = "application/json"
    req = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


class Topicd:
    """topicd with the HTTP API and static tokens on loopback, in a temp data dir."""

    def __init__(self, data_dir: Path):
        self.data_dir = data_dir
        self.grpc = f"127.0.0.1:{free_port()}"
        self.http_port = free_port()
        self.url = f"http://127.0.0.1:{self.http_port}"
        self.bin = env_path("TOPICD_BIN", REPO / "target" / "debug" / "topicd")
        self.topics_bin = env_path("TOPICS_BIN", REPO / "target" / "debug" / "topics")
        self.encoder = env_path("TOPICD_TEST_EMBED_MODEL", REPO / "models" / "all-MiniLM-L6-v2")
        for p in (self.bin, self.topics_bin):
            if not p.is_file():
                pytest.exit(f"{p} not found: build it (cargo build -p topicd -p topics)", returncode=2)
        if not (self.encoder / "model.safetensors").is_file():
            pytest.exit(f"no encoder weights in {self.encoder}: run scripts/fetch-model.sh", returncode=2)
        (data_dir / "tokens.toml").write_text(TOKENS)
        self.proc: Optional[subprocess.Popen] = None
        self.log = data_dir / "topicd.log"

    def env(self) -> Dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("TOPICD_") and not k.startswith("TOPICS_")}
        env["RUST_LOG"] = env.get("RUST_LOG", "warn")
        env["TOPICD_EMBED_MODEL"] = str(self.encoder)
        return env

    def start(self, auth: bool = True) -> "Topicd":
        logf = open(self.log, "ab")
        auth_args = ["--auth-tokens", str(self.data_dir / "tokens.toml")] if auth else []
        self.proc = subprocess.Popen(
            [str(self.bin), "--listen", self.grpc, "--http-listen", f"127.0.0.1:{self.http_port}",
             "--data-dir", str(self.data_dir), "--device", "cpu", "--no-metrics"] + auth_args,
            cwd=self.data_dir, env=self.env(), stdout=logf, stderr=subprocess.STDOUT)
        logf.close()
        deadline = time.monotonic() + 120
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"topicd exited ({self.proc.returncode}):\n{self.log.read_text()}")
            try:
                if http("GET", f"{self.url}/health")[0] == 200:
                    return self
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"topicd did not answer /health:\n{self.log.read_text()}")
            time.sleep(0.2)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def topics(self, *args: str) -> str:
        env = self.env()
        env["TOPICS_TOKEN"] = ADMIN
        env["TOPICS_SERVER"] = f"http://{self.grpc}"
        out = subprocess.run([str(self.topics_bin), *args], env=env, capture_output=True, text=True, timeout=900)
        assert out.returncode == 0, f"topics {args} failed:\n{out.stdout}\n{out.stderr}"
        return out.stdout

    def nightly(self, jsonl: Path, since: str, until: str) -> dict:
        summary = self.data_dir / f"summary-{since}.json"
        self.topics("nightly", "--jsonl", str(jsonl), "--since", since, "--until", until, "--summary", str(summary))
        return json.loads(summary.read_text())

    def api(self, path: str, token: str = ADMIN, method: str = "GET", body: Optional[dict] = None):
        status, value = http(method, f"{self.url}{path}", token, body)
        assert status == 200, f"{method} {path}: {status} {value}"
        return value


@pytest.fixture(scope="module")
def server():
    tmp = Path(tempfile.mkdtemp(prefix="topicd-dashboard-"))
    s = Topicd(tmp).start()
    try:
        for since, until in zip(DAYS, DAYS[1:]):
            summary = s.nightly(DEMO, since, until)
            assert summary["failed_users"] == 0, summary
        yield s
    finally:
        s.stop()
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="module")
def browser():
    chromium = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    with sync_playwright() as pw:
        # launch() starts Chromium on a fresh temporary user-data dir of its own (removed on
        # close); every test opens its own context (empty cache and session storage) in it.
        b = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield b
        b.close()


def shots_dir() -> Path:
    d = env_path("DASHBOARD_SCREENSHOTS", REPO / "target" / "dashboard")
    d = d if d.is_absolute() else REPO / d
    d.mkdir(parents=True, exist_ok=True)
    return d


METRICS: Dict[str, object] = {}


def save_metrics() -> None:
    path = os.environ.get("DASHBOARD_METRICS")
    if path:
        Path(path).write_text(json.dumps(METRICS, indent=2) + "\n")


def new_page(browser: Browser, token: Optional[str] = None) -> Tuple[Page, list]:
    """A page in a fresh context (empty cache and session storage), optionally signed in, that
    keeps every finished request (for the page's weight)."""
    ctx = browser.new_context(viewport=VIEWPORT, device_scale_factor=1)
    if token:
        ctx.add_init_script(f"sessionStorage.setItem('topicd.token', {json.dumps(token)})")
    page = ctx.new_page()
    requests: list = []
    page.on("requestfinished", lambda req: requests.append(req))
    errors: List[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.errors = errors  # type: ignore[attr-defined]
    return page, requests


def weight(requests: list, base: str) -> dict:
    """Bytes of every response (headers + body, as received) of the requests."""
    by_url = {}
    for req in requests:
        sizes = req.sizes()
        by_url[req.url.replace(base, "")] = max(0, sizes["responseBodySize"]) + max(0, sizes["responseHeadersSize"])
    return {"responses": len(by_url), "bytes_total": sum(by_url.values()), "by_url": by_url}


def wait_ready(page: Page) -> None:
    page.wait_for_selector("html[data-state]", timeout=120_000)
    state = page.get_attribute("html", "data-state")
    assert state == "ready", f"the page ended in state {state}: {page.inner_text('#app')[:2000]}"
    assert not page.errors, page.errors  # type: ignore[attr-defined]


def test_token_is_asked_once_and_the_tenant_page_renders(server: Topicd, browser: Browser):
    page, log = new_page(browser)
    page.goto(f"{server.url}/tenants/{TENANT}")
    # The API answered 401: the page asks for a token once, in a dialog, then renders.
    dialog = page.locator("#token-dialog")
    expect(dialog).to_be_visible(timeout=60_000)
    page.get_by_label("Bearer token").fill(READ)
    page.get_by_role("button", name="Use token").click()
    wait_ready(page)
    assert page.evaluate("sessionStorage.getItem('topicd.token')") == READ

    top = server.api(f"/v1/tenants/{TENANT}/topics?limit=10&trend=true", READ)
    labels = [t["label"] for t in top["topics"]]
    assert len(labels) >= 5, top
    shown = page.locator("#top-topics .topic-label").all_inner_texts()
    assert shown == labels
    # A trend line per top topic and the stacked chart of all of them over the window.
    assert page.locator("#top-topics svg[data-chart=trend]").count() == len(labels)
    assert page.locator("#over-time svg[data-chart=stacked] path").count() == len(labels)
    # The map has one mark per topic of the active model, and no other.
    model = server.api(f"/v1/tenants/{TENANT}/models/active", READ)
    n_topics = len([t for t in model["topics"] if int(t["topic_id"]) >= 0])
    points = server.api(f"/v1/tenants/{TENANT}/map", READ)["points"]
    assert len(points) == n_topics
    marks = page.locator("#topic-map circle.mark")
    assert marks.count() == n_topics
    ids = sorted(int(m) for m in page.eval_on_selector_all("#topic-map circle.mark", "els => els.map(e => e.dataset.topicId)"))
    assert ids == sorted(int(p["topic_id"]) for p in points)
    assert page.locator("#all-topics tbody tr[data-topic-id]").count() == n_topics
    # What changed: the four lists are there (the first model's topics are all new or matched).
    for kind in ("new", "rising", "falling", "retired"):
        assert page.locator(f"#changes [data-change={kind}]").count() == 1
    # Every form field has a label, every button and map mark a name.
    unnamed = page.evaluate("""() => [
        ...[...document.querySelectorAll('input')].filter(i => !i.labels.length).map(i => 'input#' + i.id),
        ...[...document.querySelectorAll('button')].filter(b => !(b.getAttribute('aria-label') || b.textContent.trim())).map(b => b.outerHTML),
        ...[...document.querySelectorAll('circle.mark')].filter(c => !c.getAttribute('aria-label')).map(c => c.outerHTML),
    ]""")
    assert unnamed == []
    # Samples arrive masked from the server and are shown as text.
    first = page.locator("#top-topics details.samples").first
    first.locator("summary").click()
    assert first.locator("li").count() == len(top["topics"][0]["sample_messages"])

    page.context.close()


def check_themes(page: Page, themes: list) -> None:
    """The all-topics table lists `themes` (GetTopicTree's, largest first), each header followed
    by exactly its topics."""
    assert themes, "the tree has themes"
    groups = page.eval_on_selector_all("#all-topics tbody.theme", """els => els.map(b => ({
        name: b.querySelector('.theme-toggle').textContent,
        ids: [...b.querySelectorAll('tr[data-topic-id]')].map(r => Number(r.dataset.topicId)).sort((x, y) => x - y)}))""")
    assert [g["name"] for g in groups] == [t["name"] for t in themes]
    assert [g["ids"] for g in groups] == [sorted(int(i) for i in t["topic_ids"]) for t in themes]


def test_topics_are_grouped_into_themes_that_fold(server: Topicd, browser: Browser):
    """The all-topics table is grouped into the themes of GET /tree; a theme's header folds and
    unfolds its rows (button with aria-expanded), with the mouse and the keyboard."""
    page, _ = new_page(browser, READ)
    page.goto(f"{server.url}/tenants/{TENANT}")
    wait_ready(page)
    tree = server.api(f"/v1/tenants/{TENANT}/tree", READ)
    themes = tree["themes"]
    check_themes(page, themes)
    n_topics = len(server.api(f"/v1/tenants/{TENANT}/map", READ)["points"])
    assert sum(len(t["topic_ids"]) for t in themes) == n_topics
    first = page.locator("#all-topics tbody.theme").first
    toggle = first.locator("button.theme-toggle")
    rows = first.locator("tr[data-topic-id]")
    assert toggle.get_attribute("aria-expanded") == "true"
    expect(rows.first).to_be_visible()
    toggle.click()
    assert toggle.get_attribute("aria-expanded") == "false"
    for i in range(rows.count()):
        expect(rows.nth(i)).to_be_hidden()
    # The other themes stay open.
    if len(themes) > 1:
        expect(page.locator("#all-topics tbody.theme").nth(1).locator("tr[data-topic-id]").first).to_be_visible()
    toggle.focus()
    page.keyboard.press("Enter")
    assert toggle.get_attribute("aria-expanded") == "true"
    expect(rows.first).to_be_visible()
    # A topic opens from its theme.
    rows.first.locator("button.link").click()
    expect(page.locator("#topic-dialog")).to_be_visible()
    page.context.close()


def test_page_weight(server: Topicd, browser: Browser):
    """Bytes transferred for a cold load of the tenant page (empty cache, token in the session):
    the HTML, CSS and script and the four API answers."""
    page, requests = new_page(browser, READ)
    page.goto(f"{server.url}/tenants/{TENANT}")
    wait_ready(page)
    page.wait_for_load_state("networkidle")
    w = weight(requests, server.url)
    assert set(w["by_url"]) >= {f"/tenants/{TENANT}", "/ui/app.css", "/ui/app.js"}, w
    w["topics"] = page.locator("#topic-map circle.mark").count()
    METRICS["tenant_page"] = w
    save_metrics()
    page.context.close()


def test_tenant_list_shows_what_the_token_may_read(server: Topicd, browser: Browser):
    page, _ = new_page(browser, READ)
    page.goto(server.url + "/")
    wait_ready(page)
    assert page.locator("#tenants tbody tr").all_inner_texts()[0].startswith(TENANT)
    assert page.locator("#tenants tbody tr").count() == 1
    page.context.close()
    page, _ = new_page(browser, ADMIN)
    page.goto(server.url + "/")
    wait_ready(page)
    listed = page.locator("#tenants tbody tr td:first-child").all_inner_texts()
    assert listed == sorted(["auto-and-commute", "banking", "kitchen-and-dining", "travel"])
    page.get_by_role("link", name=TENANT).click()
    page.wait_for_url(f"**/tenants/{TENANT}")
    wait_ready(page)
    page.context.close()


def test_map_marks_work_with_the_keyboard_and_search_finds_the_topic(server: Topicd, browser: Browser):
    page, _ = new_page(browser, READ)
    page.goto(f"{server.url}/tenants/{TENANT}")
    wait_ready(page)
    # The map is one Tab stop; arrows move between marks; focus shows the label and keywords.
    first = page.locator("#topic-map circle.mark[tabindex='0']")
    assert first.count() == 1
    first.focus()
    label = first.get_attribute("aria-label")
    assert label and "Keywords:" in label
    expect(page.locator("#map-tooltip")).to_be_visible()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowDown")
    focused = page.evaluate("document.activeElement.dataset.topicId")
    assert focused is not None
    page.keyboard.press("Enter")
    dialog = page.locator("#topic-dialog")
    expect(dialog).to_be_visible()
    point = [p for p in server.api(f"/v1/tenants/{TENANT}/map", READ)["points"] if p["topic_id"] == focused][0]
    expect(page.locator("#topic-dialog-title")).to_have_text(point["label"])
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()

    # Search: the nearest topic to a phrase is the one the server tags the phrase with.
    tagged = server.api(f"/v1/tenants/{TENANT}/transform", READ, "POST", {"texts": [PHRASE]})["results"][0]
    assert int(tagged["topic_id"]) >= 0, tagged
    page.get_by_label("Find topics about").fill(PHRASE)
    page.get_by_role("button", name="Search").click()
    results = page.locator("#search-results li")
    expect(results.first).to_be_visible(timeout=60_000)
    assert results.first.get_attribute("data-topic-id") == str(tagged["topic_id"])
    assert results.first.locator("button").inner_text() == tagged["label"]
    # The found topics are highlighted on the map.
    assert page.locator("#topic-map circle.mark.hit").count() == results.count()
    page.context.close()


def test_faq_lists_questions_with_their_article_or_a_gap_badge(server: Topicd, browser: Browser):
    # An article written from the most asked entry's own question, examples and sample messages
    # covers it; the other entries have no article: knowledge gaps.
    faq = server.api(f"/v1/tenants/{TENANT}/faq", READ)
    first = faq["entries"][0]
    topic = [t for t in server.api(f"/v1/tenants/{TENANT}/topics?limit=50", READ)["topics"]
             if t["topic_id"] == first["topic_id"]][0]
    summary = " ".join(first["examples"] + topic["sample_messages"])
    article = {"id": "kb-first", "title": first["question"][:300].replace("\n", " "),
               "url": "https://help.example/kb-first", "summary": summary[:2000]}
    server.api(f"/v1/tenants/{TENANT}/articles", WRITE, "PUT", {"articles": [article]})
    faq = server.api(f"/v1/tenants/{TENANT}/faq", READ)
    entries = faq["entries"]
    covered = [e for e in entries if e["article"]]
    assert [e["topic_id"] for e in covered if e["article"]["id"] == "kb-first"], faq
    page, _ = new_page(browser, READ)
    page.goto(f"{server.url}/tenants/{TENANT}")
    wait_ready(page)
    rows = page.locator("#faq tbody tr")
    assert rows.count() == len(entries)
    shown = page.locator("#faq tbody tr .faq-question").all_inner_texts()
    assert shown == [e["question"] for e in entries]
    assert page.locator("#faq tbody tr[data-gap=true] .badge.gap").count() == len(entries) - len(covered)
    row = page.locator(f"#faq tbody tr[data-topic='{first['topic_id']}']")
    assert row.get_attribute("data-gap") == "false"
    link = row.get_by_role("link", name=article["title"])
    assert link.get_attribute("href") == article["url"]
    # Examples open under the question; the topic button opens the topic's details.
    row.locator("details.samples summary").click()
    assert row.locator("details.samples li").count() == len(first["examples"])
    row.get_by_role("button", name=first["label"]).click()
    expect(page.locator("#topic-dialog")).to_be_visible()
    page.context.close()


def test_label_edit_needs_the_write_role_and_survives_the_next_merge(server: Topicd, browser: Browser):
    top = server.api(f"/v1/tenants/{TENANT}/topics?limit=10", READ)["topics"][0]
    topic_id = top["topic_id"]
    new_label = f"{top['keywords'][0]['word'].capitalize()} questions (label set by an operator)"

    # A read token: the UI says which role is missing.
    page, _ = new_page(browser, READ)
    page.goto(f"{server.url}/tenants/{TENANT}")
    wait_ready(page)
    card = page.locator(f"#top-topics article[data-topic-id='{topic_id}']")
    card.get_by_role("button", name="Edit label").click()
    page.get_by_label("Label", exact=True).fill(new_label)
    page.get_by_role("button", name="Save label").click()
    expect(page.locator("#label-message .error")).to_contain_text("write role")
    page.context.close()

    # A write token edits it; the page shows it at once.
    page, _ = new_page(browser, WRITE)
    page.goto(f"{server.url}/tenants/{TENANT}")
    wait_ready(page)
    card = page.locator(f"#top-topics article[data-topic-id='{topic_id}']")
    card.get_by_role("button", name="Edit label").click()
    page.get_by_label("Label", exact=True).fill(new_label)
    page.get_by_role("button", name="Save label").click()
    expect(page.locator("#label-message")).to_contain_text("Saved", timeout=60_000)
    page.keyboard.press("Escape")
    expect(page.locator(f"#top-topics article[data-topic-id='{topic_id}'] .topic-label")).to_have_text(new_label)
    page.context.close()
    version_after_edit = server.api(f"/v1/tenants/{TENANT}/topics?limit=1", READ)["version"]

    # One more night: the first day's banking messages again, a day later, fitted and merged.
    extra = server.data_dir / "day4.jsonl"
    with open(DEMO) as src, open(extra, "w") as out:
        for line in src:
            m = json.loads(line)
            if m["tenant_id"] == TENANT and m["created_at"].startswith(DAYS[0]):
                m["id"] += "-again"
                m["created_at"] = DAYS[3] + m["created_at"][10:]
                out.write(json.dumps(m) + "\n")
    summary = server.nightly(extra, DAYS[3], "2026-11-20")
    assert summary["processed_users"] == 1, summary
    after = server.api(f"/v1/tenants/{TENANT}/topics?limit=10", READ)
    assert after["version"] != version_after_edit

    page, _ = new_page(browser, READ)
    page.goto(f"{server.url}/tenants/{TENANT}")
    wait_ready(page)
    card = page.locator(f"#top-topics article[data-topic-id='{topic_id}']")
    expect(card.locator(".topic-label")).to_have_text(new_label)
    expect(card.locator(".badge")).to_have_text("edited")
    assert page.locator(f"#topic-map circle.mark[data-topic-id='{topic_id}']").get_attribute("aria-label").startswith(new_label)
    page.screenshot(path=str(shots_dir() / "dashboard.png"))
    page.context.close()


def test_rollback_asks_for_confirmation_and_needs_admin(server: Topicd, browser: Browser):
    models = server.api(f"/v1/tenants/{TENANT}/models?limit=20", READ)["models"]
    older = [m for m in models if m["kind"] == "merged" and not m["is_active"]][0]["version"]
    page, _ = new_page(browser, WRITE)
    page.goto(f"{server.url}/tenants/{TENANT}")
    wait_ready(page)
    row = page.locator(f"#models tr[data-version='{older}']")
    row.get_by_role("button", name="Roll back to this version").click()
    expect(row.locator(".confirm")).to_be_visible()
    row.get_by_role("button", name="Cancel").click()
    expect(row.locator(".confirm")).to_have_count(0)
    row.get_by_role("button", name="Roll back to this version").click()
    row.get_by_role("button", name=f"Activate {older}").click()
    expect(page.locator("#models .error")).to_contain_text("admin role")
    page.context.close()

    active_before = server.api(f"/v1/tenants/{TENANT}/topics?limit=1", READ)["version"]
    page, _ = new_page(browser, ADMIN)
    page.goto(f"{server.url}/tenants/{TENANT}")
    wait_ready(page)
    row = page.locator(f"#models tr[data-version='{older}']")
    row.get_by_role("button", name="Roll back to this version").click()
    row.get_by_role("button", name=f"Activate {older}").click()
    expect(page.locator("#status")).to_contain_text(f"Version {older} is now active", timeout=60_000)
    assert server.api(f"/v1/tenants/{TENANT}/topics?limit=1", READ)["version"] == older
    # Back to where it was, for the report below.
    server.api(f"/v1/tenants/{TENANT}/models/{active_before}/activate", ADMIN, "POST")
    page.context.close()


def test_offline_report_renders_the_same_views(server: Topicd, browser: Browser):
    version = server.api(f"/v1/tenants/{TENANT}/topics?limit=1", READ)["version"]
    model_dir = server.data_dir / "models" / TENANT / version
    assert model_dir.is_dir(), list((server.data_dir / "models").rglob("*"))[:20]
    report = server.data_dir / "report.html"
    server.topics("report", "--model", str(model_dir), "--out", str(report))
    html = report.read_text()
    for ref in ('src="http', "href=\"http", "<link", "<script src", "url(http"):
        assert ref not in html
    page, requests = new_page(browser)
    page.goto(report.as_uri())
    wait_ready(page)
    # Nothing was fetched but the file itself.
    assert [r.url for r in requests if not r.url.startswith("file:")] == []
    top = server.api(f"/v1/tenants/{TENANT}/topics?limit=10", READ)
    assert page.locator("#top-topics .topic-label").all_inner_texts() == [t["label"] for t in top["topics"]]
    assert page.locator("#topic-map circle.mark").count() == len(server.api(f"/v1/tenants/{TENANT}/map", READ)["points"])
    assert page.locator("#models").count() == 0  # no versions in a file
    # Every topic under its theme, as the tree of the server's same version has them.
    check_themes(page, server.api(f"/v1/tenants/{TENANT}/tree?version={version}", READ)["themes"])
    page.get_by_label("Find topics about").fill("pin")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#search-results li").first).to_be_visible()
    page.screenshot(path=str(shots_dir() / "report.png"))
    page.context.close()


def synthetic(n: int) -> Dict[str, dict]:
    """API answers for a tenant with `n` topics: 90 days of history for the top ten."""
    import math
    import random

    rnd = random.Random(7)
    days = [(datetime.date(2026, 9, 1) + datetime.timedelta(days=i)).isoformat() for i in range(90)]
    words = ["refund", "card", "delivery", "password", "invoice", "upgrade", "login", "shipping", "discount", "account",
             "payment", "order", "return", "support", "billing", "address", "email", "plan", "cancel", "price"]
    topics = []
    for i in range(n):
        kws = rnd.sample(words, 5)
        size = int(5000 / (1 + i) ** 0.8) + rnd.randint(1, 20)
        topics.append({"topic_id": str(i), "label": f"{kws[0].title()} \u00b7 {kws[1]} \u00b7 {kws[2]} #{i}", "size": str(size),
                       "keywords": kws, "x": math.cos(i * 2.4) * (1 + i % 17) / 17, "y": math.sin(i * 2.4) * (1 + i % 13) / 13})
    top = [{"topic_id": t["topic_id"], "label": t["label"], "label_overridden": False,
            "keywords": [{"word": w, "weight": 0.1 / (j + 1)} for j, w in enumerate(t["keywords"])],
            "message_count": t["size"], "sample_messages": [f"sample message {j} about {t['keywords'][0]}" for j in range(5)],
            "first_seen": days[0], "last_seen": days[-1], "rank": r + 1,
            "trend": [{"date": d, "count": str(rnd.randint(0, 60))} for d in days]} for r, t in enumerate(topics[:10])]
    change = lambda t: {"topic_id": t["topic_id"], "label": t["label"], "recent_count": "40", "previous_count": "20", "relative_change": 1.0}
    return {
        "topics": {"tenant_id": "synthetic", "version": "20261207_030000", "analysis_date": "2026-12-07T03:00:00Z",
                   "date_range_start": days[0], "date_range_end": days[-1], "topics": top},
        "map": {"tenant_id": "synthetic", "version": "20261207_030000",
                "points": [{k: t[k] for k in ("topic_id", "label", "x", "y", "size", "keywords")} for t in topics]},
        "changes": {"tenant_id": "synthetic", "version": "20261207_030000", "previous_version": "20261206_030000",
                    "new_topics": [change(t) for t in topics[:5]], "retired_topics": [], "rising": [change(t) for t in topics[5:10]], "falling": []},
        # 22 themes (about sqrt(500)) of consecutive ids.
        "tree": {"tenant_id": "synthetic", "version": "20261207_030000", "nodes": [],
                 "themes": [{"node": str(1000 + k), "name": f"theme {k}", "topic_ids": [str(i) for i in range(k, n, 22)],
                             "size": str(sum(int(topics[i]["size"]) for i in range(k, n, 22)))} for k in range(22)]},
        "models": {"models": [{"tenant_id": "synthetic", "version": "20261207_030000", "total_topics": str(n), "total_documents": "250000",
                               "date_range_start": days[0], "date_range_end": days[-1], "is_active": True, "kind": "merged",
                               "created_at": "2026-12-07T03:00:00Z"}]},
    }


def test_without_auth_no_token_is_asked(browser: Browser, tmp_path: Path):
    """A server without tokens (loopback): the page just works, no dialog."""
    s = Topicd(tmp_path)
    (tmp_path / "tokens.toml").unlink()
    s.start(auth=False)
    try:
        page, _ = new_page(browser)
        page.goto(s.url + "/")
        wait_ready(page)
        expect(page.locator("#tenants")).to_contain_text("No tenant")
        assert not page.locator("#token-dialog").is_visible()
        assert page.evaluate("sessionStorage.getItem('topicd.token')") is None
        page.context.close()
    finally:
        s.stop()


def test_five_hundred_topics_render(server: Topicd, browser: Browser):
    """The page with a 500-topic model (synthetic API answers served to the page): everything
    renders, one mark and one table row per topic. Times are recorded, not asserted."""
    answers = synthetic(500)
    page, _ = new_page(browser)

    def route(r):
        path = r.request.url.split("/v1/tenants/synthetic", 1)[1].split("?")[0]
        key = {"/topics": "topics", "/map": "map", "/changes": "changes", "/models": "models", "/tree": "tree"}.get(path)
        if path == "/faq":
            # One FAQ entry per topic; every other one covered by an article.
            entries = [{"topic_id": p["topic_id"], "label": p["label"], "question": f"How do I {p['label']}?",
                        "examples": [f"example {i}" for i in range(3)], "message_count": p["size"],
                        "last_7_days": "0", "previous_7_days": "0",
                        "article": None if k % 2 else {"id": f"kb-{k}", "title": f"Article {k}", "url": "", "score": 0.9}}
                       for k, p in enumerate(answers["map"]["points"])]
            r.fulfill(status=200, json={"tenant_id": "synthetic", "version": "20261201_000000", "entries": entries})
        elif key is None:
            r.fulfill(status=404, json={"error": {"code": "NOT_FOUND", "message": path}})
        else:
            r.fulfill(status=200, json=answers[key])

    page.route(lambda url: "/v1/tenants/synthetic/" in url, route)
    page.goto(f"{server.url}/tenants/synthetic")
    wait_ready(page)
    assert page.locator("#topic-map circle.mark").count() == 500
    assert page.locator("#all-topics tbody tr[data-topic-id]").count() == 500
    assert page.locator("#all-topics tbody.theme").count() == len(answers["tree"]["themes"])
    assert page.locator("#faq tbody tr").count() == 500
    assert page.locator("#over-time svg[data-chart=stacked] path").count() == 10
    timing = page.evaluate("""() => {
        const nav = performance.getEntriesByType('navigation')[0];
        const ready = performance.getEntriesByName('topicd:ready')[0];
        const render = performance.getEntriesByName('topicd:render')[0];
        return {ready_ms: ready.startTime, render_ms: render.duration, dom_content_loaded_ms: nav.domContentLoadedEventEnd};
    }""")
    # Hovering stays responsive: the tooltip of every one of the 500 marks in turn, in the page.
    timing["hover_all_ms"] = page.evaluate("""() => {
        const marks = [...document.querySelectorAll('#topic-map circle.mark')];
        const t0 = performance.now();
        for (const m of marks) {
            m.dispatchEvent(new MouseEvent('mouseover', {bubbles: true}));
            document.getElementById('map-tooltip').offsetWidth;  // force the layout
        }
        return performance.now() - t0;
    }""")
    expect(page.locator("#map-tooltip")).to_be_visible()
    timing["api_bytes"] = {k: len(json.dumps(v)) for k, v in answers.items()}
    METRICS["five_hundred_topics"] = timing
    save_metrics()
    # Not one of the README's pictures: always under target/.
    scratch = REPO / "target" / "dashboard"
    scratch.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(scratch / "dashboard-500.png"))
    page.context.close()
