"""Procedurally drawn handwritten-style digits at any resolution: a larger-image task with no download.

Each of the ten classes is a digit drawn as strokes through a few control points. Every sample moves each
control point at random (the writer's hand), applies a random slant, rotation, scale and offset, draws the
strokes with a random pen width and adds sensor noise; pixel values are whole numbers 0-255, as in the
``uint8`` images users hand over. Samples are drawn independently, so no two are augmented copies of one
original (which would leak between a train and a test split). The default jitter makes it about as hard as a
few thousand MNIST digits: on 5,000 images of 28x28 (a 60/20/20 split), logistic regression on the pixels
scores 0.80 on test and conv-pool CNNs of three or four layers 0.978-0.988 (8 epochs), while one 3x3 conv
layer without pooling stays near 0.4 on validation.
"""

from __future__ import annotations

import numpy as np

from nasforge.data._builtin import DATASETS, real_option, whole_option
from nasforge.data._dataset import Dataset

__all__ = ["glyphs"]

# Control points of each digit's strokes in a unit box (x right, y down); strokes are smoothed through them.
_STROKES: tuple[tuple[tuple[tuple[float, float], ...], ...], ...] = (
    # 0: an oval
    (((0.5, 0.1), (0.24, 0.3), (0.24, 0.7), (0.5, 0.9), (0.76, 0.7), (0.76, 0.3), (0.5, 0.1)),),
    # 1: a stem with a flag
    (((0.36, 0.26), (0.54, 0.1), (0.54, 0.5), (0.54, 0.9)),),
    # 2: an arc, a diagonal and a base
    (((0.24, 0.3), (0.5, 0.1), (0.76, 0.3), (0.5, 0.6), (0.24, 0.9), (0.78, 0.9)),),
    # 3: two bowls opening left
    (((0.26, 0.18), (0.55, 0.1), (0.72, 0.3), (0.46, 0.5), (0.76, 0.7), (0.55, 0.9), (0.24, 0.82)),),
    # 4: a stem and a crossed diagonal
    (((0.64, 0.9), (0.64, 0.1), (0.22, 0.64), (0.8, 0.64)),),
    # 5: a roof, a back and a belly
    (((0.76, 0.1), (0.32, 0.1), (0.28, 0.46), (0.62, 0.42), (0.76, 0.66), (0.56, 0.9), (0.24, 0.82)),),
    # 6: a sweep down into a closed loop
    (((0.7, 0.1), (0.36, 0.36), (0.28, 0.7), (0.5, 0.9), (0.72, 0.7), (0.5, 0.5), (0.3, 0.64)),),
    # 7: a bar and a long diagonal
    (((0.22, 0.12), (0.78, 0.12), (0.56, 0.5), (0.42, 0.9)),),
    # 8: two stacked loops
    (
        ((0.5, 0.5), (0.28, 0.3), (0.5, 0.1), (0.72, 0.3), (0.5, 0.5)),
        ((0.5, 0.5), (0.26, 0.7), (0.5, 0.9), (0.74, 0.7), (0.5, 0.5)),
    ),
    # 9: a loop on a tail
    (((0.7, 0.32), (0.5, 0.1), (0.3, 0.3), (0.5, 0.52), (0.7, 0.32), (0.64, 0.62), (0.56, 0.9)),),
)
_POINTS_PER_SEGMENT = 8


def _smooth(points: np.ndarray) -> np.ndarray:
    """A Catmull-Rom curve through ``points`` (k, 2), as a dense polyline."""
    padded = np.concatenate([points[:1], points, points[-1:]])
    t = np.linspace(0.0, 1.0, _POINTS_PER_SEGMENT, endpoint=False)[:, None]
    pieces = []
    for i in range(1, len(padded) - 2):
        p0, p1, p2, p3 = padded[i - 1], padded[i], padded[i + 1], padded[i + 2]
        pieces.append(
            0.5 * (2 * p1 + (p2 - p0) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t**2 + (3 * p1 - p0 - 3 * p2 + p3) * t**3)
        )
    return np.concatenate([*pieces, points[-1:]])


def _distance_to_segments(pixels: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """For every pixel centre (P, 2), the distance to the nearest segment of (S, 2) starts and ends."""
    dx, dy = (ends - starts).T
    length2 = np.maximum(dx * dx + dy * dy, 1e-12)
    rx = pixels[:, :1] - starts[:, 0]
    ry = pixels[:, 1:] - starts[:, 1]
    t = np.clip((rx * dx + ry * dy) / length2, 0.0, 1.0)
    rx -= t * dx
    ry -= t * dy
    return np.sqrt((rx * rx + ry * ry).min(1))


def _draw(label: int, size: int, rng: np.random.Generator, jitter: float) -> np.ndarray:
    angle = rng.normal(0.0, 0.15)
    slant = rng.normal(0.0, 0.2)
    scale = rng.uniform(0.75, 1.05, size=2)
    offset = rng.normal(0.0, 0.05, size=2)
    cos, sin = np.cos(angle), np.sin(angle)
    affine = np.array([[cos, -sin], [sin, cos]]) @ np.array([[1.0, slant], [0.0, 1.0]]) @ np.diag(scale)
    starts, ends = [], []
    for stroke in _STROKES[label]:
        points = np.asarray(stroke) + rng.normal(0.0, jitter, size=(len(stroke), 2))
        line = (_smooth(points) - 0.5) @ affine.T + 0.5 + offset
        starts.append(line[:-1])
        ends.append(line[1:])
    grid = (np.arange(size) + 0.5) / size
    pixels = np.stack(np.meshgrid(grid, grid, indexing="xy"), axis=-1).reshape(-1, 2).astype(np.float32)
    distance = _distance_to_segments(pixels, np.concatenate(starts), np.concatenate(ends)) * size
    pen = rng.uniform(0.045, 0.1) * size
    ink = np.clip(pen - distance + 0.5, 0.0, 1.0) * rng.uniform(0.7, 1.0)
    image = ink.reshape(size, size) + rng.normal(0.0, 0.08, size=(size, size))
    return np.clip(image * 255.0, 0, 255).astype(np.uint8)


@DATASETS.register("glyphs")
def glyphs(n: int = 5000, size: int = 28, seed: int = 0, jitter: float = 0.06) -> Dataset:
    """``n`` handwritten-style digits as ``(n, 1, size, size)`` ``uint8`` images, sorted by class (balanced).

    ``jitter`` is the spread of each control point in units of the glyph box: larger is harder. Drawing is
    vectorised per image; 5,000 images of 28x28 take about six seconds, of 64x64 about thirty.

    >>> ds = glyphs(n=20, size=16)
    >>> ds.input_shape, ds.num_classes
    ((1, 16, 16), 10)
    """
    n, size = whole_option("n", n, 10), whole_option("size", size, 8)
    jitter = real_option("jitter", jitter, 0.0, 0.3)
    rng = np.random.default_rng(whole_option("seed", seed, 0))
    y = np.sort(np.arange(n) % 10)
    X = np.stack([_draw(int(label), size, rng, jitter) for label in y])[:, None]
    return Dataset(f"glyphs{size}", X, y, tuple(str(k) for k in range(10)))
