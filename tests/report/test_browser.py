"""The report as a person opens it: headless Chromium, from disk, offline.

Chromium is driven over the DevTools protocol with a minimal websocket client written on the
standard library (no new dependency). Every test skips, with the reason, when Debian's
``chromium`` is not installed; CI installs it.

Set ``TWINAUDIT_SCREENSHOT_DIR`` to keep the screenshots for a look.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from twinaudit.report import render_report
from twinaudit.report.render import SECTIONS

from report_helpers import IMG_PAYLOAD, SCRIPT_PAYLOAD, full_results, poisoned_results

CHROMIUM = next((path for path in (shutil.which("chromium"), shutil.which("chromium-browser"),
                                   "/usr/bin/chromium") if path and os.path.exists(path)), None)
pytestmark = [pytest.mark.slow, pytest.mark.skipif(
    CHROMIUM is None,
    reason="headless browser tests need Chromium: apt-get install chromium (Debian package)")]

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         "--disable-default-apps", "--disable-extensions", "--mute-audio",
         # Any request the page tried would fail loudly instead of reaching a network.
         "--host-rules=MAP * ~NOTFOUND", "--remote-debugging-port=0")
TIMEOUT = 30.0
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


# ---------------------------------------------------------------------------------------------
# A minimal websocket client (RFC 6455: client frames masked, text frames only)


class WebSocket:
    """Just enough websocket for the DevTools protocol on localhost."""

    def __init__(self, url: str) -> None:
        parts = urllib.parse.urlsplit(url)
        self.socket = socket.create_connection((parts.hostname, parts.port), timeout=TIMEOUT)
        key = base64.b64encode(os.urandom(16)).decode()
        self.socket.sendall(
            f"GET {parts.path} HTTP/1.1\r\nHost: {parts.hostname}:{parts.port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode())
        response = b""
        while b"\r\n\r\n" not in response:
            response += self.socket.recv(1)
        if b" 101 " not in response.split(b"\r\n", 1)[0]:
            raise ConnectionError(response.decode(errors="replace"))

    def send(self, text: str) -> None:
        payload = text.encode("utf-8")
        header = bytes([0x81])  # FIN + text frame
        if len(payload) < 126:
            header += bytes([0x80 | len(payload)])
        elif len(payload) < 1 << 16:
            header += bytes([0x80 | 126]) + struct.pack(">H", len(payload))
        else:
            header += bytes([0x80 | 127]) + struct.pack(">Q", len(payload))
        mask = os.urandom(4)
        masked = bytes(byte ^ mask[index % 4] for index, byte in enumerate(payload))
        self.socket.sendall(header + mask + masked)

    def _exactly(self, count: int) -> bytes:
        data = b""
        while len(data) < count:
            chunk = self.socket.recv(count - len(data))
            if not chunk:
                raise ConnectionError("DevTools closed the connection")
            data += chunk
        return data

    def receive(self) -> str:
        message = b""
        while True:
            first, second = self._exactly(2)
            length = second & 0x7F
            if length == 126:
                length = struct.unpack(">H", self._exactly(2))[0]
            elif length == 127:
                length = struct.unpack(">Q", self._exactly(8))[0]
            payload = self._exactly(length)
            opcode = first & 0x0F
            if opcode == 0x8:
                raise ConnectionError("DevTools closed the websocket")
            if opcode in (0x9, 0xA):  # ping / pong: not part of a message
                continue
            message += payload
            if first & 0x80:
                return message.decode("utf-8")

    def close(self) -> None:
        self.socket.close()


class Page:
    """One Chromium tab over the DevTools protocol, recording the events tests judge."""

    def __init__(self, websocket_url: str) -> None:
        self.websocket = WebSocket(websocket_url)
        self.next_id = 0
        self.events: list[dict] = []

    def call(self, method: str, **params: Any) -> dict:
        self.next_id += 1
        self.websocket.send(json.dumps({"id": self.next_id, "method": method,
                                        "params": params}))
        while True:
            message = json.loads(self.websocket.receive())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self._on_event(message)

    def _on_event(self, message: dict) -> None:
        self.events.append(message)
        if message.get("method") == "Page.javascriptDialogOpening":
            # An alert() would block the page; dismiss it (the test then fails on the record).
            self.websocket.send(json.dumps({"id": 10 ** 6 + len(self.events),
                                            "method": "Page.handleJavaScriptDialog",
                                            "params": {"accept": True}}))

    def wait_for(self, method: str) -> dict:
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            for event in self.events:
                if event.get("method") == method:
                    return event
            self._on_event(json.loads(self.websocket.receive()))
        raise TimeoutError(method)

    def open(self, path: Path) -> None:
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(f"{domain}.enable")
        self.call("Emulation.setDeviceMetricsOverride", width=1200, height=900,
                  deviceScaleFactor=1, mobile=False)
        self.events.clear()
        self.call("Page.navigate", url=path.as_uri())
        self.wait_for("Page.loadEventFired")
        self.evaluate("1")  # let pending console events arrive before tests read them

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(result["exceptionDetails"])
        return result["result"].get("value")

    def screenshot(self, path: Path, *, max_height: int = 12000) -> bytes:
        """A full-page PNG (capped in height) written to ``path``."""
        height = min(int(self.evaluate("document.documentElement.scrollHeight")), max_height)
        self.call("Emulation.setDeviceMetricsOverride", width=1200, height=height,
                  deviceScaleFactor=1, mobile=False)
        data = base64.b64decode(self.call("Page.captureScreenshot", format="png")["data"])
        path.write_bytes(data)
        self.call("Emulation.setDeviceMetricsOverride", width=1200, height=900,
                  deviceScaleFactor=1, mobile=False)
        return data

    def console_errors(self) -> list[str]:
        errors = []
        for event in self.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.exceptionThrown":
                errors.append(json.dumps(params["exceptionDetails"])[:300])
            elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error",
                                                                                 "assert"):
                errors.append(json.dumps(params.get("args"))[:300])
            elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
                errors.append(params["entry"].get("text", "")[:300])
        return errors

    def requests(self) -> list[str]:
        return [event["params"]["request"]["url"] for event in self.events
                if event.get("method") == "Network.requestWillBeSent"]

    def dialogs(self) -> list[str]:
        return [event["params"].get("message", "") for event in self.events
                if event.get("method") == "Page.javascriptDialogOpening"]


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """A headless Chromium with a fresh profile; yields a function opening a new tab."""
    profile = tmp_path_factory.mktemp("chromium-profile")
    process = subprocess.Popen([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        port = _devtools_port(process)

        def new_page() -> Page:
            request = urllib.request.Request(f"http://127.0.0.1:{port}/json/new?about:blank",
                                             method="PUT")
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
                return Page(json.load(response)["webSocketDebuggerUrl"])

        yield new_page
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def _devtools_port(process: subprocess.Popen) -> int:
    deadline = time.monotonic() + TIMEOUT
    assert process.stderr is not None
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        match = re.search(r"DevTools listening on ws://[^:]+:(\d+)/", line)
        if match:
            return int(match.group(1))
        if not line and process.poll() is not None:
            break
    raise RuntimeError("Chromium did not report its DevTools port")


def _screenshot_dir(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("TWINAUDIT_SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _open_report(browser, tmp_path: Path, results: dict, name: str) -> tuple[Page, Path]:
    path = tmp_path / f"{name}.html"
    path.write_text(render_report(results), encoding="utf-8")
    page = browser()
    page.open(path)
    return page, path


def _assert_valid_png(data: bytes, min_height: int) -> None:
    assert data.startswith(PNG_SIGNATURE)
    width, height = struct.unpack(">II", data[16:24])  # the IHDR chunk
    assert width == 1200 and height >= min_height
    assert len(data) > 50_000  # a blank page compresses to a few kilobytes


# ---------------------------------------------------------------------------------------------
# Tests


def test_report_opens_offline_without_errors_or_requests(browser, tmp_path):
    page, path = _open_report(browser, tmp_path, full_results(), "report")
    assert page.console_errors() == []
    assert [url for url in page.requests() if url != path.as_uri()] == []
    ids = page.evaluate("Array.from(document.querySelectorAll('section')).map(s => s.id)")
    assert ids == [id_ for id_, _ in SECTIONS]
    # The page really drew its charts: SVGs laid out with a size.
    widths = page.evaluate("Array.from(document.querySelectorAll('svg.chart'))"
                           ".map(s => s.getBoundingClientRect().width)")
    assert len(widths) >= 5 and min(widths) > 200
    data = page.screenshot(_screenshot_dir(tmp_path) / "report-light.png")
    _assert_valid_png(data, min_height=3000)


def test_dark_mode_follows_the_system_setting(browser, tmp_path):
    page, _ = _open_report(browser, tmp_path, full_results(), "dark")
    light = page.evaluate("getComputedStyle(document.body).backgroundColor")
    page.call("Emulation.setEmulatedMedia",
              features=[{"name": "prefers-color-scheme", "value": "dark"}])
    dark = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert light == "rgb(255, 255, 255)" and dark != light
    channels = [int(c) for c in re.findall(r"\d+", dark)[:3]]
    assert max(channels) < 60
    _assert_valid_png(page.screenshot(_screenshot_dir(tmp_path) / "report-dark.png"), 3000)
    assert page.console_errors() == []


def test_prints_cleanly(browser, tmp_path):
    page, _ = _open_report(browser, tmp_path, full_results(), "print")
    page.call("Emulation.setEmulatedMedia", media="print")
    assert page.evaluate("getComputedStyle(document.querySelector('nav')).display") == "none"
    # Closed details open for printing, so the printout holds every table.
    page.evaluate("window.dispatchEvent(new Event('beforeprint'))")
    assert page.evaluate("Array.from(document.querySelectorAll('details')).every(d => d.open)")
    page.screenshot(_screenshot_dir(tmp_path) / "report-print.png")
    pdf = base64.b64decode(page.call("Page.printToPDF", printBackground=False)["data"])
    assert pdf.startswith(b"%PDF") and len(pdf) > 20_000
    assert page.console_errors() == []


def test_tables_sort_by_number_when_a_header_is_clicked(browser, tmp_path):
    page, _ = _open_report(browser, tmp_path, full_results(), "sort")
    # The per-split rows table of the data section: train 4,000 / validation 1,000 / test 1,620.
    table = "document.querySelector('#data table.sortable')"
    column = f"Array.from({table}.tBodies[0].rows).map(r => r.cells[1].textContent)"
    page.evaluate(f"{table}.tHead.rows[0].cells[1].querySelector('button').click()")
    assert page.evaluate(column) == ["1,000", "1,620", "4,000"]
    assert page.evaluate(f"{table}.tHead.rows[0].cells[1].getAttribute('aria-sort')") \
        == "ascending"
    page.evaluate(f"{table}.tHead.rows[0].cells[1].querySelector('button').click()")
    assert page.evaluate(column) == ["4,000", "1,620", "1,000"]
    assert page.console_errors() == []


def test_markup_in_user_data_shows_as_text_and_runs_nothing(browser, tmp_path):
    page, path = _open_report(browser, tmp_path, poisoned_results(), "xss")
    assert page.dialogs() == []
    assert page.evaluate("document.querySelectorAll('img').length") == 0
    assert page.evaluate("document.querySelectorAll('[onerror]').length") == 0
    assert page.evaluate("document.querySelectorAll('script').length") == 1  # ours
    assert SCRIPT_PAYLOAD in page.evaluate("document.title")
    text = page.evaluate("document.body.innerText")
    assert SCRIPT_PAYLOAD in text and IMG_PAYLOAD in text
    assert [url for url in page.requests() if url != path.as_uri()] == []
    assert page.console_errors() == []
    page.screenshot(_screenshot_dir(tmp_path) / "report-xss.png")


CSV_AUDIT = """[audit]
name = "xss"
[data]
dataset = "csv"
path = "data.csv"
label = "outcome"
positive = "yes"
sensitive_features = ['{script}', '{image}']
[network]
hidden = [4]
[training]
seeds = [0, 1]
epochs = 1
batch_size = 64
"""


def test_csv_with_markup_in_names_runs_through_the_pipeline_and_executes_nothing(browser,
                                                                                tmp_path):
    """The issue's case end to end: the user's CSV names carry the payloads."""
    import numpy as np
    import pandas as pd

    from twinaudit.pipeline import run_audit
    from twinaudit.spec import load_spec

    random = np.random.default_rng(0)
    rows = 300
    pd.DataFrame({"age": random.integers(18, 70, rows),
                  SCRIPT_PAYLOAD: random.choice([IMG_PAYLOAD, "plain"], rows),
                  IMG_PAYLOAD: random.choice([SCRIPT_PAYLOAD, "other"], rows),
                  "outcome": random.choice(["yes", "no"], rows)}).to_csv(tmp_path / "data.csv",
                                                                          index=False)
    audit = tmp_path / "xss.toml"
    audit.write_text(CSV_AUDIT.format(script=SCRIPT_PAYLOAD, image=IMG_PAYLOAD))
    outcome = run_audit(load_spec(audit), output_dir=tmp_path / "out",
                        models_dir=tmp_path / "models")
    page = browser()
    page.open(outcome.report_path)
    assert page.dialogs() == [] and page.console_errors() == []
    assert page.evaluate("document.querySelectorAll('img, [onerror]').length") == 0
    assert page.evaluate("document.scripts.length") == 1
    text = page.evaluate("document.body.innerText")
    assert SCRIPT_PAYLOAD in text and IMG_PAYLOAD in text
    assert [url for url in page.requests() if url != outcome.report_path.as_uri()] == []
    page.screenshot(_screenshot_dir(tmp_path) / "report-csv-xss.png")


def test_comparison_report_opens_offline_without_errors(browser, tmp_path):
    import copy

    from twinaudit.compare import compare_runs, render_comparison

    before = full_results()
    after = copy.deepcopy(before)
    after["parity"]["prediction_agreement"]["mean"] = 0.95
    twin = after["fairness"]["twins"]["torch"]["0"]["group_sets"]["sex"]["disparities"]
    twin["demographic_parity_difference"].update(value=0.9, ci=[0.85, 0.95])
    path = tmp_path / "compare.html"
    path.write_text(render_comparison(compare_runs([before, after, poisoned_results()],
                                                   ["before", "after", SCRIPT_PAYLOAD])))
    page = browser()
    page.open(path)
    assert page.dialogs() == [] and page.console_errors() == []
    assert [url for url in page.requests() if url != path.as_uri()] == []
    assert "NO — disjoint" in page.evaluate("document.body.innerText")
    _assert_valid_png(page.screenshot(_screenshot_dir(tmp_path) / "compare.png"), 1500)


#: Every table of the page, each judged against the page's column (the body's content box):
#: one inside a horizontal scroll container must have that container within the column; any
#: other must itself be within it. Returns the offenders, and how many containers scroll.
OVERFLOWING_TABLES = """(() => {
  const body = document.body.getBoundingClientRect();
  const style = getComputedStyle(document.body);
  const left = body.left + parseFloat(style.paddingLeft);
  const right = body.right - parseFloat(style.paddingRight);
  const offenders = [];
  let scrolling = 0;
  for (const table of document.querySelectorAll("table")) {
    let box = table.getBoundingClientRect();
    for (let node = table.parentElement; node && node !== document.body;
         node = node.parentElement) {
      if (["auto", "scroll"].includes(getComputedStyle(node).overflowX)) {
        box = node.getBoundingClientRect();
        scrolling += node.scrollWidth > node.clientWidth ? 1 : 0;
        break;
      }
    }
    if (box.left < left - 0.5 || box.right > right + 0.5) {
      const section = table.closest("section");
      offenders.push(`${section ? section.id : "?"}: ${Math.round(box.right)} px > ` +
                     `${Math.round(right)} px: ${table.textContent.trim().slice(0, 60)}`);
    }
  }
  return {offenders, scrolling, page: document.documentElement.scrollWidth,
          window: window.innerWidth};
})()"""


def wide_results() -> dict:
    """The full report with content far wider than the page, in every kind of table: a
    benchmarks table of 40 columns, long unbroken words in small tables inside a grid cell
    (the packages) and inside a details (methods that did not apply), a group name."""
    results = full_results()
    word = "unbroken_" * 40
    results["benchmarks"]["rows"][0].update({f"stage_{i}_s": 0.001 * i for i in range(40)})
    results["environment"]["packages"][f"package_{word}"] = f"1.0+{word}"
    results["attribution"]["methods"]["deeplift"]["twins"]["keras/0"]["reason"] = word
    groups = results["data"]["groups"]["race"]
    for split in groups.values():
        split[f"group_{word}"] = {"count": 10, "base_rate": 0.5}
    return results


@pytest.mark.parametrize("media", ["screen", "print"])
def test_wide_tables_stay_inside_the_page_column(browser, tmp_path, media):
    page, _ = _open_report(browser, tmp_path, wide_results(), f"wide-{media}")
    page.call("Emulation.setDeviceMetricsOverride", width=1280, height=900,
              deviceScaleFactor=1, mobile=False)
    if media == "print":
        page.call("Emulation.setEmulatedMedia", media="print")
    page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")
    layout = page.evaluate(OVERFLOWING_TABLES)
    assert layout["window"] == 1280
    assert layout["offenders"] == []
    assert layout["page"] <= layout["window"]  # nothing makes the page itself scroll sideways
    if media == "screen":
        assert layout["scrolling"] >= 1  # the 40-column table scrolls inside its wrapper
    page.screenshot(_screenshot_dir(tmp_path) / f"report-wide-{media}.png")
    assert page.console_errors() == []
