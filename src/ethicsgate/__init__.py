"""ethicsgate: check that customer-facing automation is fair, transparent and consented to."""

__version__ = "0.1.0"
__all__ = ["__version__"]
