"""Backend adapters behind runtime.engine.Engine (one module per backend)."""
