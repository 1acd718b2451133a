"""``llmcopula replay``: the bundled logs served as OpenAI-compatible upstreams.

Every bundled model of a benchmark split (both chains, nine models) answers at one
``/v1/chat/completions`` endpoint, chosen by the request's ``model``. The server recognises which
bundled question the prompt holds, whatever the template around it, and answers with that model's
recorded output:

- the message content is the recorded ``answer``;
- ``usage`` carries the recorded ``input_tokens`` and ``output_tokens``, so that an upstreams
  file with the models' list prices reproduces the recorded ``cost_answer_usd``;
- with ``logprobs: true`` the reply carries one logprob entry per recorded output token, each
  equal to the recorded ``raw_confidence``, so that their arithmetic mean is exactly the recorded
  value (the ``"mean"`` aggregation of the bundled logs).

A self-verification request (the conversation, the model's answer and the gateway's
:data:`~llmcopula.serve.signals.VERIFY_PROMPT`) is answered ``Y`` with log-probability equal to
the recorded raw value, so a ``p_true`` upstream routes exactly as the recorded signal does; its
usage is the recorded input and output tokens plus 16 prompt tokens, and 1 completion token.

Recognition. Prompts and question texts are compared after normalising white space (CR-LF and
CR become line breaks, runs of white space one space). A question is recognised when its text and
its four options all occur in the prompt; among several, the longest question wins, and among
identical ones the lowest ``query_id``. MMLU test has 2 pairs of queries with identical question
and options but different recorded outputs (MMLU train 1 pair): they are answered from the first
record of the pair, and :attr:`ReplayData.ambiguous` lists them so that exact comparisons can
leave them out.

For trying a gateway's fault handling, a model can be made to fail (``faults``: ``no_logprobs``,
``invalid_json``, ``http_500``) or to answer late (``delays``).
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import json
import math
import time
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from llmcopula.serve.signals import VERIFY_PROMPT

__all__ = ["FAULTS", "ReplayData", "create_replay_app", "normalize_text"]

FAULTS = ("no_logprobs", "invalid_json", "http_500")
_KEY = 24
_END_TOKEN = "<|end|>"


def normalize_text(text: str) -> str:
    """Line breaks unified and white-space runs collapsed, for matching prompts to questions.

    >>> normalize_text("Which one?\\r\\n  A) x\\r\\rB) y ")
    'Which one? A) x B) y'
    """
    return " ".join(text.replace("\r\n", "\n").replace("\r", "\n").split())


def _message_text(messages: Any) -> str:
    parts: list[str] = []
    for msg in messages if isinstance(messages, list) else []:
        content = msg.get("content") if isinstance(msg, Mapping) else None
        if isinstance(content, str):
            parts.append(content)
        elif isinstance(content, list):
            parts.extend(p.get("text", "") for p in content
                         if isinstance(p, Mapping) and isinstance(p.get("text"), str))
    return "\n".join(parts)


@dataclass
class ReplayData:
    """The recorded outputs of every model on one benchmark split, and the question index."""

    benchmark: str
    split: str
    models: tuple[str, ...]
    query_ids: np.ndarray
    questions: list[str]
    options: list[tuple[str, str, str, str]]
    answer: dict[str, list[str]]
    raw: dict[str, np.ndarray]
    input_tokens: dict[str, np.ndarray]
    output_tokens: dict[str, np.ndarray]
    ambiguous: frozenset[int] = frozenset()
    _index: dict[str, list[int]] = field(default_factory=dict, repr=False)
    _short: list[int] = field(default_factory=list, repr=False)
    _match_cached: Any = field(default=None, repr=False)

    @classmethod
    def load(cls, benchmark: str, split: str = "test") -> ReplayData:
        """Load a bundled multiple-choice benchmark split (``mmlu`` or ``medmcqa``)."""
        from llmcopula.datasets import load_questions
        from llmcopula.datasets.benchmarks import _find_file, _manifest, _read_csv

        questions = load_questions(benchmark, split)
        ids = questions["query_id"].to_numpy()
        models: list[str] = []
        answer: dict[str, list[str]] = {}
        raw: dict[str, np.ndarray] = {}
        tok_in: dict[str, np.ndarray] = {}
        tok_out: dict[str, np.ndarray] = {}
        for chain in _manifest()["chains"]:
            entry = _find_file("chain_results", benchmark, split, chain)
            frame = _read_csv(entry["file"], ("answer", "model"))
            for model, rows in frame.groupby("model", sort=False):
                rows = rows.set_index("query_id").loc[ids]
                models.append(str(model))
                answer[model] = [str(a) for a in rows["answer"]]
                raw[model] = rows["raw_confidence"].to_numpy(dtype=float)
                tok_in[model] = rows["input_tokens"].to_numpy(dtype=np.int64)
                tok_out[model] = rows["output_tokens"].to_numpy(dtype=np.int64)
        data = cls(benchmark=benchmark, split=split, models=tuple(models), query_ids=ids,
                   questions=[normalize_text(q) for q in questions["question"]],
                   options=[tuple(normalize_text(o) for o in row)  # type: ignore[misc]
                            for row in questions[["A", "B", "C", "D"]].itertuples(index=False)],
                   answer=answer, raw=raw, input_tokens=tok_in, output_tokens=tok_out)
        data._build_index()
        return data

    def _build_index(self) -> None:
        index: dict[str, list[int]] = defaultdict(list)
        short: list[int] = []
        for i, q in enumerate(self.questions):
            if len(q) >= _KEY:
                index[q[:_KEY]].append(i)
            else:
                short.append(i)
        self._index, self._short = dict(index), short
        groups: dict[tuple[str, ...], list[int]] = defaultdict(list)
        for i, q in enumerate(self.questions):
            groups[(q, *self.options[i])].append(i)
        ambiguous = set()
        for rows in groups.values():
            if len(rows) > 1 and any(
                    len({(self.answer[m][r], self.raw[m][r], self.input_tokens[m][r],
                          self.output_tokens[m][r]) for r in rows}) > 1 for m in self.models):
                ambiguous.update(int(self.query_ids[r]) for r in rows)
        self.ambiguous = frozenset(ambiguous)
        # A gateway sends the same prompt to several models: remember recent matches.
        self._match_cached = functools.lru_cache(maxsize=8192)(self._match)

    def match(self, prompt: str) -> int | None:
        """Row of the bundled question held by ``prompt`` (see the module docstring), or None."""
        return self._match_cached(prompt)

    def _match(self, prompt: str) -> int | None:
        text = normalize_text(prompt)
        found: set[int] = set()
        index = self._index
        for i in range(len(text) - _KEY + 1):
            rows = index.get(text[i:i + _KEY])
            if rows is not None:
                found.update(rows)
        found.update(r for r in self._short if self.questions[r] in text)
        best = None
        for r in sorted(found):
            if self.questions[r] in text and all(o in text for o in self.options[r]):
                if best is None or len(self.questions[r]) > len(self.questions[best]):
                    best = r
        return best


def _json_response(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Any:
    from starlette.responses import Response

    return Response(json.dumps(body), status_code=status, media_type="application/json",
                    headers=dict(headers or {}))


def create_replay_app(data: ReplayData, *, faults: Mapping[str, str] | None = None,
                      delays: Mapping[str, float] | None = None) -> Any:
    """A Starlette app serving ``data`` (see the module docstring)."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    faults = dict(faults or {})
    delays = dict(delays or {})
    for name, table in (("faults", faults), ("delays", delays)):
        unknown = sorted(set(table) - set(data.models))
        if unknown:
            raise ValueError(f"{name}: unknown model(s) {unknown}; replay serves {list(data.models)}")
    bad = {m: k for m, k in faults.items() if k not in FAULTS}
    if bad:
        raise ValueError(f"faults: unknown fault kind(s) {bad}; known: {list(FAULTS)}")
    bad_delays = {m: d for m, d in delays.items() if not (np.isfinite(d) and d >= 0)}
    if bad_delays:
        raise ValueError(f"delays: every delay must be a finite number of seconds >= 0, got "
                         f"{bad_delays}")
    counter = itertools.count()

    def error(status: int, message: str, kind: str) -> Any:
        return _json_response({"error": {"message": message, "type": kind}}, status)

    async def chat(request: Request) -> Any:
        try:
            body = json.loads(await request.body())
        except ValueError:
            return error(400, "the request body is not valid JSON", "invalid_request_error")
        if not isinstance(body, dict):
            return error(400, "the request body must be a JSON object", "invalid_request_error")
        model = body.get("model")
        if model not in data.raw:
            return error(404, f"model {model!r} not found; replay serves {list(data.models)}",
                         "not_found_error")
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            return error(400, "'messages' must be a non-empty list", "invalid_request_error")
        last = messages[-1] if isinstance(messages[-1], Mapping) else {}
        verifying = (len(messages) >= 3 and last.get("role") == "user"
                     and last.get("content") == VERIFY_PROMPT)
        row = data.match(_message_text(messages[:-2] if verifying else messages))
        if row is None:
            return error(400, f"no bundled {data.benchmark} {data.split} question was recognised "
                         "in the prompt", "invalid_request_error")
        delay = delays.get(model, 0.0)
        if delay:
            await asyncio.sleep(delay)
        fault = faults.get(model)
        if fault == "http_500":
            return error(500, "injected fault", "server_error")
        if fault == "invalid_json":
            return Response(b'{"id": "broken", "choices": [', media_type="application/json")
        raw = float(data.raw[model][row])
        if not math.isfinite(raw):  # JSON has no infinities; OpenAI reports -9999 as floor
            raw = -9999.0
        if verifying:
            content, tokens = "Y", ["Y"]
            usage_in = int(data.input_tokens[model][row]) + int(data.output_tokens[model][row]) + 16
            usage_out = 1
        else:
            content = data.answer[model][row]
            usage_in = int(data.input_tokens[model][row])
            usage_out = int(data.output_tokens[model][row])
            tokens = [content] + [_END_TOKEN] * max(usage_out - 1, 0)
        choice: dict[str, Any] = {"index": 0, "message": {"role": "assistant", "content": content},
                                  "finish_reason": "stop", "logprobs": None}
        if body.get("logprobs") and fault != "no_logprobs":
            choice["logprobs"] = {"content": [
                {"token": t, "logprob": raw, "bytes": list(t.encode("utf-8")), "top_logprobs": []}
                for t in tokens]}
        qid = int(data.query_ids[row])
        out = {"id": f"replay-{next(counter)}", "object": "chat.completion",
               "created": int(time.time()), "model": model, "choices": [choice],
               "usage": {"prompt_tokens": usage_in, "completion_tokens": usage_out,
                         "total_tokens": usage_in + usage_out}}
        return _json_response(out, headers={"x-replay-query-id": str(qid)})

    async def models(request: Request) -> Any:
        return _json_response({"object": "list", "data": [
            {"id": m, "object": "model", "created": 0, "owned_by": "llmcopula-replay"}
            for m in data.models]})

    async def health(request: Request) -> Any:
        return _json_response({"status": "ok", "benchmark": data.benchmark, "split": data.split,
                               "models": list(data.models)})

    return Starlette(routes=[Route("/v1/chat/completions", chat, methods=["POST"]),
                             Route("/v1/models", models, methods=["GET"]),
                             Route("/health", health, methods=["GET"])])
