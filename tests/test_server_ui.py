"""Browser tests of the static UI (codeact/server/static): Playwright driving Debian's
chromium (``apt-get install -y chromium``; no browser is downloaded). Marked slow.

Also saves the screenshot of the main screen used by the README (docs/screenshot.png).
"""

from __future__ import annotations

import os
import shutil
import subprocess
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
# the kernel cap of the test server (small: idle conversations get evicted, as in use)
MAX_SESSIONS = int(os.environ.get("CODEACT_UI_MAX_SESSIONS", "4"))
# ms: generous, these are waits, not timing assertions
TIMEOUT = int(os.environ.get("CODEACT_UI_TIMEOUT", "60000"))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadServer]:
    with ThreadServer(make_app(tmp_path_factory.mktemp("ui"), max_sessions=MAX_SESSIONS)) as srv:
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
    first = page.input_value("#share-url")
    assert "/r/" in first
    page.click("#share-new")  # revokes the first link
    page.wait_for_function("(old) => document.querySelector('#share-url').value !== old",
                           arg=first)
    link = page.input_value("#share-url")
    assert "/r/" in link
    assert page.request.get(first).status == 404
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


def test_download_notebook_button(server: ThreadServer, page: Any) -> None:
    import json

    page.goto(server.url + "/")
    assert not page.is_visible("#notebook")  # no conversation yet
    send(page, "run: print('from the notebook test')")
    page.wait_for_selector(".exec .obs pre.stdout:has-text('from the notebook test')")
    page.wait_for_selector("#notebook", state="visible")
    with page.expect_download() as info:
        page.click("#notebook")
    assert info.value.suggested_filename.endswith(".ipynb")
    nb = json.loads(Path(info.value.path()).read_text())
    sources = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
    assert any("from the notebook test" in src for src in sources)


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


# ---------------------------------------------------------------------- issue 16: parity
DOCS = SCREENSHOT.parent


def shot(page: Any, name: str, tmp_path: Path) -> Path:
    """Save docs/NAME when asked (CODEACT_SCREENSHOT=1) or missing, else under tmp_path."""
    target = DOCS / name
    if not (os.environ.get("CODEACT_SCREENSHOT") == "1" or not target.exists()):
        target = tmp_path / name
    page.screenshot(path=str(target))
    assert target.stat().st_size > 5_000
    return target


@pytest.fixture()
def make_page(browser: Any) -> Iterator[Any]:
    """A page factory for other viewports / colour schemes (same checks as ``page``)."""
    contexts: list[Any] = []
    errors: list[str] = []

    def make(width: int, height: int, **options: Any) -> Any:
        context = browser.new_context(viewport={"width": width, "height": height}, **options)
        contexts.append(context)
        pg = context.new_page()
        pg.on("pageerror", lambda e: errors.append(str(e)))
        pg.set_default_timeout(TIMEOUT)
        return pg

    yield make
    for c in contexts:
        c.close()
    assert errors == [], errors


DRAWER_OPEN = "() => document.querySelector('#sidebar').getBoundingClientRect().x >= 0"


def chat(page: Any, text: str, answer: str) -> None:
    send(page, text)
    page.wait_for_selector(f".msg.assistant:has-text({answer!r})")
    page.wait_for_selector("#send:not([hidden])")


def header_fits(page: Any) -> None:
    """Every header control is inside the viewport and the header does not scroll."""
    assert page.evaluate("(() => { const h = document.querySelector('.topbar');"
                         " return h.scrollWidth <= h.clientWidth; })()")
    width = page.viewport_size["width"]
    for sel in ("#menu", "#model", "#settings-btn", "#files-toggle", "#share", "#theme-toggle",
                "#help-btn"):
        box = page.locator(sel).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, sel


@pytest.mark.parametrize("size", [(390, 844), (768, 1024)], ids=["phone", "tablet"])
def test_phone_and_tablet_drawer_and_header(server: ThreadServer, make_page: Any,
                                            size: tuple[int, int], tmp_path: Path) -> None:
    page = make_page(*size, is_mobile=size[0] < 500, has_touch=True)
    page.goto(server.url + "/")
    page.wait_for_selector("#model option[value=scripted]", state="attached")
    chat(page, "please plot a sine wave", "plotted 50")
    header_fits(page)
    assert page.is_visible("#menu")
    sidebar = page.locator("#sidebar")
    assert sidebar.bounding_box()["x"] + sidebar.bounding_box()["width"] <= 1  # off screen
    shot(page, f"screenshot-{'phone' if size[0] < 500 else 'tablet'}.png", tmp_path)
    page.click("#menu")
    page.wait_for_function(DRAWER_OPEN)
    assert page.get_attribute("#menu", "aria-expanded") == "true"
    assert page.is_visible("#conversations .conv.active")
    shot(page, f"screenshot-{'phone' if size[0] < 500 else 'tablet'}-drawer.png", tmp_path)
    page.click("#scrim", position={"x": size[0] - 10, "y": size[1] // 2})
    page.wait_for_function("() => document.querySelector('#sidebar')"
                           ".getBoundingClientRect().right <= 1")
    page.click("#menu")
    page.wait_for_function(DRAWER_OPEN)
    page.click("#new-chat")  # choosing closes the drawer
    page.wait_for_function("() => !document.body.classList.contains('drawer-open')")
    assert page.text_content("#title") == "New chat"


def test_desktop_has_no_drawer_button(page: Any, server: ThreadServer) -> None:
    page.goto(server.url + "/")
    assert page.is_hidden("#menu") and page.is_visible("#sidebar")
    header_fits_desktop = page.evaluate(
        "(() => { const h = document.querySelector('.topbar');"
        " return h.scrollWidth <= h.clientWidth; })()")
    assert header_fits_desktop


def test_dark_mode_follows_the_system_and_toggles(server: ThreadServer, make_page: Any,
                                                  tmp_path: Path) -> None:
    page = make_page(1280, 860, color_scheme="dark")
    bg = "getComputedStyle(document.body).backgroundColor"
    page.goto(server.url + "/")
    page.wait_for_selector("#model option[value=scripted]", state="attached")
    assert page.evaluate(bg) == "rgb(18, 21, 28)"  # dark, from the system setting
    chat(page, "run: print('dark mode')", "dark mode")
    page.wait_for_selector(".exec .obs pre.stdout:has-text('dark mode')")
    shot(page, "screenshot-dark.png", tmp_path)
    page.click("#theme-toggle")
    assert page.evaluate(bg) == "rgb(246, 247, 249)"
    page.reload()
    page.wait_for_selector("#model option[value=scripted]", state="attached")
    assert page.evaluate(bg) == "rgb(246, 247, 249)"  # the choice is kept
    page.click("#theme-toggle")  # back to the system's choice
    assert page.evaluate(bg) == "rgb(18, 21, 28)"
    assert page.evaluate("localStorage.getItem('codeact-theme')") is None
    light = make_page(1280, 860, color_scheme="light")
    light.goto(server.url + "/")
    assert light.evaluate(bg) == "rgb(246, 247, 249)"
    light.click("#theme-toggle")
    assert light.evaluate(bg) == "rgb(18, 21, 28)"


def test_keyboard_shortcuts_and_help(server: ThreadServer, page: Any) -> None:
    page.goto(server.url + "/")
    page.wait_for_selector("#model option[value=scripted]", state="attached")
    page.click("#title")  # focus away from the input
    page.keyboard.press("?")
    dialog = page.wait_for_selector("#help-dialog[open]")
    text = dialog.inner_text()
    for words in ("New chat", "Focus the message box", "Stop"):
        assert words in text
    page.keyboard.press("Escape")
    page.wait_for_selector("#help-dialog:not([open])", state="attached")
    page.click("#help-btn")
    page.wait_for_selector("#help-dialog[open]")
    page.click("#help-close")
    page.click("#title")
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "input"
    send(page, "sleep for a while")
    page.wait_for_selector(".exec .obs pre.stdout:has-text('tick 1')")
    page.keyboard.press("Escape")  # stop
    page.wait_for_selector(".msg.system .system-line:has-text('Stopped.')")
    assert "#/c/" in page.url
    page.keyboard.press("Control+Shift+O")  # new chat
    page.wait_for_function("() => location.hash === ''")
    page.wait_for_selector("#title:text-is('New chat')")
    page.wait_for_timeout(1000)  # nothing loading late brings the old chat back
    assert page.text_content("#title") == "New chat"


def test_rename_pin_delete_with_undo_and_search(server: ThreadServer, page: Any) -> None:
    page.goto(server.url + "/")
    page.wait_for_selector("#model option[value=scripted]", state="attached")
    chat(page, "tell me about narwhals", "You said: tell me about narwhals")
    conv = page.locator("#conversations .conv.active")
    conv.locator(".conv-rename").click()
    page.fill(".rename-input", "Sea creatures")
    page.press(".rename-input", "Enter")
    page.wait_for_selector("#conversations .conv.active .conv-title:has-text('Sea creatures')")
    page.wait_for_selector("#title:has-text('Sea creatures')")
    page.locator("#conversations .conv.active .conv-pin").click()
    page.wait_for_selector("#conversations .conv.pinned:has-text('Sea creatures')")
    assert "Sea creatures" in page.inner_text("#conversations .conv >> nth=0")
    # search: a word from the messages finds it, with a snippet
    page.click("#new-chat")
    chat(page, "something about otters", "You said: something about otters")
    page.fill("#search", "narwh")
    page.wait_for_selector("#conversations .conv:has-text('Sea creatures') .conv-snippet"
                           ":has-text('narwhals')")
    assert page.locator("#conversations .conv").count() == 1
    page.fill("#search", "")
    page.wait_for_selector("#conversations .conv:has-text('something about otters')")
    # delete, then undo
    page.locator("#conversations .conv:has-text('Sea creatures')").hover()
    page.locator("#conversations .conv:has-text('Sea creatures') .conv-del").click()
    page.wait_for_selector("#undo-bar:not([hidden])")
    page.wait_for_selector("#conversations .conv:has-text('Sea creatures')", state="detached")
    page.click("#undo-btn")
    page.wait_for_selector("#conversations .conv.active:has-text('Sea creatures')")
    page.wait_for_selector(".msg.user .bubble:has-text('tell me about narwhals')")


def test_message_actions_copy_regenerate_edit_and_branches(server: ThreadServer,
                                                            browser: Any) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: print("console:", m.type, m.text))
    page.on("requestfailed", lambda r: print("failed", r.url, r.failure))
    try:
        page.goto(server.url + "/")
        page.wait_for_selector("#model option[value=scripted]", state="attached")
        code = "n = globals().get('n', 0) + 1\nprint('n is', n)"
        send(page, f"run: {code}")
        page.wait_for_selector(".bubble .answer:has-text('n is 1')")
        page.wait_for_selector("#send:not([hidden])")
        # copy a code block and a message
        page.locator(".code-block .copy-code").first.click()
        page.wait_for_selector("#toast:has-text('Copied')")
        assert page.evaluate("navigator.clipboard.readText()") == code
        page.locator(".msg.user").first.hover()
        page.locator(".msg.user .act-copy").first.click()
        assert page.evaluate("navigator.clipboard.readText()") == f"run: {code}"
        # regenerate: the kernel is kept (n goes on counting) and the UI says so
        page.locator(".last-answer .act-regen").click()
        page.wait_for_selector(".kind-notice:has-text('kernel was kept')")
        page.wait_for_selector(".bubble .answer:has-text('n is 2')")
        page.wait_for_selector("#send:not([hidden])")
        assert page.locator(".bubble .answer:has-text('n is 1')").count() == 0
        page.wait_for_selector(".msg.user .branch-pos:has-text('2 / 2')")
        # edit and resend: a new branch, the kernel restarts, the UI says variables reset
        page.locator(".msg.user").first.hover()
        page.locator(".msg.user .act-edit").first.click()
        page.fill(".edit-input", "run: print('n' in globals())")
        page.click(".edit-send")
        page.wait_for_selector(".kind-notice:has-text('variables were reset')")
        page.wait_for_selector(".bubble .answer:has-text('False')")
        page.wait_for_selector("#send:not([hidden])")
        page.wait_for_selector(".msg.user .branch-pos:has-text('3 / 3')")
        # switch back to the previous version: it is all still there
        page.click(".msg.user .act-branch-prev")
        page.wait_for_selector(".bubble .answer:has-text('n is 2')")
        page.wait_for_selector(".msg.user .branch-pos:has-text('2 / 3')")
        page.wait_for_selector("#toast:has-text('variables were reset')")
        page.click(".msg.user .act-branch-prev")
        page.wait_for_selector(".bubble .answer:has-text('n is 1')")
    except Exception:
        import httpx

        print("timeline when it failed:", page.inner_text("#timeline"))
        print("page errors:", errors, page.evaluate("() => CA.app.state.running"),
              page.evaluate("() => !!CA.app.state.stream"))
        cid = page.url.split("#/c/")[-1]
        data = httpx.get(f"{server.url}/api/conversations/{cid}").json()
        print("server:", data["running"], data["conversation"]["branch"],
              [(i.get("role"), i.get("content", i.get("code"))[:40]) for i in data["items"]])
        raise
    finally:
        context.close()
    assert errors == [], errors


def test_settings_panel_per_chat_and_defaults(server: ThreadServer, page: Any) -> None:
    import httpx

    page.goto(server.url + "/")
    page.wait_for_selector("#model option[value=scripted]", state="attached")
    chat(page, "settings test", "You said: settings test")
    cid = page.url.split("#/c/")[1]
    page.click("#settings-btn")
    page.wait_for_selector("#settings-dialog[open]")
    assert page.locator("#set-prompt option").count() >= 2
    page.fill("#set-temperature", "0.5")
    page.fill("#set-max-turns", "3")
    page.fill("#set-max-new-tokens", "512")
    page.select_option("#set-prompt", "v0")
    page.check("#set-approval")
    page.click("#settings-save")
    page.wait_for_selector("#toast:has-text('Settings saved')")
    got = httpx.get(f"{server.url}/api/conversations/{cid}").json()["conversation"]
    assert got["settings"] == {"temperature": 0.5, "max_turns": 3, "max_new_tokens": 512,
                               "prompt": "v0", "approval": True}
    # the share view shows them
    page.goto(f"{server.url}/r/{got['share_token']}")
    page.wait_for_selector("#settings-summary:has-text('temperature 0.5')")
    assert "prompt v0" in page.inner_text("#settings-summary")
    # defaults for new chats
    page.goto(server.url + "/")
    page.wait_for_selector("#model option[value=scripted]", state="attached")
    page.click("#settings-btn")
    page.wait_for_selector("#settings-dialog[open]")
    assert page.is_hidden("#settings-save")  # no chat open: defaults only
    page.fill("#set-max-turns", "7")
    page.click("#settings-defaults")
    page.wait_for_selector("#toast:has-text('defaults')")
    assert httpx.get(f"{server.url}/api/settings").json()["defaults"] == {
        "model": "scripted", "max_turns": 7, "approval": False}
    httpx.put(f"{server.url}/api/settings", json={})


def test_approval_mode_run_edit_skip(server: ThreadServer, page: Any) -> None:
    import httpx

    page.goto(server.url + "/")
    page.wait_for_selector("#model option[value=scripted]", state="attached")
    chat(page, "approval test", "You said: approval test")
    cid = page.url.split("#/c/")[1]
    httpx.patch(f"{server.url}/api/conversations/{cid}", json={"settings": {"approval": True}})
    page.reload()
    page.wait_for_selector(".msg.user")
    send(page, "run: print('as the model wrote it')")
    panel = page.wait_for_selector(".approval")
    assert "as the model wrote it" in page.input_value(".approval-code")
    assert page.locator(".exec .obs pre.stdout").count() == 0  # nothing ran yet
    page.click(".approval .approve-edit")
    page.fill(".approval-code", "print('edited in the browser')")
    page.click(".approval .approve-edit")  # now "Run edited"
    page.wait_for_selector(".exec .obs pre.stdout:has-text('edited in the browser')")
    page.wait_for_selector(".code-head:has-text('edited by you')")
    page.wait_for_selector("#send:not([hidden])")
    assert panel is not None and page.locator(".approval").count() == 0
    send(page, "run: print('do not run me')")
    page.wait_for_selector(".approval")
    page.reload()  # the pending approval survives a reload
    page.wait_for_selector(".approval .approve-skip")
    page.click(".approval .approve-skip")
    page.wait_for_selector(".exec .obs.skipped .note:has-text('skipped')")
    page.wait_for_selector("#send:not([hidden])")
    assert page.locator(".exec .obs pre.stdout:has-text('do not run me')").count() == 0
    send(page, "run: print('plain run')")
    page.wait_for_selector(".approval .approve-run")
    page.click(".approval .approve-run")
    page.wait_for_selector(".exec .obs pre.stdout:has-text('plain run')")


def test_serve_with_kernels_on_a_gateway(browser: Any, gateway: Any, tmp_path: Path) -> None:
    """``codeact serve --runtime URL``: the chat app in a real browser, its kernel on a
    real Jupyter Kernel Gateway (none started by the server itself)."""
    from test_server_cli import ServerProcess

    before = {k["id"] for k in gateway.kernels()}
    srv = ServerProcess(f"sqlite:///{tmp_path / 'gw.db'}", tmp_path / "data",
                        "--runtime", gateway.url, "--runtime-token", gateway.token)
    try:
        context = browser.new_context(viewport={"width": 1280, "height": 860})
        page = context.new_page()
        page.set_default_timeout(TIMEOUT)
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(srv.url + "/")
        page.wait_for_selector("#model option[value=scripted]", state="attached")
        send(page, "please plot a sine wave")
        page.wait_for_selector(".exec .obs pre.stdout:has-text('plotted 50')")
        page.wait_for_selector(".exec .obs img.plot")
        page.wait_for_function("document.querySelector('.exec .obs img.plot').naturalWidth > 0")
        page.wait_for_selector(".bubble .answer strong:has-text('plotted 50')")
        send(page, "run: import os\nopen('from_gateway.txt', 'w').write(str(os.getpid()))")
        page.wait_for_selector(".msg.assistant:has-text('Running it.') >> nth=0")
        page.wait_for_selector("#send:not([hidden])")
        new = {k["id"] for k in gateway.kernels()} - before
        assert len(new) == 1  # the conversation's kernel lives on the gateway
        kids = subprocess.run(["ps", "-o", "args=", "--ppid", str(srv.proc.pid)],
                              capture_output=True, text=True).stdout
        assert "ipykernel" not in kids and "bwrap" not in kids  # nothing ran here
        assert errors == [], errors
        context.close()
    finally:
        srv.stop()
