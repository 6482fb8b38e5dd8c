"""`make smoke`: `vss smoke` against the local stack, as the demo tenant (`make demo`'s).

Against a deployment, run `vss smoke DATASET --api-url URL --instance-id ID --api-key KEY`.
Expects the stack up (`make up`; `make smoke` does it).
"""

from __future__ import annotations

import subprocess
import sys

from demo import EXAMPLE, VSS, demo_env


def main() -> int:
    return subprocess.run([str(VSS), "smoke", str(EXAMPLE)], env=demo_env("smoke"),
                          check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
