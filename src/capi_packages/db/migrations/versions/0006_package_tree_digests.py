"""package tree digests: what each READY bits package holds, for /x/apps/{guid}/push_matches

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 00:04:35.978811
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "package_trees",
        sa.Column("package_guid", sa.String(length=255), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["package_guid"],
            ["packages.guid"],
            name=op.f("fk_package_trees_package_guid_packages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("package_guid", name=op.f("pk_package_trees")),
    )
    with op.batch_alter_table("package_trees", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_package_trees_digest"), ["digest"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("package_trees", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_package_trees_digest"))
    op.drop_table("package_trees")
