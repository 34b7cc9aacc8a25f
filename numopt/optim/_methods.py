"""The :func:`numopt.minimize` methods of :mod:`numopt.optim`, declared in one place.

:data:`MINIMIZE_METHODS` is what ``numopt/_minimize.py`` collects (this
package exports it); ``_minimize_adapter.py`` builds each ``minimize_<name>``
from :data:`OPTIMIZERS`. To expose a new optimizer factory as a method, add
one row to :data:`OPTIMIZERS`.
"""
__all__ = ["MINIMIZE_METHODS", "OPTIMIZERS"]

#: minimize name -> (factory in numopt.optim, fixed factory options, uses ``hessp``, summary)
OPTIMIZERS = {
    "sgd": ("sgd", {}, False, "SGD with (Nesterov) momentum (numopt.optim.sgd)"),
    "adam": ("adam", {}, False, "Adam, torch.optim update rule (numopt.optim.adam)"),
    "adamw": ("adamw", {}, False, "Adam with decoupled weight decay (numopt.optim.adamw)"),
    "amsgrad": ("amsgrad", {}, False,
                "AMSGrad, torch or paper convention (numopt.optim.amsgrad)"),
    "lion": ("lion", {}, False, "Lion, sign of interpolated momentum (numopt.optim.lion)"),
    "adabelief": ("adabelief", {}, False, "AdaBelief (numopt.optim.adabelief)"),
    "diffgrad": ("diffgrad", {}, False,
                 "diffGrad v2, friction-scaled Adam (numopt.optim.diffgrad)"),
    "adamomentum": ("adamomentum", {}, False,
                    "AdaMomentum / AdaM3 (numopt.optim.adamomentum)"),
    "dog": ("dog", {}, False,
            "DoG, parameter-free distance-over-gradients steps (numopt.optim.dog)"),
    "ldog": ("ldog", {}, False, "layer-wise DoG (numopt.optim.ldog)"),
    "sania": ("sania", {}, False,
              "SANIA scale-invariant Polyak steps, uses f (numopt.optim.sania)"),
    "muon": ("muon", {}, False,
             "Muon, Newton-Schulz orthogonalized momentum (numopt.optim.muon)"),
    "namo": ("namo", {}, False, "NAMO, Muon with an Adam-style norm step (numopt.optim.namo)"),
    "namo-d": ("namo_d", {}, False, "NAMO-D, per-column NAMO (numopt.optim.namo_d)"),
    "auon": ("auon", {}, False, "AuON, cosh-braked normalized momentum (numopt.optim.auon)"),
    "hybrid-auon": ("hybrid_auon", {}, False,
                    "Hybrid-AuON, one Newton-Schulz step + AuON (numopt.optim.hybrid_auon)"),
    "drop-muon": ("drop_muon", {}, False,
                  "Drop-Muon, Muon on random progressive layer subsets "
                  "(numopt.optim.drop_muon)"),
    "frugal": ("frugal", {}, False,
               "FRUGAL, AdamW in a subspace + signSGD on the rest (numopt.optim.frugal)"),
    "sophia-g": ("sophia", {"variant": "g"}, True,
                 "Sophia with Hutchinson curvature from hessp (numopt.optim.sophia)"),
    "sophia-h": ("sophia", {"variant": "h"}, True,
                 "Sophia-H, Gaussian Hutchinson curvature from hessp (numopt.optim.sophia)"),
    "adahessian": ("adahessian", {}, True,
                   "AdaHessian, Hutchinson diagonal from hessp (numopt.optim.adahessian)"),
    "mfac": ("mfac", {}, False, "M-FAC, windowed inverse empirical Fisher (numopt.optim.mfac)"),
}


def _declare(name, hvp, summary):
    return dict(name=name, target=f"._minimize_adapter:minimize_{name.replace('-', '_')}",
                summary=summary, uses_jac=True, uses_hess=hvp, uses_hessp=hvp,
                stochastic=True, tol_options=("gtol",), array_api=True)


#: Fields of :class:`numopt._minimize.MethodSpec`, one dict per method; targets are
#: relative to this package.
MINIMIZE_METHODS = tuple(_declare(name, hvp, summary)
                         for name, (_, _, hvp, summary) in OPTIMIZERS.items()) + (
    dict(name="econtrol", target="._minimize_adapter:minimize_econtrol",
         summary="EControl compressed distributed GD over simulated workers "
                 "(numopt.optim.distributed)", uses_jac=True, stochastic=True,
         tol_options=("gtol",)),
)
