"""Errors a user can fix are EchoSRErrors with their exit code; anything else is a bug and keeps its traceback."""

import click
import pytest
from click.testing import CliRunner

from echosr_edge.cli import FriendlyGroup
from echosr_edge.errors import ConfigError, DataError, EchoSRError, MissingExtra, OptionError, did_you_mean, import_optional

RAISED = {
    "bug": lambda: ValueError("an internal invariant broke"),
    "setting": lambda: ConfigError("unknown thing 'x'"),
    "usage": lambda: OptionError("--a and --b cannot go together"),
    "data": lambda: DataError("scan.png", "not a PNG"),
}


@click.group(cls=FriendlyGroup)
@click.pass_context
def _cli(ctx):
    ctx.ensure_object(dict)


@_cli.command()
@click.argument("kind")
def fail(kind):
    raise RAISED[kind]()


@pytest.mark.parametrize("kind, code", [("setting", 1), ("usage", 2), ("data", 1)])
def test_a_user_fixable_error_is_one_line_with_its_exit_code(kind, code):
    result = CliRunner().invoke(_cli, ["fail", kind])
    assert result.exit_code == code
    assert result.output.strip() == f"Error: {RAISED[kind]()}"


def test_an_internal_error_is_not_dressed_as_a_user_error():
    result = CliRunner().invoke(_cli, ["fail", "bug"])
    assert type(result.exception) is ValueError and "Error:" not in result.output


def test_a_setting_error_is_also_a_value_error_for_library_callers():
    with pytest.raises(ValueError, match="unknown thing"):
        raise ConfigError("unknown thing 'x'")
    assert issubclass(OptionError, ConfigError) and issubclass(ConfigError, EchoSRError)


def test_a_missing_extra_is_caught_as_an_import_error_naming_the_extra():
    with pytest.raises(ImportError) as caught:
        import_optional("echosr_edge_no_such_package", "openvino")
    assert isinstance(caught.value, MissingExtra)
    assert 'pip install "echosr-edge[openvino]"' in str(caught.value)


def test_did_you_mean_suggests_the_closest_known_name_or_nothing():
    assert did_you_mean("speckel", ["blur", "speckle"]) == " Did you mean 'speckle'?"
    assert did_you_mean("zzz", ["blur", "speckle"]) == ""
