"""manifest.json: what a bundle holds, typed, with one loader and one writer.

A bundle is a folder: ``manifest.json`` plus the files it lists (ONNX models, .npy arrays;
never pickles). Every file is pinned by sha256 and size; paths are relative to the bundle and
may not leave it.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path, PurePosixPath

from echosr_edge.bundle.schema import validate_manifest
from echosr_edge.errors import BundleError, did_you_mean

SCHEMA_VERSION = 1
MANIFEST_NAME = "manifest.json"
MAX_MANIFEST_BYTES = 1 << 20  # a real manifest is a few kB; this bounds parsing and memory
DEFAULT_PROFILE = "default"


@dataclass(frozen=True)
class TensorSpec:
    """A model input or output: name, shape (None or a name for a dynamic axis), dtype."""

    name: str
    shape: tuple
    dtype: str = "float32"

    @classmethod
    def from_dict(cls, d: dict) -> "TensorSpec":
        return cls(name=d["name"], shape=tuple(d["shape"]), dtype=d.get("dtype", "float32"))


@dataclass(frozen=True)
class Artifact:
    """One model file for one backend format and precision, and how it compared with FP32."""

    format: str  # "onnx", "openvino", "tensorrt"
    precision: str  # "fp32", "fp16", "int8"
    file: str
    sha256: str
    size: int
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]
    verification: dict = field(default_factory=dict)
    # Files the main file needs beside it (OpenVINO's .bin next to its .xml): {"file", "sha256", "size"}.
    companions: tuple[dict, ...] = ()
    # Layers left in float in a quantised artifact (the names the backend's graph uses).
    float_layers: tuple[str, ...] = ()
    # How it was built: opset, shapes, calibration, backend version, engine device, runtime hints.
    build: dict = field(default_factory=dict)

    @classmethod
    def from_dict(cls, d: dict) -> "Artifact":
        return cls(
            format=d["format"],
            precision=d["precision"],
            file=d["file"],
            sha256=d["sha256"],
            size=int(d["size"]),
            inputs=tuple(TensorSpec.from_dict(t) for t in d["inputs"]),
            outputs=tuple(TensorSpec.from_dict(t) for t in d["outputs"]),
            verification=dict(d.get("verification", {})),
            companions=tuple(dict(c) for c in d.get("companions", ())),
            float_layers=tuple(d.get("float_layers", ())),
            build=dict(d.get("build", {})),
        )


@dataclass(frozen=True)
class ModelEntry:
    """A model of the bundle: role ('sr' or 'classifier'), labels, scale, pre-processing, artifacts."""

    name: str
    role: str
    arch: str
    preprocessing: dict
    artifacts: tuple[Artifact, ...]
    labels: tuple[str, ...] = ()
    scale: int | None = None
    task: str | None = None
    reference: dict = field(default_factory=dict)  # FP32 reference outputs: {"file", "sha256", "size"}
    # Temperature scaling fitted on held-out patients: {"temperature", "ece_before", "ece_after", ...,
    # "min_confidence" (view/phase: abstain below it; null where too few held-out frames placed none)}.
    # Empty: probabilities are the raw softmax.
    calibration: dict = field(default_factory=dict)
    # The 'cardiac' gate's out-of-distribution threshold: {"score", "threshold", "coverage_target", ...}.
    ood: dict = field(default_factory=dict)

    @property
    def temperature(self) -> float:
        """The softmax temperature the runtime divides logits by (1.0 when uncalibrated)."""
        return float(self.calibration.get("temperature", 1.0))

    @classmethod
    def from_dict(cls, d: dict) -> "ModelEntry":
        return cls(
            name=d["name"],
            role=d["role"],
            arch=d["arch"],
            preprocessing=dict(d["preprocessing"]),
            artifacts=tuple(Artifact.from_dict(a) for a in d["artifacts"]),
            labels=tuple(d.get("labels", ())),
            scale=d.get("scale"),
            task=d.get("task"),
            reference=dict(d.get("reference", {})),
            calibration=dict(d.get("calibration", {})),
            ood=dict(d.get("ood", {})),
        )

    def artifact(self, format: str, precision: str) -> Artifact | None:
        """The artifact for ``format``/``precision``, or None."""
        for art in self.artifacts:
            if art.format == format and art.precision == precision:
                return art
        return None


@dataclass(frozen=True)
class Manifest:
    """The whole manifest: schema version, provenance, models, verification frames."""

    schema_version: int
    created: str
    tool_version: str
    models: tuple[ModelEntry, ...]
    verification_frames: dict = field(default_factory=dict)  # {"file", "sha256", "size"}
    notes: dict = field(default_factory=dict)
    # Profile name → {slot: model name}; a slot is "sr" or a classifier task ("view", "phase",
    # "quality"). Empty: one implicit "default" profile made of every model (bundles before profiles).
    profiles: dict = field(default_factory=dict)

    def model(self, name: str) -> ModelEntry:
        for entry in self.models:
            if entry.name == name:
                return entry
        raise BundleError(f"the bundle has no model {name!r} (it has: {', '.join(self.model_names)})")

    @property
    def model_names(self) -> list[str]:
        return [m.name for m in self.models]

    def sr_model(self) -> ModelEntry | None:
        return next((m for m in self.models if m.role == "sr"), None)

    def classifiers(self) -> list[ModelEntry]:
        return [m for m in self.models if m.role == "classifier"]

    @property
    def profile_names(self) -> list[str]:
        """The profiles this bundle offers ("default" first)."""
        return list(self.profiles) if self.profiles else [DEFAULT_PROFILE]

    def for_profile(self, name: str = DEFAULT_PROFILE) -> "Manifest":
        """This manifest narrowed to the models of profile ``name`` (the runtime's view of it).

        Checksums and signatures cover the whole manifest: verify the bundle before narrowing.
        """
        if not self.profiles:
            if name == DEFAULT_PROFILE:
                return self
            raise BundleError(f"the bundle has no profile {name!r}: it was exported with the default profile only "
                              f"(re-export with `echosr-edge export --profile {name}`)")
        if name not in self.profiles:
            hint = did_you_mean(name, self.profiles)
            raise BundleError(f"the bundle has no profile {name!r} (it has: {', '.join(self.profiles)}).{hint}")
        wanted = set(self.profiles[name].values())
        # The narrowed manifest is a one-profile bundle (no profiles of its own): narrowing it
        # again to "default" is a no-op, as for a bundle exported before profiles.
        return replace(self, models=tuple(m for m in self.models if m.name in wanted), profiles={})

    def pinned_files(self) -> list[tuple[str, str, int]]:
        """Every (relative path, sha256, size) the manifest pins."""
        pins = []
        for entry in self.models:
            for art in entry.artifacts:
                pins.append((art.file, art.sha256, art.size))
                pins += [(c["file"], c["sha256"], int(c["size"])) for c in art.companions]
            if entry.reference:
                pins.append((entry.reference["file"], entry.reference["sha256"], int(entry.reference["size"])))
        if self.verification_frames:
            v = self.verification_frames
            pins.append((v["file"], v["sha256"], int(v["size"])))
        return pins

    def to_dict(self) -> dict:
        d = asdict(self)
        if not self.profiles:
            del d["profiles"]  # a bundle without profiles reads byte-for-byte as before
        for model in d["models"]:  # likewise a model without calibration or an OOD threshold
            for key in ("calibration", "ood"):
                if not model[key]:
                    del model[key]
        return d

    def save(self, bundle_dir: Path) -> Path:
        """Write manifest.json into ``bundle_dir`` atomically."""
        path = Path(bundle_dir) / MANIFEST_NAME
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(_finite(self.to_dict()), indent=2, sort_keys=False, allow_nan=False) + "\n")
        tmp.replace(path)
        return path

    @classmethod
    def from_dict(cls, d: dict) -> "Manifest":
        version = d.get("schema_version")
        if version != SCHEMA_VERSION:
            raise BundleError(
                f"manifest schema version {version!r} is not supported (this build reads {SCHEMA_VERSION})"
            )
        validate_manifest(d)
        manifest = cls(
            schema_version=version,
            created=d["created"],
            tool_version=d["tool_version"],
            models=tuple(ModelEntry.from_dict(m) for m in d["models"]),
            verification_frames=dict(d.get("verification_frames", {})),
            notes=dict(d.get("notes", {})),
            profiles={k: dict(v) for k, v in d.get("profiles", {}).items()},
        )
        for rel, _, _ in manifest.pinned_files():
            check_relative_path(rel)
        return manifest

    @classmethod
    def load(cls, bundle_dir: Path) -> "Manifest":
        """Read and validate ``bundle_dir/manifest.json``."""
        return cls.from_bytes(read_manifest_bytes(bundle_dir), Path(bundle_dir) / MANIFEST_NAME)

    @classmethod
    def from_bytes(cls, raw: bytes, path: Path | str = MANIFEST_NAME) -> "Manifest":
        """Parse and validate manifest bytes (``path`` names them in errors).

        Duplicate keys and NaN/Infinity are refused: two readers of one signed file must not
        see two different manifests.
        """
        try:
            data = json.loads(raw.decode("utf-8"), object_pairs_hook=_unique_keys, parse_constant=_no_constant)
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise BundleError(f"{path}: not valid JSON ({type(exc).__name__}: {exc})") from exc
        if not isinstance(data, dict):
            raise BundleError(f"{path}: expected a JSON object")
        try:
            return cls.from_dict(data)
        except BundleError as exc:
            raise BundleError(f"{path}: {exc}") from exc
        except (KeyError, TypeError, ValueError) as exc:
            raise BundleError(f"{path}: malformed manifest ({type(exc).__name__}: {exc})") from exc


def read_manifest_bytes(bundle_dir: Path) -> bytes:
    """The exact bytes of ``bundle_dir/manifest.json``: a regular file inside the bundle, at most 1 MiB."""
    bundle_dir = Path(bundle_dir)
    path = bundle_dir / MANIFEST_NAME
    if not bundle_dir.is_dir():
        raise BundleError(f"bundle not found: {bundle_dir}")
    if not path.is_file():
        raise BundleError(f"{bundle_dir} is not a bundle: no {MANIFEST_NAME}")
    if path.resolve().parent != bundle_dir.resolve():
        raise BundleError(f"{path} resolves outside the bundle")
    size = path.stat().st_size
    with open(path, "rb") as fh:
        raw = fh.read(MAX_MANIFEST_BYTES + 1)
    if len(raw) > MAX_MANIFEST_BYTES:
        raise BundleError(f"{path}: {max(size, len(raw))} bytes, over the {MAX_MANIFEST_BYTES}-byte limit for a manifest")
    return raw


def _unique_keys(pairs: list[tuple[str, object]]) -> dict:
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        dup = next(k for k in keys if keys.count(k) > 1)
        raise ValueError(f"key {dup!r} appears twice in one object")
    return dict(pairs)


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON number")

def check_relative_path(rel: str) -> None:
    """Refuse a manifest path that is absolute or climbs out of the bundle."""
    p = PurePosixPath(rel)
    if p.is_absolute() or ".." in p.parts or "\\" in rel or not rel:
        raise BundleError(f"manifest path {rel!r} leaves the bundle")


# JSON has no infinity: a verification metric of identical outputs (PSNR of an artifact equal
# to its FP32 reference) is written as this many dB, far above any budget.
IDENTICAL_PSNR_DB = 999.0


def _finite(value):
    """``value`` with +inf as IDENTICAL_PSNR_DB, -inf as its negative and NaN as None, so the
    manifest is strict JSON that its own loader accepts."""
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else math.copysign(IDENTICAL_PSNR_DB, value)
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value
