"""The one typed settings object; the only place in chiso that reads the environment.

A plain pydantic model filled from `CHISO_*` variables (names in any case) over a `.env`
file in the starting directory (`Settings.from_environment`). Not pydantic-settings: its
import loads asyncio and pydantic's dataclasses, ~0.12 s of every command's start
(`chiso status` answers in ~0.4 s, issue 13), for features chiso does not use.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from dotenv import dotenv_values
from pydantic import BaseModel, ConfigDict, field_validator, model_validator

DEFAULT_DATA_DIR = Path.cwd() / "data"
ENV_PREFIX = "CHISO_"
ENV_FILE = Path(".env")


class Settings(BaseModel):
    """Every knob of chiso, read from `CHISO_*` environment variables (or a `.env` file)."""

    model_config = ConfigDict(extra="ignore")

    env: str = "development"
    data_dir: Path = DEFAULT_DATA_DIR
    database_url: str = ""
    secret_key: str = ""
    default_locale: str = "vi"
    default_unit: str = "20"
    # Pin "today" for reproducible demos, reports and tests; empty means the real date.
    today: dt.date | None = None
    # The province's clock (chiso.text.clock: vn_today, to_vn); the one time-zone setting.
    time_zone: str = "Asia/Ho_Chi_Minh"
    # Value sources whose figures may be for periods not begun yet (planned figures);
    # comma-separated, e.g. "kế hoạch,plan". Empty: every such value is refused.
    future_value_sources: str = ""
    # Sở Tài chính: its officers capture budget figures for every unit of its province.
    funding_finance_unit: str = "20.STC"
    host: str = "127.0.0.1"
    port: int = 8000
    # Server processes for `chiso serve`; each keeps its own memo of analytics answers.
    workers: int = 1
    # Each `chiso serve` process keeps to one processor core (chiso/web/cores.py): Polars'
    # many small steps hand over between cores slowly on virtual machines.
    pin_server_cores: bool = True
    # How much older than a leader's request the data of a dashboard answer may be
    # (docs/semantics.md §9): one recomputation per bound serves every reader.
    dashboard_stale_seconds: float = 1.0
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 8025
    smtp_from: str = "chiso@localhost"
    smtp_user: str = ""
    smtp_password: str = ""
    base_url: str = "http://127.0.0.1:8000"
    max_upload_mb: int = 20
    # Kinds of file accepted as evidence, told by their content (chiso/storage/kinds.py).
    evidence_types: str = "pdf,jpeg,png,doc,docx,xls,xlsx,odt,ods,zip,txt,csv"
    # Where stored files (evidence, reports) and the records store's files live:
    # "local" (the data directory) or "database" (servers that share only the database).
    file_store: str = "local"
    records_store: str = "local"
    # Zip-based uploads (XLSX, DOCX, ZIP…) are refused beyond these once expanded.
    max_unzipped_mb: int = 200
    max_spreadsheet_cells: int = 2_000_000
    session_days: int = 7
    login_max_failures: int = 5
    login_lock_minutes: int = 15

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None,
                         env_file: Path | None = ENV_FILE) -> Settings:
        """The settings `environ` (default: the process's) gives, over those of `env_file`
        when it exists; unknown `CHISO_*` names are ignored, values are checked."""
        given: dict[str, str] = {}
        if env_file is not None and env_file.is_file():
            given |= _named(dotenv_values(env_file))
        given |= _named(os.environ if environ is None else environ)
        return cls.model_validate(given)

    @field_validator("today", mode="before")
    @classmethod
    def _blank_today(cls, value: object) -> object:
        return None if value == "" else value

    @model_validator(mode="after")
    def _refuse_default_secret_outside_development(self) -> Settings:
        if self.env == "production" and len(self.secret_key) < 32:
            raise ValueError(
                "CHISO_SECRET_KEY must be set to at least 32 random characters in production"
            )
        return self

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'chiso.sqlite').resolve()}"

    @property
    def is_sqlite(self) -> bool:
        return self.sqlalchemy_url.startswith("sqlite")

    def effective_secret(self) -> str:
        """The signing secret; in development a per-data-dir random one is created once."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / ".secret_key"
        if not path.exists():
            import secrets

            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()

    def current_date(self) -> dt.date:
        """Today in the province (`time_zone`), not on the server's clock (often UTC), or
        the pinned `today`. `chiso.text.vn_today()` is the same answer."""
        return self.today or dt.datetime.now(ZoneInfo(self.time_zone)).date()


def _named(variables: Mapping[str, str | None]) -> dict[str, str]:
    """`CHISO_DATA_DIR=…` (or `chiso_data_dir`) → {"data_dir": …}."""
    return {name[len(ENV_PREFIX):].lower(): value for name, value in variables.items()
            if name.upper().startswith(ENV_PREFIX) and value is not None}


@lru_cache
def get_settings() -> Settings:
    return Settings.from_environment()


def reset_settings_cache() -> None:
    """Tests and the CLI change the environment; this makes the next read see it."""
    get_settings.cache_clear()
