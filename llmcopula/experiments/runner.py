"""Run a sweep of tasks with joblib, resumably, with a progress line on stderr.

Each finished task is written to its own small CSV under ``<output_dir>/tasks/`` (written to a
temporary name, then renamed, so a killed run never leaves half a file). A second run skips
every task whose file exists, so an interrupted sweep resumes where it stopped, and two
invocations with different options into the same folder add up (for example a full-data sweep
and a low-sample sweep on fewer cascades).
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterable
from pathlib import Path

import pandas as pd
from joblib import Parallel, delayed

from .tasks import Task, run_task

__all__ = ["run_sweep", "task_path", "read_task_results"]


def task_path(output_dir: Path, task: Task) -> Path:
    return output_dir / "tasks" / f"{task.benchmark}__{task.chain}" / f"{task.task_id}.csv"


def _write(path: Path, frame: pd.DataFrame) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    frame.to_csv(tmp, index=False)
    os.replace(tmp, path)


class _Progress:
    """A one-line stderr progress report (done/total, failures, elapsed, ETA)."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.total, self.done, self.failed = total, 0, 0
        self.enabled = enabled and total > 0
        self.start = time.monotonic()
        self.last = 0.0

    def update(self, failed: bool) -> None:
        self.done += 1
        self.failed += int(failed)
        now = time.monotonic()
        if not self.enabled or (now - self.last < 0.5 and self.done < self.total):
            return
        self.last = now
        elapsed = now - self.start
        eta = elapsed / self.done * (self.total - self.done)
        sys.stderr.write(f"\rreproduce: {self.done}/{self.total} tasks "
                         f"({100 * self.done / self.total:5.1f}%), {self.failed} failed, "
                         f"elapsed {elapsed:6.0f} s, eta {eta:6.0f} s ")
        sys.stderr.flush()
        if self.done == self.total:
            sys.stderr.write("\n")


def run_sweep(tasks: Iterable[Task], output_dir: str | Path, *, n_jobs: int = 1,
              progress: bool = True, command: str | None = None) -> dict[str, int]:
    """Run the tasks not yet done; return counts ``{"total", "skipped", "run", "failed"}``.

    Parallelism is joblib's: ``n_jobs`` workers of the active backend (loky processes by
    default; a ``joblib.parallel_config(backend="dask")`` context sends the tasks to a
    ``dask.distributed`` cluster instead). Results come back to this process, which writes them.
    """
    out = Path(output_dir)
    tasks = list(tasks)
    todo = [t for t in tasks if not task_path(out, t).exists()]
    out.mkdir(parents=True, exist_ok=True)
    if command is not None:
        with open(out / "runs.jsonl", "a", encoding="utf-8") as fh:
            fh.write(json.dumps({"command": command, "tasks": len(tasks), "todo": len(todo),
                                 "config": tasks[0].config.to_dict() if tasks else None,
                                 "started": time.strftime("%Y-%m-%d %H:%M:%S")}) + "\n")
    bar = _Progress(len(todo), progress)
    failed = 0
    if todo:
        by_id = {t.task_id: t for t in todo}
        parallel = Parallel(n_jobs=n_jobs, return_as="generator_unordered", batch_size=1)
        for frame in parallel(delayed(run_task)(t) for t in todo):
            task = by_id[frame["task_id"].iloc[0]]
            _write(task_path(out, task), frame)
            is_failed = bool((frame["status"] == "failed").any())
            failed += is_failed
            bar.update(is_failed)
    return {"total": len(tasks), "skipped": len(tasks) - len(todo), "run": len(todo),
            "failed": failed}


def read_task_results(output_dir: str | Path) -> pd.DataFrame:
    """All task rows found under ``<output_dir>/tasks`` (empty frame if none)."""
    files = sorted((Path(output_dir) / "tasks").glob("*/*.csv"))
    if not files:
        return pd.DataFrame()
    frames = [pd.read_csv(f, dtype={"n_train": str, "cascade": str, "thresholds": str,
                                    "error": str, "warning": str}, keep_default_na=False,
                          na_values=[""]) for f in files]
    return pd.concat(frames, ignore_index=True)
