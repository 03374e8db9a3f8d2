"""The echosr-edge command line: a thin click layer over the library.

Exit codes: 0 success; 1 an error the user can fix (one line on stderr, ``--verbose`` for the
traceback); 2 a usage error (bad option or argument); 4 ``export``: a model ended with no
artifact within its verification budget (``--allow-degraded`` keeps them and exits 0). An
EchoSRError subclass with an ``exit_code`` attribute exits with that code.
"""

from __future__ import annotations

import logging
import sys

import click

from echosr_edge import __version__
from echosr_edge.errors import EchoSRError


class FriendlyGroup(click.Group):
    """A group whose user-fixable errors (EchoSRError) print as one line; anything else is a bug and keeps its traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except EchoSRError as exc:
            if ctx.obj and ctx.obj.get("verbose"):
                raise
            error = click.ClickException(str(exc))
            error.exit_code = exc.exit_code
            raise error from exc


@click.group(cls=FriendlyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="echosr-edge")
@click.option("-v", "--verbose", is_flag=True, help="Log progress in detail and show tracebacks.")
@click.pass_context
def main(ctx: click.Context, verbose: bool) -> None:
    """Super-resolution-aided echo classification: train, export, run at the edge."""
    ctx.ensure_object(dict)
    ctx.obj["verbose"] = verbose
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def _register() -> None:
    from echosr_edge.cli import batch, bench, bundle, data, demo, devices, engines, export, inspect, keys, package, run, train

    for module in (data, train, export, engines, run, bench, batch, demo, devices, keys, bundle, package, inspect):
        main.add_command(module.command)


_register()
