"""What a person reads on chiso's pages, and the codes and English words that must not be
in it: a crawler that signs in as a role and follows every link it is shown, and a reader
that takes a page's visible text apart from the codes legitimately shown beside a name.

The rule (docs/guide/README.md, "Mã và tên"). A code may be shown only
- inside an element marked `class="code"` whose row (table row, list item, paragraph,
  heading, option, label) also holds words: the name it stands for leads, the code follows;
- in running text in brackets right after its own name: "Phường Đông Kinh (05977)";
- inside `<code>`, `<kbd>` or `<samp>`: literal text a person types or a file holds
  (a column header of the import format, a command).
Everywhere else a page shows names. Script, style and template elements are not read;
attribute text a person sees (title, placeholder, aria-label, alt, the value in a text box or
on a button) is.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import lxml.html
from fastapi.routing import iter_route_contexts
from sqlalchemy import select
from sqlalchemy.orm import Session

# Elements whose text a person never reads as text on the page.
HIDDEN_TAGS = ("script", "style", "template", "noscript")
# Literal text: what a person types or a file holds, shown as such.
LITERAL_TAGS = ("code", "kbd", "samp")
# Attributes a person reads: tooltips, placeholders, labels for screen readers, buttons.
VISIBLE_ATTRIBUTES = ("title", "placeholder", "aria-label", "alt")
# Inputs whose value a person reads in the box (a hidden field's value is for the server).
SHOWN_INPUTS = ("text", "search", "number", "submit", "button")
# The line a `.code` element belongs to, whose other words must name what it stands for.
ROW_TAGS = ("tr", "li", "p", "h1", "h2", "h3", "h4", "h5", "h6", "option", "label", "dt",
            "dd", "caption", "figcaption", "summary", "button", "a", "div")

# Period ids as stored: 2026Q3, 2026S1, 2025C09 (9 months), 202609 (a month). A bare
# six-digit number is never a figure on a Vietnamese page (1.234.567 is grouped).
PERIOD_ID = re.compile(r"(?<![\w.,/-])(?:19|20)\d\d(?:Q[1-4]|S[12]|C(?:0[1-9]|1[0-2])|"
                       r"(?:0[1-9]|1[0-2]))(?![\w.,/-])")
# Role, status and state codes of chiso's own vocabularies.
FIXED_CODES = frozenset({
    "standing_office", "focal_officer", "on_track", "at_risk", "off_track", "no_data",
    "not_implemented", "in_progress", "not_started", "year_end", "number_format",
    "done_late", "done_on_time", "done_early"})
# A document is cited by its số hiệu ('72-KH/BCĐ', '57-NQ/TW', '145/KH-UBND'): that is its
# name in Vietnamese administration (Nghị định 30/2020/NĐ-CP), not a code to hide.
DOCUMENT_NUMBER = re.compile(r"^\d+[-/]")
# Codes that are also words: Vietnamese written without marks ('xa', 'quan', 'tinh') and
# the everyday abbreviation of khoa học công nghệ (the KHCN pillar's code).
SYLLABLES = frozenset({"xa", "quan", "tinh", "so", "KHCN"})

# English words of chiso's interface, each seen on a Vietnamese page or part of its
# vocabulary (statuses, states, actions, field names). Case-sensitive whole words.
ENGLISH_WORDS = frozenset({
    "starting", "started", "running", "done", "failed", "queued", "pending", "finished",
    "succeeded", "draft", "submitted", "approved", "returned", "reopened", "overdue",
    "achieved", "missed", "inserted", "updated", "unchanged", "deleted", "created",
    "Illustrative", "illustrative", "figures", "report", "signer", "missing", "allowed",
    "cannot", "simulated", "Overview", "Indicator", "Indicators", "Target", "Targets",
    "Status", "status", "Period", "period", "Unit", "Units", "unit", "units", "Value",
    "Values", "value", "values", "Year", "year", "Quarter", "Month", "Actual", "Expected",
    "numerator", "denominator", "comment", "source", "version", "kind", "name", "key",
    "line", "state", "party", "Save", "Submit", "Cancel", "Delete", "Edit", "Search",
    "Download", "Upload", "Export", "Import", "Approve", "Return", "Back", "Next",
    "Previous", "Loading", "Error", "Warning", "None", "null", "true", "false", "NaN",
    "undefined", "Yes", "UTC", "leader", "viewer", "system", "the", "and", "of", "for",
    "with", "from", "to", "are", "not"})


@dataclass(frozen=True)
class Catalogue:
    """Every code chiso stores that a page might leak (indicators, units, data sets, plans,
    rules, frameworks, programmes, unit kinds), with each one's names."""

    names: dict[str, frozenset[str]]

    def leaks(self, text: str) -> list[str]:
        found = [t for t in tokens_of(text)
                 if (t in self.names or t in FIXED_CODES) and not self._named(text, t)]
        return found + PERIOD_ID.findall(text)

    def _named(self, text: str, code: str) -> bool:
        """'Phường Đông Kinh (05977)': the code in brackets right after its own name."""
        return any(f"{name} ({code})" in text for name in self.names.get(code, ()))


# What separates words and codes on a page; a code itself may hold . _ - / & and letters.
SEPARATORS = re.compile(r"[\s()\[\]{},;:\"'«»“”‘’|·•→←–—…=<>+*?!]+")


def tokens_of(text: str) -> list[str]:
    """The words and codes of a line, a sentence's full stop left out ('… CCHC_XA_QUY.')."""
    return [token.rstrip(".") for token in SEPARATORS.split(text) if token.rstrip(".")]


def english_words(text: str) -> list[str]:
    return [token for token in tokens_of(text) if token in ENGLISH_WORDS]


def code_catalogue(session: Session) -> Catalogue:
    from chiso.collection.models import DataSet, ValidationRule
    from chiso.dti.models import DtiFramework
    from chiso.funding.models import Programme
    from chiso.indicators.models import Indicator, Pillar
    from chiso.plans.models import Plan
    from chiso.scoring.models import ScoringFramework
    from chiso.units.models import OrgUnit, UnitKind

    names: dict[str, set[str]] = {}

    def add(rows: Any) -> None:
        for code, *labels in rows:
            names.setdefault(code, set()).update(label for label in labels if label)

    add(session.execute(select(Indicator.code, Indicator.name_vi)))
    add(row for row in session.execute(select(Pillar.code, Pillar.name_vi))
        if row[0] not in SYLLABLES)
    add(session.execute(select(DataSet.code, DataSet.name_vi)))
    add(session.execute(select(ValidationRule.code)))
    add(session.execute(select(DtiFramework.code)))
    add(session.execute(select(Programme.code)))
    add(session.execute(select(ScoringFramework.code)))
    add(row for row in session.execute(select(Plan.code, Plan.title))
        if not DOCUMENT_NUMBER.match(row[0]))
    add(row for row in session.execute(select(UnitKind.code, UnitKind.name_vi))
        if row[0] not in SYLLABLES)
    # A unit code that is a short number (the province's '20') is every other number on a
    # page too; five-digit commune codes and lettered codes ('20.SKHCN') are codes.
    add(row for row in session.execute(select(OrgUnit.code, OrgUnit.name, OrgUnit.short_name))
        if not (row[0].isdigit() and len(row[0]) < 5))
    return Catalogue({code: frozenset(labels) for code, labels in names.items()})


# ------------------------------------------------------------------ reading a page


@dataclass
class PageText:
    """A page's readable lines, and the `.code` elements that stand alone."""

    lines: list[str]
    lonely_codes: list[str]


def read_page(html: str) -> PageText:
    root = lxml.html.fromstring(html)
    for element in root.iter(*HIDDEN_TAGS, *LITERAL_TAGS):
        element.drop_tree()
    lonely = []
    for element in root.xpath('//*[contains(concat(" ", normalize-space(@class), " "), '
                              '" code ")]'):
        if not _has_words_beside(element):
            lonely.append(element.text_content().strip())
        element.drop_tree()
    lines = [text.strip() for text in root.itertext() if text.strip()]
    for element in root.iter():
        lines += [str(element.get(a)) for a in VISIBLE_ATTRIBUTES if element.get(a)]
        if element.tag == "input" and element.get("type", "text") in SHOWN_INPUTS:
            lines.append(str(element.get("value", "")))
    return PageText(lines, lonely)


def visible_text(html: str) -> str:
    return "\n".join(read_page(html).lines)


def _has_words_beside(code: Any) -> bool:
    """The code's row holds a word of at least two letters besides the code itself."""
    row = next((a for a in code.iterancestors() if a.tag in ROW_TAGS), None)
    if row is None:
        return False
    own = code.text_content()
    rest = row.text_content().replace(own, " ", 1)
    return re.search(r"[^\W\d_]{2,}", rest) is not None


def links(html: str, base: str) -> list[str]:
    root = lxml.html.fromstring(html)
    return [urljoin(base, href) for href in root.xpath("//a/@href")]


# ------------------------------------------------------------------ crawling


# Paths that do something or are not pages: following them would sign out, download a file
# or open the API's own documentation.
SKIPPED_PREFIXES = ("/api/", "/static/", "/logout", "/docs", "/redoc")
SKIPPED_SUFFIXES = (".xlsx", ".csv", ".docx", ".pdf", ".json", ".zip", ".parquet", ".png")


@dataclass
class Problem:
    path: str
    kind: str  # "code", "lonely code" or "english"
    words: list[str]
    line: str


@dataclass
class Crawl:
    """The pages one role reached and what was wrong on them."""

    role: str
    visited: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    failures: list[tuple[str, int]] = field(default_factory=list)

    def report(self) -> str:
        lines = [f"{self.role}: {len(self.visited)} pages, {len(self.problems)} problems"]
        lines += [f"  {p.path} [{p.kind}] {p.words}: {p.line[:160]!r}" for p in self.problems]
        lines += [f"  {path} answered {status}" for path, status in self.failures]
        return "\n".join(lines)


class RouteShapes:
    """A URL's route template and query keys: the crawl visits a few pages of each shape
    (every commune's overview is the same page)."""

    def __init__(self, app: Any) -> None:
        self.patterns = []
        for context in iter_route_contexts(app.routes):
            if "GET" not in (context.methods or ()):
                continue
            pattern = re.sub(r"\{\w+:path\}", ".+", context.path)
            pattern = re.sub(r"\{\w+(?::\w+)?\}", "[^/]+", pattern)
            self.patterns.append((re.compile(pattern + "$"), context.path))

    def shape(self, url: str) -> tuple[str, tuple[str, ...]] | None:
        parts = urlsplit(url)
        keys = tuple(sorted({k for k, _ in parse_qsl(parts.query)}))
        for pattern, template in self.patterns:
            if pattern.match(parts.path):
                return template, keys
        return None

    def exists(self, path: str) -> bool:
        return self.shape(path) is not None


def crawl(client: Any, app: Any, role: str, catalogue: Catalogue, *, per_shape: int = 3,
          limit: int = 400, start: tuple[str, ...] = ("/",), base: str = "http://testserver",
          progress: Any = None) -> Crawl:
    """Follow every same-site link a signed-in client is shown, reading each page: a
    TestClient of `app`, or an httpx client of a server at `base`."""
    result = Crawl(role)
    shapes = RouteShapes(app)
    seen_shapes: Counter[tuple[str, tuple[str, ...]]] = Counter()
    queue, seen = list(start), set()
    while queue and len(result.visited) < limit:
        url = queue.pop(0)
        if url in seen or not _followable(url):
            continue
        seen.add(url)
        shape = shapes.shape(url)
        if shape is None or seen_shapes[shape] >= per_shape:
            continue
        seen_shapes[shape] += 1
        response = client.get(url, follow_redirects=True)
        if progress is not None:
            progress(url, response)
        if "text/html" not in response.headers.get("content-type", ""):
            continue
        result.visited.append(url)
        if response.status_code >= 500:
            result.failures.append((url, response.status_code))
        result.problems += list(problems_on(url, response.text, catalogue))
        queue += [_local(u) for u in links(response.text, base + url)
                  if urlsplit(u).netloc == urlsplit(base).netloc]
    return result


def _local(url: str) -> str:
    """A link as the crawl follows it: the language stays the one chosen at sign-in."""
    parts = urlsplit(url)
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query) if k != "lang"])
    return parts.path + (f"?{query}" if query else "")


def _followable(url: str) -> bool:
    path = urlsplit(url).path
    return (path.startswith("/") and not path.startswith(SKIPPED_PREFIXES)
            and not path.endswith(SKIPPED_SUFFIXES) and "/download" not in path)


def problems_on(path: str, html: str, catalogue: Catalogue) -> Iterator[Problem]:
    page = read_page(html)
    for code in page.lonely_codes:
        yield Problem(path, "lonely code", [code], "a code with no name beside it")
    for line in page.lines:
        if leaked := catalogue.leaks(line):
            yield Problem(path, "code", leaked, line)
        if words := english_words(line):
            yield Problem(path, "english", words, line)
