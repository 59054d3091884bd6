"""Small fully-convolutional networks for 3 -> K lead reconstruction.

Every network = a linear 1x1 path (initialised with the least-squares solution)
plus a non-linear correction branch whose last layer starts at zero, so training
starts from the linear baseline and only has to learn what it misses.
No normalisation layers: the output depends only on a finite neighbourhood
(the receptive field), never on the window length.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F


def _conv(cin: int, cout: int, k: int, dilation: int = 1) -> nn.Conv1d:
    return nn.Conv1d(cin, cout, k, padding=dilation * (k - 1) // 2, dilation=dilation)


class LinearMap(nn.Module):
    """y = A x + b per sample (a 1x1 convolution)."""

    def __init__(self, n_in: int, n_out: int) -> None:
        super().__init__()
        self.proj = nn.Conv1d(n_in, n_out, 1)

    def set_ls(self, A: np.ndarray, b: np.ndarray) -> None:
        with torch.no_grad():
            self.proj.weight.copy_(torch.as_tensor(A, dtype=torch.float32)[:, :, None])
            self.proj.bias.copy_(torch.as_tensor(b, dtype=torch.float32))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(x)


class _Double(nn.Module):
    def __init__(self, cin: int, cout: int, k: int, dropout: float) -> None:
        super().__init__()
        self.c1 = _conv(cin, cout, k)
        self.c2 = _conv(cout, cout, k)
        self.drop = nn.Dropout(dropout) if dropout > 0 else nn.Identity()

    def forward(self, x):
        return F.relu(self.c2(self.drop(F.relu(self.c1(x)))))


class UNet1d(nn.Module):
    """1-D U-Net: ``len(ch)`` levels, average-pool down, nearest up, skip concatenation."""

    def __init__(self, n_in: int, n_out: int, ch=(16, 24, 32, 48, 64), k: int = 7, dropout: float = 0.0) -> None:
        super().__init__()
        self.ch = tuple(ch)
        self.k = k
        self.linear = LinearMap(n_in, n_out)
        self.enc = nn.ModuleList()
        c_prev = n_in
        for c in ch:
            self.enc.append(_Double(c_prev, c, k, dropout))
            c_prev = c
        self.up = nn.ModuleList()
        self.dec = nn.ModuleList()
        for lvl in range(len(ch) - 1, 0, -1):
            self.up.append(_conv(ch[lvl], ch[lvl - 1], 3))
            self.dec.append(_Double(2 * ch[lvl - 1], ch[lvl - 1], k, dropout))
        self.head = nn.Conv1d(ch[0], n_out, 1)
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    @property
    def length_multiple(self) -> int:
        return 2 ** (len(self.ch) - 1)

    def describe(self) -> str:
        return (f"1-D U-Net, {len(self.ch)} levels (x{self.length_multiple} down), "
                f"{self.ch[0]}-{self.ch[-1]} channels, "
                f"kernel {self.k}, no normalisation, plus a least-squares-initialised linear 1x1 path")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        h = x
        for i, blk in enumerate(self.enc):
            if i:
                h = F.avg_pool1d(h, 2)
            h = blk(h)
            skips.append(h)
        for j, (up, dec) in enumerate(zip(self.up, self.dec, strict=True)):
            h = up(F.interpolate(h, scale_factor=2.0, mode="nearest"))
            h = dec(torch.cat([h, skips[-2 - j]], dim=1))
        return self.linear(x) + self.head(h)


class _ResDilated(nn.Module):
    def __init__(self, c: int, k: int, d: int, dropout: float) -> None:
        super().__init__()
        self.c1 = _conv(c, c, k, d)
        self.c2 = _conv(c, c, 1)
        self.drop = nn.Dropout(dropout) if dropout > 0 else nn.Identity()

    def forward(self, x):
        return x + self.c2(self.drop(F.relu(self.c1(F.relu(x)))))


class TCN1d(nn.Module):
    """Conv front end (x``down`` strided), non-causal dilated residual stack (TCN), upsampling head.

    Finite receptive field, so windowed inference stitches seamlessly.
    """

    def __init__(self, n_in: int, n_out: int, c_front: int = 24, c: int = 48, k: int = 3,
                 dilations=(1, 2, 4, 8, 16, 32, 1, 2, 4, 8), down: int = 4, dropout: float = 0.0) -> None:
        super().__init__()
        self.down, self.dilations, self.c, self.k = down, tuple(dilations), c, k
        self.linear = LinearMap(n_in, n_out)
        self.front = nn.Sequential(_conv(n_in, c_front, 7), nn.ReLU(), _conv(c_front, c_front, 7), nn.ReLU())
        self.downconv = nn.Conv1d(c_front, c, down, stride=down)
        self.blocks = nn.Sequential(*[_ResDilated(c, k, d, dropout) for d in dilations])
        self.upconv = nn.ConvTranspose1d(c, c_front, down, stride=down)
        self.fuse = nn.Sequential(_conv(2 * c_front, c_front, 7), nn.ReLU())
        self.head = nn.Conv1d(c_front, n_out, 1)
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    @property
    def length_multiple(self) -> int:
        return self.down

    def describe(self) -> str:
        return (f"conv front end + non-causal dilated residual TCN ({len(self.dilations)} blocks, dilations "
                f"{','.join(map(str, self.dilations))}, kernel {self.k}, {self.c} channels at 1/{self.down} rate), "
                f"transposed-conv upsampling, plus a least-squares-initialised linear 1x1 path")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = self.front(x)
        h = self.blocks(F.relu(self.downconv(f)))
        h = F.relu(self.upconv(h))
        h = self.fuse(torch.cat([h, f], dim=1))
        return self.linear(x) + self.head(h)


def build(arch: str, n_in: int, n_out: int, **kw) -> nn.Module:
    if arch == "conv":
        return UNet1d(n_in, n_out, **kw)
    if arch == "temporal":
        return TCN1d(n_in, n_out, **kw)
    if arch == "linear":
        return LinearMap(n_in, n_out)
    raise KeyError(arch)


def n_parameters(model: nn.Module) -> int:
    return int(sum(p.numel() for p in model.parameters()))


def receptive_field(model: nn.Module, n_in: int, length: int = 4096, seed: int = 0) -> int:
    """Measured receptive field (samples): support of d y[center] / d x, with random weights in the
    non-linear branch so no path hides behind a zero-initialised layer."""
    import copy

    m = copy.deepcopy(model).eval()
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in m.parameters():
            p.add_(torch.randn(p.shape, generator=g) * 0.05)
    x = torch.randn(1, n_in, length, generator=g, dtype=torch.float32).requires_grad_(True)
    y = m(x)
    c = length // 2
    y[0, :, c].sum().backward()
    nz = np.nonzero(x.grad[0].abs().sum(0).numpy() > 0)[0]
    return int(nz.max() - nz.min() + 1)
