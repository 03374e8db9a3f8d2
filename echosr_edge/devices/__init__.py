"""Device profiles (cpu, intel-cpu, jetson, cuda, auto) and detection of what this machine runs (torch-free)."""
