"""Verdicts on the planted controls: does the grid find a planted SR effect, and only that?

The simulator writes two control trees (``data synth --control positive|negative``): poor frames
that differ from good ones by a resolution loss only (positive), or by contrast and haze only
(negative). A grid run on each is judged here, on its paired differences (results.json's
``paired``), family-wise (Bonferroni over each report table) and per comparison. Only
comparisons that are evidence count (train/grid_summary.evidence: a difference between two
different classifiers needs three repeats).

- **Positive**: some SR − bicubic or SR − none interval in the test-time setting is above 0.
- **Negative**: no SR − none interval *on poor test frames* is above 0 ("SR helps poor frames" is
  not found where nothing limits their resolution). This is the claim the negative control can
  test.
- **Specificity**: SR − bicubic above 0 is not specific to a planted loss. In ``down-up`` mode
  SR also undoes the grid's own ↓4, which bicubic cannot, so the negative control shows it too
  (seven family-wise exclusions on 100 patients). What tells the controls apart is SR − none
  above 0 on poor frames (``sr_beats_none_on_poor``): found on the positive control, absent on
  the negative one. The stricter "every SR − none interval includes 0" is also reported, with a reading of
  each interval that excludes 0, because two real effects break it, both seen stable over
  repeats on the 100-patient negative control (docs/experiments.md):

  - *the resize chain's cost*: in ``down-up`` mode every arm sees bicubic ↓4 of the frame (in
    ``direct`` mode a 4× larger output resized back), so a classifier trained on frames that never
    went through the chain loses accuracy on any arm's output; such an SR − none is below 0 *and*
    bicubic − none is below 0 in the same cell;
  - *training transfer*: a classifier trained on SR output of hazy frames transfers to frames of
    another tier better than one trained on the hazy frames (train on enhanced, tested on good
    or medium) — an effect of SR on what the classifier learns, not a gain on poor frames.

  An SR − none below 0 whose SR − bicubic is below 0 too is SR's own output costing accuracy.
"""

from __future__ import annotations

from echosr_edge.train.grid_summary import SR_LIKE_EXCLUDED


def _excludes_0(c: dict, family: bool) -> bool:
    low, high = (c["ci_family_low"], c["ci_family_high"]) if family else (c["ci_low"], c["ci_high"])
    return not low <= 0 <= high


def _above_0(c: dict, family: bool) -> bool:
    return (c["ci_family_low"] if family else c["ci_low"]) > 0


def _tested_on(setting: str, c: dict) -> str:
    """The tier of the comparison's test frames: test-time comparisons are always on poor frames."""
    return "poor" if setting == "test_time" else c["tier"]


def reading(setting: str, c: dict, cells: list[dict]) -> str:
    """Why an SR − none interval excludes 0, as far as the grid itself can tell."""
    tested = _tested_on(setting, c)
    chain = next((d for d in cells if d["a"] == "bicubic" and d["b"] == "none" and d["tier"] == c["tier"]), None)
    if c["points"] < 0 and chain is not None and _excludes_0(chain, False) and chain["points"] < 0:
        return (f"the resize chain's cost: bicubic − none is {chain['points']:+.1f} [{chain['ci_low']:+.1f}, {chain['ci_high']:+.1f}] "
                "in the same cell")
    own = next((d for d in cells if d["a"] == c["a"] and d["b"] == "bicubic" and d["tier"] == c["tier"]), None)
    if c["points"] < 0 and own is not None and own["ci_high"] < 0:
        return f"SR's own output: {c['a']} − bicubic is {own['points']:+.1f} [{own['ci_low']:+.1f}, {own['ci_high']:+.1f}] in the same cell"
    if c["points"] > 0 and setting == "train_on_enhanced" and tested != "poor":
        return f"training transfer: a classifier trained on SR output, tested on {tested} frames (not a gain on poor frames)"
    if c["points"] > 0 and tested == "poor":
        return "a gain on poor frames: the positive control's planted effect; on the negative control, a false finding"
    return "unexplained"


def verdicts(results: dict) -> dict:
    """The interval facts each control is judged on; see the module docstring."""
    sr = [a for a in results["arms"] if a not in SR_LIKE_EXCLUDED]
    judged = [(task, setting, c, cells) for task, settings in results["paired"].items() for setting, cells in settings.items()
              for c in cells if c.get("evidence", True)]
    unjudged = [c for settings in results["paired"].values() for cells in settings.values() for c in cells
                if not c.get("evidence", True) and c["a"] in sr]
    gains = [c for _, setting, c, _ in judged if setting == "test_time" and c["a"] in sr and c["b"] in ("bicubic", "none")]
    over_bicubic = [c for c in gains if c["b"] == "bicubic"]
    sr_none = [(task, setting, c, cells) for task, setting, c, cells in judged if c["a"] in sr and c["b"] == "none"]
    on_poor = [c for _, setting, c, _ in sr_none if _tested_on(setting, c) == "poor"]
    return {
        "test_time": gains,
        "some_sr_gain_excludes_0": any(_above_0(c, False) for c in gains),
        "some_sr_gain_excludes_0_family_wise": any(_above_0(c, True) for c in gains),
        "sr_beats_bicubic": any(_above_0(c, False) for c in over_bicubic),
        "sr_beats_bicubic_family_wise": any(_above_0(c, True) for c in over_bicubic),
        "sr_beats_none_on_poor": [c for c in on_poor if _above_0(c, False)],
        "no_sr_gain_on_poor": not any(_above_0(c, False) for c in on_poor),
        "no_sr_gain_on_poor_family_wise": not any(_above_0(c, True) for c in on_poor),
        "every_sr_none_includes_0": not any(_excludes_0(c, False) for _, _, c, _ in sr_none),
        "every_sr_none_includes_0_family_wise": not any(_excludes_0(c, True) for _, _, c, _ in sr_none),
        "sr_none_excluding_0": [{"task": task, "setting": setting, **c, "family_wise": _excludes_0(c, True),
                                 "reading": reading(setting, c, cells)}
                                for task, setting, c, cells in sr_none if _excludes_0(c, False)],
        "not_evidence": len(unjudged),
    }


def apart(positive: dict, negative: dict, family_wise: bool = True) -> bool:
    """Do the two controls' verdicts differ where only a planted resolution loss should make them differ?

    True when SR − none on poor frames is above 0 on the positive control and never on the negative.
    """
    key = "no_sr_gain_on_poor_family_wise" if family_wise else "no_sr_gain_on_poor"
    return (not positive[key]) and negative[key]
