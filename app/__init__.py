"""Transformer Quiz: interview prep for Transformers."""

__version__ = "0.1.0"
