"""echosr-edge: super-resolution-aided echocardiography, from CAMUS training to edge runtimes."""

__version__ = "0.1.0"
