"""`vss` console script: tenant administration and an edge client.

    vss admin create-tenant --name NAME      -> {"tenant_id","instance_id","api_key"}
    vss admin add-instance --tenant ID       -> a second edge instance of a tenant
    vss admin list-tenants | list-instances [--tenant ID]
    vss admin rotate-key INSTANCE_ID | revoke-key INSTANCE_ID

Reads `.vss/local.env` when present, so it talks to the local stack after `make up`.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from vss.config import load_local_env


def _print(value: Any) -> None:
    print(json.dumps(value, ensure_ascii=False, indent=2, default=str))


def _admin(args: argparse.Namespace) -> int:
    from vss.bootstrap import bootstrap
    from vss.service import auth

    deps = bootstrap()
    if args.action == "create-tenant":
        creds = auth.create_tenant(deps, args.name)
    elif args.action == "add-instance":
        creds = auth.add_instance(deps, args.tenant)
    elif args.action == "rotate-key":
        creds = auth.rotate_key(deps, args.instance_id)
    elif args.action == "revoke-key":
        instance = auth.revoke_key(deps, args.instance_id)
        _print({"instance_id": instance.id, "active": instance.active})
        return 0
    elif args.action == "list-tenants":
        _print([t.model_dump(mode="json") for t in deps.tenants.list_tenants()])
        return 0
    else:  # list-instances: never print key material, not even the hash
        _print([i.model_dump(mode="json", exclude={"key_hash"})
                for i in deps.tenants.list_instances(args.tenant)])
        return 0
    _print({"tenant_id": creds.tenant_id, "instance_id": creds.instance_id,
            "api_key": creds.api_key})
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vss", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    admin = commands.add_parser("admin", help="tenants, instances and API keys")
    actions = admin.add_subparsers(dest="action", required=True)
    actions.add_parser("create-tenant").add_argument("--name", required=True)
    actions.add_parser("add-instance").add_argument("--tenant", required=True)
    actions.add_parser("list-tenants")
    actions.add_parser("list-instances").add_argument("--tenant")
    actions.add_parser("rotate-key").add_argument("instance_id")
    actions.add_parser("revoke-key").add_argument("instance_id")
    return parser


def main(argv: list[str] | None = None) -> int:
    load_local_env()
    args = _parser().parse_args(argv)
    try:
        return _admin(args)
    except Exception as exc:  # one clear line, not a traceback, for an operator
        print(f"vss: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
