"""The torch-free runtime: engines, pipeline, frame sources and sinks, bench."""
