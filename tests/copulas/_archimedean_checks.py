"""Checks shared by the Clayton, Gumbel and Frank test modules (each module calls them with its
own family, parameters and tolerances)."""

from __future__ import annotations

from decimal import Decimal, getcontext

import numpy as np
import pyvinecopulib as pv

getcontext().prec = 60

EDGE_GRID = np.array(np.meshgrid([0.0, 1e-300, 1e-10, 0.5, 1 - 1e-10, 1.0],
                                 [0.0, 1e-300, 1e-10, 0.5, 1 - 1e-10, 1.0])).reshape(2, -1).T


def pv_bicop(family: str, theta: float, rotation: int = 0) -> pv.Bicop:
    return pv.Bicop(family=getattr(pv.BicopFamily, family), rotation=rotation,
                    parameters=np.array([[float(theta)]]))


def check_against_pyvinecopulib(cop, bicop, u: np.ndarray, atol: float) -> None:
    for name in ("cdf", "hfunc1", "hfunc2", "hinv1", "hinv2"):
        np.testing.assert_allclose(getattr(cop, name)(u), getattr(bicop, name)(u), rtol=0,
                                   atol=atol, err_msg=name)
    np.testing.assert_allclose(cop.logpdf(u), np.log(bicop.pdf(u)), rtol=0, atol=1e3 * atol,
                               err_msg="logpdf")


def check_edges(cop) -> None:
    """Exact boundary values and no NaN anywhere on the closed square."""
    for name in ("cdf", "logpdf", "hfunc1", "hfunc2", "hinv1", "hinv2"):
        assert not np.isnan(getattr(cop, name)(EDGE_GRID)).any(), name
    v = np.array([0.0, 1e-12, 0.3, 0.999, 1.0])
    zeros, ones = np.zeros_like(v), np.ones_like(v)
    np.testing.assert_array_equal(cop.cdf(np.c_[v, zeros]), 0.0)
    np.testing.assert_array_equal(cop.cdf(np.c_[zeros, v]), 0.0)
    np.testing.assert_allclose(cop.cdf(np.c_[v, ones]), v, rtol=1e-15, atol=0)
    np.testing.assert_allclose(cop.cdf(np.c_[ones, v]), v, rtol=1e-15, atol=0)
    np.testing.assert_array_equal(cop.hfunc1(np.c_[v, zeros]), 0.0)
    np.testing.assert_array_equal(cop.hfunc1(np.c_[v, ones]), 1.0)
    np.testing.assert_array_equal(cop.hinv1(np.c_[v, zeros]), 0.0)
    np.testing.assert_array_equal(cop.hinv1(np.c_[v, ones]), 1.0)


def check_hinv_roundtrips(cop, rng: np.random.Generator, n: int = 20000) -> None:
    """h1(u1, hinv1(u1, p)) = p, and hinv1(u1, h1(u1, u2)) = u2.

    The second round trip is limited by conditioning: an error of a few ulps in h moves u2 by
    about that error divided by the density c(u1, u2), so the tolerance is
    1e-12 + 1e-13 / c (and the claimed 1e-9 holds wherever c >= 1e-4)."""
    u = rng.random((n, 2))
    p = rng.random(n)
    u2 = cop.hinv1(np.c_[u[:, 0], p])
    dens = cop.pdf(np.c_[u[:, 0], u2])
    np.testing.assert_array_less(np.abs(cop.hfunc1(np.c_[u[:, 0], u2]) - p),
                                 1e-12 + 1e-13 * np.maximum(dens, 1.0))
    back = cop.hinv1(np.c_[u[:, 0], cop.hfunc1(u)])
    np.testing.assert_array_less(np.abs(back - u[:, 1]), 1e-12 + 1e-13 / cop.pdf(u))
    back2 = cop.hinv2(np.c_[cop.hfunc2(u), u[:, 1]])
    np.testing.assert_array_less(np.abs(back2 - u[:, 0]), 1e-12 + 1e-13 / cop.pdf(u))


def tau_by_quadrature(cop, nodes: int = 400) -> float:
    """Kendall's tau = 1 - 4 ∫∫ h1 h2 du1 du2 (Nelsen 2006, Thm 5.1.1 after integrating by
    parts), by tensor Gauss-Legendre quadrature: an independent route to the closed form. The
    integrand is bounded and smooth inside the square; with 400 nodes per axis the error is
    below 1e-7 for the parameters used (checked against 800 and 1600 nodes)."""
    x, w = np.polynomial.legendre.leggauss(nodes)
    x, w = (x + 1) / 2, w / 2
    u1, u2 = np.meshgrid(x, x, indexing="ij")
    pts = np.stack([u1, u2], axis=-1)
    val = w @ (cop.hfunc1(pts) * cop.hfunc2(pts)) @ w
    return 1.0 - 4.0 * float(val)


def check_per_row_parameters(cls, thetas: np.ndarray, rng: np.random.Generator,
                             rotation: int | None = None) -> None:
    kwargs = {} if rotation is None else {"rotation": rotation}
    u = rng.random((thetas.size, 2))
    vec = cls(thetas, **kwargs)
    for name in ("cdf", "logpdf", "hfunc1", "hfunc2", "hinv1", "hinv2"):
        loop = np.array([getattr(cls(t, **kwargs), name)(row) for t, row in zip(thetas, u)])
        np.testing.assert_allclose(getattr(vec, name)(u), loop, rtol=1e-13, atol=1e-15,
                                   err_msg=name)


def D(x: float) -> Decimal:
    """The exact value of the double ``x`` as a Decimal (not its shortest repr)."""
    return Decimal(float(x))
