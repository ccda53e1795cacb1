"""audit events: who did what to which resource (/v3/audit_events)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 20:54:48.142885
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_events",
        sa.Column("type", sa.String(length=255), nullable=False),
        sa.Column("actor_guid", sa.String(length=255), nullable=False),
        sa.Column("actor_type", sa.String(length=255), nullable=False),
        sa.Column("actor_name", sa.String(length=255), nullable=False),
        sa.Column("actor_username", sa.String(length=255), nullable=False),
        sa.Column("target_guid", sa.String(length=255), nullable=False),
        sa.Column("target_type", sa.String(length=255), nullable=False),
        sa.Column("target_name", sa.String(length=255), nullable=False),
        sa.Column("space_guid", sa.String(length=255), nullable=True),
        sa.Column("organization_guid", sa.String(length=255), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("guid", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_events_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_events_guid"), ["guid"], unique=True)
        batch_op.create_index(batch_op.f("ix_audit_events_organization_guid"), ["organization_guid"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_events_space_guid"), ["space_guid"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_events_target_guid"), ["target_guid"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_events_type"), ["type"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_events_updated_at"), ["updated_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_events_updated_at"))
        batch_op.drop_index(batch_op.f("ix_audit_events_type"))
        batch_op.drop_index(batch_op.f("ix_audit_events_target_guid"))
        batch_op.drop_index(batch_op.f("ix_audit_events_space_guid"))
        batch_op.drop_index(batch_op.f("ix_audit_events_organization_guid"))
        batch_op.drop_index(batch_op.f("ix_audit_events_guid"))
        batch_op.drop_index(batch_op.f("ix_audit_events_created_at"))

    op.drop_table("audit_events")
