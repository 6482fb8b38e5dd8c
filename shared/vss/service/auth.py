"""Tenants, edge instances and API keys. Keys are 256-bit random tokens, so a SHA-256 digest is
a safe verifier (no slow hash needed); only the digest and a short prefix are stored."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass

from vss.deps import Deps
from vss.domain.files import Instance, Tenant
from vss.domain.ids import is_valid_id
from vss.errors import NotFound, Unauthenticated

_KEY_PREFIX = "vss_"


def hash_key(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()


def _new_key() -> str:
    return _KEY_PREFIX + secrets.token_urlsafe(32)


@dataclass(frozen=True)
class Credentials:
    tenant_id: str
    instance_id: str
    api_key: str


def create_tenant(deps: Deps, name: str) -> Credentials:
    now = deps.clock()
    tenant = Tenant(id=f"t_{uuid.uuid4().hex[:16]}", name=name, created=now)
    deps.tenants.add_tenant(tenant)
    return add_instance(deps, tenant.id)


def add_instance(deps: Deps, tenant_id: str) -> Credentials:
    key = _new_key()
    instance = Instance(
        id=f"i_{uuid.uuid4().hex[:16]}", tenant_id=tenant_id, key_hash=hash_key(key),
        key_prefix=key[:8], created=deps.clock(),
    )
    deps.tenants.add_instance(instance)
    return Credentials(tenant_id, instance.id, key)


def rotate_key(deps: Deps, instance_id: str) -> Credentials:
    instance = _instance(deps, instance_id)
    key = _new_key()
    deps.tenants.save_instance(instance.model_copy(update={
        "key_hash": hash_key(key), "key_prefix": key[:8], "active": True,
        "rotated": deps.clock(),
    }))
    return Credentials(instance.tenant_id, instance.id, key)


def revoke_key(deps: Deps, instance_id: str) -> Instance:
    instance = _instance(deps, instance_id).model_copy(update={"active": False})
    deps.tenants.save_instance(instance)
    return instance


def _instance(deps: Deps, instance_id: str) -> Instance:
    instance = deps.tenants.get_instance(instance_id) if is_valid_id(instance_id) else None
    if instance is None:
        raise NotFound(f"Instance {instance_id} does not exist.")
    return instance


def authenticate(deps: Deps, instance_id: str | None, api_key: str | None) -> Instance:
    """The active instance these headers identify; one vague error for every failure."""
    if not instance_id or not api_key:
        raise Unauthenticated("X-Instance-ID and X-Api-Key headers are required.")
    # A malformed id is answered like an unknown one, and never reaches the repository.
    instance = deps.tenants.get_instance(instance_id) if is_valid_id(instance_id) else None
    if instance is None or not instance.active or not hmac.compare_digest(
        instance.key_hash, hash_key(api_key)
    ):
        raise Unauthenticated("Unknown instance or invalid API key.")
    return instance
