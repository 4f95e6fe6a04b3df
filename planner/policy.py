"""Policies: ordered lists of stages, and the named rules that preset them.

A stage optimises one objective while every earlier stage's optimum is held
(SPEC section 4). Stage names as they appear in scenario.yaml and in a plan:

``needs:tierN``
    the policy rule's treatment of tier N (leximin by default);
``leximin:tierN``, ``utilitarian:tierN``, ``proportional:tierN``, ``equal_per_capita:tierN``
    the same with an explicit rule;
``needs:full``
    every need met in full, a hard requirement (rule ``min_labour_full``);
``min_labour``, ``fair_burden``, ``min_transport``
    least total labour; leximin of labour shares from the most burdened
    down; least labour spent moving goods.

Rules (each replaces the ``needs:tierN`` stages and keeps the last three):

=================== =========================================================
``leximin``          raise the worst-off satisfaction ratio, hold it, then the next
``utilitarian``      maximise the sum of satisfaction ratios per tier
``proportional``     one common ratio for every need of the tier, the largest
``equal_per_capita`` leximin of delivery per inhabitant per item, capped by need
``min_labour_full``  every need met in full, then least labour (infeasible if impossible)
=================== =========================================================
"""

from __future__ import annotations

from dataclasses import dataclass

RULES = ("leximin", "utilitarian", "proportional", "equal_per_capita", "min_labour_full")
NEED_KINDS = ("leximin", "utilitarian", "proportional", "equal_per_capita")
TAIL = ("min_labour", "fair_burden", "min_transport")
TIERS = (1, 2, 3)


@dataclass(frozen=True)
class Stage:
    """One stage: its display name, what it optimises, and for need stages the tier."""

    name: str
    kind: str  # leximin | utilitarian | proportional | equal_per_capita | full | min_labour | fair_burden | min_transport
    tier: int | None = None


class PolicyError(ValueError):
    """A rule or stage list that cannot be understood."""


def parse_stage(name: str, rule: str = "leximin") -> Stage:
    """Turn a stage name into a :class:`Stage`; ``needs:tierN`` takes the policy's rule."""
    name = name.strip()
    if name in TAIL:
        return Stage(name, name)
    if name == "needs:full":
        return Stage(name, "full")
    head, sep, tail = name.partition(":")
    if sep and tail.startswith("tier") and tail[4:] in {"1", "2", "3"}:
        tier = int(tail[4:])
        if head == "needs":
            kind = rule if rule in NEED_KINDS else "leximin"
            return Stage(name, kind, tier)
        if head in NEED_KINDS:
            return Stage(name, head, tier)
    valid = ["needs:tier1..3", "needs:full", *(f"{k}:tierN" for k in NEED_KINDS), *TAIL]
    raise PolicyError(f"unknown stage {name!r}; valid stages: {', '.join(valid)}")


def stages_for(rule: str | None = None, stages: list[str] | None = None) -> list[Stage]:
    """The stages of a named rule, or of a custom stage list (which uses ``rule`` for ``needs:tierN``)."""
    rule = rule or "leximin"
    if rule not in RULES:
        raise PolicyError(f"unknown rule {rule!r}; valid rules: {', '.join(RULES)}")
    if stages:
        out = [parse_stage(s, rule) for s in stages]
        names = [s.name for s in out]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise PolicyError(f"stage listed twice: {', '.join(sorted(dup))}")
        return out
    if rule == "min_labour_full":
        return [Stage("needs:full", "full"), *(Stage(t, t) for t in TAIL)]
    return [Stage(f"needs:tier{t}", rule, t) for t in TIERS] + [Stage(t, t) for t in TAIL]
