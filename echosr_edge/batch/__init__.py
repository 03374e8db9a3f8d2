"""Offline batch processing of a clinic's scans, on the runtime core (torch-free)."""
