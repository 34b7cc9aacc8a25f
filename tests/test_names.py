"""Method names: '-' and '_' alike, "did you mean", SciPy's show_options form, readable output."""
import warnings

import numpy as np
import pytest
import scipy.optimize as so
from scipy.optimize import rosen, rosen_der, rosen_hess

import numopt
from numopt import ot
from numopt._minimize import MethodSpec, canonical_method, register_method
from numopt._validation import check_choice, did_you_mean


@pytest.mark.parametrize("spelling", ["gn_newton", "GN-Newton", "gn-newton", "Gn_Newton"])
def test_minimize_accepts_dash_and_underscore(spelling):
    ref = numopt.minimize(rosen, [-1.2, 1.0], method="gn-newton", jac=rosen_der,
                          hess=rosen_hess)
    res = numopt.minimize(rosen, [-1.2, 1.0], method=spelling, jac=rosen_der, hess=rosen_hess)
    assert res.success and np.array_equal(res.x, ref.x) and res.nit == ref.nit


@pytest.mark.parametrize("spelling, name", [("drop_muon", "drop-muon"), ("namo_d", "namo-d"),
                                            ("hybrid_auon", "hybrid-auon"),
                                            ("sketch_alm", "sketch-alm"),
                                            ("L_BFGS_B", "l-bfgs-b"),
                                            ("Nelder_Mead", "nelder-mead"),
                                            ("trust_constr", "trust-constr")])
def test_canonical_method(spelling, name):
    assert canonical_method(spelling) == name


def test_scipy_method_with_underscores_is_forwarded_to_scipy():
    res = numopt.minimize(rosen, [-1.2, 1.0], method="l_bfgs_b", jac=rosen_der)
    ref = so.minimize(rosen, [-1.2, 1.0], method="L-BFGS-B", jac=rosen_der)
    assert np.array_equal(res.x, ref.x) and res.nit == ref.nit


def test_matrix_method_by_its_function_name():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((30, 4))
    B = rng.standard_normal((30, 3))

    def f(x):
        return 0.5 * float(np.sum((A @ x.reshape(4, 3) - B) ** 2))

    def g(x):
        return (A.T @ (A @ x.reshape(4, 3) - B)).ravel()
    opts = {"shape": (4, 3), "maxiter": 20, "learning_rate": 0.01}
    a = numopt.minimize(f, np.zeros(12), method="drop_muon", jac=g, options=opts, rng=0)
    b = numopt.minimize(f, np.zeros(12), method="drop-muon", jac=g, options=opts, rng=0)
    assert np.array_equal(a.x, b.x)


def test_unknown_method_suggests_the_closest_name():
    with pytest.raises(ValueError, match=r"unknown method 'gn_newtn'\. Did you mean "
                                         r"'gn-newton'\?") as exc:
        numopt.minimize(rosen, [1.0, 1.0], method="gn_newtn")
    assert "sketch-alm" in str(exc.value)  # the valid names follow
    with pytest.raises(ValueError, match="Did you mean 'l-bfgs-b'"):
        numopt.minimize(rosen, [1.0, 1.0], method="lbfgsb")
    with pytest.raises(ValueError) as exc:
        numopt.minimize(rosen, [1.0, 1.0], method="qqqqqqqq")
    assert "Did you mean" not in str(exc.value)


def test_registering_a_name_that_differs_only_in_dash_or_underscore_fails():
    with pytest.raises(ValueError, match="belongs to SciPy"):
        register_method(MethodSpec(name="l_bfgs_b", target=".x:y", summary="s"))
    with pytest.raises(ValueError, match="only in"):
        register_method(MethodSpec(name="gn_newton", target=".x:y", summary="s"))
    assert "gn_newton" not in numopt.MINIMIZE_METHODS


def test_show_options_scipy_signature():
    for method in ("bfgs", "BFGS", "l_bfgs_b"):
        text = numopt.show_options("minimize", method, False)
        assert text == so.show_options("minimize", canonical_method(method), disp=False)
    assert numopt.show_options("root", "hybr", False) == so.show_options("root", "hybr",
                                                                         disp=False)
    own = numopt.show_options("gn-newton", disp=False)
    assert "gtol" in own
    assert numopt.show_options("minimize", "gn_newton", disp=False) == own
    assert numopt.show_options(solver="minimize", method="GN_Newton", disp=False) == own
    assert numopt.show_options("gn_newton", False) == own
    assert numopt.show_options("minimize", disp=False) == numopt.show_options(disp=False)


def test_show_options_prints(capsys):
    assert numopt.show_options("minimize", "bfgs") is None
    assert "gtol" in capsys.readouterr().out


def test_show_options_unknown_names():
    with pytest.raises(ValueError, match="Did you mean 'sketch-alm'"):
        numopt.show_options("minimize", "sketch_aml", False)
    with pytest.raises(ValueError, match="Did you mean 'gn-newton'"):
        numopt.show_options("gn_newtn", disp=False)
    with pytest.raises(ValueError, match="unknown solver 'minimise'"):
        numopt.show_options("minimise", "bfgs")
    with pytest.raises(TypeError, match="`solver`"):
        numopt.show_options(3)


def test_ot_methods_accept_dash_and_underscore():
    p = numopt.problems.ot_point_clouds(30, rng=0)
    ref = ot.sinkhorn(p.a, p.b, p.M, 0.1, method="sinkhorn_log")
    for spelling in ("sinkhorn-log", "Sinkhorn_Log"):
        np.testing.assert_array_equal(ot.sinkhorn(p.a, p.b, p.M, 0.1, method=spelling), ref)
    with pytest.raises(ValueError, match="Did you mean 'sinkhorn'"):
        ot.sinkhorn(p.a, p.b, p.M, 0.1, method="sinkorn")


def test_check_choice():
    assert check_choice("Newton-Schulz", "o", ("newton-schulz", "polar")) == "newton-schulz"
    assert check_choice("newton_schulz", "o", ("newton-schulz", "polar")) == "newton-schulz"
    assert check_choice(None, "o", (None, "x")) is None
    # two choices that differ only in '-'/'_' must be named exactly
    assert check_choice("a_b", "o", ("a-b", "a_b")) == "a_b"
    with pytest.raises(ValueError):
        check_choice("A_B", "o", ("a-b", "A_b"))
    with pytest.raises(ValueError, match=r"got 2\.5$"):
        check_choice(np.float64(2.5), "o", (1.0, 2.0))
    assert did_you_mean(3, ["a"]) == ""


# -- no np.float64(...) in messages or printed results ------------------------------------------
def test_messages_show_plain_numbers():
    p = numopt.problems.ot_point_clouds(10, rng=0)
    with pytest.raises(ValueError) as exc:
        ot.sinkhorn(p.a, 2 * p.b, p.M, 0.1)
    assert "np.float" not in str(exc.value) and "sum(b) = 2.0" in str(exc.value)
    X, y = numopt.problems.teacher_student_relu(20, 2, rng=0)
    with pytest.raises(ValueError) as exc:
        numopt.convex_nn.fit_convex_relu(X, y, beta=np.float64(0.0), solver="ipm",
                                         n_patterns=4, rng=0)
    assert "np.float" not in str(exc.value) and "beta=0.0" in str(exc.value)


def test_results_print_readably():
    from numopt.problems import hs_problem
    p = hs_problem(77)
    res = numopt.minimize(p.fun, p.x0, method="sketch-alm", jac=p.jac, hess=p.hess,
                          constraints=p.constraints(), rng=0)
    text = repr(res)
    assert "np.float" not in text and "np.int" not in text
    assert isinstance(res.history["kkt"], np.ndarray) and res.history.kkt.size == res.nit + 1
    assert len(res.history["alpha"]) == res.nit
    assert max(len(line) for line in text.splitlines()) <= 100
    res = numopt.minimize(rosen, [-1.2, 1.0], method="gn-newton", jac=rosen_der,
                          hess=rosen_hess)
    assert isinstance(res.history["fun"], np.ndarray)
    assert np.all(np.diff(res.history.fun) <= 0)
    text = str(res)
    assert "np.float" not in text and len(text.splitlines()) < 40
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = numopt.minimize(rosen, [-1.2, 1.0], method="adam", jac=rosen_der,
                              options={"maxiter": 300})
    assert "np.float" not in repr(res) and "..." in repr(res)  # the history is summarized
