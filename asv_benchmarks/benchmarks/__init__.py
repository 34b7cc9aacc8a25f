"""numopt's asv benchmark suite.

With ``environment_type: existing`` asv benchmarks the installed numopt; when
numopt is not installed (a bare checkout), the checkout itself is used.
"""
import os
import sys

try:
    import numopt  # noqa: F401
except ImportError:  # pragma: no cover - bare checkout
    sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
