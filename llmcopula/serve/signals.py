"""Raw confidence signals from OpenAI-style chat completions, as the bundled logs define them.

- ``"logprob"``: the generated tokens' log-probabilities aggregated by ``"mean"`` (the arithmetic
  mean, as in the bundled MMLU/MedMCQA logs) or ``"sum"``.
- ``"p_true"``: a self-verification call. The model is shown the conversation, its own answer and
  :data:`VERIFY_PROMPT`, and replies with one token. The signal is log P(``Y``) when it replies
  ``Y``, log(1 - P(``N``)) when it replies ``N``, and -inf otherwise (no valid reply).

Standard library only.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["VERIFY_PROMPT", "SignalError", "answer_text", "logprob_signal", "p_true_signal",
           "usage_tokens", "verification_messages"]

VERIFY_PROMPT = ("Is the answer above correct? Reply with a single letter: Y if it is correct, "
                 "N if it is not.")


class SignalError(ValueError):
    """An upstream response that does not carry what the signal needs; ``kind`` names the fault
    (``"no_logprobs"`` or ``"bad_response"``)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def _choice(response: Mapping[str, Any]) -> Mapping[str, Any]:
    choices = response.get("choices") if isinstance(response, Mapping) else None
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], Mapping):
        raise SignalError("bad_response", "the response has no choices")
    return choices[0]


def answer_text(response: Mapping[str, Any]) -> str:
    """The first choice's message content ("" when it has none)."""
    message = _choice(response).get("message")
    if not isinstance(message, Mapping):
        raise SignalError("bad_response", "the first choice has no message")
    content = message.get("content")
    return content if isinstance(content, str) else ""


def token_logprobs(response: Mapping[str, Any]) -> list[tuple[str, float]]:
    """``(token, logprob)`` of the first choice's generated tokens."""
    logprobs = _choice(response).get("logprobs")
    content = logprobs.get("content") if isinstance(logprobs, Mapping) else None
    if not isinstance(content, list) or not content:
        raise SignalError("no_logprobs", "the response carries no token logprobs")
    out = []
    for item in content:
        lp = item.get("logprob") if isinstance(item, Mapping) else None
        if isinstance(lp, bool) or not isinstance(lp, (int, float)) or math.isnan(lp) or lp > 0:
            raise SignalError("no_logprobs", f"a token logprob is missing or invalid: {lp!r}")
        token = item.get("token")
        out.append((token if isinstance(token, str) else "", float(lp)))
    return out


def logprob_signal(response: Mapping[str, Any], aggregation: str = "mean") -> float:
    """Mean (or sum) of the generated tokens' log-probabilities.

    >>> r = {"choices": [{"message": {"content": "B"}, "logprobs": {"content": [
    ...     {"token": "B", "logprob": -0.5}, {"token": "<eot>", "logprob": -0.1}]}}]}
    >>> logprob_signal(r), logprob_signal(r, "sum")
    (-0.3, -0.6)
    """
    lps = [lp for _, lp in token_logprobs(response)]
    total = math.fsum(lps)
    if aggregation == "sum":
        return total
    if aggregation == "mean":
        return total / len(lps)
    raise ValueError(f"aggregation: expected 'mean' or 'sum', got {aggregation!r}")


def verification_messages(messages: Sequence[Any], answer: str) -> list[Any]:
    """The conversation of a self-verification call: the client's messages, the model's answer
    and :data:`VERIFY_PROMPT`."""
    return [*messages, {"role": "assistant", "content": answer},
            {"role": "user", "content": VERIFY_PROMPT}]


def p_true_signal(response: Mapping[str, Any]) -> float:
    """log P(True) from a verification reply's first token.

    >>> def reply(token, lp):
    ...     return {"choices": [{"message": {"content": token},
    ...                          "logprobs": {"content": [{"token": token, "logprob": lp}]}}]}
    >>> p_true_signal(reply("Y", -0.2)), round(p_true_signal(reply("N", math.log(0.9))), 6)
    (-0.2, -2.302585)
    >>> p_true_signal(reply("Maybe", -0.1)), p_true_signal(reply("N", 0.0))
    (-inf, -inf)
    """
    token, lp = token_logprobs(response)[0]
    token = token.strip().upper()
    if token.startswith("Y"):
        return lp
    if token.startswith("N"):
        p_no = math.exp(lp)
        return math.log1p(-p_no) if p_no < 1.0 else -math.inf
    return -math.inf


def usage_tokens(response: Mapping[str, Any]) -> tuple[int, int]:
    """``(prompt_tokens, completion_tokens)`` from the response's ``usage`` (0 when absent)."""
    usage = response.get("usage") if isinstance(response, Mapping) else None
    if not isinstance(usage, Mapping):
        return 0, 0

    def count(key: str) -> int:
        v = usage.get(key, 0)
        return int(v) if isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0 else 0
    return count("prompt_tokens"), count("completion_tokens")
