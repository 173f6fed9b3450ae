"""Errors the user can act on, worded in Chinese and English (one argument order: zh, en).

A typed hierarchy in the manner of pygeoapi's provider errors: ``GansuError`` is the base every
layer raises and every entry point catches (the UI shows ``message(lang)``, the CLI prints both
languages and exits with code 2).

- ``InputError``: unusable input (file, CRS, geometry, table, option).
- ``UploadError``: a problem found while reading a file (any reader of the registry, for the UI
  and the CLI alike).
"""
from __future__ import annotations

from core.text import Text


class GansuError(Exception):
    """Base of every user-facing error: ``zh`` and ``en`` hold the two messages."""

    def __init__(self, zh: str, en: str | None = None):
        self.zh = zh
        self.en = en or zh
        super().__init__(f"{self.en}\n{self.zh}")

    @property
    def text(self) -> Text:
        return Text(self.zh, self.en)

    def message(self, lang: str = "zh") -> str:
        return self.en if lang == "en" else self.zh

    def set_text(self, zh: str, en: str) -> None:
        """Reword the message (e.g. to prefix a cause found later)."""
        self.zh, self.en = zh, en
        self.args = (f"{self.en}\n{self.zh}",)


class InputError(GansuError):
    """Unusable input (file, CRS, geometry, table, option)."""


class UploadError(InputError):
    """A problem with a user's file, found by a reader."""


class PermissionDenied(GansuError):
    """The acting user may not do this (not signed in, role too low, someone else's item, account
    locked or disabled). Raised by the store on the server side, whatever the UI showed."""
