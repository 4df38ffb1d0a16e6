"""Bosai Ops: the application shell — command line, settings, i18n catalog, Japanese dates."""

__version__ = "0.1.0"
