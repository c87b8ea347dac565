"""One canonical username (lower case), enforced by the database; an index for the per-address
login throttle.

Usernames were unique as typed but matched case-insensitively at login, so "Zed" registered first
locked "zed" out for good. Existing names are lower-cased; where two differ only in case, the
older account keeps the name and each later one becomes ``<name>-<id>`` (it could not log in
anyway: the login always found the older account first).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SQLITE_TRIGGER = (
    'CREATE TRIGGER user_username_canonical_{op} BEFORE {op} ON "user" '
    "WHEN NEW.username <> lower(NEW.username) "
    "BEGIN SELECT RAISE(ABORT, 'username must be lower case'); END"
)


def _canonical_names(rows: list[tuple[int, str]]) -> dict[int, str]:
    """id -> new name, for every row whose name changes (rows in id order: the oldest wins)."""
    originals = {name.lower() for _, name in rows}
    kept: set[str] = set()
    changes: dict[int, str] = {}
    for uid, name in rows:
        new = name.lower()
        if new in kept:
            new = f"{new}-{uid}"
            while new in kept or new in originals:
                new += "x"
        kept.add(new)
        if new != name:
            changes[uid] = new
    return changes


def upgrade() -> None:
    conn = op.get_bind()
    user = sa.table("user", sa.column("id", sa.Integer), sa.column("username", sa.String))
    rows = [tuple(r) for r in conn.execute(sa.select(user.c.id, user.c.username).order_by("id"))]
    changes = _canonical_names(rows)  # type: ignore[arg-type]
    # Two passes, so that no intermediate state breaks the unique index.
    for uid in changes:
        conn.execute(user.update().where(user.c.id == uid).values(username=f"~renaming~{uid}"))
    for uid, name in changes.items():
        conn.execute(user.update().where(user.c.id == uid).values(username=name))
    if conn.dialect.name == "sqlite":
        # SQLite cannot add a CHECK to an existing table without rebuilding it (which the foreign
        # keys pointing at "user" forbid here); triggers refuse the same rows.
        for op_name in ("INSERT", "UPDATE"):
            op.execute(_SQLITE_TRIGGER.format(op=op_name))
    else:
        op.create_check_constraint("ck_user_username_lower", "user", "username = lower(username)")
    op.create_index("ix_login_attempt_ip", "login_attempt", ["ip"])


def downgrade() -> None:
    op.drop_index("ix_login_attempt_ip", table_name="login_attempt")
    if op.get_bind().dialect.name == "sqlite":
        for op_name in ("INSERT", "UPDATE"):
            op.execute(f"DROP TRIGGER IF EXISTS user_username_canonical_{op_name}")
    else:
        op.drop_constraint("ck_user_username_lower", "user", type_="check")
