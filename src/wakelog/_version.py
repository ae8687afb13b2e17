"""wakelog's version, in a module of its own so that any layer can read it without the façade."""

__version__ = "0.1.0"
