"""`echosr-edge package`: build a kit, `--verify` it, and one line when something is wrong."""

from click.testing import CliRunner

from echosr_edge.cli import main
from tests.package.conftest import flip_a_byte


def test_package_builds_a_kit_that_verify_then_passes(tmp_path, bundle_dir, project_wheel):
    kit = tmp_path / "kit"
    args = ["package", "--bundle", str(bundle_dir), "--target", "cpu", "--out", str(kit), "--wheel", str(project_wheel), "--no-deps-download"]
    built = CliRunner().invoke(main, args)
    assert built.exit_code == 0, built.output
    assert "kit for cpu (Python 3.10, --device cpu)" in built.output and "bundle: view: onnx/int8" in built.output
    verified = CliRunner().invoke(main, ["package", "--verify", str(kit)])
    assert verified.exit_code == 0, verified.output
    assert "is sound" in verified.output


def test_verify_of_a_kit_with_an_altered_file_exits_1_naming_the_file(kit_copy):
    flip_a_byte(kit_copy / "bundle" / "models" / "view.fp32.onnx")
    result = CliRunner().invoke(main, ["package", "--verify", str(kit_copy)])
    assert result.exit_code == 1
    assert "kit file bundle/models/view.fp32.onnx does not match SHA256SUMS" in result.output
    assert "failed verification: 1 problem(s)" in result.output and "Traceback" not in result.output


def test_verify_takes_no_build_options(kit_copy):
    result = CliRunner().invoke(main, ["package", "--verify", str(kit_copy), "--target", "cpu"])
    assert result.exit_code == 2 and "does not take --target" in result.output


def test_building_needs_bundle_target_and_out(tmp_path):
    result = CliRunner().invoke(main, ["package", "--target", "cpu", "--out", str(tmp_path / "k")])
    assert result.exit_code == 2 and "--bundle is required" in result.output


def test_a_platform_for_the_wrong_cpu_is_one_line_exit_1(tmp_path, bundle_dir, project_wheel):
    result = CliRunner().invoke(
        main,
        ["package", "--bundle", str(bundle_dir), "--target", "jetson", "--out", str(tmp_path / "k"), "--platform", "manylinux_2_35_x86_64", "--wheel", str(project_wheel), "--no-deps-download"],
    )
    assert result.exit_code == 1 and "is for x86_64, but this target's CPU is aarch64" in result.output
    assert not (tmp_path / "k").exists()
