"""paperlens: a self-hosted research-paper discovery engine."""

__version__ = "0.1.0"
__all__ = ["__version__"]
