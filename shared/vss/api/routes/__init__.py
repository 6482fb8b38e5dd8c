"""The API's routes, one blueprint per resource. A route authenticates, parses into a model,
calls the service layer and serialises a view (vss.api.views); errors are raised, never
answered here (vss.api.error_handlers answers them)."""

from __future__ import annotations

from flask import Blueprint

from vss.api.routes import assets, files, meta, tasks

BLUEPRINTS: tuple[Blueprint, ...] = (meta.blueprint, files.blueprint, tasks.blueprint,
                                      assets.blueprint)

__all__ = ["BLUEPRINTS"]
