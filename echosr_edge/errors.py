"""The product's own error types: every error a user can fix is one of these."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from pathlib import Path


class EchoSRError(Exception):
    """Base of every error the product raises on purpose; the CLI prints it as one line.

    ``exit_code`` is what the command line exits with (documented in README: 1 an error the
    user can fix, 2 a usage error); subclasses set their own, as click's exceptions do.
    """

    exit_code = 1


class ConfigError(EchoSRError, ValueError):
    """A setting or input the user chose that cannot be used: an unknown name, a value out of range,
    settings that do not go together, a data folder with nothing in it to work on.

    Also a ValueError: these replaced ValueErrors, and library callers that catch ValueError keep working.
    """


class OptionError(ConfigError):
    """Options that cannot go together, or do not fit this device or bundle (a usage error)."""

    exit_code = 2


class DataError(EchoSRError):
    """A data file that cannot be read as what it claims to be."""

    def __init__(self, path: Path | str, problem: str):
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class BundleError(EchoSRError):
    """A bundle that is missing, malformed or altered."""


class SourceError(EchoSRError):
    """A frame source that cannot be opened or has gone away."""


class MissingExtra(EchoSRError, ImportError):
    """An optional package is needed for this feature and is not installed.

    Also an ImportError, so ``except ImportError`` and ``except MissingExtra`` catch the same thing.
    """

    def __init__(self, package: str, extra: str):
        self.package = package
        self.extra = extra
        super().__init__(
            f"this feature needs the '{package}' package: pip install \"echosr-edge[{extra}]\""
        )


def import_optional(module: str, extra: str):
    """Import ``module`` or raise MissingExtra naming the extra that provides it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingExtra(module.split(".")[0], extra) from exc


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """`` Did you mean 'x'?`` for the known name closest to ``name``, or ``""`` when none is close."""
    close = difflib.get_close_matches(name, list(known), n=1)
    return f" Did you mean {close[0]!r}?" if close else ""
