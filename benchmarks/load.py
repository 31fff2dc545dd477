"""`chiso bench load`: the real server under concurrent simulated users.

Starts `chiso serve` as a separate process on loopback, signs in simulated users (leaders
browsing dashboards, focal officers submitting values), drives them for a fixed time,
prints requests/s, p50/p95/p99 latency and errors per kind of request, then checks in the
database that every write the server acknowledged is in the value history (no lost writes).
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np
import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from sqlalchemy import select

from chiso.settings import get_settings

console = Console()


@dataclass
class Target:
    """What the simulated users touch, found in the demo data."""

    province: str
    communes: list[str]
    indicator: str
    year: int
    periods: list[str]


@dataclass
class Sample:
    kind: str
    seconds: float
    status: int


@dataclass
class Acknowledged:
    unit: str
    period: str
    numerator: float


@dataclass
class Outcome:
    samples: list[Sample] = field(default_factory=list)
    writes: list[Acknowledged] = field(default_factory=list)
    seconds: float = 0.0
    # (kind, status, what the server or the client said): a count of errors alone says
    # nothing about their cause.
    failures: list[tuple[str, int, str]] = field(default_factory=list)


def register_bench(bench: typer.Typer) -> None:
    bench.command("load")(load_command)


def load_command(
    seconds: int = typer.Option(20, min=2, help="Thời gian chạy thử (giây) / How long to drive "
                                                "the server."),
    readers: int = typer.Option(12, min=1, help="Số lãnh đạo giả lập xem trang tổng quan / "
                                                "Simulated leaders browsing dashboards."),
    writers: int = typer.Option(4, min=0, help="Số cán bộ giả lập gửi số liệu / Simulated "
                                               "officers submitting values."),
    write_pause: float = typer.Option(
        1.0, min=0.0, help="Số giây giữa hai lần gửi của một cán bộ (trung bình; 0 = nhanh hết "
                           "mức máy chủ trả lời) / Seconds an officer takes between two "
                           "submissions (on average; 0 = as fast as the server answers, a stress "
                           "test rather than people)."),
    year: int = typer.Option(0, help="Năm của trang tổng quan (mặc định: năm nay) / Dashboard "
                                     "year (default: the current year)."),
    workers: int = typer.Option(0, min=0, help="Số tiến trình máy chủ (mặc định: CHISO_WORKERS) "
                                               "/ Server processes (default: CHISO_WORKERS)."),
) -> None:
    """Chạy máy chủ nội bộ với nhiều người dùng giả lập đồng thời.

    In số yêu cầu/giây, độ trễ p50/p95/p99, lỗi, rồi kiểm tra không mất số liệu nào đã ghi. Chạy
    trên dữ liệu minh họa (`chiso demo` trước).

    Start the server on loopback and drive it with concurrent simulated users; print
    requests/s, p50/p95/p99 latency and errors, then verify no acknowledged write was lost.
    Run on the demo data (`chiso demo` first).

    Example: chiso bench load --seconds 30 --readers 12 --writers 4
    """
    target = find_target(year)
    load_before = os.getloadavg()[0]  # the machine's own load says how far to trust it
    passwords = bench_users(target)
    port = free_port()
    workers = workers or get_settings().workers
    server = start_server(port, workers)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_ready(base, server)
        outcome = asyncio.run(_drive(base, target, passwords, seconds, readers, writers,
                                     write_pause))
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            server.kill()
    _report(outcome, workers)
    console.print(f"load average before {load_before:.1f}, after {os.getloadavg()[0]:.1f}")
    lost = lost_writes(target, outcome.writes)
    console.print(f"Ghi được xác nhận / acknowledged writes: {len(outcome.writes)}; "
                  f"bị mất / lost: [bold]{len(lost)}[/]")
    if lost:
        for write in lost[:10]:
            console.print(f"  [red]✗[/] {write}")
        raise typer.Exit(1)


# ---------------------------------------------------------------- set-up

def find_target(year: int) -> Target:
    from chiso.db import session_scope
    from chiso.indicators.models import Indicator
    from chiso.settings import get_settings
    from chiso.units.models import OrgUnit

    settings = get_settings()
    today = settings.current_date()
    year = year or today.year
    with session_scope() as session:
        province = session.scalar(select(OrgUnit).where(OrgUnit.code == settings.default_unit,
                                                        OrgUnit.valid_to.is_(None)))
        indicator = session.scalar(select(Indicator.code).where(
            Indicator.code == "CQS.HS_TRUC_TUYEN"))
        if province is None or indicator is None:
            console.print("[red]✗[/] Chưa có dữ liệu mẫu; chạy 'chiso demo' trước / no demo "
                          "data: run 'chiso demo' first")
            raise typer.Exit(2)
        communes = list(session.scalars(select(OrgUnit.code).where(
            OrgUnit.parent_id == province.id, OrgUnit.valid_to.is_(None),
            OrgUnit.valid_from <= today).order_by(OrgUnit.code).limit(40)))
    months = [f"{today.year}{m:02d}" for m in range(1, today.month + 1)]
    return Target(settings.default_unit, communes, indicator, year, months)


def bench_users(target: Target) -> dict[str, str]:
    """A leader and a standing-office officer for the run, with fresh passwords."""
    from chiso.accounts.access import Access
    from chiso.accounts.models import Role, User
    from chiso.accounts.passwords import generate_password
    from chiso.accounts.service import create_user, set_active, set_membership, set_password
    from chiso.admin.service import unit_by_code
    from chiso.db import session_scope

    wanted = {"bench-leader": (Role.LEADER, None),
              "bench-officer": (Role.STANDING_OFFICE, target.province)}
    passwords = {}
    with session_scope() as session:
        access = Access.system(session, "bench-load")
        for username, (role, unit_code) in wanted.items():
            password = generate_password()
            unit_id = unit_by_code(session, unit_code).id if unit_code else None
            user = session.scalar(select(User).where(User.username == username))
            if user is None:
                create_user(session, username=username, password=password, role=role,
                            unit_id=unit_id, full_name="Người dùng thử tải / load test",
                            access=access)
            else:
                set_password(session, user, password, access=access)
                set_active(session, user, True, access=access)
                set_membership(session, user, role=role, unit_id=unit_id, access=access)
            passwords[username] = password
    return passwords


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(port: int, workers: int) -> subprocess.Popen[bytes]:
    chiso = str(Path(sys.executable).with_name("chiso"))
    return subprocess.Popen([chiso, "serve", "--host", "127.0.0.1", "--port", str(port),
                             "--workers", str(workers)],
                            env=os.environ.copy(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)


def wait_ready(base: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            error = server.stderr.read().decode() if server.stderr else ""
            raise RuntimeError(f"the server stopped: {error[-2000:]}")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError("the server did not start within 60 s")


# ---------------------------------------------------------------- driving

async def _signed_in(base: str, username: str, password: str) -> tuple[httpx.AsyncClient, str]:
    client = httpx.AsyncClient(base_url=base, timeout=30,
                               limits=httpx.Limits(max_connections=4))
    form = await client.get("/login")
    answer = await client.post("/login", data={"username": username, "password": password,
                                               "csrf_token": _form_token(form.text)})
    if answer.status_code >= 400:
        raise RuntimeError(f"{username} could not sign in: {answer.status_code}")
    page = await client.get("/account/password")
    return client, _form_token(page.text)


def _form_token(page: str) -> str:
    return page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


async def _drive(base: str, target: Target, passwords: dict[str, str], seconds: int,
                 readers: int, writers: int, write_pause: float) -> Outcome:
    outcome = Outcome()
    clients = [await _signed_in(base, "bench-leader", passwords["bench-leader"])
               for _ in range(readers)]
    clients += [await _signed_in(base, "bench-officer", passwords["bench-officer"])
                for _ in range(writers)]
    stop = time.monotonic() + seconds
    started = time.monotonic()
    tasks = [_reader(c, target, stop, outcome, i) for i, (c, _t) in enumerate(clients[:readers])]
    tasks += [_writer(c, token, target, stop, outcome, i, write_pause)
              for i, (c, token) in enumerate(clients[readers:])]
    with Progress(TextColumn("tải / load"), BarColumn(), TimeRemainingColumn(),
                  console=console, transient=True) as progress:
        bar = progress.add_task("", total=seconds)
        ticker = asyncio.create_task(_tick(progress, bar, stop))
        await asyncio.gather(*tasks)
        ticker.cancel()
    outcome.seconds = time.monotonic() - started
    for client, _token in clients:
        await client.aclose()
    return outcome


async def _tick(progress: Progress, bar: object, stop: float) -> None:
    while time.monotonic() < stop:
        progress.update(bar, completed=progress.tasks[0].total - (stop - time.monotonic()))  # type: ignore[arg-type, operator]
        await asyncio.sleep(0.5)


def _dashboard_urls(target: Target, rng: random.Random) -> tuple[str, str]:
    unit = rng.choice([target.province, *target.communes[:10]])
    choices = [("overview", f"/units/{target.province}/overview?year={target.year}"),
               ("status-api", f"/api/status?unit={unit}&year={target.year}")]
    return rng.choice(choices)


async def _reader(client: httpx.AsyncClient, target: Target, stop: float, outcome: Outcome,
                  seed: int) -> None:
    rng = random.Random(seed)
    while time.monotonic() < stop:
        kind, url = _dashboard_urls(target, rng)
        await _timed(outcome, kind, client.get(url))


async def _writer(client: httpx.AsyncClient, token: str, target: Target, stop: float,
                  outcome: Outcome, seed: int, pause: float) -> None:
    rng = random.Random(1000 + seed)
    while time.monotonic() < stop:
        # Officers type a figure, then save: spread their submissions around `pause`.
        await asyncio.sleep(min(rng.uniform(0.5, 1.5) * pause, max(stop - time.monotonic(), 0)))
        if time.monotonic() >= stop:
            break
        unit, period = rng.choice(target.communes), rng.choice(target.periods)
        numerator = float(rng.randint(1, 10_000))
        body = {"unit": unit, "indicator": target.indicator, "period": period,
                "numerator": numerator, "denominator": 10_000,
                "comment": "chiso bench load"}
        response = await _timed(outcome, "value-write", client.post(
            "/api/values", json=body, headers={"X-CSRF-Token": token}))
        if response is not None and response.status_code == 200:
            outcome.writes.append(Acknowledged(unit, period, numerator))


async def _timed(outcome: Outcome, kind: str, request) -> httpx.Response | None:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    try:
        response = await request
    except httpx.HTTPError as exc:
        outcome.samples.append(Sample(kind, time.perf_counter() - start, 0))
        outcome.failures.append((kind, 0, f"{type(exc).__name__}: {exc}"[:300]))
        return None
    outcome.samples.append(Sample(kind, time.perf_counter() - start, response.status_code))
    if response.status_code >= 400:
        outcome.failures.append((kind, response.status_code, response.text[:300]))
    return response


# ---------------------------------------------------------------- results

def summarise(outcome: Outcome) -> dict[str, dict[str, float]]:
    """Per kind and overall: requests, requests/s, p50/p95/p99 in ms, errors."""
    kinds = sorted({s.kind for s in outcome.samples})
    groups = {k: [s for s in outcome.samples if s.kind == k] for k in kinds}
    groups["dashboard reads"] = [s for s in outcome.samples if s.kind != "value-write"]
    groups["all"] = outcome.samples
    result = {}
    for name, samples in groups.items():
        if not samples:
            continue
        ms = np.array([s.seconds * 1000 for s in samples])
        result[name] = {
            "requests": len(samples), "rps": len(samples) / max(outcome.seconds, 1e-9),
            "p50": float(np.percentile(ms, 50)), "p95": float(np.percentile(ms, 95)),
            "p99": float(np.percentile(ms, 99)),
            "errors": sum(1 for s in samples if s.status == 0 or s.status >= 400)}
    return result


def _report(outcome: Outcome, workers: int) -> None:
    table = Table("kind", "requests", "req/s", "p50 ms", "p95 ms", "p99 ms", "errors",
                  title=f"chiso bench load — {outcome.seconds:.1f} s, {workers} server "
                        f"process{'es' if workers > 1 else ''}"
                        f"{' (one core each)' if get_settings().pin_server_cores else ''}, "
                        f"{os.cpu_count()} cores")
    for name, row in summarise(outcome).items():
        table.add_row(name, str(row["requests"]), f"{row['rps']:.1f}", f"{row['p50']:.1f}",
                      f"{row['p95']:.1f}", f"{row['p99']:.1f}", str(row["errors"]))
    console.print(table)
    for (kind, status, said), count in Counter(outcome.failures).most_common(5):
        console.print(f"Lỗi / error ×{count}: {kind} {status or 'no answer'} — {said}",
                      markup=False, highlight=False)


def lost_writes(target: Target, writes: list[Acknowledged]) -> list[Acknowledged]:
    """Acknowledged writes with no matching version in the value history."""
    from chiso.db import session_scope
    from chiso.indicators.models import Indicator
    from chiso.units.models import OrgUnit
    from chiso.values.models import DataValue, DataValueVersion

    with session_scope() as session:
        rows = session.execute(
            select(OrgUnit.code, DataValue.period, DataValueVersion.numerator)
            .join(DataValue, DataValue.id == DataValueVersion.data_value_id)
            .join(OrgUnit, OrgUnit.id == DataValue.unit_id)
            .join(Indicator, Indicator.id == DataValue.indicator_id)
            .where(Indicator.code == target.indicator, OrgUnit.code.in_(target.communes)))
        stored = {(code, period, numerator) for code, period, numerator in rows}
    return [w for w in writes if (w.unit, w.period, w.numerator) not in stored]
