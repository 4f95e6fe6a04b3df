"""Courses of action: a request's options and each assembly's votes among the courses."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base, UTCDateTime, utcnow


class CourseSet(Base):
    """The options of a plan of purpose ``courses``: how many courses, within what slack."""

    __tablename__ = "course_sets"
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    slack: Mapped[float] = mapped_column(Float)


class CourseVote(Base):
    """One assembly's citizens' votes among the courses (``votes[i]``: for option i) and abstentions."""

    __tablename__ = "course_votes"
    __table_args__ = (UniqueConstraint("plan_id", "municipality"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"), index=True)
    municipality: Mapped[str] = mapped_column(String(100))
    votes: Mapped[list] = mapped_column(JSON)
    abstain: Mapped[int] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String(200), default="")
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
