"""The one grammar of rules and stages (SPEC section 4), used everywhere.

Validation, the planner, the command line, the API and the pages all read
stage lists through :func:`stage_list` and rules through :func:`check_rule`,
so a stage list is accepted or refused everywhere alike, with one message.

Stage names:

``needs:tierN`` (N = 1, 2, 3)
    tier N under the policy's rule (leximin unless the rule says otherwise);
``leximin:tierN``, ``utilitarian:tierN``, ``proportional:tierN``, ``equal_per_capita:tierN``
    tier N under that rule, whatever the policy's rule;
``needs:full``
    every need met in full, a hard requirement (what rule ``min_labour_full`` starts with);
``min_labour``, ``fair_burden``, ``min_transport``
    least total labour; leximin of labour shares from the most burdened down;
    least labour spent moving goods.

Rules (presets; each replaces the need stages and keeps the last three):
``leximin``, ``utilitarian``, ``proportional``, ``equal_per_capita``,
``min_labour_full`` (``needs:full`` then the last three).
"""

from __future__ import annotations

from dataclasses import dataclass

NEED_RULES = ("leximin", "utilitarian", "proportional", "equal_per_capita")
"""Rules that treat one tier at a time."""
RULES = (*NEED_RULES, "min_labour_full")
"""Named policy presets."""
TAIL = ("min_labour", "fair_burden", "min_transport")
"""The stages every rule ends with."""
TIERS = (1, 2, 3)
STAGES = ("needs:tier1", "needs:tier2", "needs:tier3", "needs:full", *TAIL)
"""Stage names listed as such; ``<rule>:tierN`` is also accepted for each rule of NEED_RULES."""


class PolicyError(ValueError):
    """A rule or stage list that cannot be understood; the message says what is valid."""


@dataclass(frozen=True)
class StageRef:
    """One stage of a policy: its name as written, its kind, and its tier (need stages)."""

    name: str
    kind: str  # a need rule, "full", or a TAIL stage
    tier: int | None = None


def valid_stages() -> str:
    """The valid stage names, for messages."""
    return ", ".join(["needs:tier1..3", "needs:full", *(f"{r}:tierN" for r in NEED_RULES), *TAIL])


def check_rule(rule: str | None) -> str:
    """The rule's name (default leximin); PolicyError naming the valid ones if unknown."""
    rule = (rule or "leximin").strip()
    if rule not in RULES:
        raise PolicyError(f"unknown rule {rule!r} (valid rules: {', '.join(RULES)})")
    return rule


def parse_stage(name: str, rule: str = "leximin") -> StageRef:
    """A stage name as a :class:`StageRef`; ``needs:tierN`` takes the rule's treatment."""
    name = str(name).strip()
    if name in TAIL:
        return StageRef(name, name)
    if name == "needs:full":
        return StageRef(name, "full")
    head, sep, tail = name.partition(":")
    if sep and tail in {f"tier{t}" for t in TIERS}:
        tier = int(tail[4:])
        if head == "needs":
            return StageRef(name, rule if rule in NEED_RULES else "leximin", tier)
        if head in NEED_RULES:
            return StageRef(name, head, tier)
    raise PolicyError(f"unknown stage {name!r} (valid stages: {valid_stages()})")


def split_stages(stages) -> list[str] | None:
    """A stage list given as a list or as one comma-separated string."""
    if stages is None:
        return None
    if isinstance(stages, str):
        return [s for s in (p.strip() for p in stages.split(",")) if s]
    return [str(s).strip() for s in stages]


def stage_list(rule: str | None = None, stages=None) -> list[StageRef]:
    """The stages of a rule, or of a custom stage list (``needs:tierN`` under ``rule``).

    Every problem is named at once: unknown stages, a stage listed twice, an
    empty list.
    """
    rule = check_rule(rule)
    names = split_stages(stages)
    if names is None:
        if rule == "min_labour_full":
            return [StageRef("needs:full", "full"), *(StageRef(t, t) for t in TAIL)]
        return [StageRef(f"needs:tier{t}", rule, t) for t in TIERS] + [StageRef(t, t) for t in TAIL]
    if not names:
        raise PolicyError("give at least one stage, or leave stages out")
    out, bad = [], []
    for s in names:
        try:
            out.append(parse_stage(s, rule))
        except PolicyError:
            bad.append(s)
    problems = []
    if bad:
        problems.append(
            f"unknown stage{'s' if len(bad) > 1 else ''} {', '.join(map(repr, bad))} "
            f"(valid stages: {valid_stages()})"
        )
    seen = [r.name for r in out]
    dup = sorted({n for n in seen if seen.count(n) > 1})
    if dup:
        problems.append(f"stage listed twice: {', '.join(dup)}")
    if problems:
        raise PolicyError("; ".join(problems))
    return out
