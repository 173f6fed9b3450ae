"""One bilingual text type: ``Text(zh, en)``, Chinese first (the default UI language).

Errors, per-park notes and labels all carry a ``Text``; ``text.pick(lang)`` chooses the language.
"""
from __future__ import annotations

from typing import NamedTuple

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"


class Text(NamedTuple):
    """A user-visible text in Chinese and English (always in this order)."""

    zh: str
    en: str

    def pick(self, lang: str = DEFAULT_LANG) -> str:
        """The text in ``lang`` ("zh" or "en"); an empty translation falls back to the other one."""
        return pick(self.zh, self.en, lang)

    def both(self, sep: str = " / ") -> str:
        """Both languages, Chinese first (CLI messages, spreadsheet cells read by either reader)."""
        return self.zh if self.zh == self.en else f"{self.zh}{sep}{self.en}"


def pick(zh: str | None, en: str | None, lang: str) -> str:
    """Choose between two parallel texts (e.g. name_zh/name_en) for the UI language."""
    if lang == "en" and en:
        return en
    return zh or en or ""
