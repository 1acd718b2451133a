"""Experiments: the ``llmcopula reproduce`` comparison of cascade tuners on shipped data."""

from .analysis import compute_areas, headline, summarise_by_k, wilcoxon_less
from .reproduce import DEFAULT_BENCHMARKS, analyse, reproduce
from .tasks import ReproduceConfig, Task, make_tasks, run_task, train_subsample

__all__ = ["reproduce", "analyse", "ReproduceConfig", "Task", "make_tasks", "run_task",
           "train_subsample", "compute_areas", "summarise_by_k", "headline", "wilcoxon_less",
           "DEFAULT_BENCHMARKS"]
