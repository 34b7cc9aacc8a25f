"""Every generator of numopt.problems returns an object with named fields."""
import numpy as np

from numopt.problems import (ConstrainedTestProblem, RegressionData, SincQuadrature,
                             TestFunction, TestProblem, bcd_least_squares, erf_newton,
                             hs_problem, newton_sinc_quadrature, pde_tracking, rosenbrock, runge,
                             slater, teacher_student_relu, two_spirals)


def test_data_generators_return_regression_data_that_unpacks():
    for data in (teacher_student_relu(20, 3, rng=0), two_spirals(20, rng=0),
                 bcd_least_squares(20, 30, rng=0)):
        assert isinstance(data, RegressionData)
        X, y = data
        assert X is data.X and y is data.y and X.shape[0] == y.shape[0] == 20
    assert bcd_least_squares(20, 30, rng=0).w.shape == (30,)
    assert teacher_student_relu(20, 3, rng=0).w is None


def test_test_functions_are_named_and_callable():
    x = np.array([[0.0, 0.0, 0.0], [0.3, 0.4, 0.0]])
    for f, name in ((slater(2.0), "slater"), (runge(25.0), "runge"),
                    (erf_newton(0.3), "erf_newton")):
        assert isinstance(f, TestFunction) and f.name == name
        assert f(x).shape == (2,)
    np.testing.assert_allclose(slater(2.0)(x), np.exp(-2.0 * np.array([0.0, 0.5])))
    assert runge(4.0).params == {"alpha": 4.0}
    q = newton_sinc_quadrature()
    assert isinstance(q, SincQuadrature)
    t, c = q
    assert t is q.t and c is q.c


def test_constrained_problems_share_test_problem_field_order():
    # x_opt before f_opt in both containers, positionally and by name
    p = rosenbrock(3)
    assert (p.x_opt == 1.0).all() and p.f_opt == 0.0
    q = pde_tracking(4)
    assert isinstance(q, ConstrainedTestProblem) and isinstance(q, TestProblem)
    names = [f for f in ConstrainedTestProblem.__dataclass_fields__]
    assert names[:9] == [f for f in TestProblem.__dataclass_fields__]
    np.testing.assert_allclose(q.fun(q.x_opt), q.f_opt)
    assert abs(q.cons(q.x_opt)).max() < 1e-12
    h = hs_problem(28)
    assert h.x_opt is None and h.f_opt == 0.0
