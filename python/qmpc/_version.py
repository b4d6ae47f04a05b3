"""qmpc's version (pybind/version.go holds the same string; tests/test_api.py checks)."""

__version__ = "0.1.0"
