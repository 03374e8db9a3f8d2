"""The verification budgets are defined once, in the bundle contract, and travel in the manifest."""

import pytest

from echosr_edge.bundle.budgets import SR_MIN_PSNR_DB, Budgets
from echosr_edge.errors import BundleError


def test_budgets_round_trip_through_the_manifest_notes():
    budgets = Budgets(sr_min_psnr_db=35.0, classifier_min_agreement=0.95, classifier_max_accuracy_drop=0.02)
    assert Budgets.from_notes({"budgets": budgets.to_notes()}) == budgets


def test_the_notes_name_the_psnr_budget_against_fp32():
    assert Budgets().to_notes()["sr_min_psnr_vs_fp32_db"] == SR_MIN_PSNR_DB


def test_a_manifest_without_budgets_is_held_to_the_defaults():
    assert Budgets.from_notes({}) == Budgets()
    assert Budgets.from_notes({"budgets": {"classifier_min_agreement": 0.9}}) == Budgets(classifier_min_agreement=0.9)
    assert Budgets.from_notes(None) == Budgets()


def test_a_budget_that_is_not_a_number_is_a_bundle_error():
    with pytest.raises(BundleError, match="notes.budgets.classifier_min_agreement is not a number"):
        Budgets.from_notes({"budgets": {"classifier_min_agreement": "most"}})
