"""B-mode image formation in beam space: attenuation, PSF, clutter, noise, envelope, TGC, log compression.

The beam grid is depth samples × beams of a phased-array sector. The received signal is the
complex (baseband) scatterer field, attenuated on its way in and out, shadowed behind ribs or
lung, plus near-field clutter, reverberation bands and receiver noise; it is convolved with
the PSF (a Gaussian axial pulse envelope × a Gaussian beam whose width grows away from the
focus); its magnitude is the envelope; time-gain compensation undoes the nominal attenuation
(with the acquisition's gain error) and the envelope is log-compressed into the display range.

The PSF kernels have unit energy, so a wider PSF blurs without changing mean brightness.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

FWHM_PER_SIGMA = 2.0 * math.sqrt(2.0 * math.log(2.0))
ATTENUATION_DB_PER_CM = 2.5  # two-way: 0.5 dB/cm/MHz at 2.5 MHz
MYOCARDIUM_DB = -18.0  # where myocardium's mean envelope sits below the top of the display range


@dataclass(frozen=True)
class BeamGrid:
    """The beam-space sampling of a sector: ``samples`` depths × ``beams`` angles."""

    depth_mm: float = 150.0
    samples: int = 600
    beams: int = 160
    half_angle: float = math.radians(37.5)

    @property
    def dr(self) -> float:
        """Depth step in mm."""
        return self.depth_mm / self.samples

    @property
    def dtheta(self) -> float:
        """Angle step in rad."""
        return 2.0 * self.half_angle / self.beams

    def depths(self) -> np.ndarray:
        """Depth of each sample in mm (samples,)."""
        return ((np.arange(self.samples) + 0.5) * self.dr).astype(np.float32)

    def angles(self) -> np.ndarray:
        """Angle of each beam in rad (beams,), positive to the image's right."""
        return (-self.half_angle + (np.arange(self.beams) + 0.5) * self.dtheta).astype(np.float32)

    def cartesian(self) -> tuple[np.ndarray, np.ndarray]:
        """Lateral ``x`` and depth ``z`` in mm of every beam-space cell (samples × beams each)."""
        r, t = np.meshgrid(self.depths(), self.angles(), indexing="ij")
        return r * np.sin(t), r * np.cos(t)


@dataclass(frozen=True)
class PSF:
    """A Gaussian point-spread function: amplitude FWHMs in mm, the lateral one depending on depth."""

    axial_fwhm_mm: float = 1.0
    lateral_fwhm_mm: float = 2.2  # at the focus
    focus_mm: float = 75.0
    rayleigh_mm: float = 40.0  # distance from the focus over which the beam widens by √2

    def lateral_fwhm_at(self, depth_mm: np.ndarray | float) -> np.ndarray | float:
        """Lateral amplitude FWHM in mm at ``depth_mm`` (a Gaussian beam's widening)."""
        return self.lateral_fwhm_mm * np.sqrt(1.0 + ((np.asarray(depth_mm) - self.focus_mm) / self.rayleigh_mm) ** 2)

    def widened(self, lateral: float, axial: float = 1.0) -> "PSF":
        """The PSF with its widths multiplied (aberration, a worse probe)."""
        return replace(self, lateral_fwhm_mm=self.lateral_fwhm_mm * lateral, axial_fwhm_mm=self.axial_fwhm_mm * axial)


@dataclass(frozen=True)
class Acquisition:
    """How one view was acquired: the PSF and every cause of lost quality. The ideal one is ``Acquisition()``."""

    psf: PSF = field(default_factory=PSF)
    noise_db: float = -95.0  # receiver noise power re myocardium at the skin
    clutter: float = 0.0  # near-field clutter amplitude re myocardium
    reverberation: float = 0.0  # first reverberation band's amplitude re myocardium
    rib_depth_mm: float = 14.0
    shadows: tuple[tuple[float, float, float], ...] = ()  # rib shadows: (centre rad, half-width rad, loss dB)
    dropout: tuple[float, float, float] | None = None  # lung: (centre rad, half-width rad, loss dB) beyond 35 mm
    gain_db: float = 0.0  # overall gain error
    tgc_slope_db_per_cm: float = 0.0  # TGC error growing with depth (zero at 8 cm)
    contrast: float = 1.0  # display contrast (the negative control's only degradation, with haze)
    haze: float = 0.0  # display offset in [0, 1]
    # A coarse capture path: the scan-converted frame passes through capture_px × capture_px pixels
    # (area ↓, then bicubic ↑ back to the frame's size). None: full resolution. The positive control's ↓.
    capture_px: int | None = None
    dynamic_range_db: float = 60.0


def _gaussian_transfer(sigma: np.ndarray, n: int) -> np.ndarray:
    """Unit-energy Gaussian kernels' frequency responses: one row per sigma (in samples), ``n`` frequencies."""
    freq = np.fft.fftfreq(n).astype(np.float32)
    sigma = np.asarray(sigma, np.float32).reshape(-1, 1)
    gain = np.sqrt(2.0 * math.sqrt(math.pi) * sigma)  # unit sum → unit energy
    return (gain * np.exp(-2.0 * math.pi**2 * sigma**2 * freq**2)).astype(np.float32)


def convolve_psf(rx: np.ndarray, grid: BeamGrid, psf: PSF) -> np.ndarray:
    """Convolve a complex beam-space field with ``psf`` (per-depth lateral kernel, then axial), by FFT."""
    samples, beams = rx.shape
    depth = grid.depths()
    lateral_sigma = psf.lateral_fwhm_at(depth) / np.maximum(depth, 1.0) / grid.dtheta / FWHM_PER_SIGMA
    lateral_sigma = np.clip(lateral_sigma, 0.3, beams / 4.0)
    n_lat = 2 * beams
    spec = np.fft.fft(rx, n=n_lat, axis=1)
    spec *= _gaussian_transfer(lateral_sigma, n_lat)
    out = np.fft.ifft(spec, axis=1)[:, :beams]
    axial_sigma = psf.axial_fwhm_mm / grid.dr / FWHM_PER_SIGMA
    n_ax = samples + int(8 * axial_sigma) + 8
    spec = np.fft.fft(out, n=n_ax, axis=0)
    spec *= _gaussian_transfer(np.array([axial_sigma]), n_ax).reshape(-1, 1)
    return np.fft.ifft(spec, axis=0)[:samples].astype(np.complex64)


def _complex_noise(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    re = rng.standard_normal(shape, dtype=np.float32)
    im = rng.standard_normal(shape, dtype=np.float32)
    return ((re + 1j * im) * np.float32(math.sqrt(0.5))).astype(np.complex64)


def _wedge_loss_db(angles: np.ndarray, centre: float, half_width: float, loss_db: float) -> np.ndarray:
    return loss_db * np.exp(-(((angles - centre) / half_width) ** 4))


def received(field_: np.ndarray, grid: BeamGrid, acq: Acquisition, rng: np.random.Generator) -> np.ndarray:
    """The received complex field before the PSF: attenuated, shadowed tissue plus clutter, reverberation and noise."""
    depth = grid.depths().reshape(-1, 1)
    angles = grid.angles().reshape(1, -1)
    loss_db = ATTENUATION_DB_PER_CM * depth / 10.0 + np.zeros_like(angles)
    for centre, half_width, loss in acq.shadows:
        loss_db = loss_db + _wedge_loss_db(angles, centre, half_width, loss) * (depth > acq.rib_depth_mm)
    if acq.dropout is not None:
        centre, half_width, loss = acq.dropout
        loss_db = loss_db + _wedge_loss_db(angles, centre, half_width, loss) * np.clip((depth - 35.0) / 10.0, 0.0, 1.0)
    rx = field_ * (10.0 ** (-loss_db / 20.0)).astype(np.float32)
    shape = field_.shape
    if acq.clutter > 0:
        rx += _complex_noise(shape, rng) * (acq.clutter * np.exp(-depth / 12.0)).astype(np.float32)
    if acq.reverberation > 0:
        bands = sum(0.55 ** (k - 2) * np.exp(-0.5 * ((depth - k * acq.rib_depth_mm) / 1.5) ** 2) for k in range(2, 7))
        rx += _complex_noise(shape, rng) * (acq.reverberation * bands * 10.0 ** (-ATTENUATION_DB_PER_CM * acq.rib_depth_mm / 10.0 / 20.0)).astype(np.float32)
    if acq.noise_db > -150:
        rx += _complex_noise(shape, rng) * np.float32(10.0 ** (acq.noise_db / 20.0))
    return rx


def envelope(rx: np.ndarray, grid: BeamGrid, acq: Acquisition) -> np.ndarray:
    """The PSF-convolved envelope after time-gain compensation (samples × beams float32, myocardium ≈ 1)."""
    depth_cm = grid.depths().reshape(-1, 1) / 10.0
    tgc_db = ATTENUATION_DB_PER_CM * depth_cm + acq.gain_db + acq.tgc_slope_db_per_cm * (depth_cm - 8.0)
    return (np.abs(convolve_psf(rx, grid, acq.psf)) * (10.0 ** (tgc_db / 20.0))).astype(np.float32)


def log_compress(env: np.ndarray, acq: Acquisition) -> np.ndarray:
    """Envelope → display values in [0, 1]: dB re the top of the range, clipped to the dynamic range."""
    db = 20.0 * np.log10(np.maximum(env, 1e-12)) + MYOCARDIUM_DB
    display = np.clip((db + acq.dynamic_range_db) / acq.dynamic_range_db, 0.0, 1.0)
    if acq.contrast != 1.0 or acq.haze != 0.0:
        display = np.clip(display * acq.contrast + acq.haze, 0.0, 1.0)
    return display.astype(np.float32)


def form(field_: np.ndarray, grid: BeamGrid, acq: Acquisition, rng: np.random.Generator) -> np.ndarray:
    """A beam-space B-mode image (samples × beams float32 in [0, 1]) of the scatterer field under ``acq``."""
    return log_compress(envelope(received(field_, grid, acq, rng), grid, acq), acq)
