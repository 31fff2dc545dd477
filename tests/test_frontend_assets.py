"""One front end, served lean (issue 14 item 6): one stylesheet whose every selector is
defined once; static files cached for a year under a URL carrying their content hash and
sent gzip-compressed, API answers compressed, pages not (they carry the CSRF token); the
small ECharts build; a CSP without 'unsafe-inline'; /docs drawn from the package's own
Swagger UI with the network cut off."""

from __future__ import annotations

import gzip
import re
from collections import Counter
from pathlib import Path

import pytest

STATIC = Path(__file__).resolve().parent.parent / "chiso" / "web" / "static"


def _rules(css: str) -> list[tuple[str, str]]:
    """(media context, selector list) of every rule, comments removed."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    found, context, depth = [], "", 0
    for match in re.finditer(r"([^{}]+)\{|\}", css):
        if match.group(0) == "}":
            depth -= 1
            if depth == 0:
                context = ""
            continue
        head = " ".join(match.group(1).split())
        if head.startswith("@media"):
            context, depth = head, depth + 1
            continue
        depth += 1
        found.append((context, head))
        # a rule's own closing brace comes next
        depth -= 1
    return found


def test_one_stylesheet_and_each_selector_defined_once() -> None:
    sheets = sorted(p.name for p in STATIC.glob("*.css"))
    assert sheets == ["chiso.css"], sheets  # one stylesheet for every page
    counts = Counter(_rules((STATIC / "chiso.css").read_text(encoding="utf-8")))
    twice = sorted(f"{media or 'all'}: {selector}" for (media, selector), n in counts.items()
                   if n > 1 and not selector.startswith(("from", "to")))
    assert not twice, "selectors defined more than once:\n" + "\n".join(twice)


def test_static_files_carry_their_hash_and_travel_compressed(admin_client) -> None:  # type: ignore[no-untyped-def]
    page = admin_client.get("/units/20/overview")
    links = re.findall(r'(/static/[\w./-]+\.(?:css|js)\?v=[0-9a-f]{10})', page.text)
    assert any("chiso.css" in u for u in links) and any("charts.js" in u for u in links)
    css = admin_client.get(next(u for u in links if "chiso.css" in u),
                           headers={"Accept-Encoding": "gzip"})
    assert css.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert css.headers["content-encoding"] == "gzip"
    raw = (STATIC / "chiso.css").read_bytes()
    assert int(css.headers["content-length"]) < len(raw) / 3
    assert css.content == raw  # httpx inflated it: the same file
    bare = admin_client.get("/static/chiso.css")
    assert bare.headers["cache-control"] == "no-cache"  # no hash: ask again each time
    api = admin_client.get("/api/openapi.json", headers={"Accept-Encoding": "gzip"})
    assert api.headers.get("content-encoding") == "gzip"
    html = admin_client.get("/units/20/overview", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in html.headers  # BREACH: pages hold the CSRF token


def test_the_echarts_build_holds_only_what_chiso_draws() -> None:
    bundle = (STATIC / "vendor" / "echarts.min.js").read_bytes()
    assert len(bundle) < 700_000, len(bundle)  # the full build was 1,121,883 bytes
    assert len(gzip.compress(bundle)) < 250_000
    text = bundle.decode("utf-8")
    for kind in ('"pie"', '"scatter"', '"map"', '"line"', '"bar"'):
        assert kind in text, kind


def test_the_policy_forbids_inline_code(client) -> None:  # type: ignore[no-untyped-def]
    policy = client.get("/login").headers["content-security-policy"]
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "script-src 'self'" in policy and "style-src 'self'" in policy


@pytest.mark.browser
def test_api_docs_render_offline_under_the_policy(live_server, page, admin_client) -> None:  # type: ignore[no-untyped-def]
    blocked, refused = [], []
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(
        live_server) else (blocked.append(route.request.url), route.abort()))
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text
            else None)
    page.goto(f"{live_server}/docs")
    page.wait_for_selector(".opblock", timeout=20000)
    assert page.locator(".opblock").count() > 50
    assert page.locator(".opblock-summary-path", has_text="/api/units").count() >= 2
    assert not blocked, blocked  # nothing asked of another host
    assert not refused, refused
