"""A per-user version of card_state, bumped by the database on every change to a user's cards.

GET /api/next read every card of the user on every request (a year of study: a card per
question, ~27% of the request's Python time). Each worker now keeps the cards it has read, keyed
by (user, version), and reads only this one indexed row per request (app/services.py,
``user_cards``). The bump is done by triggers, so no write path (the API, imports, a second
worker or process, a hand-written UPDATE) can change a card and leave the version behind.

A row is never deleted (no foreign key to "user": it may outlive its user), so a version never
goes back to a value a worker may have cached; a user with no row is version 0.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# SQLite: no conflict clause in the trigger body. An outer statement's clause (INSERT OR REPLACE
# INTO card_state ...) would override it, and REPLACE would reset the version to where a cached
# one may be.
_SQLITE_BUMP = (
    "INSERT INTO card_version (user_id, version) SELECT {row}.user_id, 0 "
    "WHERE NOT EXISTS (SELECT 1 FROM card_version WHERE user_id = {row}.user_id); "
    "UPDATE card_version SET version = version + 1 WHERE user_id = {row}.user_id;"
)
# name: (event, WHEN condition or "", body)
_SQLITE_TRIGGERS = {
    "insert": ("INSERT", "", _SQLITE_BUMP.format(row="NEW")),
    "delete": ("DELETE", "", _SQLITE_BUMP.format(row="OLD")),
    "update": ("UPDATE", "", _SQLITE_BUMP.format(row="NEW")),
    # A row that changes hands changes both users' cards (nothing does that; nothing can forget).
    "update_owner": (
        "UPDATE",
        "WHEN NEW.user_id IS NOT OLD.user_id",
        _SQLITE_BUMP.format(row="OLD"),
    ),
}

_PG_FUNCTION = """
CREATE FUNCTION card_version_bump() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        UPDATE card_version SET version = version + 1;
        RETURN NULL;
    END IF;
    IF TG_OP <> 'INSERT' THEN
        INSERT INTO card_version AS v (user_id, version) VALUES (OLD.user_id, 1)
        ON CONFLICT (user_id) DO UPDATE SET version = v.version + 1;
    END IF;
    IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.user_id IS DISTINCT FROM OLD.user_id) THEN
        INSERT INTO card_version AS v (user_id, version) VALUES (NEW.user_id, 1)
        ON CONFLICT (user_id) DO UPDATE SET version = v.version + 1;
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql
"""


def upgrade() -> None:
    op.create_table(
        "card_version",
        sa.Column("user_id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
    )
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name, (event, when, body) in _SQLITE_TRIGGERS.items():
            op.execute(
                f"CREATE TRIGGER card_version_{name} AFTER {event} ON card_state "
                f"FOR EACH ROW {when} BEGIN {body} END"
            )
    elif dialect == "postgresql":
        op.execute(_PG_FUNCTION)
        op.execute(
            "CREATE TRIGGER card_version_bump AFTER INSERT OR UPDATE OR DELETE ON card_state "
            "FOR EACH ROW EXECUTE FUNCTION card_version_bump()"
        )
        # TRUNCATE fires no row trigger: bump every user.
        op.execute(
            "CREATE TRIGGER card_version_truncate AFTER TRUNCATE ON card_state "
            "FOR EACH STATEMENT EXECUTE FUNCTION card_version_bump()"
        )
    else:  # a database with no triggers here: the app never caches cards on it
        pass


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name in _SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS card_version_{name}")
    elif dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS card_version_truncate ON card_state")
        op.execute("DROP TRIGGER IF EXISTS card_version_bump ON card_state")
        op.execute("DROP FUNCTION IF EXISTS card_version_bump()")
    op.drop_table("card_version")
