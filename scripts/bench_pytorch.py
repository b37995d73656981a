#!/usr/bin/python3
"""PyTorch's own costs of a gradient and of a Hessian-vector product, relative to one inference, on the models and
data of lsweep's benchmarks (engine/bench_test.go's benchCases: the digits ResNet on its 1797 samples, the
CIFAR-shaped ResNet-20 on 256 random images), in the batches lsweep's engine runs them in (the case's batch size,
cut so that the data makes at least 8 batches, as engine/batch.go does: 225 and 32 samples), float32, eval mode,
two threads, so that scripts/bench.sh prints them beside lsweep's ratios measured in the same run. The torch
modules are rebuilt from the committed ONNX files (every initializer loaded as the state_dict entry of the same
name), with the module definitions of fixtures/gen/make_pytorch_fixtures.py.

Inference is the eval-mode forward pass under no_grad; the gradient is loss.backward() (mean cross-entropy of the
batch) with respect to the weights of rank >= 2, the tensors lsweep differentiates; the HVP is the double backward
of the same loss along a fixed direction. Prints one line per model: gradient/inference and hvp/gradient, and the
times.
Needs Debian's python3-torch and python3-onnx; run as /usr/bin/python3 scripts/bench_pytorch.py [repeats].
"""

import os
import sys
import time

import numpy as np
import onnx
from onnx import numpy_helper
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "fixtures", "gen"))
import make_pytorch_fixtures as mpf  # noqa: E402

TESTDATA = os.path.join(HERE, "..", "fixtures", "testdata")


def load(model, path):
    m = onnx.load(os.path.join(TESTDATA, path))
    init = {i.name: torch.from_numpy(numpy_helper.to_array(i).copy()) for i in m.graph.initializer}
    model.load_state_dict(init, strict=False)
    return model.eval()


# shareBatches in engine/batch.go: a dataset is cut into at least this many batches.
SHARE_BATCHES = 8


def batches(x, y, size):
    size = min(size, -(-len(x) // SHARE_BATCHES))
    return [(x[i:i + size], y[i:i + size]) for i in range(0, len(x), size)]


def bench(name, model, x, y, size, repeats):
    params = [p for n, p in model.named_parameters() if p.ndim >= 2]
    for p in model.parameters():
        p.requires_grad_(False)
    for p in params:
        p.requires_grad_(True)
    bs = batches(torch.from_numpy(x), torch.from_numpy(y), size)
    v = [torch.randn_like(p) for p in params]

    def inference():
        with torch.no_grad():
            for xb, _ in bs:
                model(xb)

    def gradient():
        for xb, yb in bs:
            for p in params:
                p.grad = None
            F.cross_entropy(model(xb), yb).backward()

    def hvp():
        for xb, yb in bs:
            g = torch.autograd.grad(F.cross_entropy(model(xb), yb), params, create_graph=True)
            torch.autograd.grad(sum((a * b).sum() for a, b in zip(g, v)), params)

    fns = [inference, gradient, hvp]
    for f in fns:
        f()
    times = [0.0, 0.0, 0.0]
    for _ in range(repeats):
        for k, f in enumerate(fns):
            t0 = time.perf_counter()
            f()
            times[k] += time.perf_counter() - t0
    inf, grad, h = (t / repeats for t in times)
    print("%-15s pytorch gradient/inference %.2f  hvp/gradient %.2f  (inference %.1f ms, gradient %.1f ms, hvp %.1f ms;"
          " batches of %d)" % (name, grad / inf, h / grad, 1e3 * inf, 1e3 * grad, 1e3 * h, len(bs[0][0])), flush=True)


def main():
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    torch.set_num_threads(2)
    torch.manual_seed(0)
    d = np.load(os.path.join(TESTDATA, "digits", "data.npz"))
    bench("digits-resnet", load(mpf.DigitsResNet(skip=True), "digits/resnet_skip.onnx"), d["x"], d["y"], 256, repeats)
    rng = np.random.default_rng(3)
    x = rng.standard_normal((256, 3, 32, 32)).astype(np.float32)
    y = rng.integers(0, 10, 256).astype(np.int64)
    bench("cifar-resnet20", load(mpf.ResNet20(), "cifar/resnet20.onnx"), x, y, 128, repeats)


if __name__ == "__main__":
    sys.exit(main())
