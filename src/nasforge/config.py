"""The YAML config: validated with pydantic at the boundary, every mistake reported as one line.

Only ``data`` is required; everything else has defaults that fit the input's shape. Space and strategy
sections are open: ``space.type`` / ``strategy.name`` pick a registered class and the remaining keys are
its constructor arguments, checked against its signature.
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from nasforge.exceptions import ConfigError, NasforgeError
from nasforge.executors._dask import CLUSTER_OWNS
from nasforge.objective import TASK_METRICS, Objective
from nasforge.registry import Registry, shown

__all__ = ["Config", "ExecutorConfig", "check_params", "load_config", "parse_config", "parse_executor"]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TokenizerConfig(_Section):
    """How a text column becomes token ids (``nasforge.data.Tokenizer``); ``level`` defaults by text length."""

    level: Literal["char", "word"] | None = None
    vocab: int = Field(20000, ge=1)
    max_len: int = Field(256, ge=1)
    lowercase: bool = True


class DataConfig(BaseModel):
    """Where the data comes from and how it is split.

    Extra keys are options of the built-in dataset (``{builtin: glyphs, size: 32}``); the loader checks them
    against that dataset's signature, so a typo still fails as one line.
    """

    model_config = ConfigDict(extra="allow")

    builtin: str | None = None
    path: str | None = None
    target: str | None = None
    text: str | None = None
    group: str | list[str] | None = None
    task: Literal["classification", "regression"] | None = None
    tokenizer: TokenizerConfig | None = None
    vocab_size: int | None = Field(None, ge=2)
    input: Literal["tokens", "numeric"] | None = None
    valid: float = Field(0.2, gt=0, lt=1)
    test: float = Field(0.2, gt=0, lt=1)

    @model_validator(mode="after")
    def _one_source(self) -> DataConfig:
        if (self.builtin is None) == (self.path is None):
            raise ValueError("give exactly one of builtin (e.g. digits) or path (a .npz or .csv file)")
        if self.path is not None and self.model_extra:
            unexpected = sorted(self.model_extra)
            allowed = [name for name in DataConfig.model_fields if name != "builtin"]
            raise ValueError(
                f"unexpected option(s) {', '.join(map(shown, unexpected))} for a file"
                f"{_did_you_mean(unexpected[0], allowed)} "
                f"(allowed: {', '.join(allowed)})"
            )
        if self.valid + self.test >= 1:
            raise ValueError(f"valid + test must leave data to train on, got {self.valid} + {self.test}")
        return self

    @property
    def source(self) -> dict[str, Any]:
        """The loader's spec: builtin or path, the file's options, and the built-in dataset's options."""
        chosen = self.model_dump(exclude={"valid", "test"}, exclude_none=True)
        return {**chosen, **(self.model_extra or {})}


class _OpenSection(BaseModel):
    """A section whose extra keys are a registered component's constructor arguments, checked by it."""

    model_config = ConfigDict(extra="allow")

    @property
    def params(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


def _check_registered(registry: Registry[Any], name: str) -> str:
    """``name`` if ``registry`` holds it. Space and strategy names are checked while the config is parsed, so that a
    typo names its field (``space.type``, ``strategy.name``: pydantic prefixes the location) before any data loads."""
    if name not in registry:
        raise ValueError(registry.unknown_message(name))
    return name


class SpaceConfig(_OpenSection):
    type: str = "chain"

    @field_validator("type")
    @classmethod
    def _registered(cls, name: str) -> str:
        from nasforge.spaces import SPACES

        return _check_registered(SPACES, name)


class StrategyConfig(_OpenSection):
    name: str = "evolution"

    @field_validator("name")
    @classmethod
    def _registered(cls, name: str) -> str:
        from nasforge.oneshot import ONE_SHOT
        from nasforge.strategies import STRATEGIES

        if name in ONE_SHOT:
            return name
        if name not in STRATEGIES:
            raise ValueError(f"{STRATEGIES.unknown_message(name)}, or one-shot: {', '.join(ONE_SHOT.names())}")
        return name


class TrainConfig(_OpenSection):
    """The keys are :class:`nasforge.evaluators.Trainer` arguments, which it validates itself."""


class ObjectiveConfig(_Section):
    """The keys are :class:`nasforge.objective.Objective` arguments, which it checks itself: one ``metric`` with
    an optional ``penalty`` per cost (``flops_penalty`` is ``penalty: {flops: q}``), or several ``metrics``."""

    metric: Literal["accuracy", "f1", "loss", "mse", "mae", "r2"] | None = None
    flops_penalty: float = 0.0
    penalty: dict[str, float] | None = None
    metrics: list[str] | None = None
    directions: list[str] | None = None

    def build(self, task: str | None = "classification") -> Objective:
        """The objective for ``task`` (the metric defaults to its first: accuracy, or mse for regression); a bad
        value raises a one-line ``ConfigError`` naming ``objective.<key>``. ``task=None`` checks the keys alone,
        before the data is loaded and its task known."""
        given = {k: tuple(v) if isinstance(v, list) else v for k, v in self.model_dump().items() if v}
        if "metrics" not in given:
            given.setdefault("metric", TASK_METRICS[task or "classification"][0])
        objective = Objective(**given)
        return objective if task is None else objective.check_task(task)


class ExecutorConfig(_Section):
    """Where trials run: ``local`` (this process), ``processes`` (worker processes here), ``dask`` (a cluster)."""

    type: Literal["local", "processes", "dask"] = "local"
    workers: int | None = Field(None, ge=1)
    address: str | None = None
    resources: dict[str, float] | None = None
    retries: int = Field(0, ge=0)
    security: dict[str, Any] | None = None
    data: Literal["send", "load"] = "send"

    @model_validator(mode="after")
    def _fits_type(self) -> ExecutorConfig:
        if self.type == "local" and self.workers not in (None, 1):
            raise ValueError("type local runs one trial at a time; use type: processes for more workers")
        if self.type == "local" and self.data != "send":
            raise ValueError("data: load is for worker processes; type local trains where the data already is")
        if self.type != "dask" and (self.address or self.security):
            raise ValueError(f"address and security belong to type: dask, not {self.type}")
        if self.type == "local" and (self.retries or self.resources):
            raise ValueError("retries and resources are for trials on workers (type: processes or dask), not local")
        if self.type == "dask" and not self.address:  # else a forgotten address would train here, in silence
            raise ValueError(
                "type dask connects to a running Dask cluster: give its address (tcp://host:8786), or use type: "
                "processes for worker processes on this machine"
            )
        if self.address and (self.workers is not None or self.retries):
            raise ValueError(CLUSTER_OWNS)
        return self


class FidelityConfig(_Section):
    """Spending less on losers (see :mod:`nasforge.fidelity`): a ``stopper`` that ends trials early, or a
    ``scheduler`` that trains every architecture briefly and promotes the best; ``none`` trains every trial fully."""

    stopper: Literal["none", "median", "patience", "threshold"] = "none"
    warmup_epochs: int = Field(2, ge=1)
    min_trials: int | None = Field(None, ge=1)
    patience: int | None = Field(None, ge=1)
    threshold: float | None = None
    scheduler: Literal["none", "asha", "successive_halving", "hyperband"] = "none"
    min_epochs: int | None = Field(None, ge=1)
    max_epochs: int | None = Field(None, ge=2)
    eta: int | None = Field(None, ge=2)

    def spec(self) -> dict[str, Any] | None:
        """The options the user gave, for :func:`nasforge.fidelity.make_fidelity`; ``None`` when none."""
        return self.model_dump(exclude_none=True, exclude_defaults=True) or None

    @model_validator(mode="after")
    def _options_fit(self) -> FidelityConfig:
        from nasforge.fidelity import make_fidelity

        try:  # checked by the stopper or scheduler that takes them
            make_fidelity(self.spec(), None, epochs=None)
        except ConfigError as exc:
            raise ValueError(str(exc).removeprefix("fidelity: ").removeprefix("fidelity.")) from None
        return self


class BudgetConfig(_Section):
    """Any of the limits; with none, :class:`~nasforge.budget.Budget` applies its default trial count.
    ``max_failures`` stops a search whose trials keep failing (a count, or a fraction below 1)."""

    trials: int | None = Field(None, ge=1)
    seconds: float | None = Field(None, gt=0)
    epochs: int | None = Field(None, ge=1)
    max_failures: float = Field(0.5, gt=0)


class ConstraintsConfig(_Section):
    """Hard limits (see :class:`nasforge.constraints.Constraints`): an architecture over one is never trained."""

    max_params: float | None = Field(None, gt=0)
    max_flops: float | None = Field(None, gt=0)
    max_size_kb: float | None = Field(None, gt=0)
    max_activation_kb: float | None = Field(None, gt=0)
    max_latency_ms: float | None = Field(None, gt=0)


class LatencyConfig(_Section):
    """How ``latency_ms`` is measured where an objective, penalty or constraint needs it."""

    batch: int = Field(1, ge=1)


class FinalConfig(_Section):
    """The end of a search: re-ranking the leaders with more seeds (``rerank`` architectures, ``repeats`` more
    trainings each, within the budget), the winner's final retrainings (``seeds``), and how many points of a
    Pareto front are retrained and tested once each (``front``)."""

    rerank: Any = "auto"  # checked by nasforge.rerank.Rerank.parse
    repeats: int = Field(2, ge=1)
    seeds: Any = "auto"  # checked by nasforge.winner.check_seeds
    front: int = Field(5, ge=1)


class ReportConfig(_Section):
    """``RUN_DIR/report.html`` is rewritten every ``every`` trials during the search (0: only at its end);
    ``tensorboard`` and ``mlflow`` (true, or a log directory / tracking URI) log the search there too
    (:mod:`nasforge.tracking`)."""

    every: int = Field(10, ge=0)
    tensorboard: bool | str = False
    mlflow: bool | str = False


class Config(_Section):
    """A whole search, as the YAML file states it."""

    name: str = Field("search", pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    seed: int = Field(0, ge=0, le=2**32 - 1)  # numpy's and scikit-learn's seeds are 32-bit
    data: DataConfig
    space: SpaceConfig = Field(default_factory=SpaceConfig)
    strategy: StrategyConfig = Field(default_factory=StrategyConfig)
    train: TrainConfig = Field(default_factory=TrainConfig)
    objective: ObjectiveConfig = Field(default_factory=ObjectiveConfig)
    budget: BudgetConfig = Field(default_factory=BudgetConfig)
    executor: ExecutorConfig = Field(default_factory=ExecutorConfig)
    fidelity: FidelityConfig = Field(default_factory=FidelityConfig)
    constraints: ConstraintsConfig = Field(default_factory=ConstraintsConfig)
    latency: LatencyConfig = Field(default_factory=LatencyConfig)
    proxies: list[str] = Field(default_factory=list)
    prefilter: dict[str, Any] | None = None
    warm_start: str | dict[str, Any] | None = None
    final: FinalConfig = Field(default_factory=FinalConfig)
    report: ReportConfig = Field(default_factory=ReportConfig)

    @model_validator(mode="after")
    def _one_length(self) -> Config:
        top, epochs = self.fidelity.max_epochs, self.train.params.get("epochs")
        if top is not None and epochs is not None and top != epochs:
            raise ValueError(f"fidelity.max_epochs: {top} differs from train.epochs ({epochs}); give one of them")
        return self


def _bound(value: float) -> str:
    """A limit as the user would write it: integers whole (4294967295, not 4.29497e+09)."""
    return str(value) if isinstance(value, int) else f"{value:g}"


_MESSAGES: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "greater_than_equal": lambda c: f"must be >= {_bound(c['ge'])}",
    "greater_than": lambda c: f"must be > {_bound(c['gt'])}",
    "less_than": lambda c: f"must be < {_bound(c['lt'])}",
    "less_than_equal": lambda c: f"must be <= {_bound(c['le'])}",
    "literal_error": lambda c: f"must be one of {c['expected']}",
    "string_pattern_mismatch": lambda c: "must be letters, digits, '_', '.' or '-', starting with a letter or digit",
    "int_parsing": lambda c: "must be an integer",
    "int_type": lambda c: "must be an integer",
    "int_from_float": lambda c: "must be a whole number",
    "float_parsing": lambda c: "must be a number",
    "float_type": lambda c: "must be a number",
    "bool_parsing": lambda c: "must be true or false",
    "bool_type": lambda c: "must be true or false",
    "string_type": lambda c: "must be a string",
    "list_type": lambda c: "must be a list",
    "dict_type": lambda c: "must be a mapping ({key: value, ...})",
    "model_type": lambda c: "must be a mapping of its options ({key: value, ...})",
}


def _one_line(error: ValidationError) -> str:
    """The first error as ``field.path: what is allowed, got X``. An unknown key goes first: a misspelt required
    key (``dta:``) is also reported missing, and the typo is what the user has to fix."""
    errors = error.errors()
    first = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    where = ".".join(map(shown, first["loc"])) or "config"
    kind, ctx = first["type"], first.get("ctx", {})
    got = f", got {first['input']!r}" if "input" in first and kind != "missing" else ""
    if kind == "missing":
        return f"{where}: required field is missing"
    if kind == "extra_forbidden":
        section = _section_of(first["loc"][:-1])
        allowed = list(section.model_fields) if section else []
        return f"{where}: unknown field{_did_you_mean(str(first['loc'][-1]), allowed)} (allowed: {', '.join(allowed)})"
    if kind in _MESSAGES:
        return f"{where}: {_MESSAGES[kind](ctx)}{got}"
    if kind == "value_error":
        message = str(ctx.get("error", first["msg"]))
        return message if not first["loc"] else f"{where}: {message}"  # a check across sections names its fields
    return f"{where}: {first['msg'][0].lower()}{first['msg'][1:]}{got}"


def _did_you_mean(name: str, allowed: list[str]) -> str:
    """``; did you mean 'x'?`` for the closest allowed name, or nothing when none is close."""
    close = difflib.get_close_matches(name, allowed, n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def _section_of(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    model: type[BaseModel] = Config
    for part in loc:
        field = model.model_fields.get(str(part))
        annotation = getattr(field, "annotation", None)
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return None
        model = annotation
    return model


def parse_config(raw: Any, default_name: str = "search") -> Config:
    """Validate a mapping (the parsed YAML); raises :class:`ConfigError` with one line."""
    if not isinstance(raw, Mapping):
        raise ConfigError(f"config: must be a mapping of sections (data, space, ...), got {type(raw).__name__}")
    try:
        return Config.model_validate({"name": default_name, **raw})
    except ValidationError as exc:
        raise ConfigError(_one_line(exc)) from None


class _ExecutorOnly(_Section):
    executor: ExecutorConfig


def parse_executor(raw: Any) -> ExecutorConfig:
    """Validate an ``executor:`` block on its own (the Python API's ``executor=`` argument)."""
    try:
        return _ExecutorOnly.model_validate({"executor": raw}).executor
    except ValidationError as exc:
        raise ConfigError(_one_line(exc)) from None


class _ConfigLoader(yaml.SafeLoader):
    """PyYAML's safe loader, except that a scalar its constructors cannot convert (``seed: 2020-13-01``, a date
    with month 13; ``x: !!float``, a tag on nothing) is a ``ConstructorError`` at that node, with its line, like
    every other YAML mistake. PyYAML itself lets the constructors' ValueError, IndexError, KeyError,
    AttributeError or TypeError escape, without a line."""

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, TypeError, IndexError, KeyError, AttributeError):
            tag = node.tag.replace("tag:yaml.org,2002:", "!!")
            raise yaml.constructor.ConstructorError(
                problem=f"{node.value!r} is not a valid {tag}", problem_mark=node.start_mark
            ) from None


def load_config(path: str | Path) -> Config:
    """Read and validate a YAML config (UTF-8, as YAML files are); its ``name`` defaults to the file's stem."""
    path = Path(path)
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the config ({exc.strerror})") from None
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = content.count(b"\n", 0, exc.start) + 1
        raise ConfigError(
            f"{path}: line {line} is not UTF-8 text (byte {content[exc.start]:#04x}); save the config as UTF-8"
        ) from None
    try:
        raw = yaml.load(text, Loader=_ConfigLoader)
    except yaml.reader.ReaderError as exc:  # a control character: PyYAML says where as a position, on a second line
        line = text.count("\n", 0, exc.position) + 1
        problem = f"character {chr(exc.character)!r} is not allowed"
        raise ConfigError(f"{path}: line {line} is not valid YAML ({problem})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{path}:{where} is not valid YAML ({getattr(exc, 'problem', exc)})") from None
    if raw is None:
        raise ConfigError(f"{path}: the config is empty; it needs at least a data section (data: {{builtin: digits}})")
    return parse_config(raw, default_name=path.stem.replace(" ", "-"))


def check_params(section: str, factory: Callable[..., Any], params: Mapping[str, Any], **fixed: Any) -> Any:
    """Call a registered factory with config params, naming ``section.param`` in every error.

    ``fixed`` arguments come from nasforge itself (e.g. the data's ``input_shape``), not from the user.
    """
    accepted = [p for p in inspect.signature(factory).parameters if p != "self" and p not in fixed]
    for key in params:
        if key not in accepted:
            hint = f"{_did_you_mean(str(key), accepted)} (allowed: {', '.join(accepted) or 'none'})"
            raise ConfigError(f"{section}.{shown(key)}: unknown parameter{hint}")
    try:
        return factory(**params, **fixed)
    except NasforgeError as exc:
        message = str(exc)
        raise type(exc)(message if message.startswith(section) else f"{section}: {message}") from None
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{section}: {exc}") from None
