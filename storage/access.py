"""Who may change what in the store: the four access levels, the ``mutating`` mark every writing
Store method carries, and ``AccessChecks`` (a part of ``Store``) that turns an actor into a
principal checked against the accounts, refuses with a bilingual ``PermissionDenied`` and logs the
refusal. A store without any account is single-user: everyone acts with full rights."""
from __future__ import annotations

from core.errors import PermissionDenied
from storage import accounts, audit
from storage.accounts import Principal

# who may call which mutating method (checked inside each method, on the server side):
#   open   — anyone, signed in or not (caches of computed results, the catalog mirror)
#   editor — an editor or admin (new items of their own)
#   owner  — the item's owner (editor) or an admin
#   admin  — an admin (official layers, the data in use, emptying the bin, accounts)
ACCESS_LEVELS = ("open", "editor", "owner", "admin")


def mutating(level: str):
    """Mark a Store method that writes: ``tests/test_accounts_roles.py`` finds every method that
    opens a transaction and requires this mark and a refusal for a viewer."""
    assert level in ACCESS_LEVELS

    def deco(fn):
        fn.access = level
        return fn
    return deco


class AccessChecks:
    """The role and ownership checks of ``Store`` (one of its parts: ``self`` is the store)."""

    # --- who acts (accounts, roles, ownership) ---------------------------------------------------
    def single_user(self) -> bool:
        """No account in the store: a laptop, everyone acts with full rights (as before accounts)."""
        return not accounts.any_account(self)

    def principal(self, actor) -> Principal | None:
        """The acting user, checked against the store: None = not signed in. Single-user mode (no
        account): anyone, with full rights, under the given name or "local" (``ui.serve`` offers
        that on a network address only with ``GANSU_SINGLE_USER=1``). With accounts only a
        ``Principal`` counts (the UI's session, the shell, single sign-on); a password account and a
        single sign-on identity (``sso:<email>``, its row made at its first sign-in) are re-read
        (role, office, disabled) on every call."""
        if self.single_user():
            if isinstance(actor, Principal) and actor.source == "local":
                return actor
            return Principal(str(actor or "local"), "admin", getattr(actor, "office", None), "local")
        if not isinstance(actor, Principal):  # a bare name proves nothing once accounts exist
            return None
        if actor.source == "shell":
            return actor
        if actor.source == "oidc" and str(actor).startswith(accounts.SSO_PREFIX):
            return accounts.principal_for(self, str(actor), "oidc")
        if actor.source != "password":
            return None
        return accounts.principal_for(self, str(actor))  # role, office and "disabled" as stored now

    def allowed(self, actor, need: str, owner: str | None = None) -> bool:
        """Whether ``authorize`` would let ``actor`` do ``need`` (the UI shows only allowed controls)."""
        return self._refusal(self.principal(actor), need, owner) is None

    @staticmethod
    def _refusal(p: Principal | None, need: str, owner: str | None) -> PermissionDenied | None:
        if need == "open":
            return None
        if p is None:
            return PermissionDenied("请先登录：更改数据需要账户。", "sign in first: changing data needs an account.")
        if need == "admin" and not p.at_least("admin"):
            return PermissionDenied("只有管理员可以执行此操作。", "only an admin can do this.")
        if not p.at_least("editor"):
            return PermissionDenied("查看者账户不能更改数据（需要编辑者或管理员）。",
                                    "a viewer account cannot change data (editor or admin needed).")
        if need == "owner" and not p.at_least("admin") and (owner or "") != str(p):
            return PermissionDenied(f"这不是您的条目（所有者：{owner or '—'}）：只有所有者或管理员可以更改。",
                                    f"this is not your item (owner: {owner or '—'}): only its owner or an admin can change it.")
        return None

    def authorize(self, actor, need: str, owner: str | None = None, what: str = "") -> Principal:
        """The principal allowed to do ``need`` (an ``ACCESS_LEVELS`` entry) on an item owned by
        ``owner``; otherwise PermissionDenied, and the refusal is logged. Never inside a transaction."""
        p = self.principal(actor)
        err = self._refusal(p, need, owner)
        if err is None:
            return p or Principal("anonymous", "viewer", None, "anonymous")
        audit.log(self, p or "anonymous", "denied", what.split(":")[0] or "store",
                  what.split(":", 1)[1] if ":" in what else None, details={"need": need, "owner": owner})
        raise err

    def owner_of(self, table: str, key_col: str, key: str) -> str | None:
        """Who created the row of ``table`` whose ``key_col`` is ``key`` (None: no such row)."""
        df = self.query_df(f"SELECT created_by FROM {table} WHERE {key_col} = ?", [key])
        return None if df.empty else df["created_by"].iloc[0]
