"""The gateway's server process: ``python -m llmcopula.serve.run``.

``llmcopula serve`` checks its options, binds the listening socket (so that port 0 gets a port
from the OS and the port is known before any worker starts) and replaces itself with this module
in a fresh interpreter, which therefore holds only the serving stack (no pandas, no fitting code).
The configuration comes in the environment (:data:`~llmcopula.serve.gateway.CONFIG_ENV`) and the
socket as an inherited file descriptor (``LLMCOPULA_SERVE_FD``).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile

FD_ENV = "LLMCOPULA_SERVE_FD"


def main() -> int:
    from llmcopula.serve.gateway import CONFIG_ENV, ServeConfig

    config = ServeConfig.from_json(os.environ[CONFIG_ENV])
    fd = int(os.environ[FD_ENV])
    own_dir = None
    if config.workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        own_dir = tempfile.mkdtemp(prefix="llmcopula-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = own_dir
    import uvicorn

    try:
        uvicorn.run("llmcopula.serve.gateway:app_from_env", factory=True, fd=fd,
                    workers=config.workers, access_log=False, log_level="warning",
                    lifespan="on", timeout_graceful_shutdown=None)
    finally:
        if own_dir is not None:
            shutil.rmtree(own_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
