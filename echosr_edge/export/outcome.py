"""What an export amounts to per model: a build script must tell a good bundle from a broken one.

A model "ends within budget" when at least one of its artifacts passed verification. A model
with none fails the export with exit code 4 (:class:`NoArtifactWithinBudget`), unless the user
asked for ``--allow-degraded``: then the export succeeds and says which models were kept degraded.
"""

from __future__ import annotations

from collections.abc import Iterable

from echosr_edge.errors import EchoSRError

EXIT_NO_ARTIFACT_WITHIN_BUDGET = 4


class NoArtifactWithinBudget(EchoSRError):
    """One or more models have no artifact that met its verification budget."""

    exit_code = EXIT_NO_ARTIFACT_WITHIN_BUDGET

    def __init__(self, models: dict[str, list[str]]):
        self.models = models
        detail = "; ".join(f"{m} ({', '.join(s)})" for m, s in models.items())
        super().__init__(
            f"no artifact within budget for model(s) {', '.join(models)}: {detail}; "
            "relax the budget or pass --allow-degraded to keep them"
        )


def models_without_budget(rows: Iterable) -> dict[str, list[str]]:
    """Model name → the statuses of its artifacts, for every model none of whose artifacts passed."""
    statuses: dict[str, list[str]] = {}
    for row in rows:
        statuses.setdefault(row.model, []).append(f"{row.target} {row.precision}: {row.status}")
    passed = {row.model for row in rows if row.status == "ok"}
    return {m: s for m, s in statuses.items() if m not in passed}


def check_outcome(rows: list, allow_degraded: bool) -> list[str]:
    """Raise NoArtifactWithinBudget unless every model has a passing artifact or degraded ones are allowed.

    Returns the names of the models kept only degraded (empty when all met their budgets).
    """
    short = models_without_budget(rows)
    if not short:
        return []
    kept = {m: s for m, s in short.items() if any("degraded (kept)" in x for x in s)}
    if allow_degraded and len(kept) == len(short):
        return list(kept)
    raise NoArtifactWithinBudget({m: s for m, s in short.items() if not (allow_degraded and m in kept)} or short)
