"""DARTS (Liu et al., "DARTS: Differentiable Architecture Search", ICLR 2019) on the cell space, with remedies
for its known collapse to parameter-free cells.

Bilevel optimisation, alternating per batch: the architecture weights ``alpha`` (edges x ops) take an Adam step
on a validation batch, then the supernet's weights an SGD step on a training batch (NAS-Bench-201's DARTS
settings: SGD lr 0.025 cosine to 0.001, momentum 0.9, weight decay 3e-4, gradient clipping 5; Adam lr 3e-4,
betas (0.5, 0.999), weight decay 1e-3). ``order: second`` uses the paper's unrolled approximation: the
architecture gradient at the weights after one virtual SGD step (without momentum), minus the finite-difference
Hessian-vector term, the weights moved by ``hvp_radius`` (0.01, the paper's) along the gradient each way.

Each op's mixture weight, and the discrete cell derived after every epoch (the argmax per edge over every op,
``none`` included, as NAS-Bench-201's DARTS baseline derives it), depend on the remedy:

* ``none``: softmax(alpha), plain DARTS;
* ``gdas`` (Dong and Yang, CVPR 2019): one op per edge sampled by Gumbel-softmax with temperature annealed
  linearly from 10 to 0.1 over ``epochs`` (as GDAS's own code does), the straight-through estimator carrying the
  gradient; only the sampled op runs;
* ``drnas`` (Chen et al., ICLR 2021): mixture weights drawn from Dirichlet(elu(alpha) + 1) by the reparameterised
  sampler, with an L2 penalty (``drnas_reg``) on the concentration's distance from 1, DrNAS's anchor (Dirichlet(1)
  is uniform over mixtures; its code's ``l2`` option pulls alpha to 0, where the concentration is 1, and its
  ``kl`` option to Dirichlet(1)); a penalty on the concentration itself would pull it to 0, to near one-hot
  draws; the cell derives from its mean;
* ``darts_minus`` (Chu et al., ICLR 2021): an auxiliary skip connection on every edge, its weight decaying
  linearly from 1 to 0 over ``epochs``, so that skip connections stop winning by easing the optimisation alone.

``max_free_ops`` adds the early stop of DARTS+ (Liang et al., 2019) to any of them: the search ends at the
first epoch whose derived cell has more than that many parameter-free ops (skip connections and pools; ``none``
edges do not count), and returns the cell derived the epoch before (that epoch is kept in the weights' history,
not as a trial).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from nasforge.oneshot._base import ONE_SHOT, EpochRecord, OneShot, SupernetData
from nasforge.strategies._history import check, check_count

__all__ = ["REMEDIES", "Darts", "free_ops"]

REMEDIES = ("none", "gdas", "drnas", "darts_minus")
PARAMETER_FREE = ("skip_connect", "avg_pool_3x3", "max_pool_3x3")


def free_ops(ops: tuple[str, ...]) -> int:
    """How many of a cell's ops have no parameters (``none`` edges, which are absent, are not counted)."""
    return sum(op in PARAMETER_FREE for op in ops)


@ONE_SHOT.register("darts")
class Darts(OneShot):
    """Gradient-based search of the cell space (see the module docstring).

    ``epochs`` is the planned length, which the learning rate's cosine and the remedies' temperature and
    skip-decay schedules span. ``auto`` (the default) takes it from the run's budget before every epoch
    (:meth:`plan`): the epochs or trials left, or the epochs that fit in the seconds left at the pace measured so
    far, so that a five-minute search finishes its schedules on a slow machine and uses the time on a fast one.
    A number fixes it (the budget may still end the search earlier).
    """

    name = "darts"

    def __init__(
        self,
        remedy: str = "none",
        order: str = "first",
        epochs: int | str = "auto",
        lr: float = 0.025,
        lr_min: float = 0.001,
        momentum: float = 0.9,
        weight_decay: float = 3e-4,
        arch_lr: float = 3e-4,
        arch_weight_decay: float = 1e-3,
        grad_clip: float = 5.0,
        drnas_reg: float = 1e-3,
        max_free_ops: int | None = None,
        hvp_radius: float = 0.01,
    ) -> None:
        check(remedy in REMEDIES, "remedy", f"one of {', '.join(REMEDIES)}", remedy)
        check(order in ("first", "second"), "order", "first or second", order)
        check(
            order == "first" or remedy in ("none", "darts_minus"),
            "order",
            "first with a sampling remedy (gdas, drnas draw new weights at every step)",
            order,
        )
        if epochs != "auto":
            check_count(epochs, "epochs", 1, rule=">= 1 or auto")
        check_count(max_free_ops, "max_free_ops", 0, optional=True)
        # a negative clip norm flips every weight gradient (clip_grad_norm_ scales by it), a zero radius divides
        # the Hessian term by zero, and torch refuses negative momenta and decays only once the search started
        positive = {"lr": lr, "arch_lr": arch_lr, "lr_min": lr_min, "grad_clip": grad_clip, "hvp_radius": hvp_radius}
        for name, value in positive.items():
            check(value > 0, name, "> 0", value)
        for name, value in {"weight_decay": weight_decay, "arch_weight_decay": arch_weight_decay}.items():
            check(value >= 0, name, ">= 0", value)
        check(0 <= momentum < 1, "momentum", "in [0, 1)", momentum)
        check(drnas_reg >= 0, "drnas_reg", ">= 0", drnas_reg)
        self.remedy, self.order, self.epochs = remedy, order, epochs
        self.lr, self.lr_min, self.momentum, self.weight_decay = lr, lr_min, momentum, weight_decay
        self.arch_lr, self.arch_weight_decay, self.grad_clip = arch_lr, arch_weight_decay, grad_clip
        self.drnas_reg = drnas_reg
        self.max_free_ops = max_free_ops
        self.hvp_radius = hvp_radius

    # -- set-up ---------------------------------------------------------------------------------------------
    def start(self, data: SupernetData) -> None:
        import torch

        from nasforge.evaluators._trainer import set_threads
        from nasforge.oneshot._supernet import Supernet

        set_threads(data.threads)  # torch's default (every core) oversubscribed searches run side by side
        self.data = data
        torch.manual_seed(self.seed)
        self.generator = torch.Generator(device="cpu").manual_seed(self.seed)
        self.model = Supernet(self.space, data.input_shape, data.num_classes).to(data.device)
        edges, ops = len(self.space.decisions), len(self.space.ops)
        self.alpha = (1e-3 * torch.randn(edges, ops, generator=self.generator)).to(data.device).requires_grad_(True)
        self.weight_opt = torch.optim.SGD(
            self.model.parameters(), self.lr, momentum=self.momentum, weight_decay=self.weight_decay
        )
        self.arch_opt = torch.optim.Adam(
            [self.alpha], self.arch_lr, betas=(0.5, 0.999), weight_decay=self.arch_weight_decay
        )
        self.done_epochs = 0
        self.stopped = None  # a strategy object used for a second search starts afresh
        # planned epochs; auto: None until plan() is called (a first epoch under a seconds budget starts its
        # schedules at 0 whatever the length, and is timed to plan the rest)
        self.length: int | None = None if self.epochs == "auto" else self.epochs
        self._reached = 0.0  # the progress of the last epoch begun: a longer plan never turns the schedules back

    def plan(self, epochs_left: int) -> None:
        if self.epochs == "auto":
            self.length = self.done_epochs + epochs_left

    # -- the mixture weights, by remedy -----------------------------------------------------------------------
    @property
    def progress(self) -> float:
        """How far through the planned epochs the search is, 0 at the first to 1 at the last; the learning
        rate's cosine and the remedies' schedules follow it."""
        if self.length is None:
            return self._reached
        return max(self._reached, min(1.0, self.done_epochs / max(1, self.length - 1)))

    @property
    def temperature(self) -> float:
        """GDAS's Gumbel-softmax temperature: linear from 10 at the first planned epoch to 0.1 at the last."""
        return 10.0 - (10.0 - 0.1) * self.progress

    def mixture(self, training: bool = True) -> tuple[Any, Any, float]:
        """``(weights, index, skip)`` for one forward pass: the edges' op weights, the sampled op of every edge
        (GDAS; else None), and the auxiliary skip's weight (DARTS-; else 0). ``training=False``: the expected
        or most likely weights, for evaluation."""
        import torch
        from torch.nn import functional as F

        if self.remedy == "gdas":
            logits = F.log_softmax(self.alpha, dim=-1)
            if training:
                uniform = torch.rand(self.alpha.shape, generator=self.generator).to(self.alpha.device)
                gumbel = -torch.log(-torch.log(uniform.clamp_min(1e-20)))
                soft = F.softmax((logits + gumbel) / self.temperature, dim=-1)
            else:
                soft = F.softmax(logits, dim=-1)
            index = soft.argmax(dim=-1)
            hard = F.one_hot(index, soft.shape[-1]).to(soft.dtype)
            return hard - soft.detach() + soft, index.tolist(), 0.0
        if self.remedy == "drnas":
            concentration = F.elu(self.alpha) + 1.0
            if training:
                return torch.distributions.Dirichlet(concentration).rsample(), None, 0.0
            return concentration / concentration.sum(dim=-1, keepdim=True), None, 0.0
        skip = 1.0 - self.progress if self.remedy == "darts_minus" else 0.0
        return F.softmax(self.alpha, dim=-1), None, skip

    def strengths(self) -> np.ndarray:
        """Each edge's op weights as the derivation reads them (softmax, or the Dirichlet mean)."""
        import torch
        from torch.nn import functional as F

        with torch.no_grad():
            if self.remedy == "drnas":
                concentration = F.elu(self.alpha) + 1.0
                return (concentration / concentration.sum(dim=-1, keepdim=True)).cpu().numpy()
            return F.softmax(self.alpha, dim=-1).cpu().numpy()

    def derive(self) -> Any:
        """The discrete cell: on every edge the op of largest weight, ``none`` included (NAS-Bench-201's rule),
        unless those ``none`` edges cut every path from the cell's input to its output. Such a cell outputs a
        constant and scores chance once retrained (a DARTS- search on digits derived one after 23 epochs, and
        tested 0.10), so its ``none`` edges give way to their edge's next strongest op, the closest call first,
        until a path carries signal."""
        weights = self.strengths()
        choice = [int(i) for i in weights.argmax(axis=1)]
        cell = self.space.from_decisions(choice)
        none = self.space.ops.index("none") if "none" in self.space.ops else -1
        others = np.where(np.arange(weights.shape[1]) == none, -np.inf, weights)  # a tie with none is no way out
        while not self.space.paths(cell):
            runner_up = {e: int(others[e].argmax()) for e, op in enumerate(choice) if op == none}
            edge = min(runner_up, key=lambda e: (weights[e, none] - weights[e, runner_up[e]], e))
            choice[edge] = runner_up[edge]
            cell = self.space.from_decisions(choice)
        return cell

    # -- one epoch ------------------------------------------------------------------------------------------
    def _arch_penalty(self) -> Any:
        if self.remedy != "drnas":
            return 0.0
        from torch.nn import functional as F

        return self.drnas_reg * F.elu(self.alpha).pow(2).sum()  # (concentration - 1)^2: pulled to the anchor

    def _loss(self, x: Any, y: Any, training: bool = True, params: Any = None) -> Any:
        from torch.func import functional_call
        from torch.nn import functional as F

        weights, index, skip = self.mixture(training)
        args = (x, weights, index, skip)
        out = self.model(*args) if params is None else functional_call(self.model, params, args)
        return F.cross_entropy(out, y)

    def _arch_step(self, xv: Any, yv: Any, xt: Any, yt: Any) -> None:
        self.arch_opt.zero_grad(set_to_none=True)
        if self.order == "first":
            (self._loss(xv, yv) + self._arch_penalty()).backward()
        else:
            self._unrolled_gradient(xv, yv, xt, yt)
        self.arch_opt.step()

    def _unrolled_gradient(self, xv: Any, yv: Any, xt: Any, yt: Any) -> None:
        """alpha.grad = dL_val(w', alpha)/dalpha - xi * (d2 L_train / dalpha dw) dL_val(w', alpha)/dw', with
        w' = w - xi * dL_train(w, alpha)/dw (DARTS eq. 6-8; xi: the weights' current learning rate)."""
        import torch

        names = [n for n, _ in self.model.named_parameters()]
        params = [p for _, p in self.model.named_parameters()]
        buffers = dict(self.model.named_buffers())
        xi = self.weight_opt.param_groups[0]["lr"]
        grads = torch.autograd.grad(self._loss(xt, yt), params)
        unrolled = {
            n: (p - xi * (g + self.weight_decay * p)).detach().requires_grad_(True)
            for n, p, g in zip(names, params, grads, strict=True)
        }
        val = self._loss(xv, yv, params={**unrolled, **buffers})
        d_alpha, *d_weights = torch.autograd.grad(val, [self.alpha, *unrolled.values()])
        eps = self.hvp_radius / (torch.sqrt(sum((d * d).sum() for d in d_weights)) + 1e-12)

        def train_grad(sign: float) -> Any:
            shifted = {n: (p + sign * eps * d).detach() for n, p, d in zip(names, params, d_weights, strict=True)}
            return torch.autograd.grad(self._loss(xt, yt, params={**shifted, **buffers}), self.alpha)[0]

        hessian_term = (train_grad(1.0) - train_grad(-1.0)) / (2 * eps)
        self.alpha.grad = d_alpha - xi * hessian_term

    def epoch(self, out_of_time: Callable[[], bool]) -> EpochRecord | None:
        import torch
        from torch import nn
        from torch.nn import functional as F

        began = time.perf_counter()
        self._reached = self.progress
        for group in self.weight_opt.param_groups:  # cosine from lr to lr_min at the last planned epoch
            group["lr"] = self.lr_min + (self.lr - self.lr_min) * (1 + math.cos(math.pi * self._reached)) / 2
        data = self.data
        (x_train, y_train), (x_valid, y_valid) = data.train, data.valid
        order = torch.randperm(len(y_train), generator=self.generator).to(y_train.device)
        valid_order = torch.randperm(len(y_valid), generator=self.generator).to(y_valid.device)
        batch = data.batch_size
        self.model.train()
        losses = []
        for step, start in enumerate(range(0, len(order), batch)):
            if out_of_time():
                return None
            rows = order[start : start + batch]
            v0 = (step * batch) % len(valid_order)
            v_rows = valid_order[v0 : v0 + batch]
            xt, yt, xv, yv = x_train[rows], y_train[rows], x_valid[v_rows], y_valid[v_rows]
            self._arch_step(xv, yv, xt, yt)
            self.weight_opt.zero_grad(set_to_none=True)
            loss = self._loss(xt, yt)
            loss.backward()
            nn.utils.clip_grad_norm_(self.model.parameters(), self.grad_clip)
            self.weight_opt.step()
            losses.append(float(loss.detach()))
        self.model.eval()
        correct, total_loss = 0, 0.0
        with torch.no_grad():
            for start in range(0, len(y_valid), 256):
                out = self.model(x_valid[start : start + 256], *self.mixture(training=False))
                total_loss += float(F.cross_entropy(out, y_valid[start : start + 256], reduction="sum"))
                correct += int((out.argmax(dim=1) == y_valid[start : start + 256]).sum())
        self.done_epochs += 1
        arch = self.derive()
        record = EpochRecord(
            arch=arch,
            metrics={"accuracy": correct / len(y_valid), "loss": total_loss / len(y_valid)},
            train_loss=float(np.mean(losses)) if losses else math.nan,
            weights=self.strengths().round(5).tolist(),
            extra={
                "free_ops": float(free_ops(arch.ops)),
                "epoch_seconds": time.perf_counter() - began,
                **({} if self.length is None else {"planned_epochs": float(self.length)}),
            },
        )
        if self.max_free_ops is not None and free_ops(arch.ops) > self.max_free_ops:
            self.stopped = f"epoch {self.done_epochs} derived {free_ops(arch.ops)} parameter-free ops (max_free_ops)"
        return record
