"""Local logins and OAuth clients whose passwords and secrets this service checks."""

from __future__ import annotations

from sqlalchemy import Boolean, String
from sqlalchemy.orm import Mapped, mapped_column

from capi_packages.db.base import Base, GuidMixin, TimestampMixin


class Login(GuidMixin, TimestampMixin, Base):
    """A credential: `kind` is `user` (password grant) or `client` (client_credentials grant).

    A user login's guid is its Cloud Foundry user's guid (the tokens' `user_id`); a client acts
    as the user whose guid is its client id, as CC treats client tokens.
    """

    __tablename__ = "logins"

    username: Mapped[str] = mapped_column(String(255), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    admin: Mapped[bool] = mapped_column(Boolean, default=False)
    kind: Mapped[str] = mapped_column(String(16), default="user")
