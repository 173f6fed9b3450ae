"""Errors the user can act on, worded in English and Chinese.

The UI shows the message in the current language; the CLI prints both.
"""
from __future__ import annotations


class InputError(Exception):
    """Unusable input (file, CRS, geometry, table). ``en`` and ``zh`` hold the two messages."""

    def __init__(self, en: str, zh: str | None = None):
        self.en = en
        self.zh = zh or en
        super().__init__(f"{self.en}\n{self.zh}")

    def message(self, lang: str = "en") -> str:
        return self.zh if lang == "zh" else self.en
