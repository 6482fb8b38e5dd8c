"""The permission ledger (`vss.adapters.permissions`) checked against Terraform's grants.

Each function process of the local stack appends the (permission, resource) pairs its calls
need to `.vss/ledger/<function>.jsonl`. Here each pair is mapped to the Terraform scope it
falls under (a bucket, topic, queue or service account by its key, else the project) and looked
up in the roles `local.grants` gives that function, through a table of the predefined roles'
permissions (`tests/data/iam_roles.json`, with its source).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.paths import ROOT
from tests.support.terraform import root
from vss.adapters.permissions import PROJECT, SELF

ROLES_FILE = ROOT / "tests" / "data" / "iam_roles.json"
SCOPES = {"bucket": "buckets", "topic": "topics", "queue": "queues",
          "service-account": "service_accounts"}


@dataclass(frozen=True)
class Use:
    function: str
    permission: str
    resource: str


def read_ledgers(folder: Path) -> list[Use]:
    uses = set()
    for ledger in sorted(folder.glob("*.jsonl")):
        for line in ledger.read_text().splitlines():
            entry = json.loads(line)
            uses.add(Use(ledger.stem, entry["permission"], entry["resource"]))
    return sorted(uses, key=lambda u: (u.function, u.permission, u.resource))


def role_permissions() -> dict[str, set[str]]:
    return {role: set(perms) for role, perms in json.loads(ROLES_FILE.read_text())["roles"].items()}


def _names(locals_: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Resource name -> Terraform key, by scope (the local stack uses the base names)."""
    accounts = {f"{v['account_id']}@": k for k, v in locals_["service_accounts"].items()}
    return {
        "topics": {name: key for key, name in locals_["topics"].items()},
        "queues": {name: key for key, name in locals_["queues"].items()},
        "buckets": {name: key for key, name in locals_["bucket_base_names"].items()},
        "service_accounts": accounts,
    }


def scope_of(use: Use, locals_: dict[str, Any]) -> tuple[str, str | None]:
    """(Terraform scope, key) a used resource falls under; ("project", None) for the project."""
    if use.resource == PROJECT:
        return "project", None
    if use.resource == SELF:
        return "service_accounts", use.function
    kind, _, name = use.resource.partition("/")
    scope = SCOPES[kind]
    names = _names(locals_)[scope]
    if scope == "service_accounts":
        key = next((k for prefix, k in names.items() if name.startswith(prefix)), None)
    else:
        key = names.get(name)
    if key is None:
        raise KeyError(f"{use.function} used {use.resource}, which Terraform does not create")
    return scope, key


def granted_roles(grants: dict[str, Any], function: str, scope: str, key: str | None
                  ) -> set[str]:
    """Roles covering (scope, key) for the function: its roles there, and its project roles."""
    mine = grants.get(function, {})
    roles = set(mine.get("project", []))
    if scope != "project" and key is not None:
        roles |= set(mine.get(scope, {}).get(key, []))
    return roles


def missing_grants(uses: list[Use], grants: dict[str, Any], locals_: dict[str, Any],
                   roles: dict[str, set[str]]) -> list[str]:
    """One line per use no granted role allows, naming a role that would."""
    problems = []
    for use in uses:
        scope, key = scope_of(use, locals_)
        if any(use.permission in roles.get(r, set())
               for r in granted_roles(grants, use.function, scope, key)):
            continue
        fits = sorted(r for r, perms in roles.items() if use.permission in perms)
        where = "project" if key is None else f"{scope}.{key}"
        problems.append(f"{use.function} calls with {use.permission} on {use.resource}: grant "
                        f"it {' or '.join(fits) or 'a role with it'} on {where} in "
                        "local.grants (infra/terraform/main.tf)")
    return problems


def unexercised_grants(uses: list[Use], grants: dict[str, Any], locals_: dict[str, Any],
                       roles: dict[str, set[str]]) -> list[tuple[str, str, str]]:
    """(function, role, scope) granted to a function of the ledger that none of its recorded
    calls needed."""
    functions = {use.function for use in uses}
    needed: dict[tuple[str, str, str | None], set[str]] = {}
    for use in uses:
        scope, key = scope_of(use, locals_)
        needed.setdefault((use.function, scope, key), set()).add(use.permission)
    idle = []
    for function in sorted(functions):
        for scope, value in grants.get(function, {}).items():
            if scope == "invokes":  # who may call a function: not a call this one makes
                continue
            pairs = [(None, value)] if scope == "project" else list(value.items())
            for key, granted in pairs:
                for role in granted:
                    used = set().union(*(p for (f, s, k), p in needed.items()
                                         if f == function and (scope == "project" or
                                                               (s, k) == (scope, key))))
                    if not used & roles.get(role, set()):
                        idle.append((function, role, scope if key is None else f"{scope}.{key}"))
    return idle


def terraform() -> tuple[dict[str, Any], dict[str, Any]]:
    """(local.grants, the locals that name resources) of the root configuration."""
    locals_ = root().locals
    return locals_["grants"], locals_
