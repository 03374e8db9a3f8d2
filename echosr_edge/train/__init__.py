"""Training (torch): SR and classifier trainers, metrics, the paper's experiments."""
