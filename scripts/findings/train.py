#!/usr/bin/python3
"""Train and export the models of docs/findings.md (run by scripts/findings.sh, which then runs lsweep on them).

    /usr/bin/python3 scripts/findings/train.py WORK

Needs Debian's python3-torch (1.13), python3-onnx (1.12) and numpy. Writes into WORK:

  data/train.npz, data/test.npz   fixtures/testdata/digits/data.npz (1797 images 8x8, x = images/16) split by a
                                  permutation from numpy.random.default_rng(SPLIT_SEED): 1297 training and 500 test
                                  samples (x float32 [N,1,8,8], y int64 [N], index int64 [N], the row in data.npz)
  models/<name>.onnx              every trained model, exported at opset 13 with BatchNorm kept (model.eval(),
                                  training=TrainingMode.PRESERVE, do_constant_folding=False), input "x" [N,1,8,8],
                                  output "logits" [N,10], dynamic batch; initializer names = state_dict keys
  models/traj/ckpt_<k>.onnx       checkpoints of one training run (the trajectory)
  train.json                      per model: settings (architecture, batch, epochs or steps, lr, weight decay, seeds),
                                  parameter count, train/test loss and accuracy (PyTorch, eval mode, float64 mean of
                                  the float32 logits' cross-entropy), weight norm, training seconds

The models (all trained on the 1297 training samples, softmax cross-entropy, SGD with momentum 0.9, the learning
rate warmed up linearly over WARMUP steps and then cosine-annealed to 0; PyTorch's coupled weight decay):
  batch experiment   SmallCNN (Conv 1->8 3x3, ReLU, Conv 8->16 3x3 stride 2, ReLU, Linear 256->10; no BatchNorm,
                     3,818 parameters) from the same initial weights (INIT_SEED), four ways:
                       sb, sb_wd   batch 16, SB_EPOCHS epochs (shuffled, SHUFFLE_SEED), lr SB_LR, weight decay 0 / WD
                       lb, lb_wd   the whole training set as one batch, LB_STEPS steps, lr LB_LR, weight decay 0 / WD
                     sb_wd is also the trajectory run: its weights after epoch 0, 2, 4, ... (models/traj/ckpt_<k>.onnx,
                     k the epoch) are the checkpoints.
  ResNets            thin CIFAR-style ResNets for 8x8 inputs: a 3x3 stem conv (1->w) with BatchNorm and ReLU, three
                     stages of n basic blocks (conv3x3-BN-ReLU-conv3x3-BN, + shortcut, ReLU) of w, 2w, 4w channels
                     (strides 1, 2, 2: 8x8, 4x4, 2x2), global average pooling, Linear 4w->10; 6n+2 layers. The
                     shortcut is the identity, or a 1x1 conv + BatchNorm where the shape changes; "noskip" nets have
                     no shortcut at all. Batch RES_BATCH, RES_EPOCHS epochs, lr RES_LR, weight decay RES_WD.
                       resnet{20,56,110}[_noskip]   w = 4, n = 3, 9, 18 (the depth experiment)
                       resnet20_w{8,16,32}[_noskip] n = 3, w = 8, 16, 32 (the width experiment: 2x, 4x, 8x)
Determinism: fixed seeds, one thread per training process (two processes run side by side), CPU only.
"""

import io
import json
import multiprocessing
import os
import sys
import time

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_v] = "1"

import numpy as np
import onnx
from onnx import numpy_helper
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
DIGITS = os.path.normpath(os.path.join(HERE, "..", "..", "fixtures", "testdata", "digits", "data.npz"))
OPSET = 13

SPLIT_SEED = 1712
TRAIN = 1297
INIT_SEED = 9
SHUFFLE_SEED = 99
WARMUP = 50
SB_BATCH, SB_EPOCHS, SB_LR = 16, 40, 0.02
LB_STEPS, LB_LR = 1500, 0.1
WD = 5e-4
TRAJ_EVERY = 2
RES_BATCH, RES_EPOCHS, RES_LR, RES_WD = 64, 40, 0.05, 5e-4
RES_SEED = 20


# ---------------------------------------------------------------------------------------------------------------
class SmallCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, 1, 1)
        self.conv2 = nn.Conv2d(8, 16, 3, 2, 1)
        self.fc = nn.Linear(16 * 4 * 4, 10)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.relu(self.conv2(x))
        return self.fc(torch.flatten(x, 1))


class Block(nn.Module):
    def __init__(self, cin, cout, stride, skip):
        super().__init__()
        self.skip = skip
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.proj = skip and (stride != 1 or cin != cout)
        if self.proj:
            self.sc_conv = nn.Conv2d(cin, cout, 1, stride, 0, bias=False)
            self.sc_bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.skip:
            out = out + (self.sc_bn(self.sc_conv(x)) if self.proj else x)
        return F.relu(out)


class ResNet(nn.Module):
    def __init__(self, n, w, skip):
        super().__init__()
        self.conv1 = nn.Conv2d(1, w, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(w)
        blocks, cin = [], w
        for stage, cout in enumerate((w, 2 * w, 4 * w)):
            for i in range(n):
                blocks.append(Block(cin, cout, 2 if (stage > 0 and i == 0) else 1, skip))
                cin = cout
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(4 * w, 10)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        # BatchNorm starts at scale 1 and shift 0, equal to the running variance and mean; torch.onnx.export would
        # then store each equal pair once (an Identity for the other) if training left one untouched. Seeded
        # offsets keep every tensor distinct.
        with torch.no_grad():
            for m in self.modules():
                if isinstance(m, nn.BatchNorm2d):
                    m.weight.add_(0.01 * torch.randn_like(m.weight))
                    m.bias.add_(0.01 * torch.randn_like(m.bias))

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.blocks(x)
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


def resnets():
    """name -> (n, w, skip) for the depth and width experiments."""
    out = {}
    for skip in (True, False):
        sfx = "" if skip else "_noskip"
        for n, depth in ((3, 20), (9, 56), (18, 110)):
            out["resnet%d%s" % (depth, sfx)] = (n, 4, skip)
        for w in (8, 16, 32):
            out["resnet20_w%d%s" % (w, sfx)] = (3, w, skip)
    return out


# ---------------------------------------------------------------------------------------------------------------
def schedule(steps):
    return lambda s: min(1.0, (s + 1) / WARMUP) * 0.5 * (1 + np.cos(np.pi * s / steps))


def loss_acc(model, x, y):
    """Mean softmax cross-entropy in float64 from the float32 logits (eval mode), and accuracy."""
    model.eval()
    with torch.no_grad():
        o = model(torch.from_numpy(x)).numpy().astype(np.float64)
    m = o.max(axis=1, keepdims=True)
    lse = (m + np.log(np.exp(o - m).sum(axis=1, keepdims=True)))[:, 0]
    return float((lse - o[np.arange(len(y)), y]).mean()), float(np.mean(o.argmax(axis=1) == y))


def export(model, path):
    model.eval()
    buf = io.BytesIO()
    torch.onnx.export(
        model, torch.zeros(2, 1, 8, 8), buf,
        export_params=True, verbose=False,
        training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False,
        opset_version=OPSET, input_names=["x"], output_names=["logits"],
        dynamic_axes={"x": {0: "N"}, "logits": {0: "N"}},
    )
    with open(path, "wb") as f:
        f.write(buf.getvalue())
    m = onnx.load(path)
    onnx.checker.check_model(m)
    sd = {k: v for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}
    names = {i.name for i in m.graph.initializer}
    assert names == set(sd), sorted(names ^ set(sd))
    for i in m.graph.initializer:
        assert np.array_equal(numpy_helper.to_array(i), sd[i.name].numpy()), i.name


def train(model, x, y, batch, steps, lr, wd, shuffle_seed, every_epoch=None):
    """SGD with momentum 0.9, warm-up and cosine decay over steps. every_epoch(epoch) is called at epoch 0 and
    after each epoch."""
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=wd)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, schedule(steps))
    g = torch.Generator().manual_seed(shuffle_seed)
    n = x.shape[0]
    k, epoch = 0, 0
    if every_epoch:
        every_epoch(0)
    while k < steps:
        model.train()
        perm = torch.randperm(n, generator=g) if batch < n else torch.arange(n)
        for i in range(0, n, batch):
            if k == steps:
                break
            idx = perm[i:i + batch]
            opt.zero_grad()
            F.cross_entropy(model(x[idx]), y[idx]).backward()
            opt.step()
            sched.step()
            k += 1
        epoch += 1
        if every_epoch:
            every_epoch(epoch)
    return k, epoch


def weight_norm(model):
    return float(np.sqrt(sum(float((p.detach().double() ** 2).sum()) for p in model.parameters())))


def job(args):
    """Train one model; returns its record for train.json."""
    name, work = args
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    tr = np.load(os.path.join(work, "data", "train.npz"))
    te = np.load(os.path.join(work, "data", "test.npz"))
    x, y = torch.from_numpy(tr["x"]), torch.from_numpy(tr["y"])
    t0 = time.time()
    rec = {"name": name}
    if name in ("sb", "sb_wd", "lb", "lb_wd"):
        torch.manual_seed(INIT_SEED)
        model = SmallCNN()
        wd = WD if name.endswith("_wd") else 0.0
        small = name.startswith("sb")
        batch = SB_BATCH if small else TRAIN
        steps = SB_EPOCHS * -(-TRAIN // SB_BATCH) if small else LB_STEPS
        lr = SB_LR if small else LB_LR
        hook = None
        if name == "sb_wd":
            os.makedirs(os.path.join(work, "models", "traj"), exist_ok=True)

            def hook(epoch):
                if epoch % TRAJ_EVERY == 0:
                    export(model, os.path.join(work, "models", "traj", "ckpt_%02d.onnx" % epoch))
        steps, epochs = train(model, x, y, batch, steps, lr, wd, SHUFFLE_SEED, hook)
        rec.update(arch="SmallCNN", batch=batch, steps=steps, epochs=epochs, lr=lr, weight_decay=wd,
                   init_seed=INIT_SEED, shuffle_seed=SHUFFLE_SEED)
    else:
        n, w, skip = resnets()[name]
        torch.manual_seed(RES_SEED)
        model = ResNet(n, w, skip)
        steps = RES_EPOCHS * -(-TRAIN // RES_BATCH)
        steps, epochs = train(model, x, y, RES_BATCH, steps, RES_LR, RES_WD, SHUFFLE_SEED)
        rec.update(arch="ResNet", depth=6 * n + 2, width=w, skip=skip, batch=RES_BATCH, steps=steps, epochs=epochs,
                   lr=RES_LR, weight_decay=RES_WD, init_seed=RES_SEED, shuffle_seed=SHUFFLE_SEED)
    rec["seconds"] = time.time() - t0
    rec["params"] = sum(p.numel() for p in model.parameters())
    rec["train_loss"], rec["train_acc"] = loss_acc(model, tr["x"], tr["y"])
    rec["test_loss"], rec["test_acc"] = loss_acc(model, te["x"], te["y"])
    rec["weight_norm"] = weight_norm(model)
    export(model, os.path.join(work, "models", name + ".onnx"))
    print("train: %-18s %6.1f s  train loss %.4f acc %.4f  test loss %.4f acc %.4f" % (
        name, rec["seconds"], rec["train_loss"], rec["train_acc"], rec["test_loss"], rec["test_acc"]), flush=True)
    return rec


def split(work):
    d = np.load(DIGITS)
    x, y = d["x"], d["y"]
    assert x.shape == (1797, 1, 8, 8) and x.dtype == np.float32 and y.dtype == np.int64
    perm = np.random.default_rng(SPLIT_SEED).permutation(len(y))
    os.makedirs(os.path.join(work, "data"), exist_ok=True)
    for part, idx in (("train", np.sort(perm[:TRAIN])), ("test", np.sort(perm[TRAIN:]))):
        np.savez(os.path.join(work, "data", part + ".npz"), x=x[idx], y=y[idx], index=idx.astype(np.int64))


def main():
    work = sys.argv[1]
    only = sys.argv[2:]
    os.makedirs(os.path.join(work, "models"), exist_ok=True)
    split(work)
    # the longest first, so that two processes finish together
    names = ["resnet110_noskip", "resnet110", "resnet20_w32", "resnet20_w32_noskip", "resnet56_noskip", "resnet56",
             "resnet20_w16", "resnet20_w16_noskip", "sb_wd", "sb", "lb", "lb_wd", "resnet20_w8", "resnet20_w8_noskip",
             "resnet20", "resnet20_noskip"]
    if only:
        names = [n for n in names if n in only]
    with multiprocessing.get_context("fork").Pool(2) as pool:
        recs = pool.map(job, [(n, work) for n in names], chunksize=1)
    settings = {"split_seed": SPLIT_SEED, "train": TRAIN, "test": 1797 - TRAIN, "warmup": WARMUP,
                "torch": torch.__version__, "onnx": onnx.__version__, "numpy": np.__version__}
    with open(os.path.join(work, "train.json"), "w") as f:
        json.dump({"settings": settings, "models": {r["name"]: r for r in recs}}, f, indent=1)


if __name__ == "__main__":
    main()
