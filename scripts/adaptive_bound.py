#!/usr/bin/env python3
"""How far checked refinement can go on a surface: reads a full landscape
(a surface.npz made without --tolerance) and prints

1. how well the cubic of each of the nested lattices RunAdaptive uses
   (sweep.CoarseToFine's) interpolates the other grid points, by loss band,
   in units of the tolerance R*|v| + A (the better of the two spaces
   RunAdaptive checks: the loss and the loss in units of the tolerance);
2. the points an oracle would compute: one that knows every interpolation
   error for free and fills each cell of the first lattice (steps of at most
   8 grid points) from the coarsest lattice whose cubic is within a share of
   the tolerance at every point of the cell, splitting it otherwise. No
   refinement that has to compute points to check its fills can compute
   fewer on these lattices with these interpolants.

Usage: /usr/bin/python3 scripts/adaptive_bound.py FULL_DIR [R] [A]
(R = 0.02 and A = 1e-3 by default, lsweep's --tolerance and --tolerance-abs).
"""
import sys

import numpy as np


def lattices(n):
    """The nested lattices of one axis: sweep's axisOrder, level by level."""
    order, ends, level = [0, n - 1], [2], 1
    while len(order) < n:
        half = 1 << (level - 1)
        for k in range(1, 2 * half, 2):
            i = (k * (n - 1) + half) >> level
            if i not in order:
                order.append(i)
        ends.append(len(order))
        level += 1
    return [sorted(order[:e]) for e in ends]


def weights(nodes, t):
    w = np.ones(len(nodes))
    for j in range(len(nodes)):
        for i in range(len(nodes)):
            if i != j:
                w[j] *= (t - nodes[i]) / (nodes[j] - nodes[i])
    return w


def stencil(lat, t):
    m = min(4, len(lat))
    k = int(np.searchsorted(lat, t))
    s = min(max(k - 2, 0), len(lat) - m)
    return lat[s:s + m]


def cubic_errors(z, lat, r, a):
    """The error, in tolerances, of the cubic of lattice lat at every point,
    in the space of the loss and in units of the tolerance."""
    u = np.log1p(np.abs(z) * r / a) / r
    tol = r * np.abs(z) + a
    lin, log = np.zeros(z.shape), np.zeros(z.shape)
    for y in range(z.shape[0]):
        for x in range(z.shape[1]):
            sx, sy = stencil(lat[1], x), stencil(lat[0], y)
            wx, wy = weights(sx, x), weights(sy, y)
            lin[y, x] = abs(wy @ z[np.ix_(sy, sx)] @ wx - z[y, x]) / tol[y, x]
            f = np.expm1((wy @ u[np.ix_(sy, sx)] @ wx) * r) * a / r
            log[y, x] = abs(f - z[y, x]) / tol[y, x]
    return lin, log


def main(argv):
    z = np.load(argv[1] + "/surface.npz")["loss"]
    r = float(argv[2]) if len(argv) > 2 else 0.02
    a = float(argv[3]) if len(argv) > 3 else 1e-3
    ny, nx = z.shape
    lx, ly = lattices(nx), lattices(ny)
    levels = max(len(lx), len(ly))
    lat = [(ly[min(k, len(ly) - 1)], lx[min(k, len(lx) - 1)]) for k in range(levels)]
    first = next(k for k in range(levels) if max(np.diff(lat[k][1]).max(), np.diff(lat[k][0]).max()) <= 8)
    errs = {k: cubic_errors(z, lat[k], r, a) for k in range(first, levels - 1)}

    print("%s: %dx%d, loss %.3g to %.3g, tolerance %g|v| + %g" % (argv[1], nx, ny, z.min(), z.max(), r, a))
    print("cubic of each lattice, error at the other points in tolerances (better space per point):")
    bands = [(0, 1), (1, 3), (3, 10), (10, np.inf)]
    for k in range(first, levels - 1):
        e = np.fmin(*errs[k])
        on = np.zeros(z.shape, bool)
        on[np.ix_(lat[k][0], lat[k][1])] = True
        print("  lattice %dx%d (steps up to %d):" % (len(lat[k][1]), len(lat[k][0]), np.diff(lat[k][1]).max()))
        for lo, hi in bands:
            sel = (z >= lo) & (z < hi) & ~on
            if sel.any():
                print("    loss [%g, %g): %4d points, median %.2f, beyond 0.5: %3.0f%%, beyond 1: %3.0f%%" % (
                    lo, hi, sel.sum(), np.median(e[sel]), 100 * (e[sel] > 0.5).mean(), 100 * (e[sel] > 1).mean()))

    for share in (1.0, 0.5):
        computed = np.zeros(z.shape, bool)

        def cell(k, y0, y1, x0, x1):
            ys = [p for p in lat[k][0] if y0 <= p <= y1]
            xs = [p for p in lat[k][1] if x0 <= p <= x1]
            computed[np.ix_(ys, xs)] = True
            if k == levels - 1:
                return
            if k in errs and min(e[y0:y1 + 1, x0:x1 + 1].max() for e in errs[k]) <= share:
                return
            ys = [p for p in lat[k + 1][0] if y0 <= p <= y1]
            xs = [p for p in lat[k + 1][1] if x0 <= p <= x1]
            for j in range(len(ys) - 1):
                for i in range(len(xs) - 1):
                    cell(k + 1, ys[j], ys[j + 1], xs[i], xs[i + 1])

        ys, xs = lat[first]
        for j in range(len(ys) - 1):
            for i in range(len(xs) - 1):
                cell(first, ys[j], ys[j + 1], xs[i], xs[i + 1])
        n = computed.sum()
        print("oracle, fills within %.1f of the tolerance: %d of %d points computed, %.2fx fewer" % (
            share, n, z.size, z.size / n))


if __name__ == "__main__":
    main(sys.argv)
