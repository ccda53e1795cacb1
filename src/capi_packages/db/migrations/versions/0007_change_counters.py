"""change counters: moved by triggers whenever the rows behind a package list change

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 06:10:00.000000
"""

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COUNTER = "packages"
TABLES = ("packages", "package_labels", "package_annotations", "apps", "spaces", "organizations")
EVENTS = ("INSERT", "UPDATE", "DELETE")
FUNCTION = "capi_count_package_list_change"


def upgrade() -> None:
    op.create_table(
        "change_counters",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_change_counters")),
    )
    start = secrets.randbits(52)
    op.execute(sa.text("INSERT INTO change_counters (name, value) VALUES (:n, :v)").bindparams(n=COUNTER, v=start))
    if op.get_bind().dialect.name == "postgresql":
        _postgresql_triggers()
    else:
        _sqlite_triggers()


def _sqlite_triggers() -> None:
    # SQLite has one writer at a time, so a row trigger bumping the counter costs no concurrency.
    for table in TABLES:
        for event in EVENTS:
            op.execute(
                f"CREATE TRIGGER tr_{table}_{event.lower()}_counts AFTER {event} ON {table} "  # noqa: S608 (constants)
                f"BEGIN UPDATE change_counters SET value = value + 1 WHERE name = '{COUNTER}'; END"
            )


def _postgresql_triggers() -> None:
    # Deferred to commit, and once per transaction: the counter row is the last lock a writer takes
    # (no lock cycle with the rows it wrote), held only while it commits.
    op.execute(f"""
        CREATE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'TRUNCATE'
               OR current_setting('capi.package_list_counted', true) IS DISTINCT FROM txid_current()::text THEN
                UPDATE change_counters SET value = value + 1 WHERE name = '{COUNTER}';
                PERFORM set_config('capi.package_list_counted', txid_current()::text, true);
            END IF;
            RETURN NULL;
        END $$
    """)  # noqa: S608 (constants)
    for table in TABLES:
        op.execute(
            f"CREATE CONSTRAINT TRIGGER tr_{table}_counts AFTER INSERT OR UPDATE OR DELETE ON {table} "
            f"DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION {FUNCTION}()"
        )
        op.execute(f"CREATE TRIGGER tr_{table}_truncate_counts AFTER TRUNCATE ON {table} EXECUTE FUNCTION {FUNCTION}()")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS tr_{table}_counts ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS tr_{table}_truncate_counts ON {table}")
        op.execute(f"DROP FUNCTION IF EXISTS {FUNCTION}()")
    else:
        for table in TABLES:
            for event in EVENTS:
                op.execute(f"DROP TRIGGER IF EXISTS tr_{table}_{event.lower()}_counts")
    op.drop_table("change_counters")
