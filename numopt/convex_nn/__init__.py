"""Convex training of two-layer ReLU networks.

A two-layer ReLU network with weight decay is trained to global optimality
by solving a convex program over sampled activation patterns (Pilanci &
Ergen 2020), with the quadratic-time ADMM and the sampled convex program
(SCP) of Bai, Gautam & Sojoudi (2023), a structured interior-point method
that certifies its duality gap, or CVXPY for small problems, including
ℓ∞-robust (adversarial) training.

Estimators
----------
ConvexReLURegressor   -- scikit-learn regressor
ConvexReLUClassifier  -- scikit-learn classifier, any labels, binary or one-vs-rest
                         (bce, hinge, robust); both need scikit-learn, loaded on first use

Functions
---------
fit_convex_relu       -- functional API returning an OptimizeResult
sample_patterns       -- activation patterns D_i = 1[X h_i >= 0]
convex_objective      -- objective of the convex program
restore_feasibility   -- move convex-program weights into their cones
recover_network       -- the ReLU network equivalent to a convex solution
ReLUNetwork           -- a two-layer ReLU network (predict, input_gradient)
fgsm_attack           -- fast gradient sign attack on a ReLUNetwork classifier
pgd_attack            -- projected gradient attack on a ReLUNetwork classifier
"""
from .._lazy import estimator_getattr
from ._attacks import fgsm_attack, pgd_attack
from ._core import (ReLUNetwork, convex_objective, recover_network, restore_feasibility,
                    sample_patterns)
from ._fit import fit_convex_relu

__all__ = ["ConvexReLURegressor", "ConvexReLUClassifier", "fit_convex_relu",
           "sample_patterns", "convex_objective", "restore_feasibility", "recover_network",
           "ReLUNetwork",
           "fgsm_attack", "pgd_attack"]


# the estimators import scikit-learn (an optional dependency): loaded on first use
__getattr__ = estimator_getattr(__name__, ("ConvexReLURegressor", "ConvexReLUClassifier"))
