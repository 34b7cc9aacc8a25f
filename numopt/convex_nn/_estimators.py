"""scikit-learn estimators for two-layer ReLU networks trained by their convex program.

Both pass ``sklearn.utils.estimator_checks.check_estimator`` (see
``tests/test_sklearn_estimators.py``). Importing this module imports
scikit-learn; ``numopt.convex_nn`` loads it on first use of an estimator name.
"""
import warnings

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted, validate_data

from .._array_api import asarray, namespace_and_device
from .._sklearn import (ClassifierMixin, RegressorMixin, converging, encode_labels,
                        labels_from_decision, proba_from_decision, rng_from_random_state,
                        warn_not_converged)
from .._validation import check_array
from ._core import add_bias, convex_predict
from ._fit import fit_convex_relu
from ._xp import expit

__all__ = ["ConvexReLURegressor", "ConvexReLUClassifier"]


class _ConvexReLUBase(BaseEstimator):
    """Fitting, the recovered networks and the convex predictions shared by both estimators."""

    def _seed(self):
        if self.rng is not None:
            if self.random_state is not None:
                raise ValueError("pass `random_state` only; `rng` is its deprecated alias")
            warnings.warn("`rng` is deprecated; use `random_state` (scikit-learn's name)",
                          FutureWarning, stacklevel=3)
            return rng_from_random_state(self.rng)
        return rng_from_random_state(self.random_state)

    def _solve(self, X, target, rng, patterns=None, what=""):
        # 'auto' is resolved by fit_convex_relu (one rule for the estimators and the function:
        # IPM within its memory budget, ADMM beyond it or for the hinge loss, CVXPY when robust)
        solver = self.solver
        maxiter = self.maxiter
        if maxiter is None:
            maxiter = 200 if solver == "ipm" else 10000
        with converging():
            res = fit_convex_relu(X, target, n_patterns=self.n_patterns, beta=self.beta,
                                  loss=self.loss, solver=solver, bias=self.bias,
                                  robust_eps=self.robust_eps, tol=self.tol,
                                  maxiter=maxiter, rng=rng, patterns=patterns)
        warn_not_converged(self, res, what)
        return res

    def _validate_xp(self, X, y):
        """The namespace of non-NumPy ``X, y`` (None for NumPy input) and the checked arrays.

        Device arrays follow scikit-learn's ``array_api_dispatch`` convention (the
        arrays stay in their namespace and on their device, and so do the fitted
        arrays) without needing that setting.
        """
        xp, dev = namespace_and_device(X, y, names=("X", "y"))
        if xp is np:
            return None, X, y
        X = check_array(X, "X", ndim=2, min_size=1, xp=xp)
        check_array(y, "y", ndim=1, shape=(X.shape[0],), xp=xp)
        self.n_features_in_ = X.shape[1]
        if hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        return xp, X, asarray(y, xp, dev)      # labels keep their dtype

    def _store(self, results):
        """Fitted attributes from one result (single network) or several (one-vs-rest)."""
        self.results_ = results
        self.networks_ = [r.network for r in results]
        self.patterns_ = results[0].patterns
        self.gates_ = results[0].gates
        if len(results) == 1:
            res = results[0]
            self.result_ = res
            self.network_ = res.network
            self.V_, self.W_ = res.V, res.W
            self.objective_ = float(res.objective)
            self.n_iter_ = int(res.nit)
        else:
            xp, _ = namespace_and_device(results[0].V)
            self.V_ = xp.stack([r.V for r in results])
            self.W_ = xp.stack([r.W for r in results])
            self.objective_ = np.array([r.objective for r in results])
            self.n_iter_ = np.array([r.nit for r in results], dtype=np.int64)

    def _check_X(self, X):
        """``(X, xp)``: ``X`` checked against the fit, in the fitted arrays' namespace."""
        check_is_fitted(self)
        xp, _ = namespace_and_device(X, self.gates_, names=("X", "the fitted gates_"))
        if xp is np:
            return validate_data(self, X, dtype=np.float64, reset=False), xp
        X = check_array(X, "X", ndim=2, dtype=self.gates_.dtype, xp=xp)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {X.shape[1]} features, but {type(self).__name__} is "
                             f"expecting {self.n_features_in_} features as input")
        return X, xp

    def _squeeze(self, F):
        return F[:, 0] if F.shape[1] == 1 else F

    def _columns(self, cols, xp):
        return self._squeeze(np.column_stack(cols) if xp is np else xp.stack(cols, axis=1))

    def network_predict(self, X):
        """Output of the recovered ReLU network(s): shape (n,), or (n, K) one-vs-rest."""
        X, xp = self._check_X(X)
        return self._columns([net.predict(X) for net in self.networks_], xp)

    def convex_predict(self, X):
        """Output of the convex model ``sum_i D_i(X) X (v_i − w_i)``, patterns from the gates.

        Equals :meth:`network_predict` on the training data; elsewhere the
        patterns ``1[X h_i >= 0]`` of the gates are used (the gated model).
        Shape (n,), or (n, K) for a one-vs-rest classifier.
        """
        X, xp = self._check_X(X)
        Xa = add_bias(X, xp) if self.bias else X
        if xp is np:
            D = (Xa @ self.gates_ >= 0).astype(np.float64)
        else:
            D = xp.astype(Xa @ self.gates_ >= 0, Xa.dtype)
        return self._columns([convex_predict(Xa, D, r.V, r.W, xp) for r in self.results_], xp)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # The solvers factor dense n x n / d x d matrices: sparse X is refused with
        # scikit-learn's TypeError (validate_data's accept_sparse=False), as the tag says.
        tags.input_tags.sparse = False
        return tags


_PARAMS_DOC = """
    n_patterns : int
        Number of sampled activation patterns ``P`` (at most ``2P`` neurons per
        network). The default 20 suits small data; larger ``P`` gets closer to the
        optimal network of unrestricted width at a cost linear in ``P``.
    beta : float
        Neuron (group-ℓ₂) regularisation, equal to weight decay ``beta/2``.
    solver : {'auto', 'admm', 'ipm', 'scp', 'cvxpy'}
        See :func:`fit_convex_relu`. ``'auto'`` (its rule): the interior-point
        method ('ipm', certified duality gap) for the squared and logistic losses
        while its Newton system fits in memory, falling back to 'admm' when it does
        not certify; 'admm' for the hinge loss and for data too large for the IPM;
        'cvxpy' for robust training.
    loss : str
        See the class description.
    bias : bool
        Hidden biases.
    robust_eps : float
        ℓ∞ radius of robust training (``solver='cvxpy'``).
    tol : float
        Solver tolerance (relative certified duality gap for 'ipm', residuals for
        'admm').
    maxiter : int, optional
        Solver iteration limit (default: 200 for 'ipm', which needs 30–80 steps on
        well-scaled data, 10000 for the others); a fit that stops short of ``tol``
        warns with ``sklearn.exceptions.ConvergenceWarning``. Standardized
        features (``StandardScaler`` in a ``Pipeline``) help every solver.
    random_state : {None, int, numpy.random.RandomState, numpy.random.Generator}
        Source of the activation patterns (scikit-learn's name for numopt's
        ``rng``); an int makes fits reproducible.
    rng : deprecated
        Former name of ``random_state``; passing it warns with
        ``FutureWarning``.
"""

_ATTRS_DOC = """
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when ``X`` had string column names (a pandas DataFrame).
    patterns_ : ndarray, shape (n, P)
        The 0/1 activation matrix ``D`` (shared by all one-vs-rest networks).
    gates_ : ndarray, shape (d', P)
        Gate vectors of the patterns (``d' = d + 1`` with a bias).
    V_, W_ : ndarray, shape (d', P), or (K, d', P) one-vs-rest
        Convex weights (last row: biases when ``bias=True``).
    objective_ : float, or ndarray of shape (K,)
        Objective of the convex program at the solution.
    network_ : ReLUNetwork
        The recovered network (single-output fits only).
    networks_ : list of ReLUNetwork
        All recovered networks (one per class for one-vs-rest).
    n_iter_ : int, or ndarray of shape (K,)
        Solver iterations.
    result_ : OptimizeResult
        Everything :func:`fit_convex_relu` returned (single-output fits only);
        ``results_`` holds the list.
"""


class ConvexReLURegressor(RegressorMixin, _ConvexReLUBase):
    """Two-layer ReLU regression network trained to global optimality (convex program).

    Minimizes ``½‖ŷ − y‖² + β Σ(‖vᵢ‖ + ‖wᵢ‖)`` over the sampled activation
    patterns (:func:`fit_convex_relu`); the recovered ReLU network predicts.
    A scikit-learn estimator: ``clone``, ``Pipeline``, ``GridSearchCV`` work.

    Array namespaces: ``X, y`` of one non-NumPy namespace (PyTorch, CuPy, any
    Array API library) are fitted on their device as :func:`fit_convex_relu`
    does ('admm', 'ipm', 'auto'); the fitted arrays (``V_``, ``W_``,
    ``patterns_``, ``gates_``, the networks' weights) and the predictions are
    in that namespace, as scikit-learn does under ``array_api_dispatch=True``
    (not needed here). ``score`` is scikit-learn's and follows its rules.

    Parameters
    ----------
    {params}

    Attributes
    ----------
    {attrs}

    Examples
    --------
    >>> import numpy as np
    >>> from numopt.convex_nn import ConvexReLURegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((60, 2)); y = np.maximum(X[:, 0], 0) - 0.5 * X[:, 1]
    >>> model = ConvexReLURegressor(beta=1e-3, tol=1e-4, random_state=0).fit(X, y)
    >>> round(model.score(X, y), 3)
    1.0
    """

    # Deliberately repeated in ConvexReLUClassifier.__init__ (and shaped like the coordinate
    # estimators'): scikit-learn reads the parameters from each class's own __init__ signature
    # and wants plain assignments there (`duplicates` lists these pairs).
    def __init__(self, n_patterns=20, beta=1e-3, solver="auto", loss="squared", bias=True,
                 robust_eps=0.0, tol=1e-4, maxiter=None, random_state=None, rng=None):
        self.n_patterns = n_patterns
        self.beta = beta
        self.solver = solver
        self.loss = loss
        self.bias = bias
        self.robust_eps = robust_eps
        self.tol = tol
        self.maxiter = maxiter
        self.random_state = random_state
        self.rng = rng

    def fit(self, X, y):
        """Fit to data ``X`` (n, d) and targets ``y`` (n,); returns ``self``."""
        xp, X, y = self._validate_xp(X, y)
        if xp is None:
            X, y = validate_data(self, X, y, dtype=np.float64, y_numeric=True)
        if self.loss != "squared":
            raise ValueError(f"`loss` must be 'squared' for {type(self).__name__}, got "
                             f"{self.loss!r}")
        self._store([self._solve(X, y, self._seed())])
        return self

    def predict(self, X):
        """Predictions of the trained network, shape (n,)."""
        return self.network_predict(X)


class ConvexReLUClassifier(ClassifierMixin, _ConvexReLUBase):
    """Two-layer ReLU classifier trained by its convex program; binary or one-vs-rest.

    Labels may be of any type (ints, strings, ...). Two classes train one
    network whose positive output means ``classes_[1]``; ``K > 2`` classes
    train ``K`` one-vs-rest networks on the same activation patterns and
    predict the class of the largest output. ``loss='bce'`` is the logistic
    loss of the network output, ``'hinge'`` the hinge loss and ``'squared'``
    regression on ±1 targets. With ``robust_eps > 0`` (``solver='cvxpy'``)
    the network is trained against every ℓ∞ perturbation of radius
    ``robust_eps`` (Bai, Gautam & Sojoudi).

    Array namespaces: as for :class:`ConvexReLURegressor`; device labels must
    be numbers, ``classes_`` and the predicted labels and probabilities are
    arrays of the input's namespace.

    Parameters
    ----------
    {params}

    Attributes
    ----------
    classes_ : ndarray, shape (K,)
        The labels, sorted.
    {attrs}

    Examples
    --------
    >>> import numpy as np
    >>> from numopt.convex_nn import ConvexReLUClassifier
    >>> rng = np.random.default_rng(1)
    >>> X = rng.standard_normal((80, 2))
    >>> y = np.where(X[:, 0] * X[:, 1] > 0, "same sign", "mixed")
    >>> clf = ConvexReLUClassifier(beta=0.1, maxiter=1000, tol=1e-4,
    ...                            random_state=0).fit(X, y)
    >>> clf.classes_.tolist(), clf.score(X, y) > 0.9
    (['mixed', 'same sign'], True)
    """

    # the same parameters as ConvexReLURegressor.__init__, repeated on purpose (scikit-learn's
    # explicit-__init__ rule); `duplicates` lists the pair.
    def __init__(self, n_patterns=20, beta=1e-3, solver="auto", loss="bce", bias=True,
                 robust_eps=0.0, tol=1e-4, maxiter=None, random_state=None, rng=None):
        self.n_patterns = n_patterns
        self.beta = beta
        self.solver = solver
        self.loss = loss
        self.bias = bias
        self.robust_eps = robust_eps
        self.tol = tol
        self.maxiter = maxiter
        self.random_state = random_state
        self.rng = rng

    def _target(self, positive, xp=np, like=None):
        if xp is not np:
            if self.loss == "bce":
                return xp.astype(positive, like.dtype)
            return xp.where(positive, 1.0, -1.0)
        if self.loss == "bce":
            return positive.astype(np.float64)
        return np.where(positive, 1.0, -1.0)

    def fit(self, X, y):
        """Fit to data ``X`` (n, d) and labels ``y`` (n,) of any type; returns ``self``."""
        xp, X, y = self._validate_xp(X, y)
        if xp is None:
            xp = np
            X, y = validate_data(self, X, y, dtype=np.float64)
            self.classes_, codes = encode_labels(self, y)
            is_class = [codes == k for k in range(self.classes_.size)]
        else:
            # device labels (numbers): sorted distinct values, compared on the device
            self.classes_ = xp.sort(xp.unique_values(y))
            if self.classes_.shape[0] < 2:
                raise ValueError(f"{type(self).__name__} needs samples of at least 2 classes "
                                 "in the data, but the data contains only one class")
            is_class = [y == self.classes_[k] for k in range(self.classes_.shape[0])]
        n_classes = len(is_class)
        rng = self._seed()
        if n_classes == 2:
            self._store([self._solve(X, self._target(is_class[1], xp, X), rng)])
            return self
        # one-vs-rest on shared patterns: sampled once by the first fit, reused by the others
        first = self._solve(X, self._target(is_class[0], xp, X), rng,
                            what=" (class 0 vs rest)")
        results = [first]
        for k in range(1, n_classes):
            results.append(self._solve(X, self._target(is_class[k], xp, X), rng,
                                       patterns=(first.patterns, first.gates),
                                       what=f" (class {k} vs rest)"))
        self._store(results)
        return self

    def decision_function(self, X):
        """Network output(s): shape (n,) for two classes (positive: ``classes_[1]``),
        (n, K) one-vs-rest."""
        return self.network_predict(X)

    def predict(self, X):
        """Predicted labels, from ``classes_``."""
        F = self.decision_function(X)   # checks the fit first
        xp, _ = namespace_and_device(F)
        if xp is np:
            return labels_from_decision(self.classes_, F)
        idx = xp.astype(F > 0, xp.int64) if F.ndim == 1 else xp.argmax(F, axis=1)
        return xp.take(self.classes_, idx)

    def predict_proba(self, X):
        """Class probabilities from the logistic function of the outputs.

        ``[1 − σ(f), σ(f)]`` for two classes; one-vs-rest: ``σ(f_k)``
        normalised over the classes. Calibrated for ``loss='bce'`` (the model's
        own likelihood); for 'hinge' and 'squared' a monotone score only.
        """
        F = self.decision_function(X)
        xp, _ = namespace_and_device(F)
        if xp is np:
            return proba_from_decision(F)
        p = expit(F, xp)
        if F.ndim == 1:
            return xp.stack([1.0 - p, p], axis=1)
        return p / xp.sum(p, axis=1, keepdims=True)

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`."""
        P = self.predict_proba(X)
        xp, _ = namespace_and_device(P)
        with np.errstate(divide="ignore"):
            return xp.log(P)


for _cls in (ConvexReLURegressor, ConvexReLUClassifier):
    _cls.__doc__ = _cls.__doc__.replace("{params}", _PARAMS_DOC.strip("\n").lstrip()).replace(
        "{attrs}", _ATTRS_DOC.strip("\n").lstrip())
del _cls
