"""The demo province served for the front-end browser tests: `chiso demo` builds it once
(SQLite, a pinned day) in a scratch directory, a uvicorn process serves it, and the printed
accounts are kept: the standing office, a leader, a commune and a department focal officer.
Also: a crawl that follows the links a person is shown, and the page-width measure."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tests.tasks_support import free_port

TODAY = "2026-11-22"
ROLES = {"standing office": "vanphong", "leader": "lanhdao",
         "commune officer": "xa.daumoi", "department officer": "so.khcn"}
# Not pages: files, API answers, actions, the API reference (tested on its own).
SKIPPED = ("/api/", "/static/", "/logout", "/docs", "/redoc", "/healthz")
SKIPPED_SUFFIXES = (".xlsx", ".csv", ".docx", ".pdf", ".json", ".zip")


@dataclass
class DemoSite:
    base_url: str
    passwords: dict[str, str]
    data_dir: Path


def start_demo_site(scratch: Path) -> Iterator[DemoSite]:
    env = {**os.environ, "CHISO_DATABASE_URL": f"sqlite:///{scratch / 'chiso.sqlite'}",
           "CHISO_DATA_DIR": str(scratch), "CHISO_TODAY": TODAY, "COLUMNS": "200"}
    built = subprocess.run([str(Path(sys.executable).parent / "chiso"), "demo"], env=env,
                           capture_output=True, text=True, timeout=900)
    assert built.returncode == 0, built.stdout + built.stderr
    passwords = dict(re.findall(r"│\s*([a-z.]+)\s*│\s*(\S+)\s*│", built.stdout))
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "chiso.web.app:create_app",
         "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for(base)
        yield DemoSite(base, passwords, scratch)
    finally:
        server.terminate()
        server.wait(timeout=20)


def _wait_for(base: str) -> None:
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("the demo server did not start")


def sign_in(page: Any, site: DemoSite, username: str) -> None:
    page.goto(f"{site.base_url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", site.passwords[username])
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")


def shape(path: str) -> str:
    """Pages of one kind (every commune's overview is the same page): digits and codes in
    the path's later segments and the query's values do not count."""
    parts = urlsplit(path)
    segments = parts.path.strip("/").split("/")
    kept = segments[:1] + [s if s.isalpha() and s.islower() else "*" for s in segments[1:]]
    keys = sorted({p.split("=")[0] for p in parts.query.split("&") if p and
                   not p.startswith("lang=")})
    return "/".join(kept) + "?" + "&".join(keys)


def crawl(page: Any, site: DemoSite, *, limit: int = 60) -> list[str]:
    """The pages a signed-in person reaches by following links from the front door, one of
    each kind, in the order found."""
    seen_shapes: Counter[str] = Counter()
    queue, seen, pages = ["/"], set(), []
    while queue and len(pages) < limit:
        path = queue.pop(0)
        bare = urlsplit(path).path
        if path in seen or bare.startswith(SKIPPED) or bare.endswith(SKIPPED_SUFFIXES) \
                or "/download" in bare or "/files/" in bare or "/evidence/" in bare:
            continue
        seen.add(path)
        if seen_shapes[shape(path)]:
            continue
        seen_shapes[shape(path)] += 1
        try:
            response = page.goto(site.base_url + path)
        except Exception as error:  # a file offered for download is not a page
            if "Download is starting" in str(error):
                continue
            raise
        if response is None or "text/html" not in response.headers.get("content-type", ""):
            continue
        landed = urlsplit(page.url)
        pages.append(landed.path + (f"?{landed.query}" if landed.query else ""))
        queue += page.eval_on_selector_all(
            "a[href]", "as => as.map(a => a.getAttribute('href'))"
            ".filter(h => h.startsWith('/') && !h.startsWith('//') && !h.includes('#'))")
    return list(dict.fromkeys(pages))


def page_overflow(page: Any) -> int:
    """How many pixels the page is wider than the window (0: nothing scrolls sideways)."""
    return int(page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"))


def widest(page: Any) -> str:
    """The element reaching furthest right, to name in a failure."""
    return str(page.evaluate("""() => {
      let best = null, right = 0;
      for (const el of document.body.querySelectorAll('*')) {
        const r = el.getBoundingClientRect();
        if (r.right > right) { right = r.right; best = el; }
      }
      return best ? best.tagName + '.' + best.className + ' ' + Math.round(right) : '';
    }"""))
