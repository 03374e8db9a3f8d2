"""CAMUS data: frame records, readers, synthetic generator, degradations and splits."""
