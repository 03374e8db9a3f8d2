"""Device profiles: which backend and precision a kind of device runs (torch-free)."""
