"""Local users and OAuth clients whose passwords and secrets this service checks."""

from __future__ import annotations

from sqlalchemy import Boolean, String
from sqlalchemy.orm import Mapped, mapped_column

from capi_packages.db.base import Base, GuidMixin, TimestampMixin


class User(GuidMixin, TimestampMixin, Base):
    """A login: `kind` is `user` (password grant) or `client` (client_credentials grant)."""

    __tablename__ = "users"

    username: Mapped[str] = mapped_column(String(255), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    admin: Mapped[bool] = mapped_column(Boolean, default=False)
    kind: Mapped[str] = mapped_column(String(16), default="user")
