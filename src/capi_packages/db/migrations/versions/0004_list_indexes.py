"""list indexes: label selectors from the index alone, timestamp orders with their guid tie-break

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 21:21:27.799623
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The unique (resource_guid, key_prefix, key_name) keys already lead with resource_guid.
    op.drop_index("ix_package_annotations_resource_guid", table_name="package_annotations")
    op.drop_index("ix_package_labels_resource_guid", table_name="package_labels")
    op.create_index(
        "ix_package_labels_selector", "package_labels", ["key_prefix", "key_name", "value", "resource_guid"]
    )
    op.drop_index("ix_packages_created_at", table_name="packages")
    op.drop_index("ix_packages_updated_at", table_name="packages")
    op.create_index("ix_packages_created_at_guid", "packages", ["created_at", "guid"])
    op.create_index("ix_packages_updated_at_guid", "packages", ["updated_at", "guid"])


def downgrade() -> None:
    op.drop_index("ix_packages_updated_at_guid", table_name="packages")
    op.drop_index("ix_packages_created_at_guid", table_name="packages")
    op.create_index("ix_packages_updated_at", "packages", ["updated_at"])
    op.create_index("ix_packages_created_at", "packages", ["created_at"])
    op.drop_index("ix_package_labels_selector", table_name="package_labels")
    op.create_index("ix_package_labels_resource_guid", "package_labels", ["resource_guid"])
    op.create_index("ix_package_annotations_resource_guid", "package_annotations", ["resource_guid"])
