"""The kit's scripts and texts: install.sh, launch.sh, the systemd unit, the settings file, the README.

Kit-time values are written as ``@NAME@`` and filled by :func:`render`; the unit file's
``__PREFIX__`` and ``__USER__`` are filled by install.sh on the device, where they are known.
"""

from __future__ import annotations

import re

INSTALL_SH = r"""#!/bin/sh
# Install echosr-edge @VERSION@ for @TARGET@ from this kit, with no network.
# Usage: sudo ./install.sh [--prefix DIR] [--python PYTHON] [--service] [--user NAME]
#   --prefix   where to install (default /opt/echosr-edge)
#   --python   the Python @PYTHON@ interpreter to use (default python3)
#   --service  install and start the systemd service (needs root)
#   --user     the account the service runs as (default echosr; created if missing)
set -eu

KIT=$(cd "$(dirname "$0")" && pwd)
PREFIX=/opt/echosr-edge
PYTHON=python3
SERVICE=no
RUN_USER=echosr

TARGET="@TARGET@"
WANT_PYTHON="@PYTHON@"
WANT_ARCH="@ARCH@"
REQUIREMENT="@REQUIREMENT@"
DEPS_INCLUDED="@DEPS_INCLUDED@"
SYSTEM_SITE="@SYSTEM_SITE@"
SYSTEM_MODULES="@SYSTEM_MODULES@"
BUILD_ENGINES="@BUILD_ENGINES@"
DEVICE="@DEVICE@"

die() { echo "install.sh: $*" >&2; exit 1; }
say() { echo "==> $*"; }

while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) PREFIX=${2:?--prefix needs a folder}; shift 2 ;;
        --python) PYTHON=${2:?--python needs an interpreter}; shift 2 ;;
        --service) SERVICE=yes; shift ;;
        --user) RUN_USER=${2:?--user needs a name}; shift 2 ;;
        -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
        *) die "unknown option $1 (see --help)" ;;
    esac
done

if [ "$SERVICE" = yes ]; then
    [ "$(id -u)" -eq 0 ] || die "--service needs root: sudo ./install.sh --service"
    command -v systemctl >/dev/null 2>&1 || die "--service needs systemd (systemctl not found)"
fi

say "checking the kit's files against SHA256SUMS"
(cd "$KIT" && sha256sum --quiet --strict -c SHA256SUMS) \
    || die "the kit is damaged or altered (the FAILED lines above name the files): copy it again"

say "checking this device: $TARGET needs $WANT_ARCH and Python $WANT_PYTHON"
ARCH=$(uname -m)
[ "$ARCH" = "$WANT_ARCH" ] || die "this kit is for $WANT_ARCH, but this device is $ARCH"
command -v "$PYTHON" >/dev/null 2>&1 || die "$PYTHON not found; this kit needs Python $WANT_PYTHON"
HAVE_PYTHON=$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
[ "$HAVE_PYTHON" = "$WANT_PYTHON" ] || die "this kit's wheels are for Python $WANT_PYTHON, but $PYTHON is \
$HAVE_PYTHON: pass --python python$WANT_PYTHON, or build the kit again with --python $HAVE_PYTHON"
[ "$DEPS_INCLUDED" = yes ] \
    || die "this kit was built without its dependency wheels (--no-deps-download), so it cannot install offline"

say "creating the virtual environment $PREFIX/venv"
mkdir -p "$PREFIX"
VENV_OPTIONS="--without-pip"
if [ "$SYSTEM_SITE" = yes ]; then VENV_OPTIONS="$VENV_OPTIONS --system-site-packages"; fi
# Without pip, so that Ubuntu's missing python3-venv (ensurepip) does not matter: pip comes from the kit.
# shellcheck disable=SC2086
"$PYTHON" -m venv $VENV_OPTIONS "$PREFIX/venv" || die "$PYTHON cannot create a virtual environment"

# Only the kit's wheels: no index, and no pip settings of this machine that could add one.
unset PIP_INDEX_URL PIP_EXTRA_INDEX_URL PIP_FIND_LINKS PIP_REQUIRE_VIRTUALENV
export PIP_CONFIG_FILE=/dev/null PIP_DISABLE_PIP_VERSION_CHECK=1
PIP_WHEEL=$(ls "$KIT"/wheels/pip-*.whl 2>/dev/null | head -n 1)
[ -n "$PIP_WHEEL" ] || die "the kit has no pip wheel in wheels/"
say "installing pip into the virtual environment from $(basename "$PIP_WHEEL")"
# A pip wheel runs as pip itself (python pip-X.whl/pip ...); --ignore-installed keeps a system pip out.
"$PREFIX/venv/bin/python" "$PIP_WHEEL/pip" install --quiet --ignore-installed --no-index \
    --find-links "$KIT/wheels" pip || die "could not install pip from $PIP_WHEEL"

say "installing $REQUIREMENT from the kit's wheels (no network)"
"$PREFIX/venv/bin/python" -m pip install --no-index --find-links "$KIT/wheels" "$REQUIREMENT" \
    || die "pip could not install from $KIT/wheels (see above)"

say "copying the bundle, the launch script and the settings to $PREFIX"
rm -rf "$PREFIX/bundle.new"
cp -R "$KIT/bundle" "$PREFIX/bundle.new"
rm -rf "$PREFIX/bundle"
mv "$PREFIX/bundle.new" "$PREFIX/bundle"
cp "$KIT/launch.sh" "$KIT/README.txt" "$KIT/kit.json" "$PREFIX/"
chmod 755 "$PREFIX/launch.sh"
if [ -f "$PREFIX/echosr-edge.conf" ]; then
    say "keeping the settings already in $PREFIX/echosr-edge.conf"
else
    cp "$KIT/echosr-edge.conf" "$PREFIX/echosr-edge.conf"
fi
if [ -d "$KIT/trust" ]; then
    # The device's trust store: launch.sh points the service at it, so only bundles these keys signed run.
    say "installing the trust store $PREFIX/trust: $(ls "$KIT/trust" | sed 's/\.pub$//' | tr '\n' ' ')"
    rm -rf "$PREFIX/trust.new"
    cp -R "$KIT/trust" "$PREFIX/trust.new"
    chmod 755 "$PREFIX/trust.new"
    chmod 644 "$PREFIX/trust.new"/*
    rm -rf "$PREFIX/trust"
    mv "$PREFIX/trust.new" "$PREFIX/trust"
fi
"$PREFIX/venv/bin/echosr-edge" --version

if [ "$BUILD_ENGINES" = yes ]; then
    # An engine only loads on the TensorRT and GPU that built it: this device builds its own, once.
    say "building the TensorRT engines for this device from the bundle's ONNX (once; minutes per model on an Orin)"
    for module in $SYSTEM_MODULES; do
        "$PREFIX/venv/bin/python" -c "import $module" >/dev/null 2>&1 \
            || die "stopped at the engine build: the Python module $module (TensorRT) is missing; on a Jetson \
it comes with JetPack (sudo apt install nvidia-jetpack), then run install.sh again"
    done
    mkdir -p "$PREFIX/engines"
    ECHOSR_ENGINE_CACHE="$PREFIX/engines" "$PREFIX/venv/bin/echosr-edge" engines build --bundle "$PREFIX/bundle" \
        --device "$DEVICE" || die "the engine build failed (the line above says why); run install.sh again once it is fixed"
fi

if [ "$SERVICE" = yes ]; then
    say "installing the service echosr-edge (user $RUN_USER)"
    id "$RUN_USER" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$RUN_USER"
    # The service rebuilds an engine TensorRT refuses after a JetPack update: the cache is its to write.
    if [ -d "$PREFIX/engines" ]; then chown -R "$RUN_USER" "$PREFIX/engines"; fi
    if getent group video >/dev/null 2>&1; then usermod -a -G video "$RUN_USER"; fi
    sed -e "s|__PREFIX__|$PREFIX|g" -e "s|__USER__|$RUN_USER|g" "$KIT/echosr-edge.service" \
        > /etc/systemd/system/echosr-edge.service
    systemctl daemon-reload
    systemctl enable echosr-edge.service
    systemctl restart echosr-edge.service
    say "started: systemctl status echosr-edge; journalctl -u echosr-edge -f"
else
    say "installed; start it by hand with $PREFIX/launch.sh (or run install.sh --service as root)"
fi
"""

LAUNCH_SH = r"""#!/bin/sh
# Start `echosr-edge run` with the settings in echosr-edge.conf. The service runs this at boot
# and starts it again whenever it stops.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
CONF=${ECHOSR_CONF:-$HERE/echosr-edge.conf}
# shellcheck disable=SC1090
if [ -f "$CONF" ]; then . "$CONF"; fi
DEVICE=${ECHOSR_DEVICE:-@DEVICE@}
CAMERA=${ECHOSR_CAMERA:-0}
LOG_DIR=${ECHOSR_LOG_DIR:-${LOGS_DIRECTORY:-$HERE/logs}}
# TensorRT engines built on this device (jetson and cuda kits; unused by the others).
ECHOSR_ENGINE_CACHE=${ECHOSR_ENGINE_CACHE:-$HERE/engines}
export ECHOSR_ENGINE_CACHE
mkdir -p "$LOG_DIR"
# The trust store install.sh provisioned: with it, a bundle no key there signed is refused at start.
if [ -z "${ECHOSR_TRUST_DIR:-}" ] && [ -d "$HERE/trust" ]; then
    export ECHOSR_TRUST_DIR="$HERE/trust"
fi
if [ -n "${ECHOSR_TRUST_DIR:-}" ]; then
    echo "echosr-edge: trust store $ECHOSR_TRUST_DIR: unsigned or foreign-signed bundles are refused" >&2
fi
if [ -n "${ECHOSR_SOURCE:-}" ]; then
    set -- --source "$ECHOSR_SOURCE"
else
    set -- --camera "$CAMERA"
fi
# ECHOSR_ARGS holds several options on purpose, hence unquoted.
# shellcheck disable=SC2086
exec "$HERE/venv/bin/echosr-edge" run --bundle "$HERE/bundle" --device "$DEVICE" "$@" \
    ${ECHOSR_ARGS---headless} --log "$LOG_DIR/run-$(date +%Y%m%d-%H%M%S).jsonl"
"""

SERVICE = """[Unit]
Description=echosr-edge @VERSION@ (@TARGET@): enhance-then-classify on the probe's video
After=local-fs.target
# Never give up restarting: a late camera or a crash must not leave the device idle.
StartLimitIntervalSec=0

[Service]
Type=simple
User=__USER__
# /dev/video* (and a Jetson's GPU device nodes) belong to the video group.
SupplementaryGroups=video
@ENGINE_BUILD@ExecStart=__PREFIX__/launch.sh
Restart=always
RestartSec=5
LogsDirectory=echosr-edge
# /var/lib/echosr-edge: the live view's HTTPS certificate and key ($STATE_DIRECTORY, runtime/web/tls.py).
StateDirectory=echosr-edge
StateDirectoryMode=0700
Environment=PYTHONUNBUFFERED=1
TimeoutStopSec=10

[Install]
WantedBy=multi-user.target
"""

CONF = """# echosr-edge settings, read by launch.sh at every start.
# After an edit: sudo systemctl restart echosr-edge

# Device profile: @DEVICE@ runs this kit's @FORMATS@ artifacts.
ECHOSR_DEVICE=@DEVICE@
# The capture device: 0 is /dev/video0 (the first camera or USB video grabber).
ECHOSR_CAMERA=0
# A video file or stream URL to read instead of the camera (empty: the camera).
ECHOSR_SOURCE=
# Folder for the per-frame JSON-lines logs (empty: /var/log/echosr-edge under the service,
# else the logs folder beside launch.sh).
ECHOSR_LOG_DIR=
# Further options for `echosr-edge run` (see: echosr-edge run --help).
ECHOSR_ARGS="--headless"
"""

README = """echosr-edge @VERSION@ install kit for @TARGET@
==================================================

For: @DESCRIPTION@
CPU: @ARCH@    Python: @PYTHON@    built: @CREATED@

This folder installs echosr-edge and its models on the device with no network. It holds:

  install.sh           installs everything (run it on the device)
  launch.sh            starts `echosr-edge run` with the settings of echosr-edge.conf
  echosr-edge.conf     the settings: camera, device profile, log folder
  echosr-edge.service  the systemd service that runs launch.sh at boot and restarts it
  bundle/              the models for this device (manifest.json and the model files)
  wheels/              echosr-edge and the Python packages it needs, for this CPU and Python
  kit.json             what this kit was built for
  trust/               (kits built with --sign/--trust) the public keys the device trusts:
                       install.sh installs them and the service refuses bundles they did not sign
  SHA256SUMS           the checksum of every file above

Models and the files each one uses:
@MODELS@
The device profile is "@DEVICE@".
@NOTES@
Install
-------
1. Copy the whole folder to the device (a USB stick is fine), then on the device:
       cd <the kit folder>
       sudo ./install.sh --service
   install.sh first checks every file against SHA256SUMS and stops if one was altered or
   damaged in the copy. It then checks the CPU and the Python version (@PYTHON@; use
   --python to name another interpreter of that version), creates /opt/echosr-edge/venv,
   installs from wheels/ without touching the network@SYSTEM_CHECK@, copies the bundle,
   and installs and starts the echosr-edge service.
   Without root, or to try it first: ./install.sh --prefix $HOME/echosr-edge
   (no service; start it with $HOME/echosr-edge/launch.sh).
2. Plug in the probe's video (USB camera or capture device) and check that /dev/video0
   exists. Another number: set ECHOSR_CAMERA in /opt/echosr-edge/echosr-edge.conf.
3. Check that it runs:
       systemctl status echosr-edge
       journalctl -u echosr-edge -f
   Each start writes one JSON line per frame to /var/log/echosr-edge/run-<time>.jsonl.

The service starts at boot and is restarted 5 seconds after it stops, for ever.
Stop it with: sudo systemctl stop echosr-edge (and disable it to keep it off after a reboot).

To check the kit without installing it:
    sha256sum -c SHA256SUMS
or, where echosr-edge is installed: echosr-edge package --verify <the kit folder>
"""

_PLACEHOLDER = re.compile(r"@[A-Z_]+@")


def render(template: str, values: dict[str, str]) -> str:
    """Fill ``@NAME@`` placeholders; a placeholder left unfilled is a bug, so it raises."""
    text = template
    for name, value in values.items():
        text = text.replace(f"@{name}@", value)
    left = sorted(set(_PLACEHOLDER.findall(text)))
    if left:
        raise KeyError(f"template placeholders without a value: {', '.join(left)}")
    return text
