"""A jetson kit from an ONNX-only bundle: the device builds its TensorRT engines at install and before the service."""

import configparser
import json

import pytest

from echosr_edge.package.kit import KitOptions, build_kit


@pytest.fixture(scope="module")
def jetson_kit(tmp_path_factory, bundle_dir, project_wheel):
    out = tmp_path_factory.mktemp("kits") / "jetson-kit"
    build_kit(KitOptions(bundle=bundle_dir, target="jetson", out=out, wheel=project_wheel, deps="none"))
    return out


def test_the_kit_carries_onnx_and_no_engine(jetson_kit):
    manifest = json.loads((jetson_kit / "bundle" / "manifest.json").read_text())
    assert {a["format"] for m in manifest["models"] for a in m["artifacts"]} == {"onnx"}
    assert not list(jetson_kit.rglob("*.engine"))


def test_install_sh_builds_the_engines_once_with_the_system_tensorrt(jetson_kit):
    text = (jetson_kit / "install.sh").read_text()
    assert 'BUILD_ENGINES="yes"' in text and 'SYSTEM_SITE="yes"' in text and 'SYSTEM_MODULES="tensorrt"' in text
    build = text.index('engines build --bundle "$PREFIX/bundle"')
    assert text.index('cp -R "$KIT/bundle"') < build < text.rindex('if [ "$SERVICE" = yes ]')
    assert "stopped at the engine build" in text


def test_the_service_builds_missing_engines_before_it_starts_without_a_start_timeout(jetson_kit):
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.read_string((jetson_kit / "echosr-edge.service").read_text())
    service = unit["Service"]
    assert service["ExecStartPre"] == "__PREFIX__/venv/bin/echosr-edge engines build --bundle __PREFIX__/bundle --device jetson"
    assert service["TimeoutStartSec"] == "infinity"
    assert "Environment=ECHOSR_ENGINE_CACHE=__PREFIX__/engines" in (jetson_kit / "echosr-edge.service").read_text().splitlines()


def test_the_kit_says_where_the_engines_come_from(jetson_kit):
    info = json.loads((jetson_kit / "kit.json").read_text())
    assert info["device"] == "jetson"
    assert any("builds the TensorRT engines on the device" in note for note in info["notes"])
    assert "builds the TensorRT engines for this device" in (jetson_kit / "README.txt").read_text()


def test_a_cpu_kit_builds_no_engines(cpu_kit):
    assert 'BUILD_ENGINES="no"' in (cpu_kit / "install.sh").read_text()
    assert "ExecStartPre" not in (cpu_kit / "echosr-edge.service").read_text()
