"""The bundle: the only thing that passes from export to the runtime (torch-free)."""

from echosr_edge.bundle.manifest import SCHEMA_VERSION, Artifact, Manifest, ModelEntry, TensorSpec

__all__ = ["SCHEMA_VERSION", "Artifact", "Manifest", "ModelEntry", "TensorSpec"]
