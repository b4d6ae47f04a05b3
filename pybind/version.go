package pybind

// version is qmpc's version; python/qmpc/_version.py holds the same string (a test checks).
const version = "0.1.0"

// Version returns qmpc's version.
func Version() string { return version }
