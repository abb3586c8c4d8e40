"""JakMentor's data model: SQLAlchemy 2 typed models, the engine/session factory and Alembic migrations.

Nothing here imports Flask or commits: callers own their transactions.
"""

from models.base import Base, utcnow
from models.people import ApiToken, Entrepreneur, Mentor, Role, User, UserSession
from models.programme import (
    BOOKED_SESSION_STATES,
    AuditLog,
    CohortRun,
    JobRun,
    Match,
    MatchRequest,
    MentoringSession,
    Notification,
    PasProgress,
    Room,
    SessionFeedback,
    StatusChange,
)
from models.reference import Kecamatan, Kelurahan, Kota, PasStep, Sector, Stage, SupportArea

__all__ = [
    "BOOKED_SESSION_STATES",
    "ApiToken",
    "AuditLog",
    "Base",
    "CohortRun",
    "Entrepreneur",
    "JobRun",
    "Kecamatan",
    "Kelurahan",
    "Kota",
    "Match",
    "MatchRequest",
    "Mentor",
    "MentoringSession",
    "Notification",
    "PasProgress",
    "PasStep",
    "Role",
    "Room",
    "Sector",
    "SessionFeedback",
    "Stage",
    "StatusChange",
    "SupportArea",
    "User",
    "UserSession",
    "utcnow",
]
