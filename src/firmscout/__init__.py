"""Firmscout: a self-hostable company discovery engine."""

__version__ = "0.1.0"
