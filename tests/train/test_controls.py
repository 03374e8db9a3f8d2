"""Verdicts on the planted controls: a planted SR gain is found, and SR − none exclusions are read for their cause."""

from echosr_edge.train.controls import apart, verdicts


def _c(a, b, tier, points, low, high, evidence=True, family=None):
    fl, fh = family or (low - 3, high + 3)
    return {"a": a, "b": b, "tier": tier, "points": points, "ci_low": low, "ci_high": high, "ci_family_low": fl,
            "ci_family_high": fh, "evidence": evidence, "mcnemar": {"p": 0.5}}


def _results(test_time, train_on_enhanced=()):
    return {"arms": ["none", "bicubic", "nlmeans", "srresnet"],
            "paired": {"view": {"test_time": list(test_time), "train_on_enhanced": list(train_on_enhanced)}}}


def test_a_test_time_sr_gain_above_zero_is_the_positive_controls_finding():
    v = verdicts(_results([_c("srresnet", "bicubic", "poor", 11, 5, 17, family=(3, 19))]))
    assert v["some_sr_gain_excludes_0"] and v["some_sr_gain_excludes_0_family_wise"]
    assert verdicts(_results([_c("srresnet", "bicubic", "poor", 4, -1, 9)]))["some_sr_gain_excludes_0"] is False


def test_an_sr_loss_that_bicubic_shares_is_read_as_the_chains_cost():
    v = verdicts(_results([_c("srresnet", "none", "medium", -17, -26, -10), _c("bicubic", "none", "medium", -18, -25, -12)]))
    assert v["no_sr_gain_on_poor"] and not v["every_sr_none_includes_0"]
    (only,) = v["sr_none_excluding_0"]
    assert only["reading"].startswith("the resize chain's cost") and only["family_wise"]


def test_an_sr_loss_beyond_bicubics_is_read_as_srs_own_output():
    v = verdicts(_results([_c("srresnet", "none", "poor", -9, -14, -4), _c("bicubic", "none", "poor", -1, -5, 3),
                           _c("srresnet", "bicubic", "poor", -8, -13, -3)]))
    assert v["sr_none_excluding_0"][0]["reading"].startswith("SR's own output: srresnet − bicubic is -8.0")


def test_an_sr_loss_that_bicubic_does_not_share_stays_unexplained():
    v = verdicts(_results([_c("srresnet", "none", "good", -6, -10, -3), _c("bicubic", "none", "good", -5, -16, 5)]))
    assert v["sr_none_excluding_0"][0]["reading"] == "unexplained"


def test_a_train_on_enhanced_gain_on_good_frames_is_training_transfer_not_a_gain_on_poor():
    v = verdicts(_results([], [_c("srresnet", "none", "good", 23, 12, 34), _c("srresnet", "none", "poor", 2, 0, 6)]))
    assert v["no_sr_gain_on_poor"] and not v["every_sr_none_includes_0"]
    assert v["sr_none_excluding_0"][0]["reading"].startswith("training transfer")


def test_an_sr_gain_on_poor_frames_fails_the_negative_control():
    v = verdicts(_results([_c("srresnet", "none", "good", 8, 2, 14)]))  # test-time: tested on poor, whatever it trained on
    assert not v["no_sr_gain_on_poor"] and v["sr_none_excluding_0"][0]["reading"].startswith("a gain on poor frames")


def test_differences_that_are_not_evidence_are_counted_but_not_judged():
    v = verdicts(_results([], [_c("srresnet", "none", "poor", 20, 10, 30, evidence=False)]))
    assert v["no_sr_gain_on_poor"] and v["every_sr_none_includes_0"] and v["not_evidence"] == 1


def test_sr_over_bicubic_alone_does_not_tell_the_controls_apart_sr_over_none_on_poor_does():
    undoing_the_chain = _results([_c("srresnet", "bicubic", "poor", 12, 6, 18, family=(2, 22)), _c("srresnet", "none", "poor", -2, -6, 2)])
    restoring = _results([_c("srresnet", "bicubic", "poor", 12, 6, 18, family=(2, 22)), _c("srresnet", "none", "poor", 9, 4, 14, family=(1, 17))])
    negative, positive = verdicts(undoing_the_chain), verdicts(restoring)
    assert negative["sr_beats_bicubic_family_wise"] and positive["sr_beats_bicubic_family_wise"]
    assert apart(positive, negative) and not apart(negative, negative)
    assert len(positive["sr_beats_none_on_poor"]) == 1 and negative["sr_beats_none_on_poor"] == []
