"""hookcatcher: a local webhook receiver and inspector for WhatsApp gateways."""

__version__ = "0.1.0"

__all__ = ["__version__"]
