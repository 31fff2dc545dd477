"""One spelling of each word (issue: "Khoá"/"xoá" on the admin and audit pages, "Khóa" in
the CLI). chiso writes the tone of an open -oa, -oe, -uy syllable on the first vowel, as
Vietnamese administrative documents and most of chiso do: "khóa", "xóa", "hóa", "thủy";
never "khoá", "xoá", "hoá", "thuỷ". Checked over every catalogue's Vietnamese, every
template, every string in the package and the user guide. (Readers of people's text accept
both: `chiso.text` folds them, the document reader matches either.)"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHISO = ROOT / "chiso"
# Tone on the second vowel of a syllable that ends there ('hoá' — not 'hoán', not 'quý').
NEW_PLACEMENT = re.compile(r"(?<![\wqQ])\w*?(?<![qQ])(?:o[áàảãạ]|o[éèẻẽẹ]|u[ýỳỷỹỵ])(?!\w)")
# Modules that hold both spellings on purpose, to read either.
READERS = {CHISO / "text" / "normalize.py", CHISO / "extract" / "metadata.py"}


def _found(text: str) -> list[str]:
    return NEW_PLACEMENT.findall(text)


def _strings(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [node.value for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)]


def test_the_pattern_tells_the_placements_apart() -> None:
    assert _found("Khoá tài khoản, xoá mục, số hoá, thuỷ lợi") == ["Khoá", "xoá", "hoá",
                                                                     "thuỷ"]
    assert _found("Khóa tài khoản, xóa mục, số hóa, thủy lợi, Quý III, quý, toán, hoàn, "
                  "khoản, thuyết") == []


def test_one_placement_everywhere() -> None:
    found: dict[str, list[str]] = {}
    for path in sorted(CHISO.rglob("*")):
        if path.suffix == ".po":
            msgstrs = re.findall(r'^msgstr "(.*)"$', path.read_text(encoding="utf-8"), re.M)
            words = [w for text in msgstrs for w in _found(text)]
        elif path.suffix == ".html":
            words = _found(path.read_text(encoding="utf-8"))
        elif path.suffix == ".py" and path not in READERS:
            words = [w for text in _strings(path) for w in _found(text)]
        else:
            continue
        if words:
            found[str(path.relative_to(ROOT))] = words
    for path in sorted((ROOT / "docs" / "guide").glob("*.md")):
        words = _found(path.read_text(encoding="utf-8"))
        if words:
            found[str(path.relative_to(ROOT))] = words
    assert not found, f"write the tone on the first vowel (khóa, xóa, hóa): {found}"
