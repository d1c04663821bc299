"""Kling Preview: paint motion-brush regions, preview them locally, export Kling's request."""

__version__ = "0.1.0"
