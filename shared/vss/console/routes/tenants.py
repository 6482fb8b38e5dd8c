"""Tenants, their edge instances and API keys (`vss.service.auth`); a new key is shown once.
Each tenant's quotas (`vss.service.quotas`): its limits and use, and a form to override them."""

from __future__ import annotations

from collections import defaultdict

from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from vss.app_deps import app_deps
from vss.console.context import record
from vss.domain.files import Instance
from vss.domain.quotas import Quota, parse_override
from vss.errors import BadRequest, NotFound
from vss.service import auth, quotas

bp = Blueprint("tenants", __name__)


@bp.get("/tenants")
def index() -> str:
    """Tenants newest first; `q` keeps those whose name or id contains it (case ignored)."""
    query = " ".join(request.args.get("q", "").split())[:200]
    instances: dict[str, list[Instance]] = defaultdict(list)
    for instance in sorted(app_deps().tenants.list_instances(), key=lambda i: i.created):
        instances[instance.tenant_id].append(instance)
    tenants = sorted(app_deps().tenants.list_tenants(), key=lambda t: t.created, reverse=True)
    if query:
        tenants = [t for t in tenants if query.casefold() in f"{t.name} {t.id}".casefold()]
    return render_template("tenants.html", title="Tenants", tenants=tenants,
                           instances=instances, query=query)


@bp.post("/tenants")
def create() -> str:
    name = " ".join(request.form.get("name", "").split())
    if not name or len(name) > 200:
        raise BadRequest("A tenant needs a name of 1 to 200 characters.")
    creds = auth.create_tenant(app_deps(), name)
    record("tenant.create", creds.tenant_id, name=name, instance_id=creds.instance_id)
    return _key_page("Tenant created", creds)


@bp.post("/tenants/<tenant_id>/instances")
def add_instance(tenant_id: str) -> str:
    if all(t.id != tenant_id for t in app_deps().tenants.list_tenants()):
        raise NotFound(f"Tenant {tenant_id} does not exist.")
    creds = auth.add_instance(app_deps(), tenant_id)
    record("instance.add", creds.instance_id, tenant_id=tenant_id)
    return _key_page("Instance added", creds)


@bp.post("/instances/<instance_id>/rotate")
def rotate(instance_id: str) -> str:
    creds = auth.rotate_key(app_deps(), instance_id)
    record("key.rotate", instance_id, tenant_id=creds.tenant_id)
    return _key_page("Key rotated", creds)


@bp.post("/instances/<instance_id>/revoke")
def revoke(instance_id: str) -> Response:
    instance = auth.revoke_key(app_deps(), instance_id)
    record("key.revoke", instance_id, tenant_id=instance.tenant_id)
    return redirect(url_for("tenants.index"), code=303)


@bp.get("/tenants/<tenant_id>/quotas")
def show_quotas(tenant_id: str) -> str:
    """The tenant's limits, its overrides and what it uses now."""
    report = quotas.report(app_deps(), tenant_id)
    return render_template("quotas.html", title=f"Quotas of {tenant_id}", report=report,
                           quotas=list(Quota))


@bp.post("/tenants/<tenant_id>/quotas")
def set_quotas(tenant_id: str) -> Response:
    """Each field: a number, `unlimited`, or empty / `default` for the default."""
    changes: dict[Quota, int | str | None] = {}
    for quota in Quota:
        text = request.form.get(quota.value, "").strip() or "default"
        try:
            changes[quota] = parse_override(text)
        except ValueError:
            raise BadRequest(f"{quota.value}: {text!r} is not a number (0 or more), "
                             "'unlimited' or 'default'.") from None
    quotas.set_quotas(app_deps(), tenant_id, changes)
    record("tenant.quotas", tenant_id, **{q.value: str(v) for q, v in changes.items()
                                           if v is not None})
    return redirect(url_for("tenants.show_quotas", tenant_id=tenant_id), code=303)


def _key_page(title: str, creds: auth.Credentials) -> str:
    return render_template("key.html", title=title, creds=creds)
