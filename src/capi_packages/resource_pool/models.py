"""The resource pool index: which sha1s the blobstore's pool holds, so matching is one query."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from capi_packages.db.base import Base, utcnow


class ResourcePoolEntry(Base):
    __tablename__ = "resource_pool"

    sha1: Mapped[str] = mapped_column(String(40), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
