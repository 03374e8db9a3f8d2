"""What the readers see in one file (`echosr-edge inspect`), on the runtime core (torch-free)."""
