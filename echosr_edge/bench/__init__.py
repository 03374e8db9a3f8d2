"""Latency, fidelity and the speed/accuracy frontier of a bundle, on the runtime core (torch-free)."""
