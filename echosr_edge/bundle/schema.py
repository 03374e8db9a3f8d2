"""The manifest's schema, checked field by field before any of it is used.

A small explicit validator rather than jsonschema: the schema is short, the device install stays
one dependency lighter, and every error names the field it is about
(``models[1].artifacts[0].sha256: expected 64 lowercase hex characters``).

Keys the schema does not know are ignored, so a newer exporter may add optional fields within a
schema version; a change in the meaning of a field bumps ``schema_version`` instead. ``profiles``
is such an optional field: a reader that does not know it runs every model, as before; so are a
model's ``calibration`` (softmax temperature) and ``ood`` (the out-of-distribution threshold).
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from echosr_edge.bundle.vocabulary import FORMATS, PRECISIONS
from echosr_edge.errors import BundleError

ROLES = ("sr", "classifier")
MAX_PATH_CHARS = 1024
# Names the bundle keeps for itself: the manifest, and signatures that cannot pin themselves.
RESERVED = ("manifest.json", "signatures")

_SHA256 = re.compile(r"[0-9a-f]{64}")
_KINDS = {
    "str": (str,),
    "int": (int,),
    "number": (int, float),
    "dict": (dict,),
    "list": (list,),
}


def _fail(where: str, problem: str) -> None:
    raise BundleError(f"manifest field {where}: {problem}")


def _type_name(value: object) -> str:
    names = {str: "a string", bool: "a boolean", int: "an integer", float: "a number", dict: "an object", list: "a list"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


def _is(value: object, kind: str) -> bool:
    nullable = kind.endswith("|null")
    if value is None:
        return nullable
    base = kind.removesuffix("|null")
    # bool is an int subclass in Python but never a valid size, scale or version.
    return isinstance(value, _KINDS[base]) and not isinstance(value, bool)


def _get(obj: dict, key: str, where: str, kind: str, required: bool = True, default=None):
    here = f"{where}.{key}" if where else key
    if key not in obj:
        if required:
            _fail(here, "is missing")
        return default
    value = obj[key]
    if not _is(value, kind):
        wanted = " or ".join({"str": "a string", "int": "an integer", "number": "a number", "dict": "an object",
                              "list": "a list", "null": "null"}[k] for k in kind.split("|"))
        _fail(here, f"expected {wanted}, got {_type_name(value)}")
    return value


def _one_of(value: str, allowed: tuple[str, ...], where: str) -> None:
    if value not in allowed:
        _fail(where, f"{value!r} is not one of {', '.join(allowed)}")


def check_bundle_path(rel: str, where: str) -> None:
    """Refuse a pinned path that is empty, absolute, climbs out, or names the manifest or signatures."""
    p = PurePosixPath(rel)
    # ':' would name a drive on Windows (C:x), NUL ends the name at the C level.
    if not rel or not p.parts or p.is_absolute() or ".." in p.parts or "\\" in rel or ":" in rel or "\0" in rel:
        _fail(where, f"path {rel!r} leaves the bundle")
    if len(rel) > MAX_PATH_CHARS:
        _fail(where, f"path is {len(rel)} characters, over the limit of {MAX_PATH_CHARS}")
    if p.parts[0] in RESERVED:
        _fail(where, f"path {rel!r} names a file the bundle reserves for itself")


def _pin(obj: dict, where: str) -> tuple[str, str]:
    rel = _get(obj, "file", where, "str")
    check_bundle_path(rel, f"{where}.file")
    sha = _get(obj, "sha256", where, "str")
    if not _SHA256.fullmatch(sha):
        _fail(f"{where}.sha256", f"expected 64 lowercase hex characters, got {sha[:80]!r}")
    if _get(obj, "size", where, "int") < 0:
        _fail(f"{where}.size", "is negative")
    return rel, sha


def _tensor(obj: object, where: str) -> None:
    if not isinstance(obj, dict):
        _fail(where, f"expected an object, got {_type_name(obj)}")
    if not _get(obj, "name", where, "str"):
        _fail(f"{where}.name", "is empty")
    for i, dim in enumerate(_get(obj, "shape", where, "list")):
        if not (_is(dim, "str|null") or (_is(dim, "int") and dim >= 0)):
            _fail(f"{where}.shape[{i}]", f"expected a size, a name or null, got {dim!r}")
    _get(obj, "dtype", where, "str", required=False)


def _artifact(obj: object, where: str, pins: list) -> tuple[str, str]:
    if not isinstance(obj, dict):
        _fail(where, f"expected an object, got {_type_name(obj)}")
    fmt = _get(obj, "format", where, "str")
    _one_of(fmt, FORMATS, f"{where}.format")
    precision = _get(obj, "precision", where, "str")
    _one_of(precision, PRECISIONS, f"{where}.precision")
    pins.append((_pin(obj, where), f"{where}.file"))
    for key in ("inputs", "outputs"):
        specs = _get(obj, key, where, "list")
        if not specs:
            _fail(f"{where}.{key}", "is empty")
        for i, spec in enumerate(specs):
            _tensor(spec, f"{where}.{key}[{i}]")
    _get(obj, "verification", where, "dict", required=False)
    for i, comp in enumerate(_get(obj, "companions", where, "list", required=False, default=[])):
        here = f"{where}.companions[{i}]"
        if not isinstance(comp, dict):
            _fail(here, f"expected an object, got {_type_name(comp)}")
        pins.append((_pin(comp, here), f"{here}.file"))
    return fmt, precision


def _model(obj: object, where: str, pins: list) -> str:
    if not isinstance(obj, dict):
        _fail(where, f"expected an object, got {_type_name(obj)}")
    name = _get(obj, "name", where, "str")
    if not name:
        _fail(f"{where}.name", "is empty")
    role = _get(obj, "role", where, "str")
    _one_of(role, ROLES, f"{where}.role")
    _get(obj, "arch", where, "str")
    _get(obj, "preprocessing", where, "dict")
    targets = set()
    for i, art in enumerate(_get(obj, "artifacts", where, "list")):
        target = _artifact(art, f"{where}.artifacts[{i}]", pins)
        if target in targets:
            _fail(f"{where}.artifacts[{i}]", f"a second {target[0]}/{target[1]} artifact (which one would load?)")
        targets.add(target)
    labels = _get(obj, "labels", where, "list", required=False, default=[])
    for i, label in enumerate(labels):
        if not _is(label, "str"):
            _fail(f"{where}.labels[{i}]", f"expected a string, got {_type_name(label)}")
    if role == "classifier" and not labels:
        _fail(f"{where}.labels", "a classifier needs at least one label")
    scale = _get(obj, "scale", where, "int|null", required=False)
    if role == "sr" and (scale is None or scale < 1):
        _fail(f"{where}.scale", f"an SR model needs a scale of 1 or more, got {scale!r}")
    _get(obj, "task", where, "str|null", required=False)
    calibration = _get(obj, "calibration", where, "dict", required=False, default={})
    if "temperature" in calibration:
        t = _get(calibration, "temperature", f"{where}.calibration", "number")
        if not t > 0:
            _fail(f"{where}.calibration.temperature", f"must be positive, got {t!r}")
    if "min_confidence" in calibration:
        _get(calibration, "min_confidence", f"{where}.calibration", "number|null")
    ood = _get(obj, "ood", where, "dict", required=False, default={})
    if ood:
        _get(ood, "threshold", f"{where}.ood", "number")
    reference = _get(obj, "reference", where, "dict", required=False, default={})
    if reference:
        pins.append((_pin(reference, f"{where}.reference"), f"{where}.reference.file"))
    return name


PROFILE_SLOTS = ("sr", "view", "phase", "quality", "cardiac")


def _profiles(data: dict, models: list) -> None:
    """``profiles``: name → {slot: model name}; "default" present; each slot names a model that fills it."""
    profiles = _get(data, "profiles", "", "dict", required=False, default={})
    if not profiles:
        return
    if "default" not in profiles:
        _fail("profiles", "has no 'default' profile")
    by_name = {m["name"]: m for m in models}
    for profile, slots in profiles.items():
        here = f"profiles.{profile}"
        if not profile:
            _fail("profiles", "a profile name is empty")
        if not isinstance(slots, dict):
            _fail(here, f"expected an object, got {_type_name(slots)}")
        if not any(slot not in ("quality", "cardiac") for slot in slots):
            _fail(here, "names no model to run")
        for slot, name in slots.items():
            _one_of(slot, PROFILE_SLOTS, f"{here}.{slot}")
            if not _is(name, "str"):
                _fail(f"{here}.{slot}", f"expected a model name, got {_type_name(name)}")
            model = by_name.get(name)
            if model is None:
                _fail(f"{here}.{slot}", f"names {name!r}, which is not a model of the bundle")
            fills = "sr" if model["role"] == "sr" else model.get("task")
            if fills != slot:
                _fail(f"{here}.{slot}", f"model {name!r} is a {fills or model['role']} model, not {slot}")


def validate_manifest(data: object) -> None:
    """Raise BundleError naming the first field of ``data`` (a parsed manifest.json) that breaks the schema."""
    if not isinstance(data, dict):
        _fail("(top level)", f"expected an object, got {_type_name(data)}")
    _get(data, "schema_version", "", "int")
    _get(data, "created", "", "str")
    _get(data, "tool_version", "", "str")
    models = _get(data, "models", "", "list")
    if not models:
        _fail("models", "is empty: a bundle needs at least one model")
    pins: list = []
    names = set()
    for i, model in enumerate(models):
        name = _model(model, f"models[{i}]", pins)
        if name in names:
            _fail(f"models[{i}].name", f"a second model named {name!r}")
        names.add(name)
    frames = _get(data, "verification_frames", "", "dict", required=False, default={})
    if frames:
        pins.append((_pin(frames, "verification_frames"), "verification_frames.file"))
    _get(data, "notes", "", "dict", required=False)
    _profiles(data, models)
    seen: dict[str, str] = {}
    for (rel, sha), where in pins:
        if seen.setdefault(rel, sha) != sha:
            _fail(where, f"{rel!r} is pinned twice with different sha256")
