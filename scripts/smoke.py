"""`make smoke`: `vss smoke` against the local stack, as the demo tenant (`make demo`'s).

Against a deployment, run `vss smoke DATASET --api-url URL --instance-id ID --api-key KEY`.
Expects the stack up (`make up`; `make smoke` does it).
"""

from __future__ import annotations

import os
import subprocess
import sys

from demo import EXAMPLE, VSS, demo_tenant


def main() -> int:
    from vss.config import load_local_env

    env_file = load_local_env()
    if "VSS_API_URL" not in os.environ:
        sys.exit("smoke: the local stack is not running: `make up` (make smoke does it)")
    creds = demo_tenant(dict(os.environ))
    env = {**os.environ, **env_file, "VSS_INSTANCE_ID": creds["instance_id"],
           "VSS_API_KEY": creds["api_key"]}
    return subprocess.run([str(VSS), "smoke", str(EXAMPLE)], env=env, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
