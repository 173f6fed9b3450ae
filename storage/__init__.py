"""The store: persistence of everything users make on the shared server — the DuckDB store (role
checks, ownership, recycle bin), accounts (scrypt hashes, lockout, single sign-on, recovery codes),
the append-only audit log, the inbox, official statistics, and the workspace (datasets, mosaics,
display copies, the data in use).

May import: ``core`` and ``layers`` (the readers and the catalog) only.
"""
