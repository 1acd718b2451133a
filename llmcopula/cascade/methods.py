"""The registry of threshold-tuning methods: one place that knows how each method is fitted,
run and scored, for ``llmcopula tune``, ``llmcopula reproduce`` and library users.

A method runs in three steps, so that a sweep can share and time the expensive parts:

1. ``fit(train, options)``: work shared by every cascade of one training log (a fitted model or
   the chain's calibrators). Two methods with the same :meth:`TuningMethod.fit_key` share it.
2. ``prepare(fitted, train, cascade, options)``: per-cascade work that is not tuning (the
   Markov model's pair copulas, the empirical-copula model's fit), timed apart.
3. ``frontier(prepared, train, test, cascade, options, rng)``: the error–cost frontier, scored
   on the test log by :meth:`TuningMethod.score`.

:func:`run_method` chains the three. Adding a method is adding a subclass of
:class:`TuningMethod` and a :func:`register_method` call.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

import numpy as np

from .._validation import check_positive_int
from ..calibration import Calibrator
from ..datasets import ChainLog
from .base import CalibratedChainModel, fit_log_calibrators
from .cascades import check_cascade
from .empirical_model import EmpiricalCopulaModel
from .evaluation import evaluate_frontier
from .frontier import Frontier
from .model import MarkovCopulaModel
from .paper_model import PaperMarkovCopulaModel
from .posterior import CascadePosterior, posterior_log
from .tuning import tune

__all__ = ["MethodOptions", "Fitted", "TuningMethod", "register_method", "get_method",
           "method_names", "run_method"]


@dataclass(frozen=True)
class MethodOptions:
    """Options of a tuning run. Each method reads the ones listed in its ``options``; the
    others must keep their defaults (:meth:`TuningMethod.check_options`).

    Attributes
    ----------
    lambdas : sequence of float, optional
        Cost sensitivities (default: the method's own grid of ``n_lambdas`` values).
    budgets : sequence of float, optional
        Cost budgets (USD per million queries) of the constrained form.
    n_lambdas : int
    family : str
        Pair-copula family of the Markov-copula model.
    approximation : {"exact", "event-markov"}
        Chaining of the Markov-copula model.
    n_calls : int, optional
        BO evaluations per λ (default 20 + 10·(k − 1)).
    acq_optimizer : str
        How the BO baseline maximises its acquisition (scikit-optimize option).
    model : str, optional
        The joint model of the ``posterior`` method (``"markov-copula"`` or
        ``"empirical-copula"``; default: the method's own).
    """

    lambdas: Sequence[float] | None = None
    budgets: Sequence[float] | None = None
    n_lambdas: int = 30
    family: str = "gumbel"
    approximation: str = "exact"
    n_calls: int | None = None
    acq_optimizer: str = "auto"
    model: str | None = None

    def __post_init__(self) -> None:
        # Checked here, before any fitting: a bad option fails at once, not after the fit.
        from ..copulas import FAMILY_NAMES

        check_positive_int(self.n_lambdas, "n_lambdas")
        if self.n_calls is not None:
            check_positive_int(self.n_calls, "n_calls")
        for name in ("lambdas", "budgets"):
            values = getattr(self, name)
            if values is None:
                continue
            arr = np.asarray(values, dtype=np.float64)
            if arr.ndim != 1 or arr.size == 0:
                raise ValueError(f"{name}: expected a non-empty list of numbers, got {values!r}")
            bad = ~np.isfinite(arr) | (arr < 0 if name == "lambdas" else arr <= 0)
            if bad.any():
                need = "finite and >= 0" if name == "lambdas" else "finite and > 0"
                raise ValueError(f"{name}: every value must be {need}, got "
                                 f"{arr[bad].tolist()}")
        if self.family != "auto" and self.family not in FAMILY_NAMES:
            raise ValueError(f"family: expected 'auto' or one of {list(FAMILY_NAMES)}, got "
                             f"{self.family!r}")
        if self.acq_optimizer not in ("auto", "sampling", "lbfgs"):
            raise ValueError("acq_optimizer: expected 'auto', 'sampling' or 'lbfgs', got "
                             f"{self.acq_optimizer!r}")
        if self.approximation not in ("exact", "event-markov"):
            raise ValueError("approximation: expected 'exact' or 'event-markov', got "
                             f"{self.approximation!r}")


_DEFAULTS = MethodOptions()
# Each option and its command-line flag (used in error messages).
_FLAGS = {"lambdas": "--lambda", "budgets": "--budget", "n_lambdas": "--n-lambdas",
          "family": "--family", "approximation": "--approximation", "n_calls": "--bo-calls",
          "acq_optimizer": "--acq-optimizer", "model": "--model"}


@dataclass
class Fitted:
    """What a method learned from the training log: a calibrated chain model, or only the
    chain's calibrators and mean costs (USD per million queries)."""

    calibrators: list[Calibrator] | None = None
    costs: np.ndarray | None = None
    model: CalibratedChainModel | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_model(cls, model: CalibratedChainModel) -> Fitted:
        return cls(calibrators=list(model.calibrators_), costs=model.costs_, model=model)


class TuningMethod:
    """A threshold-tuning method (see the module docstring for the three steps)."""

    name: ClassVar[str] = ""
    #: One line for ``--help`` texts.
    summary: ClassVar[str] = ""
    #: Names of the :class:`MethodOptions` fields the method reads.
    options: ClassVar[frozenset[str]] = frozenset()
    #: Whether the method is scored on the test log it is given (the hindsight oracle).
    needs_test: ClassVar[bool] = False
    #: Whether the method fits a model of the chain (the methods compared with the baselines).
    is_model: ClassVar[bool] = False

    def check_options(self, options: MethodOptions) -> None:
        """Reject options the method does not read when they differ from their defaults."""
        unused = [f for f in _FLAGS
                  if f not in self.options and getattr(options, f) != getattr(_DEFAULTS, f)]
        if unused:
            owners = sorted({m.name for m in _REGISTRY.values()
                             if any(f in m.options for f in unused)})
            raise ValueError(f"{'/'.join(_FLAGS[f] for f in unused)}: not an option of the "
                             f"{self.name} method (options of {', '.join(owners) or 'none'})")

    def fit_key(self, options: MethodOptions) -> Hashable | None:
        """Key of the shared fit (equal keys: the fit can be reused); ``None``: nothing to fit."""
        return None

    def fit(self, train: ChainLog, options: MethodOptions) -> Fitted:
        return Fitted()

    def prepare(self, fitted: Fitted, train: ChainLog, cascade: tuple[int, ...],
                options: MethodOptions) -> Fitted:
        return fitted

    def frontier(self, prepared: Fitted, train: ChainLog, test: ChainLog | None,
                 cascade: tuple[int, ...], options: MethodOptions, rng: Any) -> Frontier:
        raise NotImplementedError

    def score(self, frontier: Frontier, prepared: Fitted, test: ChainLog) -> Frontier:
        """Test accuracy and cost of every frontier point (the shared routing code)."""
        if prepared.model is not None:
            return evaluate_frontier(frontier, test, model=prepared.model)
        return evaluate_frontier(frontier, test, calibrators=prepared.calibrators)


class _CalibratorsOnly(TuningMethod):
    """Baselines that need the chain's calibrators and costs, nothing else of a model."""

    def fit_key(self, options: MethodOptions) -> Hashable:
        return ("calibrators",)

    def fit(self, train: ChainLog, options: MethodOptions) -> Fitted:
        calibrators, _ = fit_log_calibrators(train, "auto")
        return Fitted(calibrators=calibrators, costs=train.mean_cost * 1e6)


class MarkovCopulaMethod(TuningMethod):
    name = "markov-copula"
    summary = "the Markov-copula model (the paper's, default)"
    options = frozenset({"lambdas", "budgets", "n_lambdas", "family", "approximation"})
    is_model = True

    def fit_key(self, options: MethodOptions) -> Hashable:
        return (self.name, options.family, options.approximation)

    def fit(self, train: ChainLog, options: MethodOptions) -> Fitted:
        model = MarkovCopulaModel(family=options.family,
                                  approximation=options.approximation).fit(train)
        return Fitted.from_model(model)

    def prepare(self, fitted: Fitted, train: ChainLog, cascade: tuple[int, ...],
                options: MethodOptions) -> Fitted:
        model = fitted.model
        if isinstance(model, MarkovCopulaModel):
            for a, b in zip(cascade[:-1], cascade[1:]):
                model.pair_fit(a, b)
        return fitted

    def frontier(self, prepared: Fitted, train: ChainLog, test: ChainLog | None,
                 cascade: tuple[int, ...], options: MethodOptions, rng: Any) -> Frontier:
        return tune(prepared.model, cascade, lambdas=options.lambdas, budgets=options.budgets,
                    n_lambdas=options.n_lambdas, rng=rng)


class EmpiricalCopulaMethod(TuningMethod):
    name = "empirical-copula"
    summary = ("the empirical beta copula of all confidences: no Markov assumption, for logs "
               "of a few hundred queries or more")
    options = frozenset({"lambdas", "budgets", "n_lambdas"})
    is_model = True
    target: ClassVar[str] = "correct"

    def prepare(self, fitted: Fitted, train: ChainLog, cascade: tuple[int, ...],
                options: MethodOptions) -> Fitted:
        # Cheap to fit (calibrators and ranks), so fitted per cascade and timed as preparation.
        return Fitted.from_model(EmpiricalCopulaModel(target=self.target).fit(train))

    def frontier(self, prepared: Fitted, train: ChainLog, test: ChainLog | None,
                 cascade: tuple[int, ...], options: MethodOptions, rng: Any) -> Frontier:
        return tune(prepared.model, cascade, lambdas=options.lambdas, budgets=options.budgets,
                    n_lambdas=options.n_lambdas, rng=rng)


class EmpiricalCopulaPhiMethod(EmpiricalCopulaMethod):
    name = "empirical-copula-phi"
    summary = ("the empirical-copula model scoring calibrated confidences instead of labels "
               "(the Markov model's objective)")
    target = "confidence"


class MarkovCopulaPaperMethod(TuningMethod):
    name = "markov-copula-paper"
    summary = ("the published configuration of the Markov-copula model (two-beta marginals with "
               "atoms at the training extremes, Gumbel copulas by Kendall-tau inversion with an "
               "independence floor, the event-Markov product), tuned by our tuner")
    options = frozenset({"lambdas", "budgets", "n_lambdas"})
    is_model = True

    def fit_key(self, options: MethodOptions) -> Hashable:
        return (self.name,)

    def fit(self, train: ChainLog, options: MethodOptions) -> Fitted:
        return Fitted.from_model(PaperMarkovCopulaModel().fit(train))

    def prepare(self, fitted: Fitted, train: ChainLog, cascade: tuple[int, ...],
                options: MethodOptions) -> Fitted:
        model = fitted.model
        if isinstance(model, PaperMarkovCopulaModel):
            for a, b in zip(cascade[:-1], cascade[1:]):
                model.pair(a, b)
        return fitted

    def frontier(self, prepared: Fitted, train: ChainLog, test: ChainLog | None,
                 cascade: tuple[int, ...], options: MethodOptions, rng: Any) -> Frontier:
        return tune(prepared.model, cascade, lambdas=options.lambdas, budgets=options.budgets,
                    n_lambdas=options.n_lambdas, rng=rng)


_POSTERIOR_MODELS = ("markov-copula", "empirical-copula")


class PosteriorMethod(TuningMethod):
    """Thresholds on each stage's posterior given everything seen so far
    (:mod:`llmcopula.cascade.posterior`), with a joint model of the posteriors."""

    name = "posterior"
    summary = ("deferral on everything seen so far: each stage decides on a cross-fitted "
               "multi-signal posterior (raw signals of every model visited, answer agreement); "
               "--model chooses the joint model (markov-copula or empirical-copula)")
    options = frozenset({"lambdas", "budgets", "n_lambdas", "model", "family", "approximation"})
    is_model = True
    #: The joint model; ``None`` reads ``MethodOptions.model`` (default :attr:`default_model`).
    fixed_model: ClassVar[str | None] = None
    default_model: ClassVar[str] = "markov-copula"

    def model_name(self, options: MethodOptions) -> str:
        name = self.fixed_model or options.model or self.default_model
        if name not in _POSTERIOR_MODELS:
            raise ValueError(f"--model: expected one of {_POSTERIOR_MODELS}, got {name!r}")
        return name

    def check_options(self, options: MethodOptions) -> None:
        super().check_options(options)
        if self.model_name(options) == "empirical-copula" and (
                options.family != _DEFAULTS.family
                or options.approximation != _DEFAULTS.approximation):
            raise ValueError("--family/--approximation: options of the markov-copula joint "
                             "model, not of --model empirical-copula")

    def fit_key(self, options: MethodOptions) -> Hashable:
        return ("posterior",)

    def fit(self, train: ChainLog, options: MethodOptions) -> Fitted:
        return Fitted(costs=train.mean_cost * 1e6,
                      extra={"posterior": CascadePosterior().fit(train)})

    def prepare(self, fitted: Fitted, train: ChainLog, cascade: tuple[int, ...],
                options: MethodOptions) -> Fitted:
        post: CascadePosterior = fitted.extra["posterior"]
        derived = posterior_log(train, cascade, post.train_log_odds(cascade))
        model: CalibratedChainModel
        if self.model_name(options) == "markov-copula":
            model = MarkovCopulaModel(transform="identity", family=options.family,
                                      approximation=options.approximation)
        else:
            model = EmpiricalCopulaModel(transform="identity")
        prepared = Fitted.from_model(model.fit(derived))
        prepared.extra.update(posterior=post, cascade=cascade)
        return prepared

    def frontier(self, prepared: Fitted, train: ChainLog, test: ChainLog | None,
                 cascade: tuple[int, ...], options: MethodOptions, rng: Any) -> Frontier:
        local = tuple(range(len(cascade)))
        front = tune(prepared.model, local, lambdas=options.lambdas, budgets=options.budgets,
                     n_lambdas=options.n_lambdas, rng=rng)
        return replace(front, cascade=cascade, method=self.name)

    def score(self, frontier: Frontier, prepared: Fitted, test: ChainLog) -> Frontier:
        """Route the test log's posterior log-odds (computed by the deployable rules) with the
        frontier's thresholds."""
        post: CascadePosterior = prepared.extra["posterior"]
        cascade = prepared.extra["cascade"]
        derived = posterior_log(test, cascade, post.log_odds(test, cascade))
        return evaluate_frontier(frontier, derived, model=prepared.model)

    @staticmethod
    def rules(prepared: Fitted, frontier: Frontier, p: int) -> list[Any]:
        """The deployable rules of frontier point ``p``: one
        :class:`~llmcopula.policy.PosteriorRule` per stage but the last, thresholding the
        stage's posterior log-odds at the point's raw threshold."""
        post: CascadePosterior = prepared.extra["posterior"]
        cascade = prepared.extra["cascade"]
        model = prepared.model
        if model is None or not -len(frontier) <= p < len(frontier):
            raise ValueError(f"p: the frontier has {len(frontier)} points, got {p}")
        out = []
        for j in range(len(cascade) - 1):
            # A decreasing recalibration of the log-odds flips the rule (the raw thresholds
            # of such a stage are those of "accept iff z < r").
            direction = "below" if model.calibrators_[j].coef_ < 0 else "above"
            out.append(post.rule(cascade[: j + 1], threshold=float(frontier.raw_thresholds[p, j]),
                                 direction=direction))
        return out


class PosteriorMarkovMethod(PosteriorMethod):
    name = "posterior-markov-copula"
    summary = "the posterior method with the Markov-copula joint model"
    options = frozenset({"lambdas", "budgets", "n_lambdas", "family", "approximation"})
    fixed_model = "markov-copula"


class PosteriorEmpiricalMethod(PosteriorMethod):
    name = "posterior-empirical-copula"
    summary = "the posterior method with the empirical-copula joint model"
    options = frozenset({"lambdas", "budgets", "n_lambdas"})
    fixed_model = "empirical-copula"


class GridMethod(_CalibratorsOnly):
    name = "grid"
    summary = "grid search over 40 training quantiles per threshold (the paper's baseline)"
    score_kind: ClassVar[str] = "confidence"

    def frontier(self, prepared: Fitted, train: ChainLog, test: ChainLog | None,
                 cascade: tuple[int, ...], options: MethodOptions, rng: Any) -> Frontier:
        from .baselines import grid_search

        return grid_search(train, cascade, calibrators=prepared.calibrators,
                           costs=prepared.costs, score=self.score_kind)


class GridLabelsMethod(GridMethod):
    name = "grid-labels"
    summary = "grid search scoring training labels instead of calibrated confidences"
    score_kind = "labels"


class BayesOptMethod(_CalibratorsOnly):
    name = "bo"
    summary = "Gaussian-process Bayesian optimisation per cost sensitivity (scikit-optimize)"
    options = frozenset({"lambdas", "n_lambdas", "n_calls", "acq_optimizer"})
    score_kind: ClassVar[str] = "confidence"

    def frontier(self, prepared: Fitted, train: ChainLog, test: ChainLog | None,
                 cascade: tuple[int, ...], options: MethodOptions, rng: Any) -> Frontier:
        from .baselines import SkoptGP, bayes_opt

        return bayes_opt(train, cascade, calibrators=prepared.calibrators,
                         costs=prepared.costs, lambdas=options.lambdas,
                         n_lambdas=options.n_lambdas, n_calls=options.n_calls,
                         score=self.score_kind,
                         minimizer=SkoptGP(acq_optimizer=options.acq_optimizer), rng=rng)


class BayesOptLabelsMethod(BayesOptMethod):
    name = "bo-labels"
    summary = "Bayesian optimisation scoring training labels"
    score_kind = "labels"


class OracleMethod(TuningMethod):
    name = "oracle"
    summary = "the hindsight oracle on the test log (the limit no tuner can pass)"
    needs_test = True

    def frontier(self, prepared: Fitted, train: ChainLog, test: ChainLog | None,
                 cascade: tuple[int, ...], options: MethodOptions, rng: Any) -> Frontier:
        from .baselines import oracle_frontier

        if test is None:
            raise ValueError(f"--method {self.name}: needs labelled test data (hindsight limit)")
        return oracle_frontier(test, cascade)

    def score(self, frontier: Frontier, prepared: Fitted, test: ChainLog) -> Frontier:
        return frontier  # already scored on the test log


_REGISTRY: dict[str, TuningMethod] = {}


def register_method(method: TuningMethod) -> TuningMethod:
    """Add ``method`` to the registry under ``method.name`` (replacing one of that name)."""
    if not method.name:
        raise ValueError("method: needs a name")
    _REGISTRY[method.name] = method
    return method


for _cls in (MarkovCopulaMethod, EmpiricalCopulaMethod, EmpiricalCopulaPhiMethod, GridMethod,
             BayesOptMethod, OracleMethod, GridLabelsMethod, BayesOptLabelsMethod,
             MarkovCopulaPaperMethod, PosteriorMethod, PosteriorMarkovMethod,
             PosteriorEmpiricalMethod):
    register_method(_cls())


def method_names() -> tuple[str, ...]:
    """Names of the registered methods, in registration order.

    Examples
    --------
    >>> method_names()[:3]
    ('markov-copula', 'empirical-copula', 'empirical-copula-phi')
    """
    return tuple(_REGISTRY)


def get_method(name: str) -> TuningMethod:
    """The registered method called ``name``."""
    if name not in _REGISTRY:
        raise ValueError(f"method: unknown {name!r}; expected one of {list(_REGISTRY)}")
    return _REGISTRY[name]


def run_method(name: str, train: ChainLog, test: ChainLog | None = None,
               cascade: Sequence[int] | None = None, *, options: MethodOptions | None = None,
               rng: Any = None, fitted: Fitted | None = None) -> tuple[Frontier, Fitted]:
    """Fit, prepare and run one method on one cascade; score the frontier on ``test`` if given.

    Parameters
    ----------
    name : str
        A registered method (:func:`method_names`).
    train, test : ChainLog
        Training log, and optionally a labelled test log with the same models.
    cascade : sequence of int, optional
        Chain indices; default the whole chain.
    options : MethodOptions, optional
    rng : None, int or Generator
        Seed of the method's randomness (the tuner's scan, BO).
    fitted : Fitted, optional
        A previous ``fit`` of this method (or one with the same ``fit_key``) to reuse.

    Returns
    -------
    (Frontier, Fitted)
        The frontier (with test values when ``test`` is given) and what was fitted.

    Examples
    --------
    >>> from llmcopula.datasets import load_benchmark
    >>> train = load_benchmark("mmlu", "llama", split="train")
    >>> front, _ = run_method("grid", train, cascade=(0, 4))
    >>> front.method
    'grid'
    """
    method = get_method(name)
    opts = MethodOptions() if options is None else options
    method.check_options(opts)
    cas = check_cascade(cascade, train.n_models)
    if fitted is None:
        fitted = method.fit(train, opts)
    prepared = method.prepare(fitted, train, cas, opts)
    front = method.frontier(prepared, train, test, cas, opts, rng)
    if test is not None:
        front = method.score(front, prepared, test)
    return front, prepared
