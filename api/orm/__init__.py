"""SQLAlchemy 2 tables: the scenario's rows, plans and jobs, delegates, tokens, audit log."""

from api.orm._auth import AuditEntry, Delegate, Token
from api.orm._courses import CourseSet, CourseVote
from api.orm._plans import Comparison, Job, PlanRow, Tally
from api.orm._reconcile import Reconciliation, ReconciliationDecision
from api.orm._scenario import (
    TABLE_CLASSES,
    Capacity,
    Confederation,
    Endowment,
    Item,
    Limit,
    Link,
    Mandate,
    Municipality,
    Need,
    Process,
    ProcessIO,
    ScenarioRow,
    attr,
)

__all__ = [
    "TABLE_CLASSES",
    "AuditEntry",
    "Capacity",
    "Comparison",
    "Confederation",
    "CourseSet",
    "CourseVote",
    "Delegate",
    "Endowment",
    "Item",
    "Job",
    "Limit",
    "Link",
    "Mandate",
    "Municipality",
    "Need",
    "PlanRow",
    "Process",
    "ProcessIO",
    "Reconciliation",
    "ReconciliationDecision",
    "ScenarioRow",
    "Tally",
    "Token",
    "attr",
]
