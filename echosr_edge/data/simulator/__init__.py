"""A B-mode ultrasound simulator: the embedded synthetic default, with ground truth and planted controls.

anatomy (heart geometry and motion) → scatterers (tissue fields) → formation (PSF, clutter,
noise, envelope, TGC, log compression) → scan_convert (sector image); quality draws the
causes of lost quality and labels the tiers; simulate renders a view; tree writes CAMUS trees.
"""
