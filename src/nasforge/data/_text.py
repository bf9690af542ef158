"""Text to token ids: a character- or word-level vocabulary fitted on the training split only.

Id 0 is padding and id 1 stands for every token the vocabulary does not hold (out of vocabulary, OOV); the
vocabulary's tokens follow from id 2, most frequent first. Sequences are cut to ``max_len`` tokens and padded
at the end, so a row's real tokens always come first (the sequence ops rely on it to ignore padding).

The fitted tokenizer travels with the run and the exported model (``best.json``, ``"tokenizer"``), so that new
raw text is encoded exactly as the training text was::

    tok = Tokenizer.from_dict(json.load(open("runs/x/best.json"))["data"]["tokenizer"])
    ids = tok.encode(["some new text"])        # int64 (n, max_len): the model's input
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from nasforge.exceptions import ConfigError, integer_at_least

__all__ = ["OOV", "PAD", "Tokenizer", "default_level"]

PAD, OOV = 0, 1
_WORD = re.compile(r"\w+|[^\w\s]")
_SHORT_TEXT_WORDS = 3
"""Texts whose median length is at most this many words are tokenised by characters (names, codes, words)."""
_OPTIONS = ("level", "vocab", "max_len", "lowercase")


def default_level(texts: Sequence[str]) -> Literal["char", "word"]:
    """``char`` for short texts (a median of at most three words: names, product codes), ``word`` otherwise:
    characters carry the signal of a name's ending, words that of a paragraph, and a paragraph's characters
    would make sequences hundreds of steps long."""
    words = sorted(len(t.split()) for t in texts)
    return "char" if not words or words[len(words) // 2] <= _SHORT_TEXT_WORDS else "word"


@dataclass(frozen=True)
class Tokenizer:
    """Options (``level``, ``vocab`` size, ``max_len``, ``lowercase``) and, once fitted, the token list and the
    sequence length (the longest training text, at most ``max_len``).

    >>> tok = Tokenizer(level="char").fit(["ab", "abc"])
    >>> tok.encode(["abd", "b"]).tolist()
    [[2, 3, 1], [3, 0, 0]]
    """

    level: Literal["char", "word"] = "char"
    vocab: int = 20000
    max_len: int = 256
    lowercase: bool = True
    tokens: tuple[str, ...] = field(default=(), repr=False)
    length: int = 0

    def __post_init__(self) -> None:
        if self.level not in ("char", "word"):
            raise ConfigError(f"data.tokenizer.level: must be char or word, got {self.level!r}")
        for name in ("vocab", "max_len"):
            integer_at_least(f"data.tokenizer.{name}", getattr(self, name))
        if not isinstance(self.lowercase, bool):
            raise ConfigError(f"data.tokenizer.lowercase: must be true or false, got {self.lowercase!r}")

    @classmethod
    def from_options(cls, options: Mapping[str, Any] | None, texts: Sequence[str]) -> Tokenizer:
        """The tokenizer a ``data.tokenizer`` block asks for; ``level`` defaults by :func:`default_level`."""
        options = dict(options or {})
        unknown = sorted(set(options) - set(_OPTIONS))
        if unknown:
            raise ConfigError(
                f"data.tokenizer: unknown option(s) {', '.join(unknown)} (allowed: {', '.join(_OPTIONS)})"
            )
        options.setdefault("level", default_level(texts))
        return cls(**options)

    @property
    def vocab_size(self) -> int:
        """Ids the model's embedding must hold: padding, OOV and the fitted tokens."""
        return len(self.tokens) + 2

    def split(self, text: str) -> list[str]:
        text = text.lower() if self.lowercase else text
        return list(text) if self.level == "char" else _WORD.findall(text)

    def fit(self, texts: Sequence[str]) -> Tokenizer:
        """Keep the ``vocab`` most frequent tokens of ``texts`` (ties: first seen first) and their longest length."""
        counts: Counter[str] = Counter()
        longest = 1
        for text in texts:
            parts = self.split(text)
            counts.update(parts)
            longest = max(longest, len(parts))
        tokens = tuple(token for token, _ in counts.most_common(self.vocab))
        return Tokenizer(self.level, self.vocab, self.max_len, self.lowercase, tokens, min(longest, self.max_len))

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Token ids ``(len(texts), length)``, int64: OOV for unknown tokens, cut and padded at the end."""
        if not self.length:
            raise RuntimeError("encode needs a fitted tokenizer (Tokenizer.fit)")
        index = {token: i for i, token in enumerate(self.tokens, start=2)}
        out = np.full((len(texts), self.length), PAD, dtype=np.int64)
        for row, text in enumerate(texts):
            ids = [index.get(token, OOV) for token in self.split(text)[: self.length]]
            out[row, : len(ids)] = ids
        return out

    def to_dict(self) -> dict[str, Any]:
        """Plain data for ``best.json``; :meth:`from_dict` rebuilds the fitted tokenizer."""
        return {
            "level": self.level,
            "vocab": self.vocab,
            "max_len": self.max_len,
            "lowercase": self.lowercase,
            "length": self.length,
            "pad_id": PAD,
            "oov_id": OOV,
            "tokens": list(self.tokens),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Tokenizer:
        keep = {k: data[k] for k in (*_OPTIONS, "length")}
        return cls(**keep, tokens=tuple(data["tokens"]))
