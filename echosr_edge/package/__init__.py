"""Offline install kits for companion devices (torch-free): bundle, wheels, scripts, checksums."""

from echosr_edge.package.kit import KitError, KitOptions, KitResult, build_kit
from echosr_edge.package.targets import TARGETS, Target, get_target
from echosr_edge.package.verify import KitCheck, verify_kit

__all__ = ["TARGETS", "KitCheck", "KitError", "KitOptions", "KitResult", "Target", "build_kit", "get_target", "verify_kit"]
