"""scikit-learn estimators solved by block coordinate descent.

``LassoBCD`` and ``L1LogisticRegressionBCD``.

They build the public problems :class:`~numopt.coordinate.Lasso` and
:class:`~numopt.coordinate.L1Logistic` and solve them with
:func:`~numopt.coordinate.bcd`, so every selection rule and block update of
the solver is a hyperparameter (``GridSearchCV`` can search over them).
The names end in ``BCD`` after the solver, as scikit-learn names its
``LassoLars`` and ``SGDClassifier``; plain ``Lasso`` is already the problem
class of :mod:`numopt.coordinate`.
"""
import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.validation import check_is_fitted, validate_data

from .._result import OptimizeResult
from .._sklearn import (ClassifierMixin, RegressorMixin, converging, encode_labels,
                        labels_from_decision, proba_from_decision, rng_from_random_state,
                        warn_not_converged)
from . import L1Logistic, Lasso, bcd   # the public solver and problems
from ._objectives import require_host_arrays

__all__ = ["LassoBCD", "L1LogisticRegressionBCD"]


class _BCDEstimator(BaseEstimator):
    """Solver parameters and the call to :func:`bcd` shared by the estimators."""

    def _n_blocks(self, n):
        block_size = min(int(self.block_size), n) if n else 1
        return -(-n // block_size), block_size

    def _bcd(self, problem, x0, rng, maxiter=None):
        n_blocks, block_size = self._n_blocks(problem.n)
        if maxiter is None:
            maxiter = int(self.max_iter) * n_blocks
        with converging():
            return bcd(problem, x0, partition=self.partition, block_size=block_size,
                       selection=self.selection, update=self.update, maxiter=maxiter,
                       tol=self.tol, rng=rng)

    def _check_max_iter(self):
        if not isinstance(self.max_iter, (int, np.integer)) or self.max_iter < 1:
            raise ValueError(f"`max_iter` must be an integer >= 1, got {self.max_iter!r}")

    def _decision(self, X):
        require_host_arrays(f"{type(self).__name__} (block coordinate descent)", X)
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse=("csr", "csc"), dtype=np.float64,
                          reset=False)
        return safe_sparse_dot(X, self.coef_.T, dense_output=True) + self.intercept_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True   # the problems keep CSC matrices sparse
        return tags


_SOLVER_DOC = """max_iter : int
        Maximum number of epochs (passes over the blocks): :func:`bcd` gets
        ``maxiter = max_iter * n_blocks`` block updates. A fit that reaches it
        warns with ``sklearn.exceptions.ConvergenceWarning``.
    tol : float
        Stop when the largest entry of the coordinate-wise gradient mapping
        (zero exactly at a minimizer) is at most ``tol``.
    selection : {'cyclic', 'permutation', 'random', 'lipschitz', 'gs', 'gsl', 'gsd', 'gsq'}
        Block selection rule of :func:`bcd` (``'cyclic'`` and ``'random'`` are
        scikit-learn's ``Lasso`` rules; ``'gs*'`` are the greedy
        Gauss–Southwell rules).
    update : {'lb', 'la', 'newton', 'hb'}
        Block update of :func:`bcd`: proximal gradient step with the block
        Lipschitz constant, with an adaptive constant, proximal Newton step, or
        step with the fixed block-Hessian bound.
    block_size : int
        Variables per block (clipped to the number of variables).
    partition : {'order', 'sort', 'avg', 'variable'}
        How variables are grouped into blocks (``'variable'``: any
        ``block_size`` coordinates each iteration, with a random or greedy
        ``selection``).
    warm_start : bool
        Start from the previous fit's coefficients when refitting.
    random_state : {None, int, numpy.random.RandomState, numpy.random.Generator}
        Randomness of the random selection rules (numopt's ``rng``)."""


class LassoBCD(RegressorMixin, _BCDEstimator):
    """Lasso regression ``(1/2n)‖y − Xw − b‖² + alpha‖w‖₁`` by block coordinate descent.

    The objective, ``alpha`` and the unpenalized intercept are those of
    :class:`sklearn.linear_model.Lasso`; the solver is
    :func:`numopt.coordinate.bcd` on a :class:`numopt.coordinate.Lasso`
    problem. Dense ``X`` is centred for the intercept; sparse ``X`` (kept
    sparse) alternates exact intercept updates with warm-started BCD solves
    until the intercept's effect on the gradient is below ``tol``. Host-only:
    PyTorch, CuPy and other Array API arrays raise ``TypeError`` (coordinate
    descent is sequential).

    Parameters
    ----------
    alpha : float
        Weight of the ℓ₁ penalty (``>= 0``).
    fit_intercept : bool
        Fit an unpenalized intercept ``b``.
    positive : bool
        Constrain the coefficients to be non-negative.
    {solver}

    Attributes
    ----------
    coef_ : ndarray, shape (n_features,)
    intercept_ : float
    n_iter_ : int
        Epochs run (block updates / number of blocks, rounded up).
    result_ : OptimizeResult
        The last :func:`bcd` result (``fun``, ``optimality``, ``support_size``...).
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when ``X`` had string column names.

    See Also
    --------
    sklearn.linear_model.Lasso : the same model by scikit-learn's coordinate descent.

    Examples
    --------
    >>> import numpy as np
    >>> from numopt.coordinate import LassoBCD
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((50, 8)); y = X[:, 0] - 2 * X[:, 3] + 1.5
    >>> model = LassoBCD(alpha=0.05, selection='gsl', tol=1e-8).fit(X, y)
    >>> np.flatnonzero(model.coef_).tolist(), round(model.intercept_, 2)
    ([0, 3], 1.5)
    """

    # Deliberately repeated in L1LogisticRegressionBCD.__init__: scikit-learn reads the
    # parameters from each class's own __init__ signature and wants plain assignments there.
    def __init__(self, alpha=1.0, *, fit_intercept=True, positive=False, max_iter=1000,
                 tol=1e-4, selection="cyclic", update="lb", block_size=1, partition="order",
                 warm_start=False, random_state=None):
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.positive = positive
        self.max_iter = max_iter
        self.tol = tol
        self.selection = selection
        self.update = update
        self.block_size = block_size
        self.partition = partition
        self.warm_start = warm_start
        self.random_state = random_state

    def fit(self, X, y):
        """Fit to ``X`` (n, d), dense or sparse, and targets ``y`` (n,); returns ``self``."""
        require_host_arrays("LassoBCD.fit (block coordinate descent)", X, y)
        X, y = validate_data(self, X, y, accept_sparse="csc", dtype=np.float64,
                             y_numeric=True)
        self._check_max_iter()
        rng = rng_from_random_state(self.random_state)
        d = X.shape[1]
        x0 = None
        if self.warm_start and getattr(self, "coef_", None) is not None \
                and self.coef_.shape == (d,):
            x0 = self.coef_
        if not self.fit_intercept:
            res = self._bcd(Lasso(X, y, self.alpha, positive=self.positive), x0, rng)
            intercept, nit = 0.0, res.nit
        elif not sp.issparse(X):
            x_mean, y_mean = X.mean(axis=0), y.mean()
            res = self._bcd(Lasso(X - x_mean, y - y_mean, self.alpha, positive=self.positive),
                            x0, rng)
            intercept, nit = float(y_mean - x_mean @ res.x), res.nit
        else:
            res, intercept, nit = self._fit_sparse_intercept(X, y, x0, rng)
        warn_not_converged(self, res)
        self.coef_ = res.x
        self.intercept_ = intercept
        self.n_iter_ = -(-int(nit) // self._n_blocks(d)[0])
        self.result_ = res
        return self

    def _fit_sparse_intercept(self, X, y, x0, rng):
        """Two-block coordinate descent: ``b = mean(y − Xw)`` exactly, then ``w`` by BCD."""
        n_blocks = self._n_blocks(X.shape[1])[0]
        budget = int(self.max_iter) * n_blocks
        col_mean = np.asarray(X.mean(axis=0)).ravel()
        w = np.zeros(X.shape[1]) if x0 is None else x0
        b = float(np.mean(y - X @ w))
        nit = 0
        while True:
            res = self._bcd(Lasso(X, y - b, self.alpha, positive=self.positive), w, rng,
                            maxiter=max(budget - nit, 1))
            nit += res.nit
            w = res.x
            b_new = float(np.mean(y - X @ w))
            # the gradient of the w-block moves by |Δb| * |column mean| when b changes
            shift = abs(b_new - b) * (np.max(np.abs(col_mean)) if col_mean.size else 0.0)
            b = b_new
            if shift <= self.tol or not res.success or nit >= budget:
                break
        if shift > self.tol and res.success:
            res = OptimizeResult(res)
            res.update(success=False, status=1, message="Maximum number of iterations has "
                       "been exceeded (the intercept had not converged).")
        return res, b, nit

    def predict(self, X):
        """Linear predictions ``X coef_ + intercept_``, shape (n,)."""
        return self._decision(X)


class L1LogisticRegressionBCD(ClassifierMixin, _BCDEstimator):
    """ℓ₁-regularised logistic regression by block coordinate descent; binary or one-vs-rest.

    Minimizes ``‖w‖₁ + C Σᵢ log(1 + exp(−yᵢ (xᵢᵀw + b)))`` for each class
    against the rest (``yᵢ = ±1``), the objective of
    ``sklearn.linear_model.LogisticRegression(l1_ratio=1, solver='liblinear')``
    including its intercept convention: the intercept is the weight of a
    synthetic feature of constant value ``intercept_scaling`` and is penalized
    like the others (raise ``intercept_scaling`` to lessen that). The solver
    is :func:`numopt.coordinate.bcd` on a :class:`numopt.coordinate.L1Logistic`
    problem with ``alpha = 1 / (n C)``. Labels may be of any type. Host-only:
    PyTorch, CuPy and other Array API arrays raise ``TypeError`` (coordinate
    descent is sequential).

    Parameters
    ----------
    C : float
        Inverse regularization strength (``> 0``), as in ``LogisticRegression``.
    fit_intercept : bool
        Add the intercept feature.
    intercept_scaling : float
        Value of the synthetic intercept feature (``> 0``).
    {solver}

    Attributes
    ----------
    classes_ : ndarray, shape (K,)
    coef_ : ndarray, shape (1, n_features) for two classes, else (K, n_features)
    intercept_ : ndarray, shape (1,) or (K,)
    n_iter_ : ndarray, shape (1,) or (K,)
        Epochs run per problem.
    results_ : list of OptimizeResult
        The :func:`bcd` result of each problem.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when ``X`` had string column names.

    See Also
    --------
    sklearn.linear_model.LogisticRegression : the same model with ``solver='liblinear'``.

    Examples
    --------
    >>> import numpy as np
    >>> from numopt.coordinate import L1LogisticRegressionBCD
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((100, 6))
    >>> y = np.where(X[:, 0] - X[:, 1] > 0, "yes", "no")
    >>> clf = L1LogisticRegressionBCD(C=0.5, update='newton').fit(X, y)
    >>> clf.classes_.tolist(), clf.score(X, y) > 0.9
    (['no', 'yes'], True)
    """

    # the solver parameters repeat LassoBCD.__init__'s (scikit-learn's explicit-__init__ rule)
    def __init__(self, C=1.0, *, fit_intercept=True, intercept_scaling=1.0, max_iter=1000,
                 tol=1e-4, selection="cyclic", update="lb", block_size=1, partition="order",
                 warm_start=False, random_state=None):
        self.C = C
        self.fit_intercept = fit_intercept
        self.intercept_scaling = intercept_scaling
        self.max_iter = max_iter
        self.tol = tol
        self.selection = selection
        self.update = update
        self.block_size = block_size
        self.partition = partition
        self.warm_start = warm_start
        self.random_state = random_state

    def fit(self, X, y):
        """Fit to ``X`` (n, d), dense or sparse, and labels ``y`` (n,); returns ``self``."""
        require_host_arrays("L1LogisticRegressionBCD.fit (block coordinate descent)", X, y)
        X, y = validate_data(self, X, y, accept_sparse="csc", dtype=np.float64)
        self._check_max_iter()
        if not (np.isscalar(self.C) and self.C > 0):
            raise ValueError(f"`C` must be a positive number, got {self.C!r}")
        if not (np.isscalar(self.intercept_scaling) and self.intercept_scaling > 0):
            raise ValueError(f"`intercept_scaling` must be a positive number, got "
                             f"{self.intercept_scaling!r}")
        self.classes_, codes = encode_labels(self, y)
        n, d = X.shape
        s = float(self.intercept_scaling)
        if self.fit_intercept:
            ones = np.full((n, 1), s)
            Xa = sp.hstack([X, sp.csc_matrix(ones)], format="csc") if sp.issparse(X) \
                else np.hstack([X, ones])
        else:
            Xa = X
        positives = [codes == 1] if self.classes_.size == 2 else \
            [codes == k for k in range(self.classes_.size)]
        warm = (self.warm_start and getattr(self, "coef_", None) is not None
                and self.coef_.shape == (len(positives), d))
        rng = rng_from_random_state(self.random_state)
        alpha = 1.0 / (n * float(self.C))
        results = []
        for k, pos in enumerate(positives):
            x0 = None
            if warm:
                x0 = np.append(self.coef_[k], self.intercept_[k] / s) if self.fit_intercept \
                    else self.coef_[k]
            res = self._bcd(L1Logistic(Xa, np.where(pos, 1.0, -1.0), alpha), x0, rng)
            what = "" if len(positives) == 1 else f" (class {k} vs rest)"
            warn_not_converged(self, res, what)
            results.append(res)
        W = np.array([r.x for r in results])
        self.coef_ = W[:, :d]
        self.intercept_ = s * W[:, d] if self.fit_intercept else np.zeros(len(results))
        blocks = self._n_blocks(Xa.shape[1])[0]
        self.n_iter_ = np.array([-(-r.nit // blocks) for r in results], dtype=np.int64)
        self.results_ = results
        return self

    def decision_function(self, X):
        """``X coef_ᵀ + intercept_``: shape (n,) for two classes (positive: ``classes_[1]``),
        (n, K) one-vs-rest."""
        F = self._decision(X)
        return F[:, 0] if F.shape[1] == 1 else F

    def predict(self, X):
        """Predicted labels, from ``classes_``."""
        F = self.decision_function(X)   # checks the fit first
        return labels_from_decision(self.classes_, F)

    def predict_proba(self, X):
        """Class probabilities: ``[1 − σ(f), σ(f)]``; one-vs-rest ``σ(f_k)`` normalised."""
        return proba_from_decision(self.decision_function(X))

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))


for _cls in (LassoBCD, L1LogisticRegressionBCD):
    _cls.__doc__ = _cls.__doc__.replace("{solver}", _SOLVER_DOC)
del _cls
