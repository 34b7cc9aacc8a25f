"""Pieces shared by numopt's scikit-learn estimators (imports scikit-learn).

Only the estimator modules (``numopt.convex_nn._estimators``,
``numopt.coordinate._estimators``) import this module, and they are loaded on
first use, so ``import numopt`` works without scikit-learn installed.
"""
import contextlib
import numbers
import warnings

import numpy as np
from scipy.special import expit
from sklearn import base as _base
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.multiclass import check_classification_targets

from ._result import OptimizeWarning

__all__ = ["RegressorMixin", "ClassifierMixin", "rng_from_random_state", "converging",
           "warn_not_converged", "encode_labels", "labels_from_decision", "proba_from_decision"]


class RegressorMixin(_base.RegressorMixin):
    """scikit-learn's regressor mixin, with a ``score`` docstring that builds in numopt's docs."""

    def score(self, X, y, sample_weight=None):
        """Coefficient of determination R² of ``self.predict(X)`` against ``y``.

        Scikit-learn's ``RegressorMixin.score`` (``sklearn.metrics.r2_score``).
        """
        return super().score(X, y, sample_weight=sample_weight)


class ClassifierMixin(_base.ClassifierMixin):
    """scikit-learn's classifier mixin, with a ``score`` docstring that builds in numopt's docs."""

    def score(self, X, y, sample_weight=None):
        """Mean accuracy of ``self.predict(X)`` against ``y``.

        Scikit-learn's ``ClassifierMixin.score`` (``sklearn.metrics.accuracy_score``).
        """
        return super().score(X, y, sample_weight=sample_weight)


def rng_from_random_state(random_state):
    """numopt's ``rng`` argument from scikit-learn's ``random_state``.

    ``None`` and int seeds pass through (``numpy.random.default_rng`` takes
    them); a legacy ``RandomState`` (scikit-learn's convention) seeds a new
    ``Generator`` with one draw, so the same ``RandomState`` state gives the
    same fit; a ``Generator`` passes through.
    """
    if random_state is None or isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        return int(random_state)
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(int(random_state.randint(np.iinfo(np.int32).max)))
    raise ValueError(f"`random_state` must be None, an int, a numpy.random.RandomState or a "
                     f"numpy.random.Generator, got {random_state!r}")


@contextlib.contextmanager
def converging():
    """Silence numopt's ``OptimizeWarning`` inside ``fit``; :func:`warn_not_converged`
    reports a failure with scikit-learn's ``ConvergenceWarning`` instead."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OptimizeWarning)
        yield


def warn_not_converged(estimator, result, what=""):
    """Emit a ``ConvergenceWarning`` when the solver result says it did not succeed."""
    if not result.success:
        warnings.warn(f"{type(estimator).__name__}{what} did not converge: {result.message} "
                      "Increase the iteration limit or loosen `tol`.",
                      ConvergenceWarning, stacklevel=3)


def encode_labels(estimator, y):
    """``classes_`` and integer codes of classification targets; needs two classes or more."""
    check_classification_targets(y)
    classes, codes = np.unique(y, return_inverse=True)
    if classes.size < 2:
        raise ValueError(f"{type(estimator).__name__} needs samples of at least 2 classes in "
                         f"the data, but the data contains only one class: {classes[0]!r}")
    return classes, codes


def labels_from_decision(classes, F):
    """Labels from decision values: sign for two classes (shape (n,)), else argmax."""
    idx = (F > 0).astype(np.intp) if F.ndim == 1 else np.argmax(F, axis=1)
    return classes[idx]


def proba_from_decision(F):
    """``[1 − σ(f), σ(f)]`` for two classes; one-vs-rest ``σ(f_k)`` normalised over ``k``."""
    if F.ndim == 1:
        p = expit(F)
        return np.column_stack([1.0 - p, p])
    P = expit(F)
    return P / P.sum(axis=1, keepdims=True)
