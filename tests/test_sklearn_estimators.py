"""scikit-learn's own estimator checks on every estimator numopt exports.

The estimators are discovered, not listed: every public subpackage of numopt
is walked and each name in its ``__all__`` that is a ``BaseEstimator``
subclass is checked with ``parametrize_with_checks`` (no expected failures).
Run just these with ``python -m pytest tests/test_sklearn_estimators.py``.
"""
import importlib
import inspect
import pkgutil

import pytest

pytest.importorskip("sklearn")
from sklearn.base import BaseEstimator  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

import numopt  # noqa: E402


def discover_estimators():
    """Classes derived from ``BaseEstimator`` in the ``__all__`` of numopt's public
    (sub)packages and modules, at any depth."""
    found = {}
    for info in pkgutil.walk_packages(numopt.__path__, prefix="numopt."):
        if any(part.startswith("_") for part in info.name.split(".")):
            continue
        module = importlib.import_module(info.name)
        for name in getattr(module, "__all__", ()):
            obj = getattr(module, name)
            if inspect.isclass(obj) and issubclass(obj, BaseEstimator):
                found[f"{obj.__module__}.{obj.__qualname__}"] = obj   # once if re-exported
    return [found[key] for key in sorted(found)]


ESTIMATORS = discover_estimators()


def test_discovery_finds_the_documented_estimators():
    names = {cls.__name__ for cls in ESTIMATORS}
    assert {"ConvexReLURegressor", "ConvexReLUClassifier", "LassoBCD",
            "L1LogisticRegressionBCD"} <= names


@parametrize_with_checks([cls() for cls in ESTIMATORS])
def test_sklearn_estimator_checks(estimator, check):
    # one BLAS thread: the fits are tiny, and BLAS threads only oversubscribe shared CI cores
    with threadpool_limits(1):
        check(estimator)
