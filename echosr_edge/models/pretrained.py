"""Pretrained SR weights from local files in the common public layouts, converted to 1 channel.

Only state dicts are read, with ``torch.load(weights_only=True)``; a file that pickles a whole
model object is refused with the way to re-save it. Recognised layouts (keys after removing a
``params``/``params_ema``/``state_dict``/``model``/``generator`` wrapper and a shared ``module.``,
``_orig_mod.``, ``net.`` or ``model.`` prefix):

- ``basicsr-msrresnet`` — BasicSR's MSRResNet (its DIV2K x4 checkpoints): ``conv_first``,
  ``body.N.conv1/conv2``, ``upconv1``, ``upconv2``, ``conv_hr``, ``conv_last``. Loads into
  :class:`~echosr_edge.models.msrresnet.MSRResNet` (arch ``msrresnet``).
- ``srresnet-tutorial`` — the widely used SRResNet/SRGAN tutorial re-implementation:
  ``conv_block1.conv_block.*``, ``residual_blocks.N.conv_block1/conv_block2.conv_block.*``,
  ``conv_block2.conv_block.*``, ``subpixel_convolutional_blocks.N.conv/prelu``,
  ``conv_block3.conv_block.0``. Loads into SRResNet (arch ``srresnet``).
- ``srgan-sequential`` — SRGAN re-implementations built from Sequentials: ``conv1`` or
  ``conv_block1`` (conv, PReLU), ``trunk`` or ``residual_blocks`` ``.N.rcb|rc_block|block.0-4``,
  ``conv2`` or ``conv_block2`` (conv, BN), ``upsampling.N.upsample_block.0/2``, ``conv3`` or
  ``conv_block3``. Loads into SRResNet.
- ``srgan-blocks`` — the ``block1`` … ``blockK`` generator layout (``blockN.conv1/bn1/prelu/
  conv2/bn2``, the last block holding the upsampling stages and the 9×9 tail). Into SRResNet.
- ``echosr-edge`` — this product's own checkpoints.

RGB → grey: the first conv's weights are summed over its 3 input channels (a grey frame is
R = G = B); the last conv's 3 outputs are combined with the luma weights 0.299, 0.587, 0.114
(how a grey frame is made from RGB). Convs stored without a bias ahead of a batch norm get a
zero bias, which computes the same function. Value-range conventions of the source (e.g. a tanh
output in [−1, 1]) are not converted: fine-tuning adapts the weights, as the study does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import torch
from torch import nn

from echosr_edge.errors import DataError
from echosr_edge.models.registry import build_model

LUMA_RGB = (0.299, 0.587, 0.114)
_WRAPPERS = ("params_ema", "params", "state_dict", "model", "generator", "netG")
_PREFIXES = ("module.", "_orig_mod.", "net.", "model.")
Renamer = Callable[[list[str]], dict[str, str]]


@dataclass(frozen=True)
class PretrainedSR:
    """SR weights read from a public layout, renamed and converted to 1 channel."""

    source: Path
    layout: str
    arch: str
    config: dict
    state_dict: dict[str, torch.Tensor] = field(repr=False)
    notes: tuple[str, ...] = ()


def _rules(rules: list[tuple[str, str | Callable[[re.Match], str]]]) -> Renamer:
    compiled = [(re.compile(pattern + r"$"), target) for pattern, target in rules]

    def rename(keys: list[str]) -> dict[str, str]:
        mapping, unknown = {}, []
        for key in keys:
            for pattern, target in compiled:
                m = pattern.match(key)
                if m:
                    mapping[key] = target(m) if callable(target) else m.expand(target)
                    break
            else:
                unknown.append(key)
        if unknown:
            raise KeyError(f"keys the layout does not know: {', '.join(unknown[:5])}")
        return mapping

    return rename


_TUTORIAL = _rules(
    [
        (r"conv_block1\.conv_block\.0\.(weight|bias)", r"head.0.\1"),
        (r"conv_block1\.conv_block\.1\.weight", "head.1.weight"),
        (r"residual_blocks\.(\d+)\.conv_block1\.conv_block\.([012])\.(\w+)", r"body.\1.body.\2.\3"),
        (
            r"residual_blocks\.(\d+)\.conv_block2\.conv_block\.([01])\.(\w+)",
            lambda m: f"body.{m[1]}.body.{3 + int(m[2])}.{m[3]}",
        ),
        (r"conv_block2\.conv_block\.([01])\.(\w+)", r"body_tail.\1.\2"),
        (r"subpixel_convolutional_blocks\.(\d+)\.conv\.(weight|bias)", r"upsample.\1.conv.\2"),
        (r"subpixel_convolutional_blocks\.(\d+)\.prelu\.weight", r"upsample.\1.act.weight"),
        (r"conv_block3\.conv_block\.0\.(weight|bias)", r"tail.\1"),
    ]
)

_SEQUENTIAL = _rules(
    [
        (r"(?:conv1|conv_block1)\.0\.(weight|bias)", r"head.0.\1"),
        (r"(?:conv1|conv_block1)\.1\.weight", "head.1.weight"),
        (r"(?:trunk|residual_blocks)\.(\d+)\.(?:rcb|rc_block|block)\.([0-4])\.(\w+)", r"body.\1.body.\2.\3"),
        (r"(?:conv2|conv_block2)\.([01])\.(\w+)", r"body_tail.\1.\2"),
        (r"upsampling\.(\d+)\.upsample_block\.0\.(weight|bias)", r"upsample.\1.conv.\2"),
        (r"upsampling\.(\d+)\.upsample_block\.2\.weight", r"upsample.\1.act.weight"),
        (r"(?:conv3|conv_block3)(?:\.0)?\.(weight|bias)", r"tail.\1"),
    ]
)


def _blocks_layout(keys: list[str]) -> dict[str, str]:
    """block1 = head; block2…block(B+1) residual; block(B+2) = conv+BN; block(B+3) = upsampling + tail."""
    blocks = sorted({int(m[1]) for k in keys if (m := re.match(r"block(\d+)\.conv1\.weight$", k))})
    if not blocks or blocks != list(range(2, 2 + len(blocks))):
        raise KeyError("residual blocks block2.conv1 … are missing or not numbered consecutively")
    trunk_end, up = blocks[-1] + 1, blocks[-1] + 2
    stages = sorted({int(m[1]) for k in keys if (m := re.match(rf"block{up}\.(\d+)\.conv\.weight$", k))})
    inner = {"conv1": 0, "bn1": 1, "prelu": 2, "conv2": 3, "bn2": 4}
    return _rules(
        [
            (r"block1\.0\.(weight|bias)", r"head.0.\1"),
            (r"block1\.1\.weight", "head.1.weight"),
            (r"block(\d+)\.(conv1|bn1|prelu|conv2|bn2)\.(\w+)", lambda m: f"body.{int(m[1]) - 2}.body.{inner[m[2]]}.{m[3]}"),
            (rf"block{trunk_end}\.([01])\.(\w+)", r"body_tail.\1.\2"),
            (rf"block{up}\.(\d+)\.conv\.(weight|bias)", r"upsample.\1.conv.\2"),
            (rf"block{up}\.(\d+)\.prelu\.weight", r"upsample.\1.act.weight"),
            (rf"block{up}\.{len(stages)}\.(weight|bias)", r"tail.\1"),
        ]
    )(keys)


def _identity(keys: list[str]) -> dict[str, str]:
    return {k: k for k in keys}


# name → (architecture, keys that identify the layout, renamer)
LAYOUTS: dict[str, tuple[str, tuple[str, ...], Renamer]] = {
    "basicsr-msrresnet": ("msrresnet", ("conv_first.weight", "upconv1.weight", "conv_last.weight"), _identity),
    "srresnet-tutorial": ("srresnet", ("conv_block1.conv_block.0.weight", "conv_block3.conv_block.0.weight"), _TUTORIAL),
    "srgan-sequential": ("srresnet", ("upsampling.0.upsample_block.0.weight",), _SEQUENTIAL),
    "srgan-blocks": ("srresnet", ("block1.0.weight", "block2.conv1.weight"), _blocks_layout),
    "echosr-edge": ("srresnet", ("head.0.weight", "tail.weight"), _identity),
}
_FIRST_LAST = {"srresnet": ("head.0.weight", "tail"), "msrresnet": ("conv_first.weight", "conv_last")}
# Convs followed by batch norm, which some re-implementations store without a bias.
_OPTIONAL_BIAS = re.compile(r"(body\.\d+\.body\.[03]|body_tail\.0)\.bias$")


def _unwrap(obj, path: Path) -> tuple[dict[str, torch.Tensor], str | None]:
    """The tensor dict inside a checkpoint, and the echosr-edge arch when it is one of ours."""
    arch = None
    if isinstance(obj, dict) and "arch" in obj and isinstance(obj.get("state_dict"), dict):
        arch, obj = obj["arch"], obj["state_dict"]
    for _ in range(2):
        if isinstance(obj, dict):
            inner = next((obj[k] for k in _WRAPPERS if isinstance(obj.get(k), dict)), None)
            if inner is not None:
                obj = inner
    if not isinstance(obj, dict):
        raise DataError(path, f"holds a {type(obj).__name__}, not a state dict")
    tensors = {k: v for k, v in obj.items() if isinstance(k, str) and isinstance(v, torch.Tensor)}
    if not tensors:
        raise DataError(path, "holds no weight tensors")
    for prefix in _PREFIXES:
        if all(k.startswith(prefix) for k in tensors):
            tensors = {k[len(prefix):]: v for k, v in tensors.items()}
    return tensors, arch


def _detect(keys: set[str], path: Path) -> str:
    for name, (_, signature, _) in LAYOUTS.items():
        if all(k in keys for k in signature):
            return name
    sample = ", ".join(sorted(keys)[:6])
    raise DataError(path, f"not a known SRResNet/SRGAN layout (known: {', '.join(LAYOUTS)}); its keys begin {sample}")


def _to_grey(state: dict[str, torch.Tensor], arch: str, notes: list[str]) -> None:
    first, last = _FIRST_LAST[arch]
    if state[first].shape[1] == 3:
        state[first] = state[first].sum(dim=1, keepdim=True)
        notes.append("first conv: RGB input weights summed to 1 channel")
    if state[f"{last}.weight"].shape[0] == 3:
        luma = torch.tensor(LUMA_RGB, dtype=state[f"{last}.weight"].dtype)
        state[f"{last}.weight"] = (state[f"{last}.weight"] * luma.view(3, 1, 1, 1)).sum(dim=0, keepdim=True)
        state[f"{last}.bias"] = (state[f"{last}.bias"] * luma).sum().view(1)
        notes.append("last conv: RGB outputs combined with luma weights to 1 channel")


def _infer_config(state: dict[str, torch.Tensor], arch: str, path: Path) -> dict:
    if arch == "msrresnet":
        features = state["conv_first.weight"].shape[0]
        blocks = len({k.split(".")[1] for k in state if re.match(r"body\.\d+\.conv1\.weight$", k)})
        scale = 4 if "upconv2.weight" in state else 2
    else:
        features = state["head.0.weight"].shape[0]
        blocks = len({k.split(".")[1] for k in state if re.match(r"body\.\d+\.body\.0\.weight$", k)})
        stages = len([k for k in state if re.match(r"upsample\.\d+\.conv\.weight$", k)])
        if stages not in (1, 2, 3):
            raise DataError(path, f"has {stages} upsampling stages; SRResNet has 1, 2 or 3 (x2, x4, x8)")
        scale = 2**stages
        if state["head.0.weight"].shape[-1] != 9:
            raise DataError(path, f"head conv is {state['head.0.weight'].shape[-1]}x{state['head.0.weight'].shape[-1]}; SRResNet's is 9x9")
    return {"in_channels": 1, "features": int(features), "blocks": blocks, "scale": scale}


def read_pretrained_sr(path: Path) -> PretrainedSR:
    """Read an SRResNet/SRGAN generator state dict from ``path`` in any recognised layout."""
    path = Path(path)
    if not path.is_file():
        raise DataError(path, "pretrained weights file not found")
    try:
        raw = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise DataError(
            path,
            f"cannot be read with weights_only=True ({type(exc).__name__}); if it pickles a whole model, "
            "re-save its weights with torch.save(model.state_dict(), path)",
        ) from exc
    tensors, own_arch = _unwrap(raw, path)
    if own_arch is not None:
        layout, arch, renamer = "echosr-edge", own_arch, _identity
    else:
        layout = _detect(set(tensors), path)
        arch, _, renamer = LAYOUTS[layout]
    if arch not in _FIRST_LAST:
        raise DataError(path, f"holds a {arch!r} model, not an SR generator")
    try:
        mapping = renamer(list(tensors))
    except KeyError as exc:
        raise DataError(path, f"looks like the {layout} layout but {exc.args[0]}") from exc
    state = {mapping[k]: v.float() if v.is_floating_point() else v for k, v in tensors.items()}
    notes: list[str] = []
    _to_grey(state, arch, notes)
    config = _infer_config(state, arch, path)
    filled = _fill_absent(state, arch, config)
    if filled:
        notes.append(f"{filled} tensors absent from the file filled with their neutral value (zero conv bias before BN)")
    return PretrainedSR(path, layout, arch, config, state, tuple(notes))


def _fill_absent(state: dict[str, torch.Tensor], arch: str, config: dict) -> int:
    """Add the zero biases and BN counters some layouts omit; returns how many were added."""
    reference = build_model(arch, **config).state_dict()
    added = 0
    for key, value in reference.items():
        if key in state:
            continue
        if _OPTIONAL_BIAS.search(key) or key.endswith("num_batches_tracked"):
            state[key] = torch.zeros_like(value)
            added += 1
    return added


def load_pretrained_sr(path: Path, expect: dict | None = None) -> tuple[nn.Module, PretrainedSR]:
    """Build the SR model a pretrained file describes and load it (strict).

    ``expect`` (arch, features, blocks, scale — any subset) is checked against the file, so a
    training config that names another size fails here, naming the file and the difference.
    """
    weights = read_pretrained_sr(path)
    found = {"arch": weights.arch, **weights.config}
    for key, wanted in (expect or {}).items():
        if key in found and found[key] != wanted:
            raise DataError(
                weights.source,
                f"holds a {weights.layout} {found['arch']} with {key}={found[key]}, but the training config says "
                f"{key}={wanted} (file: arch={found['arch']}, features={found['features']}, blocks={found['blocks']}, "
                f"scale={found['scale']})",
            )
    model = build_model(weights.arch, **weights.config)
    try:
        model.load_state_dict(weights.state_dict, strict=True)
    except RuntimeError as exc:
        first = str(exc).splitlines()[1].strip() if len(str(exc).splitlines()) > 1 else str(exc)
        raise DataError(weights.source, f"does not fit {weights.arch} after renaming ({weights.layout}): {first}") from exc
    return model, weights
