"""harness: proves deep-learning lessons true by running them and checking their claims."""

__version__ = "0.1.0"
