#!/usr/bin/python3
"""Write the numbers and pictures of docs/findings.md from the output files of one run of scripts/findings.sh.

    /usr/bin/python3 scripts/findings/report.py WORK

Needs numpy and Pillow (Debian's python3-numpy, python3-pil). Reads WORK/train.json (train.py), WORK/times.txt
(findings.sh) and lsweep's own outputs in WORK/out: surface.npz of every run, compare --json, hessian --at --json,
eval --json, weights --json and trajectory.json. Copies the pictures it names into docs/img/findings/ (800 pixels
wide, 256 colours) and replaces the text between each pair of markers

    <!-- findings:NAME -->  ...  <!-- /findings:NAME -->

in docs/findings.md with the table NAME; everything outside the markers (the prose) is kept. A marker missing from
the page, or an output missing from WORK, is an error.

Measures computed here from lsweep's surfaces (2-D runs on the training data, filter-normalised directions, grid
21 x 21 on [-1, 1]^2, rows are y):
  rise(R)     mean over the grid points at distance R +- 0.05 from the centre of loss - centre loss
  area(0.1)   the fraction of the grid points whose loss is below centre loss + 0.1
and from 1-D interpolations (81 points on [-0.5, 1.5], a step of 0.025):
  basin       the length of the run of grid points around alpha = 0 (and 1) where the training loss is below 0.1
"""

import json
import os
import sys

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
PAGE = os.path.join(ROOT, "docs", "findings.md")
IMG = os.path.join(ROOT, "docs", "img", "findings")
IMG_WIDTH = 800


def load_json(path):
    with open(path) as f:
        return json.load(f)


def surface(path):
    s = np.load(os.path.join(path, "surface.npz"))
    out = {k: s[k] for k in s.files}
    assert out["mask"].all(), path + ": not every point computed"
    return out


def centre(s):
    x, y = s["xcoordinates"], s["ycoordinates"]
    i, j = int(np.argmin(np.abs(y))), int(np.argmin(np.abs(x)))
    assert x[j] == 0 and y[i] == 0
    return i, j


def rise(s, r):
    x, y = np.meshgrid(s["xcoordinates"], s["ycoordinates"])
    ring = np.abs(np.hypot(x, y) - r) < 0.05 + 1e-9
    i, j = centre(s)
    return float(np.mean(s["loss"][ring]) - s["loss"][i, j])


def area(s, h=0.1):
    i, j = centre(s)
    return float(np.mean(s["loss"] < s["loss"][i, j] + h))


def basin(s, at, level=0.1):
    """Length in alpha of the run of grid points around alpha = at with training loss below level."""
    x, loss = s["xcoordinates"], s["loss"]
    k = int(np.argmin(np.abs(x - at)))
    if loss[k] >= level:
        return 0.0
    lo = hi = k
    while lo > 0 and loss[lo - 1] < level:
        lo -= 1
    while hi < len(x) - 1 and loss[hi + 1] < level:
        hi += 1
    return float(x[hi] - x[lo])


def f(v, digits=3):
    if v is None:
        return "n/a"
    if v == 0:
        return "0"
    a = abs(v)
    if a >= 1000 or a < 1e-3:
        return "%.*g" % (digits, v)
    return "%.*g" % (digits, v) if a < 1 else ("%.*f" % (max(0, digits - len(str(int(a)))), v))


def pct(v):
    return "%.1f%%" % (100 * v)


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


def img(src, name, alt):
    """Copies lsweep's picture src to docs/img/findings/name, scaled to IMG_WIDTH pixels wide and stored with a
    palette of 256 colours (a fifth of the bytes; the page shows it 400 pixels wide)."""
    os.makedirs(IMG, exist_ok=True)
    im = Image.open(src).convert("RGB")
    h = round(im.size[1] * IMG_WIDTH / im.size[0])
    im = im.resize((IMG_WIDTH, h), Image.LANCZOS)
    im.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(
        os.path.join(IMG, name), optimize=True)
    return '<img src="img/findings/%s" alt="%s" width="400">' % (name, alt)


class Report:
    def __init__(self, work):
        self.work = work
        self.out = os.path.join(work, "out")
        self.train = load_json(os.path.join(work, "train.json"))
        self.models = self.train["models"]
        self.sections = {}

    def o(self, *p):
        return os.path.join(self.out, *p)

    def test(self, name):
        return load_json(self.o(name + ".test.json"))

    def hess(self, name):
        return load_json(self.o(name + ".hessian.json"))

    # ---------------------------------------------------------------------------------------------------------------
    def batch(self):
        rows, verdicts = [], []
        for wd in ("", "_wd"):
            cmp_f = load_json(self.o("compare%s.json" % wd))
            cmp_n = load_json(self.o("compare%s_none.json" % wd))
            w = {os.path.basename(r["model"])[:-5]: r for r in load_json(self.o("weights%s.json" % wd))}
            interp = surface(self.o("interp" + wd))
            for m, side, at in (("sb" + wd, "candidate", 0.0), ("lb" + wd, "base", 1.0)):
                s1 = surface(self.o(m + "_1d"))
                k = int(np.argmin(np.abs(s1["xcoordinates"])))
                te = self.test(m)
                met = {x["name"]: x for x in cmp_f["metrics"]}
                metn = {x["name"]: x for x in cmp_n["metrics"]}
                rec = self.models[m]
                rows.append([
                    "`%s`" % m, rec["batch"], "%g" % rec["weight_decay"], f(float(s1["loss"][k]), 3),
                    f(te["loss"], 3), pct(te["accuracy"]), pct(float(s1["acc"][k]) - te["accuracy"]),
                    f(w[m]["l2"], 3),
                    f(basin(interp, at), 2),
                    f(metn["mean_increase"][side]["value"], 3),
                    f(met["mean_increase"][side]["value"], 3), f(met["rise_radius"][side]["value"], 3),
                    f(met["lambda_max"][side]["value"], 3),
                ])
            verdicts.append("- weight decay %s: filter-normalised directions: %s Unnormalised directions (`--norm none`): %s"
                            % ("0" if not wd else "5e-4", cmp_f["summary"], cmp_n["summary"]))
        header = ["model", "batch", "weight decay", "train loss", "test loss", "test acc", "train - test accuracy",
                  "weight norm",
                  "basin in the interpolation (loss < 0.1)", "mean rise at r = 1, unnormalised",
                  "mean rise at r = 1, filter-normalised", "rise radius (0.1)", "λmax"]
        self.sections["batch-table"] = table(header, rows) + "\n\nMeasured by `lsweep compare` (large batch as base, " \
            "small batch as candidate, same directions):\n\n" + "\n".join(verdicts)
        pics = [
            [img(self.o("interp", "curve.png"), "interp.png", "interpolation sb to lb"),
             img(self.o("interp_wd", "curve.png"), "interp_wd.png", "interpolation sb_wd to lb_wd")],
            [img(self.o("weights.png"), "weights.png", "weights sb lb"),
             img(self.o("weights_wd.png"), "weights_wd.png", "weights sb_wd lb_wd")],
            [img(self.o("sb_1d", "curve.png"), "1d.png", "1-D sb and lb"),
             img(self.o("sb_wd_1d", "curve.png"), "1d_wd.png", "1-D sb_wd and lb_wd")],
            [img(self.o("sb_2d", "contour.png"), "2d_sb.png", "2-D sb"),
             img(self.o("sb_wd_2d", "contour.png"), "2d_sb_wd.png", "2-D sb_wd")],
            [img(self.o("lb_2d", "contour.png"), "2d_lb.png", "2-D lb"),
             img(self.o("lb_wd_2d", "contour.png"), "2d_lb_wd.png", "2-D lb_wd")],
        ]
        self.sections["batch-pictures"] = table(["weight decay 0", "weight decay 5e-4"], pics)

    # ---------------------------------------------------------------------------------------------------------------
    def resnet_rows(self, names):
        rows = []
        for m in names:
            s = surface(self.o(m))
            i, j = centre(s)
            te, h, rec = self.test(m), self.hess(m), self.models[m]
            rows.append([
                "`%s`" % m, rec["depth"], "%dx" % (rec["width"] // 4), "yes" if rec["skip"] else "no",
                "{:,}".format(rec["params"]), f(float(s["loss"][i, j]), 3), pct(float(s["acc"][i, j])),
                pct(te["accuracy"]), f(rise(s, 0.5), 3), f(rise(s, 1.0), 3), pct(area(s)),
                f(h["lambda_max"], 3), f(h["lambda_min"], 3), f(h["ratio"], 3),
            ])
        return rows

    RES_HEADER = ["model", "layers", "width", "skips", "parameters", "train loss", "train acc", "test acc",
                  "rise at r = 0.5", "rise at r = 1", "area below +0.1", "λmax", "λmin", "\\|λmin/λmax\\|"]

    def depth(self):
        names = ["resnet20", "resnet56", "resnet110", "resnet20_noskip", "resnet56_noskip", "resnet110_noskip"]
        self.sections["depth-table"] = table(self.RES_HEADER, self.resnet_rows(names))
        pics = []
        for d in (20, 56, 110):
            pics.append(["ResNet-%d" % d] + [
                img(self.o(m, "contour.png"), "depth_%s.png" % m, m) for m in ("resnet%d" % d, "resnet%d_noskip" % d)])
        for d in (56, 110):
            pics.append(["ResNet-%d, 3-D" % d] + [
                img(self.o(m, "surface3d.png"), "depth_%s_3d.png" % m, m + " 3-D")
                for m in ("resnet%d" % d, "resnet%d_noskip" % d)])
        self.sections["depth-pictures"] = table(["", "with skips", "without skips"], pics)

    def width(self):
        names = []
        for sfx in ("", "_noskip"):
            names += ["resnet20" + sfx] + ["resnet20_w%d%s" % (w, sfx) for w in (8, 16, 32)]
        self.sections["width-table"] = table(self.RES_HEADER, self.resnet_rows(names))
        pics = []
        for w in (8, 16, 32):
            pics.append(["%dx" % (w // 4)] + [
                img(self.o(m, "contour.png"), "width_%s.png" % m, m)
                for m in ("resnet20_w%d" % w, "resnet20_w%d_noskip" % w)])
        self.sections["width-pictures"] = table(["", "with skips", "without skips"], pics)

    def convexity(self):
        rows, pics = [], []
        for m in ("resnet20", "resnet20_noskip"):
            s = surface(self.o("convexity_" + m))
            r = s["ratio"]
            i, j = centre(s)
            rows.append(["`%s`" % m, r.size, f(float(s["lambda_max"][i, j]), 3), f(float(r[i, j]), 3),
                         f(float(np.median(r)), 3), f(float(np.max(r)), 3), "%d of %d" % (int(np.sum(r > 0.1)), r.size),
                         f(float(np.min(s["lambda_min"])), 3)])
            pics.append(img(self.o("convexity_" + m, "convexity.png"), "convexity_%s.png" % m, m + " convexity"))
        header = ["model", "points", "λmax at the centre", "\\|λmin/λmax\\| at the centre", "median \\|λmin/λmax\\|",
                  "largest", "points above 0.1", "most negative λmin"]
        self.sections["convexity-table"] = table(header, rows) + "\n\n" + table(["with skips", "without skips"], [pics])

    def trajectory(self):
        t = load_json(self.o("trajectory", "trajectory.json"))
        rows = []
        for c, (x, y) in zip(t["checkpoints"], t["coordinates"]):
            rows.append(["`%s`" % os.path.basename(c), f(x, 3), f(y, 3)])
        ev = t["explained_variance_ratio"]
        self.sections["trajectory-table"] = (
            "Explained variance of the two components: %s and %s (together %s).\n\n" % (pct(ev[0]), pct(ev[1]),
                                                                                        pct(ev[0] + ev[1]))
            + img(self.o("trajectory", "contour.png"), "trajectory.png", "trajectory") + "\n\n"
            + "<details><summary>coordinates of the checkpoints</summary>\n\n"
            + table(["checkpoint", "x (1st component)", "y (2nd component)"], rows) + "\n\n</details>")

    def settings(self):
        st = self.train["settings"]
        rows = []
        for name in ("sb", "sb_wd", "lb", "lb_wd", "resnet20", "resnet20_w32_noskip"):
            r = self.models[name]
            rows.append(["`%s`" % name, r["arch"], r["batch"], r["steps"], r["epochs"], r["lr"], "%g" % r["weight_decay"],
                         r["init_seed"], r["shuffle_seed"], "%.1f" % r["seconds"]])
        times = {}
        with open(os.path.join(self.work, "times.txt")) as fh:
            for line in fh:
                k, v = line.split()
                times[k] = v
        total, cpu, load = times.pop("total", None), times.pop("cpu", None), times.pop("load", None)
        trows = [[k, "%s s" % v] for k, v in times.items()]
        if total is None:
            wall = "not measured (a partial run)"
        else:
            wall = "%d min %02d s" % divmod(int(total), 60)
            if cpu is not None:
                wall += " (CPU time of its processes %d min %02d s" % divmod(int(cpu), 60)
                if load is not None:
                    wall += "; load average at the end %s, over 1, 5 and 15 minutes" % load.replace(",", ", ")
                wall += ")"
        self.sections["wall-time"] = wall
        self.sections["settings-table"] = (
            "Data split: `numpy.random.default_rng(%d)` permutation, %d training and %d test samples. torch %s, "
            "onnx %s, numpy %s.\n\n" % (st["split_seed"], st["train"], st["test"], st["torch"], st["onnx"],
                                         st["numpy"])
            + table(["model (example)", "net", "batch", "steps", "epochs", "lr", "weight decay", "init seed",
                     "shuffle seed", "training seconds"], rows)
            + "\n\nWall time of the whole script: **%s**, by stage:\n\n" % wall + table(["stage", "wall time"], trows))

    def write(self):
        with open(PAGE) as fh:
            page = fh.read()
        for name, text in self.sections.items():
            a, b = "<!-- findings:%s -->" % name, "<!-- /findings:%s -->" % name
            i, j = page.find(a), page.find(b)
            if i < 0 or j < i:
                sys.exit("report: %s lacks the markers %s ... %s" % (PAGE, a, b))
            page = page[:i + len(a)] + "\n" + text + "\n" + page[j:]
        with open(PAGE, "w") as fh:
            fh.write(page)


def main():
    r = Report(sys.argv[1])
    r.batch()
    r.depth()
    r.width()
    r.convexity()
    r.trajectory()
    r.settings()
    if len(sys.argv) > 2 and sys.argv[2] == "--print":
        for k, v in r.sections.items():
            print("==== " + k + "\n" + v)
        return
    r.write()


if __name__ == "__main__":
    main()
