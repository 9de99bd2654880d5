"""micromoments: calendar care for teams."""

__version__ = "0.1.0"
