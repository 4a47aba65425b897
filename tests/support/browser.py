"""Open a local HTML report in headless Chromium with the network cut off and say what went wrong.

:func:`check_page` starts a throw-away Chromium (fresh profile, headless), drives it over the
Chrome DevTools Protocol, loads one ``file://`` page, and returns a :class:`PageCheck`: the
JavaScript errors (uncaught exceptions, ``console.error``, browser error log), every request the
page tried to send beyond the local machine (all of them are blocked, so a report that needs a CDN
shows up here instead of silently working online), local files that failed to load, the title, the
visible text, the number of tables and charts, and a PNG screenshot. :func:`ensure_chromium` finds
Chromium; ``make browser`` (which ``make test`` runs) installs Debian's ``chromium`` package where
it can, through ``python -m support.browser``. Nothing here is needed to *read* a report; it is
the reports' test harness.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from csatlib.errors import ReportError

__all__ = [
    "BrowserError",
    "BrowserUnavailable",
    "PageCheck",
    "check_page",
    "ensure_chromium",
    "find_chromium",
    "install_chromium",
    "main",
]

#: Executable names tried in order (Debian: chromium; other systems: the rest).
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
#: Environment variable naming a Chromium executable explicitly.
CHROMIUM_ENV = "CSAT_CHROMIUM"
# Schemes that never leave the machine; anything else the page requests is blocked and reported.
_LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:")
# Chromium refuses bitmaps much taller than this; a longer page is cut at this height.
_MAX_SHOT_HEIGHT = 16_000
# What a reader sees, measured in the page after the load event.
_INSPECT = """(() => {
  const shown = (e) => { const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
  const imgs = [...document.images].filter((i) => i.complete && i.naturalWidth > 0 && shown(i));
  const svgs = [...document.querySelectorAll("svg")].filter(
    (s) => s.getBoundingClientRect().width >= 50);
  return {
    title: document.title,
    text: document.body ? document.body.innerText : "",
    tables: [...document.querySelectorAll("table")].filter(shown).length,
    emptyTables: [...document.querySelectorAll("table")].filter(
      (t) => shown(t) && t.querySelectorAll("tbody tr").length === 0).length,
    images: imgs.length + svgs.length,
    height: document.documentElement.scrollHeight,
  };
})()"""

_FLAGS = (
    "--headless",
    # The sandbox needs user namespaces, which root and most containers do not get; we only ever
    # open our own local files with the network blocked, so it would protect nothing here.
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--disable-features=Translate,OptimizationHints,MediaRouter",
    "--metrics-recording-only",
    "--password-store=basic",
    "--hide-scrollbars",
    "--mute-audio",
    # Second lock besides the request interception: no host name resolves at all.
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--remote-debugging-port=0",
)


class BrowserError(ReportError):
    """Chromium could not be started or driven, or the page could not be opened."""


class BrowserUnavailable(BrowserError):
    """No Chromium on this machine and it could not be installed (the message says why)."""


@dataclass(frozen=True)
class PageCheck:
    """What headless Chromium saw when it opened one local page.

    Attributes
    ----------
    url
        The ``file://`` URL that was opened.
    title
        ``document.title`` after the load event.
    text
        The visible text (``document.body.innerText``: hidden elements excluded).
    tables
        Number of visible ``<table>`` elements.
    images
        Number of charts drawn: loaded ``<img>`` with a non-zero size, plus ``<svg>`` at least
        50 px wide (smaller ones are icons).
    empty_tables
        Visible tables without a single body row (a header-only table).
    height
        The page's height in CSS pixels as loaded (``<details>`` as the page opens them).
    errors
        One line per JavaScript problem: uncaught exceptions (``Runtime.exceptionThrown``),
        ``console.error`` / failed ``console.assert`` calls, and error entries of the browser log
        other than network ones (those are in the two request fields).
    requests_blocked
        Every non-local URL (not ``file:``, ``data:``, ``blob:``, ``about:``) the page tried to
        load, in order, without repeats. All were blocked: a report must need none.
    requests_failed
        Local resources (e.g. a missing ``file://`` image) that failed to load, with the reason.
    screenshot
        The PNG written, or None when none was asked for.
    seconds
        Wall time from starting Chromium to the screenshot.
    """

    url: str
    title: str
    text: str
    tables: int
    images: int
    empty_tables: int
    height: int
    errors: tuple[str, ...]
    requests_blocked: tuple[str, ...]
    requests_failed: tuple[str, ...]
    screenshot: Path | None
    seconds: float

    @property
    def text_length(self) -> int:
        """Number of visible characters."""
        return len(self.text)

    @property
    def ok(self) -> bool:
        """True when the page raised no error and needed nothing beyond local files."""
        return not (self.errors or self.requests_blocked or self.requests_failed)

    def describe(self) -> list[str]:
        """Human-readable lines: one per problem, or a single line saying all is well."""
        lines = [f"JavaScript error: {e}" for e in self.errors]
        lines += [f"blocked network request: {u}" for u in self.requests_blocked]
        lines += [f"failed local resource: {u}" for u in self.requests_failed]
        return lines or [f"{self.url}: no errors, no network requests ({self.text_length} chars)"]


def find_chromium() -> Path | None:
    """Return the Chromium executable: ``$CSAT_CHROMIUM``, else the first name found on PATH."""
    explicit = os.environ.get(CHROMIUM_ENV)
    if explicit:
        path = shutil.which(explicit)
        return Path(path) if path else None
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return Path(path)
    return None


def _install_blocker() -> str | None:
    """Why :func:`install_chromium` cannot work here (not root, no apt-get), or None."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return (
            "Chromium is not installed and installing it needs root: run "
            "`sudo apt-get install -y chromium` (or set CSAT_CHROMIUM to a Chromium executable)"
        )
    if shutil.which("apt-get") is None:
        return (
            "Chromium is not installed and this machine has no apt-get to install it with; "
            "install Chromium and put it on PATH or set CSAT_CHROMIUM"
        )
    return None


def install_chromium(*, timeout: float = 900.0) -> Path:
    """Install Debian's ``chromium`` package with apt-get and return the executable.

    ``apt-get install -y chromium`` is tried first; if it fails (a fresh machine often has no
    package lists yet) ``apt-get update`` runs and the install is tried once more.

    Raises
    ------
    BrowserUnavailable
        Not root, no apt-get, or apt-get failed (its last output lines are in the message).
    """
    blocker = _install_blocker()
    if blocker is not None:
        raise BrowserUnavailable(blocker)
    apt = shutil.which("apt-get") or "apt-get"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    deadline = time.monotonic() + timeout

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        try:
            return subprocess.run(
                [apt, *args],
                env=env,
                capture_output=True,
                text=True,
                timeout=max(1.0, deadline - time.monotonic()),
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise BrowserUnavailable(
                f"`apt-get {' '.join(args)}` did not finish within {timeout:.0f} s"
            ) from exc

    done = run("install", "-y", "chromium")
    if done.returncode != 0:
        run("update")
        done = run("install", "-y", "chromium")
    if done.returncode != 0:
        tail = " | ".join((done.stderr or done.stdout).strip().splitlines()[-3:])
        raise BrowserUnavailable(
            f"`apt-get install -y chromium` failed (exit code {done.returncode}): {tail}"
        )
    found = find_chromium()
    if found is None:
        raise BrowserUnavailable(
            f"`apt-get install -y chromium` succeeded but no executable was found (tried "
            f"{os.environ.get(CHROMIUM_ENV) or ', '.join(CHROMIUM_NAMES)})"
        )
    return found


def ensure_chromium(*, install: bool = False) -> Path:
    """Return the Chromium executable, first installing it with apt-get if asked and missing.

    The tests never install (``install=False``): ``make browser`` does, before them.

    Raises
    ------
    BrowserUnavailable
        Chromium is missing and ``install`` is False (the message says how to get it), or
        installing it failed.
    """
    found = find_chromium()
    if found is not None:
        return found
    if not install:
        how = _install_blocker() or (
            "run `make browser` (as root it installs Debian's chromium with apt-get)"
        )
        raise BrowserUnavailable(
            f"no Chromium found on PATH (tried {', '.join(CHROMIUM_NAMES)} and "
            f"${CHROMIUM_ENV}); {how}"
        )
    return install_chromium()


def main() -> int:
    """``make browser``: find Chromium, or install it where possible; otherwise say why.

    Exits 0 either way: without Chromium the browser tests are skipped, saying why.
    """
    if find_chromium() is None and _install_blocker() is None:
        print("browser: installing Chromium with apt-get (a few minutes the first time) ...")
    try:
        exe = ensure_chromium(install=True)
    except BrowserUnavailable as exc:
        print(f"browser: no headless Chromium, the browser tests will be skipped: {exc}")
        return 0
    print(f"browser: headless Chromium at {exe}")
    return 0


def check_page(
    page: str | Path,
    *,
    screenshot: str | Path | None = None,
    chromium: str | Path | None = None,
    width: int = 1280,
    height: int = 900,
    full_page: bool = True,
    timeout: float = 30.0,
    settle: float = 0.3,
) -> PageCheck:
    """Open a local HTML file in headless Chromium with the network blocked; report what happened.

    Parameters
    ----------
    page
        Path of the HTML file.
    screenshot
        Where to write a PNG of the rendered page; None for no screenshot.
    chromium
        The Chromium executable; default :func:`ensure_chromium` (no install).
    width, height
        Viewport in CSS pixels (device scale factor 1).
    full_page
        Capture the whole page height (cut at 16,000 px) rather than the first viewport.
    timeout
        Seconds allowed for starting the browser, for loading the page and for each protocol
        command.
    settle
        Seconds to keep listening after the load event, for errors raised by timers.

    Returns
    -------
    PageCheck

    Raises
    ------
    BrowserUnavailable
        No Chromium.
    BrowserError
        The file does not exist, Chromium did not start, or the page did not load in time.

    Notes
    -----
    Requests are intercepted with the DevTools ``Fetch`` domain: local ones (``file:`` ...) go on,
    every other one is failed with ``BlockedByClient`` and listed in ``requests_blocked``. As a
    second lock Chromium is started with a host resolver that resolves no name. The browser runs
    in its own process group with a fresh profile; both are removed whatever happens.
    """
    path = Path(page).resolve()
    if not path.is_file():
        raise BrowserError(f"expected an HTML file at {path}, found none")
    exe = Path(chromium) if chromium is not None else ensure_chromium()
    shot = Path(screenshot) if screenshot is not None else None
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="csat-chromium-") as profile:
        proc = _launch(exe, Path(profile), width, height)
        try:
            ws_url = _devtools_url(proc, Path(profile), timeout)
            with _Session(ws_url, timeout) as cdp:
                try:
                    return _visit(cdp, path, shot, width, height, full_page, timeout, settle, start)
                finally:
                    cdp.post("Browser.close")  # a clean exit lets Chromium reap its helpers
        finally:
            _kill(proc)


def _launch(exe: Path, profile: Path, width: int, height: int) -> subprocess.Popen[bytes]:
    args = [str(exe), *_FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}"]
    log = (profile / "chromium.log").open("wb")
    try:
        return subprocess.Popen(
            [*args, "about:blank"],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so its helpers can be ended too
        )
    except OSError as exc:
        raise BrowserError(f"could not start Chromium at {exe}: {exc}") from exc
    finally:
        log.close()


def _log_tail(profile: Path) -> str:
    try:
        lines = (profile / "chromium.log").read_text(errors="replace").strip().splitlines()
    except OSError:
        return ""
    return " | ".join(lines[-5:])


def _devtools_url(proc: subprocess.Popen[bytes], profile: Path, timeout: float) -> str:
    """Read the browser's websocket address from ``DevToolsActivePort`` in the profile."""
    port_file = profile / "DevToolsActivePort"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BrowserError(
                f"Chromium exited with code {proc.returncode} before opening its DevTools port: "
                f"{_log_tail(profile)}"
            )
        try:
            lines = port_file.read_text().split()
        except OSError:
            lines = []
        if len(lines) >= 2:
            return f"ws://127.0.0.1:{lines[0]}{lines[1]}"
        time.sleep(0.05)
    raise BrowserError(
        f"Chromium did not open its DevTools port within {timeout:.0f} s: {_log_tail(profile)}"
    )


def _kill(proc: subprocess.Popen[bytes], *, grace: float = 3.0) -> None:
    """Wait briefly for Chromium to exit, then kill whatever is left of its process group."""
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=grace)
    try:
        if hasattr(os, "killpg"):
            os.killpg(proc.pid, signal.SIGKILL)  # the group created at launch: helpers too
        else:
            proc.kill()
    except (ProcessLookupError, PermissionError):
        pass  # already gone
    proc.wait(timeout=10)


class _Session:
    """A minimal DevTools protocol client over one websocket (flat sessions)."""

    def __init__(self, url: str, timeout: float) -> None:
        try:
            import websocket  # websocket-client (also a dependency of jupyter_server)
        except ImportError as exc:  # pragma: no cover - declared in pyproject
            raise BrowserUnavailable(
                "the browser check needs the websocket-client package: pip install websocket-client"
            ) from exc
        self._timeouts = (websocket.WebSocketTimeoutException,)
        self.timeout = timeout
        self._next_id = 0
        self.listener: Callable[[str, dict[str, Any], str | None], None] | None = None
        try:
            self._ws = websocket.create_connection(
                url, timeout=timeout, suppress_origin=True, http_no_proxy=["127.0.0.1"]
            )
        except (OSError, websocket.WebSocketException) as exc:
            raise BrowserError(f"could not connect to Chromium's DevTools at {url}: {exc}") from exc

    def __enter__(self) -> _Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self._ws.close()

    def post(
        self, method: str, params: dict[str, Any] | None = None, session: str | None = None
    ) -> int:
        """Send a command without waiting for its answer; return its id."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        self._ws.send(json.dumps(message))
        return self._next_id

    def call(
        self, method: str, params: dict[str, Any] | None = None, session: str | None = None
    ) -> dict[str, Any]:
        """Send a command and return its result, handing events that arrive meanwhile on."""
        wanted = self.post(method, params, session)
        deadline = time.monotonic() + self.timeout
        while True:
            message = self._receive(deadline)
            if message is None:
                raise BrowserError(f"Chromium did not answer {method} within {self.timeout:.0f} s")
            if message.get("id") == wanted:
                if "error" in message:
                    raise BrowserError(f"{method} failed: {message['error'].get('message')}")
                return message.get("result", {})

    def pump(self, until: float, stop: Callable[[], bool] = lambda: False) -> bool:
        """Handle events until ``stop()`` is true (return True) or the time is up (False)."""
        while not stop():
            if self._receive(until) is None:
                return stop()
        return True

    def _receive(self, deadline: float) -> dict[str, Any] | None:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        self._ws.settimeout(left)
        try:
            message = json.loads(self._ws.recv())
        except self._timeouts:
            return None
        if "method" in message and self.listener is not None:
            self.listener(message["method"], message.get("params", {}), message.get("sessionId"))
        return message


def _is_local(url: str) -> bool:
    return url.startswith(_LOCAL_SCHEMES)


def _remote_object(obj: dict[str, Any]) -> str:
    if "value" in obj:
        return str(obj["value"])
    return str(obj.get("description") or obj.get("unserializableValue") or obj.get("type", ""))


class _PageEvents:
    """What one page did, gathered from the DevTools events of its session.

    Local requests are let through and every other one is failed (``BlockedByClient``) as it
    arrives; the JavaScript errors, blocked and failed requests and the load event are noted.
    """

    def __init__(self, cdp: _Session, session: str) -> None:
        self.cdp = cdp
        self.session = session
        self.errors: list[str] = []
        self.blocked: dict[str, None] = {}  # an ordered set
        self.failed: list[str] = []
        self.loaded = False
        self._urls: dict[str, str] = {}

    def __call__(self, method: str, params: dict[str, Any], sid: str | None) -> None:
        if sid != self.session:
            return
        if method == "Fetch.requestPaused":
            self._intercept(params)
        elif method == "Network.requestWillBeSent":
            url = params["request"]["url"]
            self._urls[params["requestId"]] = url
            if not _is_local(url):
                self.blocked[url] = None
        elif method == "Network.loadingFailed":
            url = self._urls.get(params["requestId"], "?")
            if _is_local(url) and not params.get("canceled"):
                self.failed.append(f"{url} ({params.get('errorText', '')})")
        elif method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            exception = details.get("exception") or {}
            what = exception.get("description") or details.get("text", "exception")
            where = f"{details.get('url', '')}:{details.get('lineNumber', 0) + 1}"
            self.errors.append(f"uncaught {what.splitlines()[0]} at {where}")
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            text = " ".join(_remote_object(a) for a in params.get("args", []))
            self.errors.append(f"console.{params['type']}: {text}")
        elif method == "Log.entryAdded":
            entry = params["entry"]
            if entry.get("level") == "error" and entry.get("source") != "network":
                self.errors.append(f"browser log ({entry.get('source')}): {entry.get('text')}")
        elif method == "Page.loadEventFired":
            self.loaded = True

    def _intercept(self, params: dict[str, Any]) -> None:
        url = params["request"]["url"]
        if _is_local(url):
            self.cdp.post("Fetch.continueRequest", {"requestId": params["requestId"]}, self.session)
            return
        self.blocked[url] = None
        self.cdp.post(
            "Fetch.failRequest",
            {"requestId": params["requestId"], "errorReason": "BlockedByClient"},
            self.session,
        )


def _visit(
    cdp: _Session,
    path: Path,
    shot: Path | None,
    width: int,
    height: int,
    full_page: bool,
    timeout: float,
    settle: float,
    start: float,
) -> PageCheck:
    target = cdp.call("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = cdp.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
    events = _PageEvents(cdp, session)
    cdp.listener = events
    cdp.call("Fetch.enable", {"patterns": [{"urlPattern": "*"}]}, session)
    for domain in ("Runtime", "Log", "Network", "Page"):
        cdp.call(f"{domain}.enable", {}, session)
    cdp.call(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
        session,
    )
    url = path.as_uri()
    navigated = cdp.call("Page.navigate", {"url": url}, session)
    if navigated.get("errorText"):
        raise BrowserError(f"Chromium could not open {url}: {navigated['errorText']}")
    if not cdp.pump(time.monotonic() + timeout, lambda: events.loaded):
        raise BrowserError(f"{url} did not finish loading within {timeout:.0f} s")
    cdp.pump(time.monotonic() + settle)
    seen = (
        cdp.call("Runtime.evaluate", {"expression": _INSPECT, "returnByValue": True}, session)[
            "result"
        ].get("value")
        or {}
    )
    if shot is not None:
        _screenshot(cdp, session, shot, width, full_page)
    return PageCheck(
        url=url,
        title=str(seen.get("title", "")),
        text=str(seen.get("text", "")),
        tables=int(seen.get("tables", 0)),
        images=int(seen.get("images", 0)),
        empty_tables=int(seen.get("emptyTables", 0)),
        height=int(seen.get("height", 0)),
        errors=tuple(events.errors),
        requests_blocked=tuple(events.blocked),
        requests_failed=tuple(events.failed),
        screenshot=shot,
        seconds=time.monotonic() - start,
    )


def _screenshot(cdp: _Session, session: str, shot: Path, width: int, full_page: bool) -> None:
    params: dict[str, Any] = {"format": "png", "fromSurface": True}
    if full_page:
        size = cdp.call("Page.getLayoutMetrics", {}, session)["cssContentSize"]
        params["clip"] = {
            "x": 0,
            "y": 0,
            "width": max(width, int(size["width"])),
            "height": min(_MAX_SHOT_HEIGHT, int(size["height"])),
            "scale": 1,
        }
        params["captureBeyondViewport"] = True
    data = cdp.call("Page.captureScreenshot", params, session)["data"]
    shot.parent.mkdir(parents=True, exist_ok=True)
    shot.write_bytes(base64.b64decode(data))


if __name__ == "__main__":
    sys.exit(main())
