"""Running a tuned cascade: an OpenAI-compatible gateway, replay upstreams and drift monitoring.

- :mod:`llmcopula.serve.gateway`: ``llmcopula serve``, a FastAPI app that runs a
  :class:`~llmcopula.policy.CascadePolicy` in front of OpenAI-compatible model servers and writes
  a call log. It loads the policy and serves; it never imports the fitting stack (nor pandas).
- :mod:`llmcopula.serve.replay`: ``llmcopula replay``, the bundled benchmark logs served as
  OpenAI-compatible upstreams that answer the real questions with the recorded outputs.
- :mod:`llmcopula.serve.monitor`: ``llmcopula monitor``, a call log checked against the policy's
  reference profile (:mod:`llmcopula.monitoring`).

The gateway and replay server need the ``serve`` extra: ``pip install "llmcopula[serve]"``.
This package's ``__init__`` imports nothing, so that importing one part does not pull in another.
"""
