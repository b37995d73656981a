#!/usr/bin/env python3
"""Compares an estimated landscape (lsweep run --tolerance) with a full one
made with the same directions, and optionally draws their contour pictures
side by side.

Usage: /usr/bin/python3 scripts/compare_surfaces.py FULL_DIR ESTIMATED_DIR [--picture OUT.png]

Prints: the share of points within the tolerance R*|full| + A of the full
surface, the largest error in units of it, and the sample forwards of each
run (from their manifests) and their ratio.
"""
import json
import sys

import numpy as np


def main(argv):
    full, est = argv[1], argv[2]
    f = np.load(full + "/surface.npz")
    e = np.load(est + "/surface.npz")
    with open(est + "/manifest.json") as fh:
        me = json.load(fh)
    with open(full + "/manifest.json") as fh:
        mf = json.load(fh)
    r = me["identity"]["tolerance"]
    a = me["identity"]["tolerance_abs"]
    lf, le = f["loss"], e["loss"]
    err = np.abs(le - lf) / (r * np.abs(lf) + a)
    est_mask = e["estimated"] == 1
    fw_est = me["info"]["sample_forwards"]
    fw_full = lf.size * mf["identity"]["samples"]
    print("points          %d (%d computed, %d interpolated)" % (lf.size, lf.size - est_mask.sum(), est_mask.sum()))
    print("within R|f|+A   %.2f%% (none beyond 2x: %s)" % (100 * (err <= 1).mean(), bool((err <= 2).all())))
    print("largest error   %.3f tolerances (computed %.3f, interpolated %.3f)" % (
        err.max(), err[~est_mask].max(), err[est_mask].max() if est_mask.any() else 0))
    print("sample forwards %d estimated, %d full: %.2fx fewer" % (fw_est, fw_full, fw_full / fw_est))
    if "--picture" in argv:
        from PIL import Image
        out = argv[argv.index("--picture") + 1]
        a_img = Image.open(full + "/contour.png").convert("RGB")
        b_img = Image.open(est + "/contour.png").convert("RGB")
        w, h = a_img.size
        band = 60
        both = Image.new("RGB", (2 * w, h + band), "white")
        both.paste(a_img, (0, band))
        both.paste(b_img, (w, band))
        from PIL import ImageDraw, ImageFont
        try:
            font = ImageFont.truetype("DejaVuSans.ttf", 30)
        except OSError:
            font = ImageFont.load_default()
        d = ImageDraw.Draw(both)
        d.text((w // 4, 15), "every point on every sample", fill="black", font=font)
        d.text((w + w // 6, 15), "--tolerance %g (grey dots: interpolated)" % r, fill="black", font=font)
        both = both.resize((1400, int(1400 * (h + band) / (2 * w))), Image.LANCZOS)
        both.quantize(colors=64).save(out, optimize=True)


if __name__ == "__main__":
    main(sys.argv)
