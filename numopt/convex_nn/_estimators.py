"""scikit-learn-style estimators (no scikit-learn dependency; ``clone`` works)."""
import inspect

import numpy as np

from .._validation import check_array
from ._core import add_bias, convex_predict
from ._fit import fit_convex_relu

__all__ = ["ConvexReLURegressor", "ConvexReLUClassifier"]


class _ConvexReLUBase:
    _default_loss = "squared"

    @classmethod
    def _param_names(cls):
        sig = inspect.signature(cls.__init__)
        return [p for p in sig.parameters if p != "self"]

    def get_params(self, deep=True):
        """Parameters of this estimator (scikit-learn protocol)."""
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params):
        """Set parameters (scikit-learn protocol); returns ``self``."""
        valid = self._param_names()
        for key, value in params.items():
            if key not in valid:
                raise ValueError(f"invalid parameter {key!r} for {type(self).__name__}; "
                                 f"valid parameters: {', '.join(valid)}")
            setattr(self, key, value)
        return self

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    def _fit(self, X, y):
        res = fit_convex_relu(X, y, n_patterns=self.n_patterns, beta=self.beta, loss=self.loss,
                              solver=self.solver, bias=self.bias, robust_eps=self.robust_eps,
                              tol=self.tol, maxiter=self.maxiter, rng=self.rng)
        self.result_ = res
        self.patterns_ = res.patterns
        self.gates_ = res.gates
        self.V_ = res.V
        self.W_ = res.W
        self.objective_ = res.objective
        self.network_ = res.network
        self.n_iter_ = res.nit
        self.n_features_in_ = np.asarray(X).shape[1]
        return self

    def _check_fitted(self):
        if not hasattr(self, "network_"):
            raise AttributeError(f"this {type(self).__name__} is not fitted yet; call fit first")

    def network_predict(self, X):
        """Output of the recovered ReLU network, shape (n,)."""
        self._check_fitted()
        X = check_array(X, "X", ndim=2, dtype=np.float64)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(f"`X` must have {self.n_features_in_} columns, got {X.shape[1]}")
        return self.network_.predict(X)

    def convex_predict(self, X):
        """Output of the convex model ``sum_i D_i(X) X (v_i − w_i)``, patterns from the gates.

        Equals :meth:`network_predict` on the training data; elsewhere the
        patterns ``1[X h_i >= 0]`` of the gates are used (the gated model).
        """
        self._check_fitted()
        X = check_array(X, "X", ndim=2, dtype=np.float64)
        Xa = add_bias(X) if self.bias else X
        D = (Xa @ self.gates_ >= 0).astype(np.float64)
        return convex_predict(Xa, D, self.V_, self.W_)


class ConvexReLURegressor(_ConvexReLUBase):
    """Two-layer ReLU regression network trained to global optimality (convex program).

    Parameters
    ----------
    n_patterns : int
        Number of sampled activation patterns ``P`` (at most ``2P`` neurons).
    beta : float
        Neuron (group-ℓ₂) regularisation, equal to weight decay ``beta/2``.
    solver : {'admm', 'ipm', 'scp', 'cvxpy'}
        See :func:`fit_convex_relu`.
    loss : {'squared'}
        Regression loss.
    bias : bool
        Hidden biases.
    robust_eps : float
        ℓ∞ radius of robust training (``solver='cvxpy'``).
    tol, maxiter : float, int
        Solver tolerance and iteration limit.
    rng : {None, int, numpy.random.Generator}
        Pattern sampling.

    Attributes
    ----------
    patterns_ : ndarray, shape (n, P)
        The 0/1 activation matrix ``D``.
    gates_ : ndarray, shape (d', P)
    V_, W_ : ndarray, shape (d', P)
        Convex weights (last row: biases when ``bias=True``).
    objective_ : float
        ``½‖ŷ − y‖² + β Σ(‖vᵢ‖ + ‖wᵢ‖)`` at the solution.
    network_ : ReLUNetwork
        The recovered network.
    n_iter_ : int
    result_ : OptimizeResult
        Everything :func:`fit_convex_relu` returned.

    Examples
    --------
    >>> import numpy as np
    >>> from numopt.convex_nn import ConvexReLURegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((60, 2)); y = np.maximum(X[:, 0], 0) - 0.5 * X[:, 1]
    >>> model = ConvexReLURegressor(n_patterns=20, beta=1e-3, tol=1e-4, rng=0).fit(X, y)
    >>> round(model.score(X, y), 3)
    1.0
    """

    def __init__(self, n_patterns=100, beta=1e-3, solver="admm", loss="squared", bias=True,
                 robust_eps=0.0, tol=1e-6, maxiter=10000, rng=None):
        self.n_patterns = n_patterns
        self.beta = beta
        self.solver = solver
        self.loss = loss
        self.bias = bias
        self.robust_eps = robust_eps
        self.tol = tol
        self.maxiter = maxiter
        self.rng = rng

    def fit(self, X, y):
        """Fit to data ``X`` (n, d) and targets ``y`` (n,); returns ``self``."""
        if self.loss != "squared":
            raise ValueError(f"`loss` must be 'squared' for {type(self).__name__}, got "
                             f"{self.loss!r}")
        return self._fit(X, y)

    def predict(self, X):
        """Predictions of the trained network."""
        return self.network_predict(X)

    def score(self, X, y):
        """Coefficient of determination R²."""
        y = check_array(y, "y", ndim=1, dtype=np.float64)
        r = y - self.predict(X)
        return float(1.0 - (r @ r) / np.sum((y - y.mean()) ** 2))


class ConvexReLUClassifier(_ConvexReLUBase):
    """Binary two-layer ReLU classifier trained by its convex program.

    Labels must be in {0, 1} or {−1, 1}; predictions use the same encoding.
    ``loss='bce'`` is the logistic loss of the network output, ``'hinge'``
    the hinge loss and ``'squared'`` regression on ±1 targets. With
    ``robust_eps > 0`` (``solver='cvxpy'``) the network is trained against
    every ℓ∞ perturbation of radius ``robust_eps`` (Bai, Gautam & Sojoudi).

    Parameters and attributes are those of :class:`ConvexReLURegressor`,
    plus ``classes_`` (the two labels).

    Examples
    --------
    >>> import numpy as np
    >>> from numopt.convex_nn import ConvexReLUClassifier
    >>> rng = np.random.default_rng(1)
    >>> X = rng.standard_normal((80, 2)); y = (X[:, 0] * X[:, 1] > 0).astype(int)
    >>> clf = ConvexReLUClassifier(n_patterns=20, beta=0.1, maxiter=1000,
    ...                            tol=1e-4, rng=0).fit(X, y)
    >>> clf.score(X, y) > 0.9
    True
    """

    def __init__(self, n_patterns=100, beta=1e-3, solver="admm", loss="bce", bias=True,
                 robust_eps=0.0, tol=1e-6, maxiter=10000, rng=None):
        self.n_patterns = n_patterns
        self.beta = beta
        self.solver = solver
        self.loss = loss
        self.bias = bias
        self.robust_eps = robust_eps
        self.tol = tol
        self.maxiter = maxiter
        self.rng = rng

    def fit(self, X, y):
        """Fit to data ``X`` (n, d) and labels ``y`` in {0, 1} or {−1, 1}; returns ``self``."""
        y = check_array(y, "y", ndim=1, dtype=np.float64)
        labels = np.unique(y)
        if labels.size > 2 or not (set(labels) <= {0.0, 1.0} or set(labels) <= {-1.0, 1.0}):
            raise ValueError(f"`y` must hold binary labels in {{0, 1}} or {{-1, 1}}, got "
                             f"{labels[:5].tolist()}")
        self.classes_ = np.array([-1.0, 1.0]) if (labels < 0).any() else np.array([0.0, 1.0])
        pos = y == 1.0
        if self.loss == "bce":
            target = pos.astype(np.float64)
        else:
            target = np.where(pos, 1.0, -1.0)
        return self._fit(X, target)

    def decision_function(self, X):
        """Network output (positive means class ``classes_[1]``)."""
        return self.network_predict(X)

    def predict(self, X):
        """Predicted labels, in the encoding of the training labels."""
        return np.where(self.decision_function(X) > 0, self.classes_[1], self.classes_[0])

    def predict_proba(self, X):
        """Class probabilities ``[1 − σ(f), σ(f)]`` (meaningful for ``loss='bce'``)."""
        from scipy.special import expit
        p = expit(self.decision_function(X))
        return np.column_stack([1.0 - p, p])

    def score(self, X, y):
        """Accuracy."""
        y = np.asarray(y, dtype=np.float64)
        return float(np.mean(self.predict(X) == y))
