"""User names that cannot pass for someone else's.

An account `аdmin` (Cyrillic а) or `ad\u200bmin` (a zero-width space inside) looks exactly
like `admin` in the user list, the audit trail and an e-mail. A new name is therefore:
- normalised with NFKC (fullwidth `ａｄｍｉｎ` is `admin`) and put in lower case;
- refused if it holds an invisible, control or space character (Unicode categories C and
  Z), or a letter of another script than Latin (Vietnamese letters with their marks are
  Latin; mixing in Cyrillic or Greek look-alikes is how spoofed names are made);
- refused if its *skeleton* — marks removed, đ → d, and the digit/letter look-alikes
  0 → o, 1 / i → l, rn → m, vv → w folded — is already some other user's: `admín`,
  `adm1n` and `adrnin` all read as `admin`.
Existing accounts are left as they are; the rule applies at creation.
"""

from __future__ import annotations

import re
import unicodedata

from sqlalchemy import select
from sqlalchemy.orm import Session

from chiso.accounts.errors import AccountError
from chiso.accounts.models import User

MAX_LENGTH = 64
ALLOWED = re.compile(r"^[\w.@+-]+$")
LOOK_ALIKES = (("rn", "m"), ("vv", "w"), ("0", "o"), ("1", "l"), ("i", "l"))


def check_new_username(session: Session, typed: str) -> str:
    """The name as it will be stored, or AccountError saying why it is refused."""
    name = unicodedata.normalize("NFKC", typed).strip().lower()
    _check_characters(name)
    taken = session.scalars(select(User.username)).all()
    if name in taken:
        raise AccountError(f"Tài khoản '{name}' đã tồn tại / user '{name}' exists")
    twin = next((other for other in taken if skeleton(other) == skeleton(name)), None)
    if twin is not None:
        raise AccountError(
            f"Tên '{name}' dễ nhầm với tài khoản đã có '{twin}'; hãy chọn tên khác",
            f"the name '{name}' is easily mistaken for the existing user '{twin}'; "
            "choose another")
    return name


def _check_characters(name: str) -> None:
    if not name or len(name) > MAX_LENGTH:
        raise AccountError(f"Tên tài khoản cần từ 1 đến {MAX_LENGTH} ký tự",
                           f"a user name needs 1 to {MAX_LENGTH} characters")
    hidden = [ch for ch in name if unicodedata.category(ch)[0] in "CZ"]
    if hidden:
        code = ", ".join(f"U+{ord(ch):04X}" for ch in hidden)
        raise AccountError(f"Tên tài khoản chứa ký tự ẩn hoặc khoảng trắng ({code})",
                           f"the user name holds invisible or space characters ({code})")
    foreign = [ch for ch in name if ch.isalpha() and not _latin(ch)]
    if foreign or not ALLOWED.match(name) or _odd_digits(name):
        shown = "".join(foreign) or name
        raise AccountError(
            f"Tên tài khoản chỉ gồm chữ cái Latinh (có dấu tiếng Việt), chữ số và . _ - @ "
            f"(không được: '{shown}')",
            f"a user name may hold only Latin letters (Vietnamese marks allowed), digits and "
            f". _ - @ (refused: '{shown}')")


def _latin(ch: str) -> bool:
    return unicodedata.name(ch, "").startswith("LATIN ")


def _odd_digits(name: str) -> bool:
    """Digits of other scripts (NFKC keeps e.g. Arabic-Indic digits as they are)."""
    return any(ch.isdigit() and not ch.isascii() for ch in name)


def skeleton(name: str) -> str:
    """What a name looks like to a reader: the form two look-alike names share."""
    folded = unicodedata.normalize("NFKD", name.replace("đ", "d").replace("Đ", "d"))
    folded = "".join(ch for ch in folded if unicodedata.category(ch) != "Mn").casefold()
    for look, like in LOOK_ALIKES:
        folded = folded.replace(look, like)
    return folded
