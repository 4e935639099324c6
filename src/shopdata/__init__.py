"""shopdata: the data platform of an e-commerce company."""

__version__ = "0.1.0"
