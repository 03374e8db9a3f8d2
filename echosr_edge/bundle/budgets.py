"""Verification budgets: what an artifact must reach against the FP32 model, defined once.

The exporter checks every artifact against them and writes them into the manifest's
``notes["budgets"]``; the runtime's start-up check reads them back from there, so a device
holds an engine to the budgets its bundle was exported with.
"""

from __future__ import annotations

from dataclasses import dataclass

from echosr_edge.errors import BundleError

SR_MIN_PSNR_DB = 40.0
CLASSIFIER_MIN_AGREEMENT = 0.99
CLASSIFIER_MAX_ACCURACY_DROP = 0.01

# Budgets field → its key in the manifest's notes["budgets"].
_NOTE_KEYS = {
    "sr_min_psnr_db": "sr_min_psnr_vs_fp32_db",
    "classifier_min_agreement": "classifier_min_agreement",
    "classifier_max_accuracy_drop": "classifier_max_accuracy_drop",
}


@dataclass(frozen=True)
class Budgets:
    """What an artifact must reach to ship without ``--allow-degraded``.

    ``sr_min_psnr_db``: PSNR of the SR output against FP32's (dB); ``classifier_min_agreement``:
    top-1 agreement with FP32 (fraction); ``classifier_max_accuracy_drop``: accuracy lost on the
    labels (fraction).
    """

    sr_min_psnr_db: float = SR_MIN_PSNR_DB
    classifier_min_agreement: float = CLASSIFIER_MIN_AGREEMENT
    classifier_max_accuracy_drop: float = CLASSIFIER_MAX_ACCURACY_DROP

    def to_notes(self) -> dict[str, float]:
        """The manifest's ``notes["budgets"]`` record."""
        return {key: getattr(self, name) for name, key in _NOTE_KEYS.items()}

    @classmethod
    def from_notes(cls, notes: object) -> Budgets:
        """The budgets a manifest's ``notes`` record; the defaults for any it leaves out."""
        record = notes.get("budgets", {}) if isinstance(notes, dict) else {}
        record = record if isinstance(record, dict) else {}
        values = {}
        for name, key in _NOTE_KEYS.items():
            if key in record:
                try:
                    values[name] = float(record[key])
                except (TypeError, ValueError):
                    raise BundleError(f"the manifest's notes.budgets.{key} is not a number: {record[key]!r}") from None
        return cls(**values)
