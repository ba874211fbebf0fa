"""The history's tables, as SQLAlchemy 2.0 typed models.

Portable types only (JSON, DateTime with time zone, String, Float), so the same models run on
SQLite at a workstation and on PostgreSQL for a plant.  Files (images, maps, banks) live in the
content-addressed store; rows hold their keys.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

MAX_LOT_LENGTH = 100
MAX_PROJECT_NAME_LENGTH = 200
MAX_OPERATOR_LENGTH = 200


class PathText(TypeDecorator[str]):
    """Text of a file path or name as the system gave it.  A name that is not valid UTF-8 (a share
    mounted with the wrong character set) reaches Python with stand-in characters that no database
    can store; its odd bytes are kept as ``\\xff`` escapes instead, so that the part is still
    inspected and its name still shows."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        """The text as stored: valid UTF-8, whatever the file system's bytes were."""
        if value is None:
            return None
        return value.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


class PathName(PathText):
    """``PathText`` in a column of limited length (a file's name)."""

    impl = String
    cache_ok = True


def utc_now() -> datetime:
    """Timestamps are stored in UTC."""
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """A stored time as an aware UTC time: SQLite gives it back without a zone (it is UTC), a database
    server in its own zone."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base of all history models."""

    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON, datetime: DateTime(timezone=True)}


class Project(Base):
    """One part type under inspection."""

    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(MAX_PROJECT_NAME_LENGTH), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    backbone: Mapped[str] = mapped_column(String(200), default="efficientnet-lite0")
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    archived_at: Mapped[datetime | None] = mapped_column(default=None)

    references: Mapped[list[ReferenceImage]] = relationship(back_populates="project", cascade="all, delete-orphan")


class ReferenceImage(Base):
    """A good image of the project's part, kept in the store."""

    __tablename__ = "reference_images"
    __table_args__ = (UniqueConstraint("project_id", "image_key", name="uq_reference_project_image"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    image_key: Mapped[str] = mapped_column(String(200))
    file_name: Mapped[str] = mapped_column(PathName(500), default="")
    added_at: Mapped[datetime] = mapped_column(default=utc_now)
    added_by: Mapped[str] = mapped_column(String(200), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    project: Mapped[Project] = relationship(back_populates="references")


class ReferenceBank(Base):
    """A built bank file for a project, the references it came from and its calibration."""

    __tablename__ = "reference_banks"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    bank_key: Mapped[str] = mapped_column(String(200))
    reference_keys: Mapped[list[Any]] = mapped_column(default=list)
    engine_version: Mapped[str] = mapped_column(String(50))
    config: Mapped[dict[str, Any]] = mapped_column(default=dict)
    calibration: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class Inspection(Base):
    """One inspected image with everything needed to show and explain it again."""

    __tablename__ = "inspections"
    __table_args__ = (
        # A project's or a bank's inspections in time order without sorting all of them (at 200 000
        # inspections the drift check after each part took 0.8 s): the latest inspection's bank, and
        # the drift check's first and latest windows.
        Index("ix_inspections_project_created", "project_id", "created_at", "id"),
        Index("ix_inspections_bank_created", "bank_id", "created_at", "id"),
        Index("ix_inspections_project_lot", "project_id", "lot"),  # the Lot field's suggestions
        Index("ix_inspections_source_path", "source_path"),  # a watch's catch-up: which files were inspected
        Index("ix_inspections_project_verdict", "project_id", "verdict", "id"),  # the history's verdict filters
        # A search of file, operator and lot reads this index instead of the rows (``HistoryFilter.text``).
        Index("ix_inspections_project_search", "project_id", "source_path", "operator", "lot"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    image_key: Mapped[str] = mapped_column(String(200), index=True)
    source_path: Mapped[str] = mapped_column(PathText, default="")
    created_at: Mapped[datetime] = mapped_column(default=utc_now, index=True)
    operator: Mapped[str] = mapped_column(String(MAX_OPERATOR_LENGTH), default="")
    # The lot, batch, order or shift the part belongs to, as the technician named it; "" for none.
    lot: Mapped[str] = mapped_column(String(MAX_LOT_LENGTH), default="", server_default="", index=True)
    raw_score: Mapped[float] = mapped_column(Float)
    score: Mapped[float] = mapped_column(Float)
    verdict: Mapped[str] = mapped_column(String(20), index=True)
    thresholds: Mapped[dict[str, Any]] = mapped_column(default=dict)
    map_key: Mapped[str] = mapped_column(String(200))
    facts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    bank_id: Mapped[int | None] = mapped_column(ForeignKey("reference_banks.id", ondelete="SET NULL"), index=True)
    engine_version: Mapped[str] = mapped_column(String(50))
    duration_ms: Mapped[float] = mapped_column(Float, default=0.0)
    # Set when the stored image copy was deleted to free disk space (db/retention.py); the row stays.
    image_removed_at: Mapped[datetime | None] = mapped_column(default=None)

    reviews: Mapped[list[Review]] = relationship(cascade="all, delete-orphan", order_by="Review.created_at")
    messages: Mapped[list[ChatMessage]] = relationship(cascade="all, delete-orphan", order_by="ChatMessage.id")


class Review(Base):
    """An operator's verdict override on an inspection."""

    __tablename__ = "reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspections.id", ondelete="CASCADE"), index=True)
    verdict: Mapped[str] = mapped_column(String(20))
    comment: Mapped[str] = mapped_column(Text, default="")
    operator: Mapped[str] = mapped_column(String(MAX_OPERATOR_LENGTH), default="")
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class ChatMessage(Base):
    """One turn of the conversation about an inspection."""

    __tablename__ = "chat_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspections.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    backend: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class AuditEvent(Base):
    """Who changed what and when."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utc_now, index=True)
    actor: Mapped[str] = mapped_column(String(200), default="")
    action: Mapped[str] = mapped_column(String(100))
    entity: Mapped[str] = mapped_column(String(100))
    entity_id: Mapped[int | None] = mapped_column(Integer, default=None)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
