"""cf users, processes, metadata on orgs/spaces/apps/users/processes, app environment variables

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 21:00:00.000000

Local logins move from `users` to `logins`; `users` becomes the Cloud Foundry users table. Every
login keeps its guid as its user's guid (origin `uaa`), and every user guid a role names becomes
a user, so no login and no role is lost. Existing apps get their `web` process.
"""

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

METADATA_PARENTS = {
    "organization": "organizations",
    "space": "spaces",
    "app": "apps",
    "user": "users",
    "process": "processes",
}


def _timestamps() -> list[sa.Column[Any]]:
    return [
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("guid", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    ]


def _guid_indexes(table: str) -> None:
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.create_index(batch_op.f(f"ix_{table}_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f(f"ix_{table}_guid"), ["guid"], unique=True)
        batch_op.create_index(batch_op.f(f"ix_{table}_updated_at"), ["updated_at"], unique=False)


def _create_logins() -> None:
    op.create_table(
        "logins",
        sa.Column("username", sa.String(length=255), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("admin", sa.Boolean(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_logins")),
        sa.UniqueConstraint("username", name=op.f("uq_logins_username")),
    )
    _guid_indexes("logins")


def _drop_table_with_indexes(table: str) -> None:
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.drop_index(batch_op.f(f"ix_{table}_updated_at"))
        batch_op.drop_index(batch_op.f(f"ix_{table}_guid"))
        batch_op.drop_index(batch_op.f(f"ix_{table}_created_at"))
    op.drop_table(table)


def _create_metadata_tables(resource: str, parent: str) -> None:
    for kind in ("labels", "annotations"):
        table = f"{resource}_{kind}"
        op.create_table(
            table,
            sa.Column("resource_guid", sa.String(length=255), nullable=False),
            sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("key_prefix", sa.String(length=253), nullable=False),
            sa.Column("key_name", sa.String(length=63), nullable=False),
            sa.Column("value", sa.Text(), nullable=True),
            sa.ForeignKeyConstraint(
                ["resource_guid"],
                [f"{parent}.guid"],
                name=op.f(f"fk_{table}_resource_guid_{parent}"),
                ondelete="CASCADE",
            ),
            sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
            sa.UniqueConstraint("resource_guid", "key_prefix", "key_name", name=f"uq_{table}_key"),
        )
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(batch_op.f(f"ix_{table}_resource_guid"), ["resource_guid"], unique=False)


def upgrade() -> None:
    bind = op.get_bind()
    now = datetime.now(UTC).replace(tzinfo=None)

    _create_logins()
    bind.execute(
        sa.text(
            "INSERT INTO logins (guid, username, password_hash, admin, kind, created_at, updated_at) "
            "SELECT guid, username, password_hash, admin, kind, created_at, updated_at FROM users ORDER BY id"
        )
    )
    local_users = bind.execute(
        sa.text("SELECT guid, username, created_at, updated_at FROM users WHERE kind = 'user' ORDER BY id")
    ).all()
    _drop_table_with_indexes("users")

    op.create_table(
        "users",
        sa.Column("username", sa.String(length=255), nullable=True),
        sa.Column("origin", sa.String(length=255), nullable=True),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", "origin", name="uq_users_username_origin"),
    )
    _guid_indexes("users")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_users_username"), ["username"], unique=False)

    users = sa.table(
        "users",
        sa.column("guid", sa.String),
        sa.column("username", sa.String),
        sa.column("origin", sa.String),
        sa.column("created_at", sa.DateTime),
        sa.column("updated_at", sa.DateTime),
    )
    rows = [
        {
            "guid": u.guid,
            "username": u.username,
            "origin": "uaa",
            "created_at": u.created_at,
            "updated_at": u.updated_at,
        }
        for u in local_users
    ]
    known = {u.guid for u in local_users}
    for (guid,) in bind.execute(sa.text("SELECT DISTINCT user_guid FROM roles ORDER BY user_guid")):
        if guid not in known:
            rows.append({"guid": guid, "username": None, "origin": None, "created_at": now, "updated_at": now})
    if rows:
        op.bulk_insert(users, rows)

    with op.batch_alter_table("roles", schema=None) as batch_op:
        batch_op.create_foreign_key(
            batch_op.f("fk_roles_user_guid_users"), "users", ["user_guid"], ["guid"], ondelete="CASCADE"
        )

    with op.batch_alter_table("apps", schema=None) as batch_op:
        batch_op.add_column(sa.Column("environment_variables", sa.JSON(), nullable=True))
    bind.execute(sa.text("UPDATE apps SET environment_variables = '{}'"))
    with op.batch_alter_table("apps", schema=None) as batch_op:
        batch_op.alter_column("environment_variables", existing_type=sa.JSON(), nullable=False)

    op.create_table(
        "processes",
        sa.Column("app_guid", sa.String(length=255), nullable=False),
        sa.Column("type", sa.String(length=255), nullable=False),
        sa.Column("version", sa.String(length=255), nullable=False),
        sa.Column("command", sa.Text(), nullable=True),
        sa.Column("user", sa.String(length=255), nullable=True),
        sa.Column("instances", sa.Integer(), nullable=False),
        sa.Column("memory_in_mb", sa.Integer(), nullable=False),
        sa.Column("disk_in_mb", sa.Integer(), nullable=False),
        sa.Column("log_rate_limit", sa.BigInteger(), nullable=False),
        sa.Column("health_check_type", sa.String(length=32), nullable=False),
        sa.Column("health_check_endpoint", sa.Text(), nullable=True),
        sa.Column("health_check_timeout", sa.Integer(), nullable=True),
        sa.Column("health_check_invocation_timeout", sa.Integer(), nullable=True),
        sa.Column("health_check_interval", sa.Integer(), nullable=True),
        sa.Column("readiness_health_check_type", sa.String(length=32), nullable=False),
        sa.Column("readiness_health_check_endpoint", sa.Text(), nullable=True),
        sa.Column("readiness_health_check_invocation_timeout", sa.Integer(), nullable=True),
        sa.Column("readiness_health_check_interval", sa.Integer(), nullable=True),
        *_timestamps(),
        sa.ForeignKeyConstraint(
            ["app_guid"], ["apps.guid"], name=op.f("fk_processes_app_guid_apps"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_processes")),
        sa.UniqueConstraint("app_guid", "type", name="uq_processes_app_guid_type"),
    )
    _guid_indexes("processes")
    with op.batch_alter_table("processes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_processes_app_guid"), ["app_guid"], unique=False)

    processes = sa.table(
        "processes",
        *(
            sa.column(name)
            for name in [
                "guid",
                "app_guid",
                "type",
                "version",
                "instances",
                "memory_in_mb",
                "disk_in_mb",
                "log_rate_limit",
                "health_check_type",
                "readiness_health_check_type",
                "created_at",
                "updated_at",
            ]
        ),
    )
    web = [
        {
            "guid": guid,
            "app_guid": guid,
            "type": "web",
            "version": str(uuid.uuid4()),
            "instances": 1,
            "memory_in_mb": 1024,
            "disk_in_mb": 1024,
            "log_rate_limit": -1,
            "health_check_type": "port",
            "readiness_health_check_type": "process",
            "created_at": now,
            "updated_at": now,
        }
        for (guid,) in bind.execute(sa.text("SELECT guid FROM apps ORDER BY id"))
    ]
    if web:
        op.bulk_insert(processes, web)

    for resource, parent in METADATA_PARENTS.items():
        _create_metadata_tables(resource, parent)


def downgrade() -> None:
    bind = op.get_bind()
    for resource in reversed(METADATA_PARENTS):
        for kind in ("annotations", "labels"):
            table = f"{resource}_{kind}"
            with op.batch_alter_table(table, schema=None) as batch_op:
                batch_op.drop_index(batch_op.f(f"ix_{table}_resource_guid"))
            op.drop_table(table)
    with op.batch_alter_table("processes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_processes_app_guid"))
    _drop_table_with_indexes("processes")
    with op.batch_alter_table("apps", schema=None) as batch_op:
        batch_op.drop_column("environment_variables")
    with op.batch_alter_table("roles", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_roles_user_guid_users"), type_="foreignkey")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_users_username"))
    _drop_table_with_indexes("users")

    op.create_table(
        "users",
        sa.Column("username", sa.String(length=255), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("admin", sa.Boolean(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    _guid_indexes("users")
    bind.execute(
        sa.text(
            "INSERT INTO users (guid, username, password_hash, admin, kind, created_at, updated_at) "
            "SELECT guid, username, password_hash, admin, kind, created_at, updated_at FROM logins ORDER BY id"
        )
    )
    _drop_table_with_indexes("logins")
