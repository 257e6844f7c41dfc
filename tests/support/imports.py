"""Which heavy libraries an import drags in, checked in a clean interpreter."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def loaded_by_importing(modules: Iterable[str], watched: Iterable[str]) -> list[str]:
    """The ``watched`` top-level packages present after importing ``modules``."""
    code = "\n".join(
        [
            "import json, sys",
            *(f"import {module}" for module in modules),
            "loaded = {name.split('.')[0] for name in sys.modules}",
            f"print(json.dumps(sorted(loaded & {set(watched)!r})))",
        ]
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    return json.loads(done.stdout)
