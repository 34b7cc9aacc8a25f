"""Module-level ``__getattr__`` that loads a subpackage's scikit-learn estimators on first use.

The estimator modules import scikit-learn, an optional dependency (the
``sklearn`` extra); ``import numopt`` must work without it.
"""
import importlib

__all__ = ["estimator_getattr"]


def estimator_getattr(package, names, module="._estimators"):
    """``__getattr__`` for ``package`` that imports ``module`` when one of ``names`` is asked."""
    names = frozenset(names)

    def __getattr__(name):
        if name in names:
            try:
                mod = importlib.import_module(module, package)
            except ImportError as exc:
                raise ImportError(f"{name} needs scikit-learn >= 1.6: pip install "
                                  f"'numopt[sklearn]' ({exc})") from exc
            return getattr(mod, name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__
