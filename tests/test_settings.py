"""Where settings come from (chiso/settings.py): `CHISO_*` variables over a `.env` file."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from pydantic import ValidationError

from chiso.settings import Settings


def test_the_environment_wins_over_the_env_file_and_names_may_be_in_any_case(
        tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("# the office's settings\nCHISO_PORT=8100\nCHISO_DEFAULT_UNIT=20\n"
                        "chiso_today=2025-07-02\nexport CHISO_WORKERS=3\nOTHER=1\n"
                        "CHISO_NO_SUCH_SETTING=x\n", encoding="utf-8")
    settings = Settings.from_environment({"CHISO_PORT": "8200", "PATH": "/bin"},
                                         env_file=env_file)
    assert settings.port == 8200  # the environment's
    assert settings.default_unit == "20" and settings.workers == 3  # the file's
    assert settings.today == dt.date(2025, 7, 2)
    assert Settings.from_environment({"chiso_data_dir": str(tmp_path)},
                                     env_file=None).data_dir == tmp_path
    assert Settings.from_environment({"CHISO_TODAY": ""}, env_file=None).today is None
    assert Settings.from_environment({}, env_file=tmp_path / "absent").port == 8000


def test_a_bad_value_is_refused_with_its_name() -> None:
    with pytest.raises(ValidationError, match="port"):
        Settings.from_environment({"CHISO_PORT": "tám nghìn"}, env_file=None)
    with pytest.raises(ValidationError, match="CHISO_SECRET_KEY"):
        Settings.from_environment({"CHISO_ENV": "production", "CHISO_SECRET_KEY": "short"},
                                  env_file=None)
