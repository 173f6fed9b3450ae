"""Stores with accounts for the accounts tests, and signing in through the page's form."""
from __future__ import annotations

from pathlib import Path

from storage import accounts
from storage.accounts import SHELL
from storage.store import Store


def accounts_store(path: Path, password: str, *more: tuple[str, str]) -> Store:
    """A store at ``path`` with ``root`` (admin) and ``ed1`` (editor, office 一处), then each
    (name, role) of ``more``, all with ``password``; added by the shell, as an operator would."""
    store = Store(path)
    accounts.add(store, "root", password, "admin", actor=SHELL)
    accounts.add(store, "ed1", password, "editor", office="一处", actor=SHELL)
    for name, role in more:
        accounts.add(store, name, password, role, actor=SHELL)
    return store


def sign_in(at, name: str, password: str):
    """Sign in through the main login form of an AppTest page, as a user types it."""
    at.text_input(key="auth_name_main").input(name)
    at.text_input(key="auth_password_main").input(password)
    at.button(key="FormSubmitter:auth_form_main-Sign in").click()
    return at.run()
