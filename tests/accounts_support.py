"""Helpers shared by the accounts, audit, security and reliability tests."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from chiso.units.models import OrgUnit, UnitKind


@dataclass
class Units:
    province: OrgUnit
    commune_a: OrgUnit
    commune_b: OrgUnit


def make_units(session: Session) -> Units:
    """Tỉnh Lạng Sơn (20) with two communes, committed."""
    for code, vi, en, level in (("province", "Tỉnh", "Province", 1),
                                ("commune", "Xã", "Commune", 3)):
        if session.get(UnitKind, code) is None:
            session.add(UnitKind(code=code, name_vi=vi, name_en=en, level=level))
    session.flush()
    province = OrgUnit(code="20", name="Tỉnh Lạng Sơn", kind="province")
    session.add(province)
    session.flush()
    a = OrgUnit(code="06187", name="Phường Kỳ Lừa", kind="commune", parent_id=province.id,
                valid_from=dt.date(2025, 7, 1))
    b = OrgUnit(code="05986", name="Phường Tam Thanh", kind="commune",
                parent_id=province.id, valid_from=dt.date(2025, 7, 1))
    session.add_all([a, b])
    session.commit()
    return Units(province, a, b)


def csrf_of(client) -> str:  # type: ignore[no-untyped-def]
    """The CSRF token of a signed-in TestClient, read from a page's hidden form field."""
    import re

    page = client.get("/account/password")
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match, page.text[:500]
    return match.group(1)


def make_indicator(session: Session, code: str = "CQS.HS_TRUC_TUYEN") -> int:
    """A ratio indicator (online dossiers ÷ all dossiers, %), committed; returns its id."""
    from chiso.indicators.models import Indicator

    indicator = Indicator(code=code, name_vi="Tỷ lệ hồ sơ trực tuyến",
                          name_en="Online dossiers share", unit_vi="%", unit_en="%",
                          kind="ratio", unit_aggregation="ratio_of_sums",
                          time_aggregation="sum", scale=100.0)
    session.add(indicator)
    session.commit()
    return indicator.id


def serve_process(env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    """`chiso serve` in its own process on a free loopback port, started and answering;
    returns (process, base URL). The caller stops it (SIGINT, then wait)."""
    import os
    import socket
    import subprocess
    import sys
    import time
    from pathlib import Path

    import httpx

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    chiso = str(Path(sys.executable).with_name("chiso"))
    process = subprocess.Popen([chiso, "serve", "--host", "127.0.0.1", "--port", str(port)],
                               env=env or os.environ.copy(), stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read().decode()  # type: ignore[union-attr]
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return process, base
        except httpx.HTTPError:
            time.sleep(0.2)
    raise AssertionError("server did not start")


def two_servers_running():  # type: ignore[no-untyped-def]
    """Two `chiso serve` processes on the configured database, as a generator for a
    fixture: yields their base URLs, stops both afterwards."""
    import signal

    first, a = serve_process()
    second, b = serve_process()
    try:
        yield a, b
    finally:
        for process in (first, second):
            process.send_signal(signal.SIGINT)
            process.wait(20)
