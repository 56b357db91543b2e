#!/usr/bin/python3
"""PyTorch golden values for mimmx's tensor-engine tests (test/fixtures/golden/*.json).

Run with Debian's python3-torch (1.13, CPU):  /usr/bin/python3 scripts/make-golden.py

Every case fixes its seed, builds small inputs, runs the op and the backward of sum(out * g) for a fixed
random upstream gradient g, and records inputs, output and input gradients. Inputs are rounded to 6
significant digits *before* the op runs, so the JSON decimals rebuild bit-identical tensors in mimmx;
outputs are rounded to 7 (float32) or 15 (float64) significant digits.

Files:
  ops.json       Tensor methods and nn.functional ops (forward + input gradients, running stats)
  optim.json     SGD/Adam/AdamW trajectories for fixed gradient sequences, LR scheduler values
  cnn.json       a small CNN with formula weights: losses and parameters after 3 Adam / 3 SGD steps
"""

import json
import os

import torch
import torch.nn.functional as F

torch.set_num_threads(1)
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "test", "fixtures", "golden")
DT = {"float32": torch.float32, "float64": torch.float64, "int64": torch.int64, "bool": torch.bool}


def digits(dtype):
    return 15 if dtype == "float64" else 7


def rounded(t, sig):
    return [float("%.*g" % (sig, v)) for v in t.detach().reshape(-1).tolist()]


def enc(t, sig=None):
    """A tensor as {shape, dtype, data}; float data rounded to `sig` significant digits."""
    dtype = {torch.float32: "float32", torch.float64: "float64", torch.int64: "int64", torch.bool: "bool"}[t.dtype]
    if dtype in ("float32", "float64"):
        data = rounded(t, sig or digits(dtype))
    elif dtype == "bool":
        data = [bool(v) for v in t.reshape(-1).tolist()]
    else:
        data = [int(v) for v in t.reshape(-1).tolist()]
    return {"shape": list(t.shape), "dtype": dtype, "data": data}


def inp(shape, dtype="float32", scale=1.0, offset=0.0, positive=False):
    """A random input, rounded to 6 significant digits so JSON rebuilds it exactly."""
    t = torch.randn(list(shape), dtype=torch.float64) * scale + offset
    if positive:
        t = t.abs() + 0.1
    return torch.tensor(rounded(t, 6), dtype=DT[dtype]).reshape(shape)


CASES = []


def case(name, op, inputs, kwargs=None, grad=None, extra=None, fn=None):
    """Records one case. inputs: dict name -> tensor (float inputs listed in `grad` get gradients)."""
    kwargs = kwargs or {}
    grad = list(inputs) if grad is None else grad
    leaves = {}
    for k, v in inputs.items():
        leaves[k] = v.clone().requires_grad_(k in grad)
    out = fn(leaves, kwargs)
    extras = {}
    if isinstance(out, tuple):
        out, extras = out
    rec = {
        "name": name,
        "op": op,
        "kwargs": kwargs,
        "inputs": {k: enc(v) for k, v in inputs.items()},
        "out": enc(out),
    }
    if grad and out.requires_grad:
        g = inp(list(out.shape), dtype=[k for k, v in DT.items() if v == out.dtype][0])
        gs = torch.autograd.grad((out * g).sum(), [leaves[k] for k in grad], allow_unused=True)
        rec["upstream"] = enc(g)
        rec["grads"] = {k: enc(v) for k, v in zip(grad, gs) if v is not None}
    if extra:
        extras.update(extra(leaves))
    if extras:
        rec["extra"] = {k: enc(v) for k, v in extras.items()}
    CASES.append(rec)


def seeded(seed):
    torch.manual_seed(seed)


# ---- convolution and linear ------------------------------------------------------------------------
def conv2d(i, kw):
    return F.conv2d(i["x"], i["w"], i.get("b"), stride=kw.get("stride", 1), padding=kw.get("padding", 0),
                    dilation=kw.get("dilation", 1), groups=kw.get("groups", 1))


def conv3d(i, kw):
    return F.conv3d(i["x"], i["w"], i.get("b"), stride=kw.get("stride", 1), padding=kw.get("padding", 0),
                    dilation=kw.get("dilation", 1), groups=kw.get("groups", 1))


seeded(1)
case("conv2d basic", "conv2d", {"x": inp([2, 3, 6, 6]), "w": inp([4, 3, 3, 3], scale=0.3), "b": inp([4])}, fn=conv2d)
seeded(2)
case("conv2d stride 2 padding 1", "conv2d", {"x": inp([2, 3, 7, 7]), "w": inp([4, 3, 3, 3], scale=0.3), "b": inp([4])},
     {"stride": 2, "padding": 1}, fn=conv2d)
seeded(3)
case("conv2d dilation 2 no bias", "conv2d", {"x": inp([1, 2, 7, 7]), "w": inp([3, 2, 3, 3], scale=0.3)},
     {"dilation": 2}, fn=conv2d)
seeded(4)
case("conv2d groups 2", "conv2d", {"x": inp([2, 4, 5, 5]), "w": inp([6, 2, 3, 3], scale=0.3), "b": inp([6])},
     {"groups": 2, "padding": 1}, fn=conv2d)
seeded(5)
case("conv2d asymmetric stride/padding", "conv2d",
     {"x": inp([1, 2, 6, 7]), "w": inp([3, 2, 2, 3], scale=0.3), "b": inp([3])},
     {"stride": [1, 2], "padding": [0, 1]}, fn=conv2d)
seeded(6)
case("conv3d padding 1", "conv3d", {"x": inp([1, 2, 4, 4, 4]), "w": inp([3, 2, 2, 2, 2], scale=0.3), "b": inp([3])},
     {"padding": 1}, fn=conv3d)
seeded(7)
case("conv3d stride 2 groups 2", "conv3d", {"x": inp([2, 2, 5, 5, 5]), "w": inp([4, 1, 3, 3, 3], scale=0.3)},
     {"stride": 2, "groups": 2}, fn=conv3d)
seeded(8)
case("linear 2-d", "linear", {"x": inp([3, 5]), "w": inp([4, 5]), "b": inp([4])},
     fn=lambda i, kw: F.linear(i["x"], i["w"], i["b"]))
seeded(9)
case("linear 3-d no bias", "linear", {"x": inp([2, 3, 5]), "w": inp([4, 5])},
     fn=lambda i, kw: F.linear(i["x"], i["w"]))


# ---- batch norm ---------------------------------------------------------------------------------------
def bn_case(name, shape, training, momentum=0.1, eps=1e-5, affine=True, seed=0):
    seeded(seed)
    c = shape[1]
    inputs = {"x": inp(shape, offset=0.5, scale=2.0)}
    if affine:
        inputs["weight"] = inp([c], offset=1.0, scale=0.2)
        inputs["bias"] = inp([c], scale=0.2)
    inputs["running_mean"] = inp([c], scale=0.3)
    inputs["running_var"] = inp([c], positive=True)
    def fn(i, kw):
        rm = i["running_mean"].detach().clone()
        rv = i["running_var"].detach().clone()
        out = F.batch_norm(i["x"], rm, rv, i.get("weight"), i.get("bias"), training=training,
                           momentum=momentum, eps=eps)
        return out, {"running_mean": rm, "running_var": rv}

    grad = ["x", "weight", "bias"] if affine else ["x"]
    case(name, "batch_norm", inputs, {"training": training, "momentum": momentum, "eps": eps}, grad=grad, fn=fn)


bn_case("batch_norm 2d train", [4, 3, 2, 2], True, seed=10)
bn_case("batch_norm 2d eval", [4, 3, 2, 2], False, seed=11)
bn_case("batch_norm 1d train momentum 0.3 eps 1e-3", [5, 3], True, momentum=0.3, eps=1e-3, seed=12)
bn_case("batch_norm 3d train no affine", [2, 2, 2, 2, 3], True, affine=False, seed=13)


# ---- pooling ------------------------------------------------------------------------------------------
def pool(kind):
    def fn(i, kw):
        f = getattr(F, kind)
        if kind.startswith("adaptive"):
            return f(i["x"], kw["output_size"])
        args = {"stride": kw.get("stride"), "padding": kw.get("padding", 0), "ceil_mode": kw.get("ceil_mode", False)}
        if kind.startswith("max"):
            args["dilation"] = kw.get("dilation", 1)
        else:
            args["count_include_pad"] = kw.get("count_include_pad", True)
        return f(i["x"], kw["kernel"], **args)

    return fn


seeded(20)
case("max_pool2d k2", "max_pool2d", {"x": inp([2, 2, 5, 5])}, {"kernel": 2}, fn=pool("max_pool2d"))
seeded(21)
case("max_pool2d k3 s2 p1", "max_pool2d", {"x": inp([1, 2, 7, 7])}, {"kernel": 3, "stride": 2, "padding": 1},
     fn=pool("max_pool2d"))
seeded(22)
case("max_pool2d ceil dilation", "max_pool2d", {"x": inp([1, 1, 8, 8])},
     {"kernel": 2, "stride": 2, "dilation": 2, "ceil_mode": True}, fn=pool("max_pool2d"))
seeded(23)
case("max_pool3d k2", "max_pool3d", {"x": inp([1, 2, 4, 4, 4])}, {"kernel": 2}, fn=pool("max_pool3d"))
seeded(24)
case("avg_pool2d k2", "avg_pool2d", {"x": inp([2, 2, 5, 5])}, {"kernel": 2}, fn=pool("avg_pool2d"))
seeded(25)
case("avg_pool2d k3 s2 p1 exclude pad", "avg_pool2d", {"x": inp([1, 2, 7, 7])},
     {"kernel": 3, "stride": 2, "padding": 1, "count_include_pad": False}, fn=pool("avg_pool2d"))
seeded(26)
case("avg_pool2d ceil", "avg_pool2d", {"x": inp([1, 1, 5, 5])}, {"kernel": 2, "ceil_mode": True},
     fn=pool("avg_pool2d"))
seeded(27)
case("avg_pool3d k2 s1", "avg_pool3d", {"x": inp([1, 2, 3, 4, 4])}, {"kernel": 2, "stride": 1},
     fn=pool("avg_pool3d"))
seeded(28)
case("adaptive_avg_pool2d 2x3", "adaptive_avg_pool2d", {"x": inp([2, 3, 5, 7])}, {"output_size": [2, 3]},
     fn=pool("adaptive_avg_pool2d"))
seeded(29)
case("adaptive_avg_pool3d 2x2x1", "adaptive_avg_pool3d", {"x": inp([1, 2, 3, 5, 4])}, {"output_size": [2, 2, 1]},
     fn=pool("adaptive_avg_pool3d"))

# ---- softmax family and activations ---------------------------------------------------------------------
seeded(30)
case("softmax dim 1", "softmax", {"x": inp([3, 5], scale=2)}, {"dim": 1}, fn=lambda i, kw: F.softmax(i["x"], 1))
seeded(31)
case("log_softmax dim -1", "log_softmax", {"x": inp([2, 3, 4], scale=2)}, {"dim": -1},
     fn=lambda i, kw: F.log_softmax(i["x"], -1))
seeded(32)
case("logsumexp dim 1", "logsumexp", {"x": inp([3, 4], scale=3)}, {"dim": 1},
     fn=lambda i, kw: torch.logsumexp(i["x"], 1))
seeded(33)
case("leaky_relu 0.2", "leaky_relu", {"x": inp([3, 4])}, {"slope": 0.2}, fn=lambda i, kw: F.leaky_relu(i["x"], 0.2))
seeded(34)
case("elu alpha 1.5", "elu", {"x": inp([3, 4])}, {"alpha": 1.5}, fn=lambda i, kw: F.elu(i["x"], 1.5))
seeded(35)
case("gelu", "gelu", {"x": inp([3, 4], scale=2)}, fn=lambda i, kw: F.gelu(i["x"]))
seeded(36)
case("softplus beta 2 threshold 3", "softplus", {"x": inp([3, 4], scale=2)}, {"beta": 2, "threshold": 3},
     fn=lambda i, kw: F.softplus(i["x"], 2, 3))
seeded(37)
case("logsigmoid", "logsigmoid", {"x": inp([3, 4], scale=3)}, fn=lambda i, kw: F.logsigmoid(i["x"]))
seeded(38)
case("sigmoid tanh relu chain", "sigmoid_tanh_relu", {"x": inp([3, 4], scale=2)},
     fn=lambda i, kw: torch.sigmoid(i["x"]) * torch.tanh(i["x"]) + torch.relu(i["x"]))
seeded(39)
case("layer_norm", "layer_norm", {"x": inp([2, 3, 4]), "w": inp([4], offset=1), "b": inp([4])},
     fn=lambda i, kw: F.layer_norm(i["x"], [4], i["w"], i["b"]))


# ---- losses -------------------------------------------------------------------------------------------
def ce(i, kw):
    return F.cross_entropy(i["logits"], i["target"], weight=i.get("weight"), reduction=kw.get("reduction", "mean"),
                           ignore_index=kw.get("ignore_index", -100), label_smoothing=kw.get("label_smoothing", 0.0))


def targets(n, c, ignore=None):
    t = torch.randint(0, c, (n,))
    if ignore is not None:
        t[1] = ignore
        t[4] = ignore
    return t


for k, (kw, weighted, ignore) in enumerate([
    ({"reduction": "mean"}, False, None),
    ({"reduction": "sum"}, False, None),
    ({"reduction": "none"}, False, None),
    ({"reduction": "mean"}, True, None),
    ({"reduction": "mean", "ignore_index": 2}, False, 2),
    ({"reduction": "mean", "label_smoothing": 0.1}, False, None),
    ({"reduction": "mean", "label_smoothing": 0.2, "ignore_index": -1}, True, -1),
    ({"reduction": "sum", "label_smoothing": 0.1}, True, None),
    ({"reduction": "none", "ignore_index": 0}, True, 0),
]):
    seeded(40 + k)
    inputs = {"logits": inp([6, 4], scale=2), "target": targets(6, 4, ignore)}
    if weighted:
        inputs["weight"] = inp([4], positive=True)
    label = " ".join(f"{a}={b}" for a, b in kw.items()) + (" weighted" if weighted else "")
    case(f"cross_entropy {label}", "cross_entropy", inputs, kw, grad=["logits"], fn=ce)

seeded(50)
case("cross_entropy spatial [N,C,H,W]", "cross_entropy",
     {"logits": inp([2, 3, 2, 2]), "target": torch.randint(0, 3, (2, 2, 2))}, {"reduction": "mean"},
     grad=["logits"], fn=ce)
for k, (kw, weighted) in enumerate([({"reduction": "mean"}, False), ({"reduction": "mean", "ignore_index": 1}, True),
                                    ({"reduction": "sum"}, True), ({"reduction": "none"}, False)]):
    seeded(55 + k)
    inputs = {"logp": F.log_softmax(inp([5, 3], scale=2), 1).detach(), "target": targets(5, 3)}
    inputs["logp"] = torch.tensor(rounded(inputs["logp"], 6)).reshape(5, 3)
    if weighted:
        inputs["weight"] = inp([3], positive=True)
    case(f"nll_loss {kw} weighted={weighted}", "nll_loss", inputs, kw, grad=["logp"],
         fn=lambda i, kw: F.nll_loss(i["logp"], i["target"], weight=i.get("weight"), reduction=kw["reduction"],
                                     ignore_index=kw.get("ignore_index", -100)))


def bce(i, kw):
    return F.binary_cross_entropy_with_logits(i["x"], i["y"], weight=i.get("weight"), pos_weight=i.get("pos_weight"),
                                              reduction=kw["reduction"])


for k, (kw, w, pw) in enumerate([({"reduction": "mean"}, False, False), ({"reduction": "mean"}, False, True),
                                 ({"reduction": "sum"}, True, True), ({"reduction": "none"}, True, False)]):
    seeded(60 + k)
    inputs = {"x": inp([4, 3], scale=2), "y": torch.randint(0, 2, (4, 3)).float()}
    if w:
        inputs["weight"] = inp([4, 3], positive=True)
    if pw:
        inputs["pos_weight"] = inp([3], positive=True)
    case(f"bce_with_logits {kw['reduction']} weight={w} pos_weight={pw}", "bce_with_logits", inputs, kw,
         grad=["x"], fn=bce)

for k, red in enumerate(["mean", "sum", "none"]):
    seeded(70 + k)
    case(f"mse_loss {red}", "mse_loss", {"x": inp([3, 4]), "y": inp([3, 4])}, {"reduction": red},
         fn=lambda i, kw: F.mse_loss(i["x"], i["y"], reduction=kw["reduction"]))
seeded(73)
case("l1_loss mean", "l1_loss", {"x": inp([3, 4]), "y": inp([3, 4])}, {"reduction": "mean"},
     fn=lambda i, kw: F.l1_loss(i["x"], i["y"], reduction=kw["reduction"]))

# ---- resizing -----------------------------------------------------------------------------------------
for k, (mode, shape, size, ac) in enumerate([
    ("bilinear", [1, 2, 3, 4], [5, 7], False),
    ("bilinear", [1, 2, 3, 4], [5, 7], True),
    ("bilinear", [2, 1, 6, 6], [4, 3], False),
    ("trilinear", [1, 1, 2, 3, 3], [3, 4, 5], False),
    ("trilinear", [1, 2, 2, 3, 2], [4, 2, 3], True),
    ("nearest", [1, 2, 3, 3], [5, 6], None),
    ("nearest", [1, 1, 2, 2, 3], [3, 4, 4], None),
]):
    seeded(80 + k)
    case(f"interpolate {mode} {size} align_corners={ac}", "interpolate", {"x": inp(shape)},
         {"size": size, "mode": mode, "align_corners": ac},
         fn=lambda i, kw: F.interpolate(i["x"], size=kw["size"], mode=kw["mode"], align_corners=kw["align_corners"]))

# ---- reductions, linear algebra, indexing (some in float64) -------------------------------------------
seeded(90)
case("var dim 1 unbiased", "var", {"x": inp([3, 5], "float64")}, {"dim": 1, "unbiased": True},
     fn=lambda i, kw: i["x"].var(1, unbiased=True))
seeded(91)
case("var all biased", "var", {"x": inp([3, 5], "float64")}, {"unbiased": False},
     fn=lambda i, kw: i["x"].var(unbiased=False))
seeded(92)
case("std dims [0,2] keepdim", "std", {"x": inp([3, 2, 4])}, {"dim": [0, 2], "unbiased": True, "keepdim": True},
     fn=lambda i, kw: i["x"].std([0, 2], unbiased=True, keepdim=True))
seeded(93)
case("norm p2 all", "norm", {"x": inp([3, 4], "float64")}, {"p": 2}, fn=lambda i, kw: i["x"].norm(2))
seeded(94)
case("norm p1 dim 1", "norm", {"x": inp([3, 4])}, {"p": 1, "dim": 1}, fn=lambda i, kw: i["x"].norm(1, 1))
seeded(95)
case("norm p3 dim 0 keepdim", "norm", {"x": inp([3, 4])}, {"p": 3, "dim": 0, "keepdim": True},
     fn=lambda i, kw: i["x"].norm(3, 0, keepdim=True))
seeded(96)
case("matmul broadcast batch", "matmul", {"a": inp([2, 1, 3, 4], "float64"), "b": inp([3, 4, 2], "float64")},
     fn=lambda i, kw: i["a"] @ i["b"])
seeded(97)
case("matmul vector", "matmul", {"a": inp([4]), "b": inp([4, 3])}, fn=lambda i, kw: i["a"] @ i["b"])
seeded(98)
case("bmm", "bmm", {"a": inp([2, 3, 4]), "b": inp([2, 4, 5])}, fn=lambda i, kw: torch.bmm(i["a"], i["b"]))
seeded(99)
case("gather dim 1", "gather", {"x": inp([3, 4]), "index": torch.randint(0, 4, (3, 2))}, {"dim": 1}, grad=["x"],
     fn=lambda i, kw: i["x"].gather(1, i["index"]))
seeded(100)
case("index_select dim 0 with repeats", "index_select", {"x": inp([4, 3]), "index": torch.tensor([3, 0, 3, 1])},
     {"dim": 0}, grad=["x"], fn=lambda i, kw: i["x"].index_select(0, i["index"]))
seeded(101)
case("masked_fill", "masked_fill", {"x": inp([3, 4]), "mask": torch.rand(3, 4) > 0.5}, {"value": -2.5}, grad=["x"],
     fn=lambda i, kw: i["x"].masked_fill(i["mask"], -2.5))
seeded(102)
case("cumsum dim 1", "cumsum", {"x": inp([3, 4])}, {"dim": 1}, fn=lambda i, kw: i["x"].cumsum(1))
seeded(103)
case("cumsum dim 0 float64", "cumsum", {"x": inp([4, 2], "float64")}, {"dim": 0}, fn=lambda i, kw: i["x"].cumsum(0))
seeded(104)
case("repeat_interleave 2 dim 1", "repeat_interleave", {"x": inp([2, 3])}, {"repeats": 2, "dim": 1},
     fn=lambda i, kw: i["x"].repeat_interleave(2, 1))
seeded(105)
case("repeat_interleave tensor dim 0", "repeat_interleave", {"x": inp([3, 2]), "repeats": torch.tensor([1, 0, 3])},
     {"dim": 0}, grad=["x"], fn=lambda i, kw: i["x"].repeat_interleave(i["repeats"], 0))
seeded(106)
case("scatter_add dim 0", "scatter_add",
     {"x": inp([3, 4]), "index": torch.randint(0, 3, (2, 4)), "src": inp([2, 4])}, {"dim": 0}, grad=["x", "src"],
     fn=lambda i, kw: i["x"].scatter_add(0, i["index"], i["src"]))
seeded(107)
case("where", "where", {"cond": torch.rand(3, 4) > 0.5, "a": inp([3, 4]), "b": inp([1, 4])}, grad=["a", "b"],
     fn=lambda i, kw: torch.where(i["cond"], i["a"], i["b"]))
seeded(108)
case("broadcast arithmetic", "arith", {"a": inp([2, 3]), "b": inp([3], positive=True), "c": inp([2, 1])},
     fn=lambda i, kw: (i["a"] * i["b"] - i["c"]) / i["b"] + i["a"].pow(2) * i["c"])
seeded(109)
case("prod dim 1", "prod", {"x": inp([3, 4])}, {"dim": 1}, fn=lambda i, kw: i["x"].prod(1))
seeded(110)
case("max dim 1 values", "max_dim", {"x": inp([3, 5])}, {"dim": 1}, fn=lambda i, kw: i["x"].max(1)[0])
seeded(111)
case("pad constant", "pad", {"x": inp([1, 2, 3])}, {"pad": [1, 2], "value": 0.5},
     fn=lambda i, kw: F.pad(i["x"], [1, 2], value=0.5))

with open(os.path.join(OUT, "ops.json"), "w") as f:
    json.dump({"generator": "scripts/make-golden.py", "torch": torch.__version__, "cases": CASES}, f,
              separators=(",", ":"))


# ---- optimizers ---------------------------------------------------------------------------------------
def trajectory(make_opt, grads, skip=()):
    """Steps an optimizer over a fixed gradient sequence (float64); returns params after each step."""
    w = INIT_W.clone().requires_grad_(True)
    b = INIT_B.clone().requires_grad_(True)
    opt = make_opt(w, b)
    traj = []
    for s, (gw, gb) in enumerate(grads):
        w.grad = gw.clone()
        b.grad = None if s in skip else gb.clone()
        opt.step()
        traj.append({"w": rounded(w, 15), "b": rounded(b, 15)})
    return traj


seeded(200)
INIT_W = inp([2, 3], "float64")
INIT_B = inp([3], "float64")
GRADS = [(inp([2, 3], "float64"), inp([3], "float64")) for _ in range(5)]
O = torch.optim
configs = {
    "sgd": (lambda w, b: O.SGD([w, b], lr=0.1), {"kind": "SGD", "lr": 0.1}),
    "sgd momentum": (lambda w, b: O.SGD([w, b], lr=0.1, momentum=0.9), {"kind": "SGD", "lr": 0.1, "momentum": 0.9}),
    "sgd momentum dampening": (lambda w, b: O.SGD([w, b], lr=0.1, momentum=0.9, dampening=0.5),
                               {"kind": "SGD", "lr": 0.1, "momentum": 0.9, "dampening": 0.5}),
    "sgd nesterov": (lambda w, b: O.SGD([w, b], lr=0.1, momentum=0.9, nesterov=True),
                     {"kind": "SGD", "lr": 0.1, "momentum": 0.9, "nesterov": True}),
    "sgd momentum weight decay": (lambda w, b: O.SGD([w, b], lr=0.1, momentum=0.9, weight_decay=0.05),
                                  {"kind": "SGD", "lr": 0.1, "momentum": 0.9, "weightDecay": 0.05}),
    "adam": (lambda w, b: O.Adam([w, b], lr=0.01), {"kind": "Adam", "lr": 0.01}),
    "adam betas eps weight decay": (
        lambda w, b: O.Adam([w, b], lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1),
        {"kind": "Adam", "lr": 0.01, "betas": [0.8, 0.99], "eps": 1e-6, "weightDecay": 0.1}),
    "adamw": (lambda w, b: O.AdamW([w, b], lr=0.01, weight_decay=0.1), {"kind": "AdamW", "lr": 0.01, "weightDecay": 0.1}),
    "adamw default weight decay": (lambda w, b: O.AdamW([w, b], lr=0.02), {"kind": "AdamW", "lr": 0.02}),
}
optim_cases = []
for name, (make, opts) in configs.items():
    optim_cases.append({"name": name, "opts": opts, "groups": None, "skip": [], "trajectory": trajectory(make, GRADS)})
optim_cases.append({
    "name": "adam two groups", "opts": {"kind": "Adam", "lr": 0.01}, "groups": [{"lr": 0.01}, {"lr": 0.1}], "skip": [],
    "trajectory": trajectory(lambda w, b: O.Adam([{"params": [w], "lr": 0.01}, {"params": [b], "lr": 0.1}]), GRADS)})
optim_cases.append({
    "name": "sgd two groups momentum per group", "opts": {"kind": "SGD", "lr": 0.1, "momentum": 0.9},
    "groups": [{"lr": 0.1}, {"lr": 0.05, "momentum": 0.5}], "skip": [],
    "trajectory": trajectory(lambda w, b: O.SGD([{"params": [w]}, {"params": [b], "lr": 0.05, "momentum": 0.5}],
                                                lr=0.1, momentum=0.9), GRADS)})
optim_cases.append({
    "name": "adam bias without grad at steps 1 and 2", "opts": {"kind": "Adam", "lr": 0.01}, "groups": None,
    "skip": [1, 2], "trajectory": trajectory(lambda w, b: O.Adam([w, b], lr=0.01), GRADS, skip=(1, 2))})


def lrs(make_sched, steps):
    p = torch.zeros(1, requires_grad=True)
    q = torch.zeros(1, requires_grad=True)
    opt = O.SGD([{"params": [p], "lr": 0.1}, {"params": [q], "lr": 0.01}], lr=0.1)
    sched = make_sched(opt)
    out = []
    for _ in range(steps):
        opt.step()
        sched.step()
        out.append(sched.get_last_lr())
    return out


schedulers = [
    {"name": "StepLR step 3 gamma 0.5", "kind": "StepLR", "args": [3, 0.5],
     "lrs": lrs(lambda o: O.lr_scheduler.StepLR(o, 3, 0.5), 10)},
    {"name": "StepLR step 1 default gamma", "kind": "StepLR", "args": [1],
     "lrs": lrs(lambda o: O.lr_scheduler.StepLR(o, 1), 4)},
    {"name": "CosineAnnealingLR T_max 5 eta_min 0.001", "kind": "CosineAnnealingLR", "args": [5, 0.001],
     "lrs": lrs(lambda o: O.lr_scheduler.CosineAnnealingLR(o, 5, 0.001), 5)},
    {"name": "CosineAnnealingLR T_max 8", "kind": "CosineAnnealingLR", "args": [8],
     "lrs": lrs(lambda o: O.lr_scheduler.CosineAnnealingLR(o, 8), 8)},
]
with open(os.path.join(OUT, "optim.json"), "w") as f:
    json.dump({"generator": "scripts/make-golden.py", "torch": torch.__version__,
               "init": {"w": enc(INIT_W), "b": enc(INIT_B)},
               "grads": [{"w": enc(gw), "b": enc(gb)} for gw, gb in GRADS],
               "cases": optim_cases, "schedulers": schedulers}, f, separators=(",", ":"))


# ---- a small CNN, end to end ---------------------------------------------------------------------------
def formula(n, k, scale):
    """Deterministic pseudo-random values mimmx recomputes exactly: ((i*7919 + 31*k) % 997)/997 - 0.5."""
    return torch.tensor([(((i * 7919 + 31 * k) % 997) / 997.0 - 0.5) * scale for i in range(n)], dtype=torch.float64)


def build_cnn():
    net = torch.nn.Sequential(
        torch.nn.Conv2d(1, 6, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(6, 16, 3), torch.nn.ReLU(),
        torch.nn.Conv2d(16, 16, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(256, 256), torch.nn.ReLU(), torch.nn.Linear(256, 6))
    with torch.no_grad():
        for k, (name, p) in enumerate(net.named_parameters()):
            fan_in = p.shape[1] * p[0][0].numel() if p.dim() > 1 else None
            scale = 2.0 / (fan_in ** 0.5) if fan_in else 0.2
            p.copy_(formula(p.numel(), k, scale).reshape(p.shape).float())
    return net


BATCH_X = formula(4 * 28 * 28, 99, 2.0).reshape(4, 1, 28, 28).float()
BATCH_Y = torch.tensor([0, 3, 5, 1])


def sample(p):
    flat = p.detach().reshape(-1)
    if flat.numel() <= 3000:
        return {"shape": list(p.shape), "stride": 1, "data": rounded(flat, 8)}
    return {"shape": list(p.shape), "stride": 37, "data": rounded(flat[::37], 8), "sum": float(flat.double().sum()),
            "abs_sum": float(flat.double().abs().sum())}


def run_cnn(make_opt):
    net = build_cnn()
    opt = make_opt(net.parameters())
    losses = []
    for _ in range(3):
        opt.zero_grad()
        loss = F.cross_entropy(net(BATCH_X), BATCH_Y)
        loss.backward()
        opt.step()
        losses.append(float(loss))
    final = float(F.cross_entropy(net(BATCH_X), BATCH_Y))
    return {"losses": losses, "final_loss": final, "params": {k: sample(p) for k, p in net.named_parameters()}}


cnn = {
    "generator": "scripts/make-golden.py", "torch": torch.__version__, "labels": BATCH_Y.tolist(),
    "initial_logits": rounded(build_cnn()(BATCH_X), 8),
    "adam": run_cnn(lambda ps: O.Adam(ps, lr=1e-3)),
    "sgd": run_cnn(lambda ps: O.SGD(ps, lr=0.01, momentum=0.9)),
}
with open(os.path.join(OUT, "cnn.json"), "w") as f:
    json.dump(cnn, f, separators=(",", ":"))
print("wrote", ", ".join(sorted(os.listdir(OUT))), "to", OUT)
