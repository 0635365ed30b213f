"""The web console in a real browser: Debian's chromium, driven by Selenium through its
chromedriver, against a real `switchyard` (gateway keys on, request log in SQLite) and
`switchyard-mock` upstreams.

Signs in (a wrong admin key first), checks the session cookie is HttpOnly, sees a request sent
from Python appear in the Live view and opens its timeline, finds it in Logs by filter, draws
the charts (the traffic chart's screenshot must hold a real drawing), and opens Circuits, Keys
and Try it (which sends a request with a gateway key typed in, and whose snippets name this
origin and never the key).

Needs /usr/bin/chromium and /usr/bin/chromedriver (scripts/services installs Debian's
`chromium` and `chromium-driver`); without them the tests fail, they do not skip. Selenium
Manager is never run (SE_OFFLINE=true, explicit driver and browser paths). With
SWITCHYARD_SCREENSHOTS=1, docs/images/console-{live,timeline,charts}.png are written (1280×800).
"""

from __future__ import annotations

import io
import os
import tempfile
import time
from pathlib import Path

import httpx
import pytest
from PIL import Image
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from conftest import REPO, start_gateway, stop_gateway

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
ADMIN = "e2e-console-admin-key-0123456789"
WAIT = 10
SCREENSHOTS = os.environ.get("SWITCHYARD_SCREENSHOTS") == "1"
IMAGES = REPO / "docs" / "images"

CONFIG = """\
auth:
  admin_key: {admin}
database:
  url: sqlite://{db}
  encryption_key: 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
providers:
  openai:
    api_key: sk-server
    base_url: {mock}
routes:
  m:
    provider: openai
    override_params: {{model: gpt-4o-mini}}
  fb:
    strategy: {{mode: fallback}}
    targets:
      - provider: openai
        custom_host: {dead}
      - provider: openai
        override_params: {{model: gpt-4o-mini}}
  cached:
    provider: openai
    override_params: {{model: gpt-4o-mini}}
    cache: {{mode: simple, max_age: 600}}
"""


def T(name: str) -> str:
    """A CSS selector for a `data-test` name."""
    return f'[data-test="{name}"]'


@pytest.fixture(scope="module")
def console_gw(tmp_path_factory, mock_a, dead_v1):
    d = tmp_path_factory.mktemp("console")
    path = d / "switchyard.yaml"
    path.write_text(CONFIG.format(admin=ADMIN, db=d / "records.db", mock=mock_a.v1, dead=dead_v1))
    gw = start_gateway("console", config=path)
    yield gw
    stop_gateway(gw)


@pytest.fixture(scope="module")
def gateway_key(console_gw) -> dict:
    """A gateway key with a monthly budget (for the Keys view's burn-down)."""
    r = httpx.post(f"{console_gw.url}/admin/keys", headers={"Authorization": f"Bearer {ADMIN}"},
                   json={"name": "console-e2e",
                         "usage_limits": {"type": "cost", "credit_limit": 0.01,
                                          "periodic_reset": "monthly", "alert_threshold": 0.008}})
    assert r.status_code == 201, r.text
    return r.json()


@pytest.fixture(scope="module")
def browser():
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not os.access(p, os.X_OK)]
    if missing:
        pytest.fail(
            f"{', '.join(missing)} not found: the console's browser test needs Debian's chromium "
            "and chromium-driver (scripts/services installs them: "
            "apt-get install chromium chromium-driver)",
            pytrace=False,
        )
    # Never let Selenium Manager look for (or download) a browser or a driver.
    os.environ["SE_OFFLINE"] = "true"
    profile = tempfile.TemporaryDirectory(prefix="switchyard-chromium-")
    opts = Options()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--window-size=1280,800", "--hide-scrollbars",
                "--force-device-scale-factor=1", f"--user-data-dir={profile.name}"):
        opts.add_argument(arg)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    # The viewport exactly 1280×800 (headless chromium's is smaller than --window-size).
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": 1280, "height": 800, "deviceScaleFactor": 1, "mobile": False})
    try:
        yield driver
    finally:
        driver.quit()
        profile.cleanup()


def wait(driver, timeout: float = WAIT) -> WebDriverWait:
    return WebDriverWait(driver, timeout, poll_frequency=0.1,
                         ignored_exceptions=(StaleElementReferenceException,))


def visible(driver, selector: str, timeout: float = WAIT):
    return wait(driver, timeout).until(EC.visibility_of_element_located((By.CSS_SELECTOR, selector)),
                                       f"{selector} not visible")


def text_of(driver, selector: str) -> str:
    return driver.find_element(By.CSS_SELECTOR, selector).text


def sign_in(driver, gw) -> None:
    """Opens the console and signs in with the admin key (if the form is shown)."""
    driver.get(f"{gw.url}/console")
    wait(driver).until(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-auth") in ("0", "1"),
                       "the console did not decide whether it is signed in")
    if driver.find_element(By.TAG_NAME, "body").get_attribute("data-auth") == "0":
        key = visible(driver, T("login-key"))
        key.clear()
        key.send_keys(ADMIN)
        driver.find_element(By.CSS_SELECTOR, T("login-submit")).click()
    visible(driver, T("view-live"))


def nav(driver, name: str) -> None:
    driver.find_element(By.CSS_SELECTOR, T(f"nav-{name}")).click()
    visible(driver, T(f"view-{name}"))


def chat(gw, key: str, model: str = "m", prompt: str = "hi") -> str:
    """A chat request through the gateway; its trace id."""
    r = httpx.post(f"{gw.v1}/chat/completions", headers={"Authorization": f"Bearer {key}"},
                   json={"model": model, "messages": [{"role": "user", "content": prompt}]}, timeout=20)
    assert r.status_code == 200, r.text
    return r.headers["x-portkey-trace-id"]


def logged(gw, trace: str) -> dict:
    """The request's log row (written about a second after the response)."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        r = httpx.get(f"{gw.url}/admin/logs", params={"trace_id": trace},
                      headers={"Authorization": f"Bearer {ADMIN}"})
        assert r.status_code == 200, r.text
        if r.json()["data"]:
            return r.json()["data"][0]
        time.sleep(0.1)
    raise AssertionError(f"request {trace} never reached /admin/logs")


def screenshot(driver, name: str) -> None:
    """docs/images/console-<name>.png (with SWITCHYARD_SCREENSHOTS=1): the viewport, 1280×800,
    reduced to a 256-colour palette to stay small."""
    if not SCREENSHOTS:
        return
    img = Image.open(io.BytesIO(driver.get_screenshot_as_png())).convert("RGB")
    IMAGES.mkdir(parents=True, exist_ok=True)
    path = IMAGES / f"console-{name}.png"
    img.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)
    assert path.stat().st_size < 200_000, f"{path} is {path.stat().st_size} bytes"


def test_sign_in_with_the_admin_key_and_an_http_only_cookie(browser, console_gw):
    browser.get(f"{console_gw.url}/console")
    form = visible(browser, T("login-form"))
    assert not browser.find_element(By.ID, "app").is_displayed()

    key = form.find_element(By.CSS_SELECTOR, T("login-key"))
    key.send_keys("not-the-admin-key")
    form.find_element(By.CSS_SELECTOR, T("login-submit")).click()
    err = visible(browser, T("login-error"))
    assert err.text.strip(), "a wrong key shows the server's error"
    assert not browser.find_element(By.ID, "app").is_displayed()

    key.clear()
    key.send_keys(ADMIN)
    form.find_element(By.CSS_SELECTOR, T("login-submit")).click()
    visible(browser, T("view-live"))
    assert not browser.find_element(By.CSS_SELECTOR, T("login-form")).is_displayed()

    cookies = {c["name"]: c for c in browser.get_cookies()}
    assert "switchyard_console" in cookies, cookies
    assert cookies["switchyard_console"]["httpOnly"] is True
    assert "switchyard_console" not in browser.execute_script("return document.cookie")
    # The key was sent once and is kept nowhere in the page.
    stored = browser.execute_script(
        "return JSON.stringify(Object.assign({}, localStorage)) + JSON.stringify(Object.assign({}, sessionStorage))")
    assert ADMIN not in stored

    # A reload keeps the session.
    browser.refresh()
    visible(browser, T("view-live"))


def test_a_request_appears_live_and_its_timeline_shows_targets_and_tokens(browser, console_gw, gateway_key, mock_a):
    sign_in(browser, console_gw)
    wait(browser).until(lambda d: text_of(d, T("live-status")) == "live", "the live stream did not connect")

    trace = chat(console_gw, gateway_key["key"], model="fb")
    row_sel = f'{T("live-row")}[data-trace="{trace}"]'
    row = visible(browser, row_sel, timeout=5)
    assert "200" in row.text and "openai" in row.text

    for i in range(6):  # some traffic for the charts (and the screenshots)
        # Route `cached` answers the same prompt from its cache after the first time.
        chat(console_gw, gateway_key["key"], model="cached" if i % 2 else "m",
             prompt="hello again" if i % 2 else f"hello {i}")
    # And one the gateway refuses (no such route): an error row.
    refused = httpx.post(f"{console_gw.v1}/chat/completions", headers={"Authorization": f"Bearer {gateway_key['key']}"},
                         json={"model": "no-such-route", "messages": [{"role": "user", "content": "hi"}]}, timeout=20)
    assert refused.status_code == 400, refused.text
    wait(browser).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, T("live-row"))) >= 7)
    screenshot(browser, "live")

    logged_row = logged(console_gw, trace)
    # The writer writes rows in the order they came, a batch about every second: once the last
    # request's row is there, so are the others (the log view below is searched only once per
    # click, so it must not run ahead of the writer).
    logged(console_gw, refused.headers["x-portkey-trace-id"])
    assert [t["status"] for t in logged_row["targets"]][-1] == 200
    browser.find_element(By.CSS_SELECTOR, row_sel).click()
    panel = visible(browser, T("timeline"))
    wait(browser).until(lambda d: text_of(d, T("timeline-trace")) == trace)
    tries = panel.find_elements(By.CSS_SELECTOR, T("timeline-try"))
    assert len(tries) == len(logged_row["targets"]) == 2, [t.text for t in tries]
    for shown, t in zip(tries, logged_row["targets"]):
        assert t["target"] in shown.text and t["provider"] in shown.text
    assert "fallback" in tries[1].text
    tokens = text_of(browser, T("timeline-tokens"))
    assert f"{logged_row['input_tokens']} in" in tokens and f"{logged_row['output_tokens']} out" in tokens
    assert logged_row["input_tokens"] and logged_row["output_tokens"]
    screenshot(browser, "timeline")
    browser.find_element(By.CSS_SELECTOR, T("timeline-close")).click()
    wait(browser).until(EC.invisibility_of_element_located((By.CSS_SELECTOR, T("timeline"))))

    # Logs: found by its trace id, and among the rows of its model.
    nav(browser, "logs")
    field = visible(browser, T("logs-filter-trace_id"))
    field.send_keys(trace)
    browser.find_element(By.CSS_SELECTOR, T("logs-search")).click()
    wait(browser).until(lambda d: [r.get_attribute("data-trace") for r in d.find_elements(By.CSS_SELECTOR, T("logs-row"))] == [trace],
                        "the trace id filter did not find exactly the request")
    field.clear()
    browser.find_element(By.CSS_SELECTOR, T("logs-filter-status")).send_keys("2xx")
    browser.find_element(By.CSS_SELECTOR, T("logs-search")).click()
    wait(browser).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, T("logs-row"))) >= 7)
    browser.find_element(By.CSS_SELECTOR, f'{T("logs-row")}[data-trace="{trace}"]').click()
    wait(browser).until(lambda d: text_of(d, T("timeline-trace")) == trace)
    browser.find_element(By.CSS_SELECTOR, T("timeline-close")).click()


def test_charts_draw_traffic_latency_and_cache(browser, console_gw, gateway_key):
    sign_in(browser, console_gw)
    nav(browser, "charts")
    wait(browser).until(EC.presence_of_element_located((By.CSS_SELECTOR, f'{T("chart-requests")} svg rect.bar')),
                        "the traffic chart has no bars")
    chart = visible(browser, T("chart-requests"))
    for name in ("chart-latency", "chart-errors", "chart-cost", "chart-tokens", "chart-cache"):
        visible(browser, T(name))
    assert browser.find_elements(By.CSS_SELECTOR, f'{T("chart-latency")} circle.dot')
    wait(browser).until(lambda d: text_of(d, T("tile-requests")).split()[-1] not in ("0", "–"))
    cache = browser.find_element(By.CSS_SELECTOR, T("chart-cache")).get_attribute("textContent")
    assert "%" in cache, f"the cached route's hit rate is drawn: {cache!r}"

    img = Image.open(io.BytesIO(chart.screenshot_as_png)).convert("RGB")
    colours = img.getcolors(maxcolors=1 << 20) or []
    background = max(colours)[1]
    drawn = sum(n for n, c in colours if max(abs(a - b) for a, b in zip(c, background)) > 40)
    assert img.width > 200 and img.height > 100, img.size
    assert drawn > 0.02 * img.width * img.height, f"{drawn} drawn pixels of {img.width}x{img.height}"
    assert len([1 for n, _ in colours if n > 20]) >= 4, "axes, text and bars in several colours"
    screenshot(browser, "charts")


def test_circuits_keys_and_try_it(browser, console_gw, gateway_key, mock_a):
    sign_in(browser, console_gw)

    nav(browser, "circuits")
    # The dead first target of route `fb` failed once: its circuit has a failure to remember.
    row = visible(browser, T("circuit-row"))
    assert "openai" in row.text

    nav(browser, "keys")
    key_row = visible(browser, f'{T("key-row")}[data-id="{gateway_key["id"]}"]')
    assert "console-e2e" in key_row.text and "active" in key_row.text
    assert key_row.find_elements(By.CSS_SELECTOR, T(f"burn-{gateway_key['id']}"))
    assert gateway_key["key"] not in browser.page_source

    nav(browser, "tryit")
    curl = visible(browser, T("snippet-curl"))
    # Filled once the panel has read the routes (/admin/info) and picked a default model.
    wait(browser).until(lambda d: "chat/completions" in curl.get_attribute("textContent"))
    origin = browser.execute_script("return window.location.origin")
    assert origin == console_gw.url
    browser.find_element(By.CSS_SELECTOR, T("tryit-key")).send_keys(gateway_key["key"])
    model = browser.find_element(By.CSS_SELECTOR, T("tryit-model"))
    model.clear()
    model.send_keys("m")
    browser.find_element(By.CSS_SELECTOR, T("tryit-send")).click()
    answer = visible(browser, T("tryit-answer"))
    assert answer.text == mock_a.greeting
    for name in ("snippet-curl", "snippet-python", "snippet-node"):
        text = browser.find_element(By.CSS_SELECTOR, T(name)).get_attribute("textContent")
        assert origin in text, (name, text)
        assert gateway_key["key"] not in text, name
        assert "SWITCHYARD_KEY" in text, name
    assert f"{origin}/v1/chat/completions" in curl.get_attribute("textContent")
    assert "$SWITCHYARD_KEY" in curl.get_attribute("textContent")
    stored = browser.execute_script(
        "return JSON.stringify(Object.assign({}, localStorage)) + JSON.stringify(Object.assign({}, sessionStorage))")
    assert gateway_key["key"] not in stored

    # Signing out shows the login form; the admin API then refuses the browser.
    browser.find_element(By.CSS_SELECTOR, T("logout")).click()
    visible(browser, T("login-form"))
    status = browser.execute_script(
        "return fetch('/admin/keys', {credentials: 'same-origin'}).then(r => r.status)")
    assert status == 401
