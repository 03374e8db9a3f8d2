"""CAMUS data: both releases through one reader, Table 1, the paper's task sets and honest
splits, degradations, and a synthetic CAMUS-format generator (see docs/data.md)."""
