"""chipcast: track, forecast and score claims about China's AI-chip self-reliance."""

__version__ = "0.1.0"
