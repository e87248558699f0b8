"""Ensembles of small MLPs: training with torch, inference in plain numpy.

All members of an ensemble share one architecture and are stored as stacked tensors
``W{k}`` (members, d_in, d_out) and ``b{k}`` (members, d_out), so one numpy pass evaluates the
whole ensemble and ``predict`` never imports torch. The paper network is an ensemble of one.

Members are trained with mean squared error on standardised targets; the ensemble's
uncertainty is built on top (see :mod:`deepilst.model.core`).
"""

from __future__ import annotations

import math

import numpy as np

ACTS = ("tanh+sigmoid", "silu", "tanh", "relu", "sigmoid", "identity")


def _np_act(name: str, x: np.ndarray) -> np.ndarray:
    if name == "tanh+sigmoid":
        return np.tanh(x) + 1.0 / (1.0 + np.exp(-x))
    if name == "silu":
        return x / (1.0 + np.exp(-x))
    if name == "tanh":
        return np.tanh(x)
    if name == "relu":
        return np.maximum(x, 0.0)
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-x))
    if name == "identity":
        return x
    raise ValueError(f"unknown activation {name!r}; expected one of {ACTS}")


def numpy_forward(weights: dict[str, np.ndarray], x: np.ndarray, act: str, out_act: str) -> np.ndarray:
    """Evaluate every member on inputs ``x`` (n, d_in); returns (members, n, d_out)."""
    n_layers = sum(1 for k in weights if k.startswith("W"))
    h = np.asarray(x, dtype=np.float64)
    for k in range(n_layers):
        W = weights[f"W{k}"].astype(np.float64)
        b = weights[f"b{k}"].astype(np.float64)
        h = (np.einsum("ni,mio->mno", h, W) if h.ndim == 2 else np.einsum("mni,mio->mno", h, W))
        h = h + b[:, None, :]
        h = _np_act(act if k < n_layers - 1 else out_act, h)
    return h


def mixture_moments(mu: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean (n, d) of the members' predictions ``mu`` (members, n, d) and their sample
    covariance (n, d, d): the epistemic part of the ensemble's uncertainty."""
    m = mu.mean(axis=0)
    dev = mu - m[None]
    return m, np.einsum("mni,mnj->nij", dev, dev) / max(len(mu) - 1, 1)


# ---- torch training -------------------------------------------------------------------------
def _torch():
    import torch

    return torch


def _t_act(name: str):
    torch = _torch()
    f = {"tanh+sigmoid": lambda x: torch.tanh(x) + torch.sigmoid(x), "silu": torch.nn.functional.silu,
         "tanh": torch.tanh, "relu": torch.relu, "sigmoid": torch.sigmoid, "identity": lambda x: x}
    if name not in f:
        raise ValueError(f"unknown activation {name!r}; expected one of {ACTS}")
    return f[name]


class StackedMLP:
    """``members`` independent MLPs evaluated in one batched pass (torch)."""

    def __init__(self, sizes: list[int], members: int, act: str, out_act: str,
                 dropout: dict[int, float] | None = None, seed: int = 0) -> None:
        torch = _torch()
        gen = torch.Generator().manual_seed(seed)
        self.sizes, self.members, self.act, self.out_act = sizes, members, act, out_act
        self.dropout = dropout or {}
        self.params = []
        for d_in, d_out in zip(sizes[:-1], sizes[1:]):
            bound = 1.0 / math.sqrt(d_in)  # PyTorch's nn.Linear default initialisation
            W = (torch.rand(members, d_in, d_out, generator=gen) * 2 - 1) * bound
            b = (torch.rand(members, d_out, generator=gen) * 2 - 1) * bound
            self.params += [W.requires_grad_(), b.requires_grad_()]
        self._a, self._o = _t_act(act), _t_act(out_act)
        self.gen = gen

    def forward(self, x, train: bool = False):
        """x: (members, batch, d_in) or (batch, d_in) -> (members, batch, d_out)."""
        torch = _torch()
        h = x if x.dim() == 3 else x.unsqueeze(0).expand(self.members, -1, -1)
        n = len(self.params) // 2
        for k in range(n):
            h = torch.baddbmm(self.params[2 * k + 1].unsqueeze(1), h, self.params[2 * k])
            h = self._a(h) if k < n - 1 else self._o(h)
            p = self.dropout.get(k, 0.0)
            if train and p > 0:
                keep = (torch.rand(h.shape, generator=self.gen) >= p).to(h.dtype)
                h = h * keep / (1.0 - p)
        return h

    def state(self) -> dict[str, np.ndarray]:
        n = len(self.params) // 2
        out = {}
        for k in range(n):
            out[f"W{k}"] = self.params[2 * k].detach().numpy().astype(np.float32).copy()
            out[f"b{k}"] = self.params[2 * k + 1].detach().numpy().astype(np.float32).copy()
        return out


def train_stacked(Xtr: np.ndarray, Ytr: np.ndarray, Xva: np.ndarray, Yva: np.ndarray, *,
                  hidden: list[int], members: int, act: str, out_act: str,
                  epochs: int, batch: int, lr: float, weight_decay: float = 0.0,
                  patience: int = 50, dropout: dict[int, float] | None = None,
                  input_noise: float = 0.0, seed: int = 0, progress: bool = True) -> dict:
    """Train an ensemble with early stopping on each member's validation loss.

    Returns ``{"weights": best weights (numpy), "history": per-epoch losses, "best_epoch": per
    member}``. Deterministic for a given seed on CPU.
    """
    torch = _torch()
    from tqdm import tqdm

    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True)
    net = StackedMLP([Xtr.shape[1], *hidden, Ytr.shape[1]], members, act, out_act, dropout, seed)
    opt = torch.optim.AdamW(net.params, lr=lr, weight_decay=weight_decay)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs, eta_min=lr * 0.02)
    xt, yt = torch.from_numpy(Xtr.astype(np.float32)), torch.from_numpy(Ytr.astype(np.float32))
    xv, yv = torch.from_numpy(Xva.astype(np.float32)), torch.from_numpy(Yva.astype(np.float32))
    gen = torch.Generator().manual_seed(seed + 1)
    n = len(xt)
    best = np.full(members, np.inf)
    best_epoch = np.zeros(members, dtype=int)
    best_w = net.state()
    hist = []

    def loss_fn(out, y):
        return ((out - y) ** 2).mean(dim=-1)

    bar = tqdm(range(epochs), desc="train", disable=not progress, leave=False)
    for ep in bar:
        perm = torch.stack([torch.randperm(n, generator=gen) for _ in range(members)])
        tot = 0.0
        for s in range(0, n, batch):
            idx = perm[:, s:s + batch]
            xb, yb = xt[idx], yt[idx]
            if input_noise > 0:
                xb = xb + input_noise * torch.randn(xb.shape, generator=gen)
            out = net.forward(xb, train=True)
            loss = loss_fn(out, yb).mean(dim=1).sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
            tot += float(loss.detach()) * idx.shape[1]
        sched.step()
        with torch.no_grad():
            vl = loss_fn(net.forward(xv), yv).mean(dim=1).numpy()
        hist.append({"epoch": ep, "train": tot / n / members, "val": vl.tolist()})
        better = vl < best
        if better.any():
            w = net.state()
            for k in best_w:
                best_w[k][better] = w[k][better]
            best[better] = vl[better]
            best_epoch[better] = ep
        bar.set_postfix(val=f"{np.mean(vl):.4g}")
        if np.all(ep - best_epoch > patience):
            break
    return {"weights": best_w, "history": hist, "best_epoch": best_epoch.tolist(),
            "best_val": best.tolist()}
