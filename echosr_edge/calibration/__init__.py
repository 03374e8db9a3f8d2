"""Calibration sets drawn from the data, and the readers each quantiser needs."""
