"""Scenario metadata (scenario.yaml): name, period, description, policy."""

from __future__ import annotations

import datetime
import math
import re
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from models._normalise import CONTROL
from models._policy import PolicyError, check_rule, split_stages, stage_list
from models._problems import Problem

META_KEYS = ("name", "period", "description", "policy")


class Policy(BaseModel):
    """How the plan is chosen: a named rule, or its own ordered stages."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rule: str = "leximin"
    stages: list[str] | None = None
    tolerance: float = Field(default=0.0, ge=0.0)

    @field_validator("rule")
    @classmethod
    def _known_rule(cls, v: str) -> str:
        try:
            return check_rule(v)
        except PolicyError as e:
            raise ValueError(str(e)) from None

    @field_validator("stages", mode="before")
    @classmethod
    def _split_stages(cls, v: Any) -> Any:
        return split_stages(v)

    @field_validator("stages")
    @classmethod
    def _known_stages(cls, v: list[str] | None, info: ValidationInfo) -> list[str] | None:
        if v is not None:
            try:
                stage_list(info.data.get("rule", "leximin"), v)
            except PolicyError as e:
                raise ValueError(str(e)) from None
        return v

    @field_validator("tolerance")
    @classmethod
    def _finite(cls, v: float) -> float:
        if not math.isfinite(v):
            raise ValueError("must be finite")
        return float(v) + 0.0


class ScenarioMeta(BaseModel):
    """The content of scenario.yaml."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1)
    period: str = ""
    description: str = ""
    policy: Policy = Policy()

    @field_validator("name", "period", "description", mode="before")
    @classmethod
    def _text(cls, v: Any) -> Any:
        if v is None:
            return ""
        if isinstance(v, bool):
            return v
        if isinstance(v, int | float):
            return str(int(v)) if float(v).is_integer() else str(v)
        if isinstance(v, datetime.datetime) and v.time() == datetime.time():
            v = v.date()  # a date typed into a spreadsheet cell
        if isinstance(v, datetime.date):  # YAML reads 2025-01-01 as a date
            return v.isoformat()
        if isinstance(v, str):
            v = re.sub("\r\n?", "\n", v.strip())
            if re.search(CONTROL, v) or re.search("[\ud800-\udfff]", v):
                raise ValueError("contains a control character or lone surrogate")
        return v

    @field_validator("policy", mode="before")
    @classmethod
    def _policy(cls, v: Any) -> Any:
        if v is None:
            return Policy()
        if isinstance(v, str):  # shorthand: `policy: utilitarian`
            return {"rule": v}
        return v

    def to_dict(self) -> dict:
        """Plain dict in scenario.yaml's shape (empty optional keys left out)."""
        policy = {"rule": self.policy.rule, "tolerance": self.policy.tolerance}
        if self.policy.stages is not None:
            policy["stages"] = list(self.policy.stages)
        out: dict[str, Any] = {"name": self.name}
        if self.period:
            out["period"] = self.period
        if self.description:
            out["description"] = self.description
        out["policy"] = policy
        return out


def parse_meta(
    raw: Any, file: str, lines: dict[str, int] | None = None
) -> tuple[ScenarioMeta | None, list[Problem]]:
    """Validate scenario metadata, turning pydantic errors into Problems.

    ``lines`` maps dotted keys to the row to report (YAML line, sheet row).
    """
    lines = lines or {}
    if isinstance(raw, ScenarioMeta):
        return raw, []
    if raw is None:  # absent: the reader has said so already
        return None, []
    if not isinstance(raw, dict):
        return None, [
            Problem(
                file,
                0,
                "-",
                f"scenario metadata must be a mapping with keys {', '.join(META_KEYS)}",
            )
        ]
    problems = []
    unknown = [k for k in raw if k not in META_KEYS]
    for k in unknown:
        problems.append(
            Problem(
                file,
                lines.get(str(k), 0),
                str(k),
                f"unknown key (known: {', '.join(META_KEYS)}); ignored",
                "warning",
            )
        )
    data = {k: v for k, v in raw.items() if k in META_KEYS}
    try:
        return ScenarioMeta(**data), problems
    except ValidationError as e:
        for err in e.errors():
            key = ".".join(str(p) for p in err["loc"] if not isinstance(p, int))
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "missing":
                msg = "required key is missing"
            elif err["type"] == "extra_forbidden":
                msg = "unknown key"
            elif key == "name" and err["type"] == "string_too_short":
                msg = "must not be empty"
            elif err["type"] == "greater_than_equal":
                msg = f"must not be negative (got {err['input']!r})"
            problems.append(
                Problem(file, lines.get(key, lines.get(key.split(".")[0], 0)), key, msg)
            )
        return None, problems
