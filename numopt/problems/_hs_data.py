"""Hock-Schittkowski equality-constrained problems: generated derivative code.

Generated with SymPy from the problem statements (Hock & Schittkowski 1981)
by differentiating f and c symbolically. Not edited by hand.

The functions of different problems look alike (unpack ``x``, return an
array literal): they are generated data tables, one per problem, and the
repetition ``duplicates`` reports here is deliberate.
"""
# ruff: noqa: E501
import numpy as np
from numpy import log, sin, cos, sqrt  # noqa: F401


# HS6: n = 2, m = 1
def _hs6_f(x):
    x1, x2 = x
    return float((1 - x1)**2)


def _hs6_g(x):
    x1, x2 = x
    return np.array([2*x1 - 2, 0], dtype=float)


def _hs6_h(x):
    x1, x2 = x
    return np.array([[2, 0], [0, 0]], dtype=float)


def _hs6_c(x):
    x1, x2 = x
    return np.array([-10*x1**2 + 10*x2], dtype=float)


def _hs6_j(x):
    x1, x2 = x
    return np.array([[-20*x1, 10]], dtype=float)


def _hs6_ch(x, v):
    x1, x2 = x
    v0, = v
    return np.array([[-20*v0, 0], [0, 0]], dtype=float)


# HS7: n = 2, m = 1
def _hs7_f(x):
    x1, x2 = x
    return float(-x2 + log(x1**2 + 1))


def _hs7_g(x):
    x1, x2 = x
    return np.array([2*x1/(x1**2 + 1), -1], dtype=float)


def _hs7_h(x):
    x1, x2 = x
    return np.array([[2*(-2*x1**2/(x1**2 + 1) + 1)/(x1**2 + 1), 0], [0, 0]], dtype=float)


def _hs7_c(x):
    x1, x2 = x
    return np.array([x2**2 + (x1**2 + 1)**2 - 4], dtype=float)


def _hs7_j(x):
    x1, x2 = x
    return np.array([[4*x1*(x1**2 + 1), 2*x2]], dtype=float)


def _hs7_ch(x, v):
    x1, x2 = x
    v0, = v
    return np.array([[4*v0*(3*x1**2 + 1), 0], [0, 2*v0]], dtype=float)


# HS27: n = 3, m = 1
def _hs27_f(x):
    x1, x2, x3 = x
    return float((1/100)*(x1 - 1)**2 + (-x1**2 + x2)**2)


def _hs27_g(x):
    x1, x2, x3 = x
    return np.array([-4*x1*(-x1**2 + x2) + (1/50)*x1 - 1/50, -2*x1**2 + 2*x2, 0], dtype=float)


def _hs27_h(x):
    x1, x2, x3 = x
    return np.array([[12*x1**2 - 4*x2 + 1/50, -4*x1, 0], [-4*x1, 2, 0], [0, 0, 0]], dtype=float)


def _hs27_c(x):
    x1, x2, x3 = x
    return np.array([x1 + x3**2 + 1], dtype=float)


def _hs27_j(x):
    x1, x2, x3 = x
    return np.array([[1, 0, 2*x3]], dtype=float)


def _hs27_ch(x, v):
    x1, x2, x3 = x
    v0, = v
    return np.array([[0, 0, 0], [0, 0, 0], [0, 0, 2*v0]], dtype=float)


# HS28: n = 3, m = 1
def _hs28_f(x):
    x1, x2, x3 = x
    return float((x1 + x2)**2 + (x2 + x3)**2)


def _hs28_g(x):
    x1, x2, x3 = x
    return np.array([2*x1 + 2*x2, 2*x1 + 4*x2 + 2*x3, 2*x2 + 2*x3], dtype=float)


def _hs28_h(x):
    x1, x2, x3 = x
    return np.array([[2, 2, 0], [2, 4, 2], [0, 2, 2]], dtype=float)


def _hs28_c(x):
    x1, x2, x3 = x
    return np.array([x1 + 2*x2 + 3*x3 - 1], dtype=float)


def _hs28_j(x):
    x1, x2, x3 = x
    return np.array([[1, 2, 3]], dtype=float)


def _hs28_ch(x, v):
    x1, x2, x3 = x
    v0, = v
    return np.array([[0, 0, 0], [0, 0, 0], [0, 0, 0]], dtype=float)


# HS39: n = 4, m = 2
def _hs39_f(x):
    x1, x2, x3, x4 = x
    return float(-x1)


def _hs39_g(x):
    x1, x2, x3, x4 = x
    return np.array([-1, 0, 0, 0], dtype=float)


def _hs39_h(x):
    x1, x2, x3, x4 = x
    return np.array([[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]], dtype=float)


def _hs39_c(x):
    x1, x2, x3, x4 = x
    return np.array([-x1**3 + x2 - x3**2, x1**2 - x2 - x4**2], dtype=float)


def _hs39_j(x):
    x1, x2, x3, x4 = x
    return np.array([[-3*x1**2, 1, -2*x3, 0], [2*x1, -1, 0, -2*x4]], dtype=float)


def _hs39_ch(x, v):
    x1, x2, x3, x4 = x
    v0, v1 = v
    return np.array([[2*(-3*v0*x1 + v1), 0, 0, 0], [0, 0, 0, 0], [0, 0, -2*v0, 0], [0, 0, 0, -2*v1]], dtype=float)


# HS40: n = 4, m = 3
def _hs40_f(x):
    x1, x2, x3, x4 = x
    return float(-x1*x2*x3*x4)


def _hs40_g(x):
    x1, x2, x3, x4 = x
    return np.array([-x2*x3*x4, -x1*x3*x4, -x1*x2*x4, -x1*x2*x3], dtype=float)


def _hs40_h(x):
    x1, x2, x3, x4 = x
    return np.array([[0, -x3*x4, -x2*x4, -x2*x3], [-x3*x4, 0, -x1*x4, -x1*x3], [-x2*x4, -x1*x4, 0, -x1*x2], [-x2*x3, -x1*x3, -x1*x2, 0]], dtype=float)


def _hs40_c(x):
    x1, x2, x3, x4 = x
    return np.array([x1**3 + x2**2 - 1, x1**2*x4 - x3, -x2 + x4**2], dtype=float)


def _hs40_j(x):
    x1, x2, x3, x4 = x
    return np.array([[3*x1**2, 2*x2, 0, 0], [2*x1*x4, 0, -1, x1**2], [0, -1, 0, 2*x4]], dtype=float)


def _hs40_ch(x, v):
    x1, x2, x3, x4 = x
    v0, v1, v2 = v
    return np.array([[2*(3*v0*x1 + v1*x4), 0, 0, 2*v1*x1], [0, 2*v0, 0, 0], [0, 0, 0, 0], [2*v1*x1, 0, 0, 2*v2]], dtype=float)


# HS42: n = 4, m = 2
def _hs42_f(x):
    x1, x2, x3, x4 = x
    return float((x1 - 1)**2 + (x2 - 2)**2 + (x3 - 3)**2 + (x4 - 4)**2)


def _hs42_g(x):
    x1, x2, x3, x4 = x
    return np.array([2*x1 - 2, 2*x2 - 4, 2*x3 - 6, 2*x4 - 8], dtype=float)


def _hs42_h(x):
    x1, x2, x3, x4 = x
    return np.array([[2, 0, 0, 0], [0, 2, 0, 0], [0, 0, 2, 0], [0, 0, 0, 2]], dtype=float)


def _hs42_c(x):
    x1, x2, x3, x4 = x
    return np.array([x1 - 2, x3**2 + x4**2 - 2], dtype=float)


def _hs42_j(x):
    x1, x2, x3, x4 = x
    return np.array([[1, 0, 0, 0], [0, 0, 2*x3, 2*x4]], dtype=float)


def _hs42_ch(x, v):
    x1, x2, x3, x4 = x
    v0, v1 = v
    return np.array([[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 2*v1, 0], [0, 0, 0, 2*v1]], dtype=float)


# HS47: n = 5, m = 3
def _hs47_f(x):
    x1, x2, x3, x4, x5 = x
    return float((x1 - x2)**2 + (x2 - x3)**3 + (x3 - x4)**4 + (x4 - x5)**4)


def _hs47_g(x):
    x1, x2, x3, x4, x5 = x
    return np.array([2*x1 - 2*x2, -2*x1 + 2*x2 + 3*(x2 - x3)**2, -3*(x2 - x3)**2 + 4*(x3 - x4)**3, -4*(x3 - x4)**3 + 4*(x4 - x5)**3, -4*(x4 - x5)**3], dtype=float)


def _hs47_h(x):
    x1, x2, x3, x4, x5 = x
    return np.array([[2, -2, 0, 0, 0], [-2, 2*(3*x2 - 3*x3 + 1), 6*(-x2 + x3), 0, 0], [0, 6*(-x2 + x3), 6*(x2 - x3 + 2*(x3 - x4)**2), -12*(x3 - x4)**2, 0], [0, 0, -12*(x3 - x4)**2, 12*((x3 - x4)**2 + (x4 - x5)**2), -12*(x4 - x5)**2], [0, 0, 0, -12*(x4 - x5)**2, 12*(x4 - x5)**2]], dtype=float)


def _hs47_c(x):
    x1, x2, x3, x4, x5 = x
    return np.array([x1 + x2**2 + x3**3 - 3, x2 - x3**2 + x4 - 1, x1*x5 - 1], dtype=float)


def _hs47_j(x):
    x1, x2, x3, x4, x5 = x
    return np.array([[1, 2*x2, 3*x3**2, 0, 0], [0, 1, -2*x3, 1, 0], [x5, 0, 0, 0, x1]], dtype=float)


def _hs47_ch(x, v):
    x1, x2, x3, x4, x5 = x
    v0, v1, v2 = v
    return np.array([[0, 0, 0, 0, v2], [0, 2*v0, 0, 0, 0], [0, 0, 2*(3*v0*x3 - v1), 0, 0], [0, 0, 0, 0, 0], [v2, 0, 0, 0, 0]], dtype=float)


# HS48: n = 5, m = 2
def _hs48_f(x):
    x1, x2, x3, x4, x5 = x
    return float((x1 - 1)**2 + (x2 - x3)**2 + (x4 - x5)**2)


def _hs48_g(x):
    x1, x2, x3, x4, x5 = x
    return np.array([2*x1 - 2, 2*x2 - 2*x3, -2*x2 + 2*x3, 2*x4 - 2*x5, -2*x4 + 2*x5], dtype=float)


def _hs48_h(x):
    x1, x2, x3, x4, x5 = x
    return np.array([[2, 0, 0, 0, 0], [0, 2, -2, 0, 0], [0, -2, 2, 0, 0], [0, 0, 0, 2, -2], [0, 0, 0, -2, 2]], dtype=float)


def _hs48_c(x):
    x1, x2, x3, x4, x5 = x
    return np.array([x1 + x2 + x3 + x4 + x5 - 5, x3 - 2*x4 - 2*x5 + 3], dtype=float)


def _hs48_j(x):
    x1, x2, x3, x4, x5 = x
    return np.array([[1, 1, 1, 1, 1], [0, 0, 1, -2, -2]], dtype=float)


def _hs48_ch(x, v):
    x1, x2, x3, x4, x5 = x
    v0, v1 = v
    return np.array([[0, 0, 0, 0, 0], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0]], dtype=float)


# HS50: n = 5, m = 3
def _hs50_f(x):
    x1, x2, x3, x4, x5 = x
    return float((x1 - x2)**2 + (x2 - x3)**2 + (x3 - x4)**4 + (x4 - x5)**2)


def _hs50_g(x):
    x1, x2, x3, x4, x5 = x
    return np.array([2*x1 - 2*x2, -2*x1 + 4*x2 - 2*x3, -2*x2 + 2*x3 + 4*(x3 - x4)**3, 2*x4 - 2*x5 - 4*(x3 - x4)**3, -2*x4 + 2*x5], dtype=float)


def _hs50_h(x):
    x1, x2, x3, x4, x5 = x
    return np.array([[2, -2, 0, 0, 0], [-2, 4, -2, 0, 0], [0, -2, 2*(6*(x3 - x4)**2 + 1), -12*(x3 - x4)**2, 0], [0, 0, -12*(x3 - x4)**2, 2*(6*(x3 - x4)**2 + 1), -2], [0, 0, 0, -2, 2]], dtype=float)


def _hs50_c(x):
    x1, x2, x3, x4, x5 = x
    return np.array([x1 + 2*x2 + 3*x3 - 6, x2 + 2*x3 + 3*x4 - 6, x3 + 2*x4 + 3*x5 - 6], dtype=float)


def _hs50_j(x):
    x1, x2, x3, x4, x5 = x
    return np.array([[1, 2, 3, 0, 0], [0, 1, 2, 3, 0], [0, 0, 1, 2, 3]], dtype=float)


def _hs50_ch(x, v):
    x1, x2, x3, x4, x5 = x
    v0, v1, v2 = v
    return np.array([[0, 0, 0, 0, 0], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0]], dtype=float)


# HS51: n = 5, m = 3
def _hs51_f(x):
    x1, x2, x3, x4, x5 = x
    return float((x1 - x2)**2 + (x4 - 1)**2 + (x5 - 1)**2 + (x2 + x3 - 2)**2)


def _hs51_g(x):
    x1, x2, x3, x4, x5 = x
    return np.array([2*x1 - 2*x2, -2*x1 + 4*x2 + 2*x3 - 4, 2*x2 + 2*x3 - 4, 2*x4 - 2, 2*x5 - 2], dtype=float)


def _hs51_h(x):
    x1, x2, x3, x4, x5 = x
    return np.array([[2, -2, 0, 0, 0], [-2, 4, 2, 0, 0], [0, 2, 2, 0, 0], [0, 0, 0, 2, 0], [0, 0, 0, 0, 2]], dtype=float)


def _hs51_c(x):
    x1, x2, x3, x4, x5 = x
    return np.array([x1 + 3*x2 - 4, x3 + x4 - 2*x5, x2 - x5], dtype=float)


def _hs51_j(x):
    x1, x2, x3, x4, x5 = x
    return np.array([[1, 3, 0, 0, 0], [0, 0, 1, 1, -2], [0, 1, 0, 0, -1]], dtype=float)


def _hs51_ch(x, v):
    x1, x2, x3, x4, x5 = x
    v0, v1, v2 = v
    return np.array([[0, 0, 0, 0, 0], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0]], dtype=float)


# HS52: n = 5, m = 3
def _hs52_f(x):
    x1, x2, x3, x4, x5 = x
    return float((4*x1 - x2)**2 + (x4 - 1)**2 + (x5 - 1)**2 + (x2 + x3 - 2)**2)


def _hs52_g(x):
    x1, x2, x3, x4, x5 = x
    return np.array([32*x1 - 8*x2, -8*x1 + 4*x2 + 2*x3 - 4, 2*x2 + 2*x3 - 4, 2*x4 - 2, 2*x5 - 2], dtype=float)


def _hs52_h(x):
    x1, x2, x3, x4, x5 = x
    return np.array([[32, -8, 0, 0, 0], [-8, 4, 2, 0, 0], [0, 2, 2, 0, 0], [0, 0, 0, 2, 0], [0, 0, 0, 0, 2]], dtype=float)


def _hs52_c(x):
    x1, x2, x3, x4, x5 = x
    return np.array([x1 + 3*x2, x3 + x4 - 2*x5, x2 - x5], dtype=float)


def _hs52_j(x):
    x1, x2, x3, x4, x5 = x
    return np.array([[1, 3, 0, 0, 0], [0, 0, 1, 1, -2], [0, 1, 0, 0, -1]], dtype=float)


def _hs52_ch(x, v):
    x1, x2, x3, x4, x5 = x
    v0, v1, v2 = v
    return np.array([[0, 0, 0, 0, 0], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0]], dtype=float)


# HS56: n = 7, m = 4
def _hs56_f(x):
    x1, x2, x3, x4, x5, x6, x7 = x
    return float(-x1*x2*x3)


def _hs56_g(x):
    x1, x2, x3, x4, x5, x6, x7 = x
    return np.array([-x2*x3, -x1*x3, -x1*x2, 0, 0, 0, 0], dtype=float)


def _hs56_h(x):
    x1, x2, x3, x4, x5, x6, x7 = x
    return np.array([[0, -x3, -x2, 0, 0, 0, 0], [-x3, 0, -x1, 0, 0, 0, 0], [-x2, -x1, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0]], dtype=float)


def _hs56_c(x):
    x1, x2, x3, x4, x5, x6, x7 = x
    return np.array([x1 - 21/5*sin(x4)**2, x2 - 21/5*sin(x5)**2, x3 - 21/5*sin(x6)**2, x1 + 2*x2 + 2*x3 - 36/5*sin(x7)**2], dtype=float)


def _hs56_j(x):
    x1, x2, x3, x4, x5, x6, x7 = x
    return np.array([[1, 0, 0, -42/5*sin(x4)*cos(x4), 0, 0, 0], [0, 1, 0, 0, -42/5*sin(x5)*cos(x5), 0, 0], [0, 0, 1, 0, 0, -42/5*sin(x6)*cos(x6), 0], [1, 2, 2, 0, 0, 0, -72/5*sin(x7)*cos(x7)]], dtype=float)


def _hs56_ch(x, v):
    x1, x2, x3, x4, x5, x6, x7 = x
    v0, v1, v2, v3 = v
    return np.array([[0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0], [0, 0, 0, (42/5)*v0*(sin(x4)**2 - cos(x4)**2), 0, 0, 0], [0, 0, 0, 0, (42/5)*v1*(sin(x5)**2 - cos(x5)**2), 0, 0], [0, 0, 0, 0, 0, (42/5)*v2*(sin(x6)**2 - cos(x6)**2), 0], [0, 0, 0, 0, 0, 0, (72/5)*v3*(sin(x7)**2 - cos(x7)**2)]], dtype=float)


# HS61: n = 3, m = 2
def _hs61_f(x):
    x1, x2, x3 = x
    return float(4*x1**2 - 33*x1 + 2*x2**2 + 16*x2 + 2*x3**2 - 24*x3)


def _hs61_g(x):
    x1, x2, x3 = x
    return np.array([8*x1 - 33, 4*x2 + 16, 4*x3 - 24], dtype=float)


def _hs61_h(x):
    x1, x2, x3 = x
    return np.array([[8, 0, 0], [0, 4, 0], [0, 0, 4]], dtype=float)


def _hs61_c(x):
    x1, x2, x3 = x
    return np.array([3*x1 - 2*x2**2 - 7, 4*x1 - x3**2 - 11], dtype=float)


def _hs61_j(x):
    x1, x2, x3 = x
    return np.array([[3, -4*x2, 0], [4, 0, -2*x3]], dtype=float)


def _hs61_ch(x, v):
    x1, x2, x3 = x
    v0, v1 = v
    return np.array([[0, 0, 0], [0, -4*v0, 0], [0, 0, -2*v1]], dtype=float)


# HS77: n = 5, m = 2
def _hs77_f(x):
    x1, x2, x3, x4, x5 = x
    return float((x1 - 1)**2 + (x1 - x2)**2 + (x3 - 1)**2 + (x4 - 1)**4 + (x5 - 1)**6)


def _hs77_g(x):
    x1, x2, x3, x4, x5 = x
    return np.array([4*x1 - 2*x2 - 2, -2*x1 + 2*x2, 2*x3 - 2, 4*(x4 - 1)**3, 6*(x5 - 1)**5], dtype=float)


def _hs77_h(x):
    x1, x2, x3, x4, x5 = x
    return np.array([[4, -2, 0, 0, 0], [-2, 2, 0, 0, 0], [0, 0, 2, 0, 0], [0, 0, 0, 12*(x4 - 1)**2, 0], [0, 0, 0, 0, 30*(x5 - 1)**4]], dtype=float)


def _hs77_c(x):
    x1, x2, x3, x4, x5 = x
    return np.array([x1**2*x4 + sin(x4 - x5) - 2*sqrt(2), x2 + x3**4*x4**2 - 8 - sqrt(2)], dtype=float)


def _hs77_j(x):
    x1, x2, x3, x4, x5 = x
    return np.array([[2*x1*x4, 0, 0, x1**2 + cos(x4 - x5), -cos(x4 - x5)], [0, 1, 4*x3**3*x4**2, 2*x3**4*x4, 0]], dtype=float)


def _hs77_ch(x, v):
    x1, x2, x3, x4, x5 = x
    v0, v1 = v
    return np.array([[2*v0*x4, 0, 0, 2*v0*x1, 0], [0, 0, 0, 0, 0], [0, 0, 12*v1*x3**2*x4**2, 8*v1*x3**3*x4, 0], [2*v0*x1, 0, 8*v1*x3**3*x4, -v0*sin(x4 - x5) + 2*v1*x3**4, v0*sin(x4 - x5)], [0, 0, 0, v0*sin(x4 - x5), -v0*sin(x4 - x5)]], dtype=float)


# HS78: n = 5, m = 3
def _hs78_f(x):
    x1, x2, x3, x4, x5 = x
    return float(x1*x2*x3*x4*x5)


def _hs78_g(x):
    x1, x2, x3, x4, x5 = x
    return np.array([x2*x3*x4*x5, x1*x3*x4*x5, x1*x2*x4*x5, x1*x2*x3*x5, x1*x2*x3*x4], dtype=float)


def _hs78_h(x):
    x1, x2, x3, x4, x5 = x
    return np.array([[0, x3*x4*x5, x2*x4*x5, x2*x3*x5, x2*x3*x4], [x3*x4*x5, 0, x1*x4*x5, x1*x3*x5, x1*x3*x4], [x2*x4*x5, x1*x4*x5, 0, x1*x2*x5, x1*x2*x4], [x2*x3*x5, x1*x3*x5, x1*x2*x5, 0, x1*x2*x3], [x2*x3*x4, x1*x3*x4, x1*x2*x4, x1*x2*x3, 0]], dtype=float)


def _hs78_c(x):
    x1, x2, x3, x4, x5 = x
    return np.array([x1**2 + x2**2 + x3**2 + x4**2 + x5**2 - 10, x2*x3 - 5*x4*x5, x1**3 + x2**3 + 1], dtype=float)


def _hs78_j(x):
    x1, x2, x3, x4, x5 = x
    return np.array([[2*x1, 2*x2, 2*x3, 2*x4, 2*x5], [0, x3, x2, -5*x5, -5*x4], [3*x1**2, 3*x2**2, 0, 0, 0]], dtype=float)


def _hs78_ch(x, v):
    x1, x2, x3, x4, x5 = x
    v0, v1, v2 = v
    return np.array([[2*(v0 + 3*v2*x1), 0, 0, 0, 0], [0, 2*(v0 + 3*v2*x2), v1, 0, 0], [0, v1, 2*v0, 0, 0], [0, 0, 0, 2*v0, -5*v1], [0, 0, 0, -5*v1, 2*v0]], dtype=float)


# HS79: n = 5, m = 3
def _hs79_f(x):
    x1, x2, x3, x4, x5 = x
    return float((x1 - 1)**2 + (x1 - x2)**2 + (x2 - x3)**2 + (x3 - x4)**4 + (x4 - x5)**4)


def _hs79_g(x):
    x1, x2, x3, x4, x5 = x
    return np.array([4*x1 - 2*x2 - 2, -2*x1 + 4*x2 - 2*x3, -2*x2 + 2*x3 + 4*(x3 - x4)**3, -4*(x3 - x4)**3 + 4*(x4 - x5)**3, -4*(x4 - x5)**3], dtype=float)


def _hs79_h(x):
    x1, x2, x3, x4, x5 = x
    return np.array([[4, -2, 0, 0, 0], [-2, 4, -2, 0, 0], [0, -2, 2*(6*(x3 - x4)**2 + 1), -12*(x3 - x4)**2, 0], [0, 0, -12*(x3 - x4)**2, 12*((x3 - x4)**2 + (x4 - x5)**2), -12*(x4 - x5)**2], [0, 0, 0, -12*(x4 - x5)**2, 12*(x4 - x5)**2]], dtype=float)


def _hs79_c(x):
    x1, x2, x3, x4, x5 = x
    return np.array([x1 + x2**2 + x3**3 - 3*sqrt(2) - 2, x2 - x3**2 + x4 - 2*sqrt(2) + 2, x1*x5 - 2], dtype=float)


def _hs79_j(x):
    x1, x2, x3, x4, x5 = x
    return np.array([[1, 2*x2, 3*x3**2, 0, 0], [0, 1, -2*x3, 1, 0], [x5, 0, 0, 0, x1]], dtype=float)


def _hs79_ch(x, v):
    x1, x2, x3, x4, x5 = x
    v0, v1, v2 = v
    return np.array([[0, 0, 0, 0, v2], [0, 2*v0, 0, 0, 0], [0, 0, 2*(3*v0*x3 - v1), 0, 0], [0, 0, 0, 0, 0], [v2, 0, 0, 0, 0]], dtype=float)
