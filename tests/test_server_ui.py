"""Browser tests of the static UI (codeact/server/static): Playwright driving Debian's
chromium (``apt-get install -y chromium``; no browser is downloaded). Marked slow.

Also saves the screenshot of the main screen used by the README (docs/screenshot.png).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_server_app import ThreadServer, make_app

pytestmark = pytest.mark.slow

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]
SCREENSHOT = Path(__file__).resolve().parent.parent / "docs" / "screenshot.png"
TIMEOUT = 60_000  # ms: generous, these are waits, not timing assertions


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadServer]:
    with ThreadServer(make_app(tmp_path_factory.mktemp("ui"), max_sessions=4)) as srv:
        yield srv


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists() or shutil.which("chromium") is None:
        pytest.skip("Debian's chromium is not installed: apt-get install -y chromium")
    sync_api = pytest.importorskip("playwright.sync_api",
                                   reason="pip install playwright (no browser download)")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture()
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.on("console", lambda m: print("console:", m.type, m.text))
    pg.on("response", lambda r: r.status >= 400 and print("HTTP", r.status, r.url))
    pg.set_default_timeout(TIMEOUT)
    yield pg
    if pg.query_selector("#toast"):  # shown in the report when a test fails
        print("last toast:", pg.text_content("#toast"))
    context.close()
    assert errors == [], errors


def send(page: Any, text: str) -> None:
    page.fill("#input", text)
    page.press("#input", "Enter")


def test_chat_streams_text_code_output_image_and_survives_reload(server: ThreadServer,
                                                                 page: Any,
                                                                 tmp_path: Path) -> None:
    page.goto(server.url + "/")
    page.wait_for_selector("#model option[value=scripted]", state="attached")
    send(page, "please plot a sine wave")
    page.wait_for_selector(".msg.user .bubble:has-text('please plot a sine wave')")
    page.wait_for_selector(".msg.assistant .bubble:has-text(\"I'll plot it.\")")
    code = page.wait_for_selector(".msg.assistant .code-block code")
    assert "np.linspace" in code.inner_text()
    assert code.query_selector(".tok-keyword") is not None  # highlighted
    page.wait_for_selector(".exec .obs pre.stdout:has-text('plotted 50')")
    img = page.wait_for_selector(".exec .obs img.plot")
    page.wait_for_function("document.querySelector('.exec .obs img.plot').naturalWidth > 0")
    assert img.get_attribute("src").startswith("/api/conversations/")
    answer = page.wait_for_selector(".bubble .answer strong")
    assert answer.inner_text() == "plotted 50"  # Markdown rendered
    page.wait_for_selector("#send:not([hidden])")
    assert "#/c/" in page.url
    page.wait_for_selector("#conversations .conv.active:has-text('please plot a sine wave')")
    page.wait_for_function("(() => { const m = document.querySelector('#main-scroll');"
                           " return m.scrollHeight - m.scrollTop - m.clientHeight < 5; })()")
    # refresh docs/screenshot.png when asked (CODEACT_SCREENSHOT=1) or when it is missing
    target = SCREENSHOT if (os.environ.get("CODEACT_SCREENSHOT") == "1"
                            or not SCREENSHOT.exists()) else tmp_path / "screenshot.png"
    target.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(target))
    assert target.stat().st_size > 10_000

    page.reload()
    page.wait_for_selector(".msg.user .bubble:has-text('please plot a sine wave')")
    page.wait_for_selector(".exec .obs pre.stdout:has-text('plotted 50')")
    page.wait_for_selector(".exec .obs img.plot")
    page.wait_for_selector(".bubble .answer strong:has-text('plotted 50')")


def test_share_link_is_read_only(server: ThreadServer, page: Any) -> None:
    page.goto(server.url + "/")
    send(page, "hello from the share test")
    page.wait_for_selector(".msg.assistant:has-text('You said: hello from the share test')")
    page.click("#share")
    link = page.input_value("#share-url")
    assert "/r/" in link
    page.goto(link)
    page.wait_for_selector(".msg.user:has-text('hello from the share test')")
    page.wait_for_selector(".readonly-badge")
    assert page.query_selector("#input") is None
    assert page.query_selector("#composer") is None
    assert page.query_selector("button") is None  # nothing to click that changes anything


def test_stop_during_a_long_cell(server: ThreadServer, page: Any) -> None:
    page.goto(server.url + "/")
    send(page, "sleep for a long time")
    page.wait_for_selector(".exec .obs pre.stdout:has-text('tick 1')")
    page.wait_for_selector(".obs-head.running")
    page.click("#stop")
    page.wait_for_selector(".msg.system .system-line:has-text('Stopped.')")
    page.wait_for_selector("#send:not([hidden])")
    assert page.is_hidden("#stop")
    page.wait_for_selector(".obs-head.bad")  # the cell shows it was interrupted


def test_upload_and_download(server: ThreadServer, page: Any, tmp_path: Path) -> None:
    page.goto(server.url + "/")
    src = tmp_path / "numbers.csv"
    src.write_text("n\n1\n2\n3\n")
    page.set_input_files("#upload", str(src))
    page.click("#files-toggle")
    link = page.wait_for_selector("#files-list a:has-text('numbers.csv')")
    send(page, "run: import csv\nrows = list(csv.DictReader(open('numbers.csv')))\n"
               "open('total.txt', 'w').write(str(sum(int(r['n']) for r in rows)))\n"
               "print('rows', len(rows))")
    page.wait_for_selector(".exec .obs pre.stdout:has-text('rows 3')")
    link = page.wait_for_selector("#files-list a:has-text('total.txt')")
    with page.expect_download() as info:
        link.click()
    assert Path(info.value.path()).read_text() == "6"


def test_installs_show_as_their_own_steps(server: ThreadServer, page: Any) -> None:
    page.goto(server.url + "/")
    page.wait_for_selector("#model option[value=scripted]", state="attached")
    page.evaluate("""() => {
      const div = document.createElement('div');
      div.className = 'obs'; div.id = 'install-test';
      div.innerHTML = CA.renderObservation({stdout: 'installing six ... done: six 1.17.0\\n'
        + 'installing requests ... failed: blocked by policy: requests is on the deny list\\n'
        + 'hello\\n', duration: 0.5}, () => '');
      document.body.appendChild(div);
    }""")
    ok = page.wait_for_selector("#install-test .install.ok")
    assert ok.inner_text() == "installing six ... done: six 1.17.0"
    bad = page.wait_for_selector("#install-test .install.bad")
    assert "blocked by policy" in bad.inner_text()
    assert page.inner_text("#install-test pre.stdout").strip() == "hello"
