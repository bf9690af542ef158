"""A small ensemble of MLP regressors in numpy: the performance predictor of BANANAS-style strategies.

Written in numpy rather than torch so that it is deterministic from one ``numpy.random.Generator``, costs no
torch import, and trains every member at once (the ensemble is one batched matrix product per layer). At a
few hundred architectures a fit takes a few milliseconds.
"""

from __future__ import annotations

import numpy as np

__all__ = ["MLPEnsemble"]


class MLPEnsemble:
    """``members`` two-hidden-layer ReLU networks, each from its own initialisation, trained with Adam on MSE.

    Targets are standardised inside :meth:`fit`; :meth:`predict` returns every member's prediction in the
    original units, shape ``(members, n)``, so the caller can take the mean and spread.
    """

    def __init__(
        self,
        rng: np.random.Generator,
        members: int = 5,
        hidden: int = 20,
        epochs: int = 100,
        lr: float = 0.01,
        weight_decay: float = 1e-4,
    ) -> None:
        self.rng = rng
        self.members = members
        self.hidden = hidden
        self.epochs = epochs
        self.lr = lr
        self.weight_decay = weight_decay
        self.params: list[np.ndarray] = []

    def _init(self, dim: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Weights of all members side by side: layer 1 is dense, layers 2 and 3 are block-diagonal.

        One wide network whose blocks never mix is exactly ``members`` independent networks, and it trains
        with plain 2-d matrix products (one BLAS call per layer instead of a loop over members).
        """
        e, h = self.members, self.hidden

        def glorot(n_in: int, n_out: int, shape: tuple[int, int]) -> np.ndarray:
            limit = np.sqrt(6.0 / (n_in + n_out))
            return self.rng.uniform(-limit, limit, size=shape)

        block = np.kron(np.eye(e), np.ones((h, h)))
        head = np.kron(np.eye(e), np.ones((h, 1)))
        params = [
            glorot(dim, h, (dim, e * h)),
            np.zeros(e * h),
            glorot(h, h, (e * h, e * h)) * block,
            np.zeros(e * h),
            glorot(h, 1, (e * h, e)) * head,
            np.zeros(e),
        ]
        masks = [np.ones(1), np.ones(1), block, np.ones(1), head, np.ones(1)]
        return params, masks

    def fit(self, x: np.ndarray, y: np.ndarray) -> MLPEnsemble:
        """Train from a fresh initialisation on ``x`` (n, dim) and ``y`` (n,)."""
        self.mean, self.scale = float(y.mean()), float(y.std()) or 1.0
        target = ((y - self.mean) / self.scale)[:, None]
        shapes, masks = self._init(x.shape[1])
        # one flat buffer for all weights: Adam is then a handful of numpy calls per step, not six times that
        theta = np.concatenate([p.ravel() for p in shapes])
        mask = np.concatenate([np.broadcast_to(m, p.shape).ravel() for p, m in zip(shapes, masks, strict=True)])
        params = _views(theta, [p.shape for p in shapes])
        moment, square = np.zeros_like(theta), np.zeros_like(theta)
        b1, b2, n = 0.9, 0.999, x.shape[0]
        for step in range(1, self.epochs + 1):
            w1, c1, w2, c2, w3, c3 = params
            z1 = x @ w1 + c1
            a1 = np.maximum(z1, 0.0)
            z2 = a1 @ w2 + c2
            a2 = np.maximum(z2, 0.0)
            g_out = (2.0 / n) * (a2 @ w3 + c3 - target)
            g_z2 = (g_out @ w3.T) * (z2 > 0)
            g_z1 = (g_z2 @ w2.T) * (z1 > 0)
            grads = [x.T @ g_z1, g_z1.sum(0), a1.T @ g_z2, g_z2.sum(0), a2.T @ g_out, g_out.sum(0)]
            grad = (np.concatenate([g.ravel() for g in grads]) + self.weight_decay * theta) * mask
            moment = b1 * moment + (1 - b1) * grad
            square = b2 * square + (1 - b2) * grad * grad
            theta -= (self.lr * np.sqrt(1 - b2**step) / (1 - b1**step)) * moment / (np.sqrt(square) + 1e-8)
        self.params = params
        return self

    def predict(self, x: np.ndarray) -> np.ndarray:
        w1, c1, w2, c2, w3, c3 = self.params
        a1 = np.maximum(x @ w1 + c1, 0.0)
        a2 = np.maximum(a1 @ w2 + c2, 0.0)
        return ((a2 @ w3 + c3) * self.scale + self.mean).T


def _views(flat: np.ndarray, shapes: list[tuple[int, ...]]) -> list[np.ndarray]:
    """Reshaped views into ``flat``: updating ``flat`` in place updates every view."""
    out, start = [], 0
    for shape in shapes:
        size = int(np.prod(shape))
        out.append(flat[start : start + size].reshape(shape))
        start += size
    return out
