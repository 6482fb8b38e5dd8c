"""The `Deps` a Flask app runs with, stored on the app by its factory and read by its routes
(the API's and the console's alike), so each resource's routes can live in a module of their
own instead of closing over the factory's arguments."""

from __future__ import annotations

from flask import Flask, current_app

from vss.deps import Deps

_KEY = "vss"


def install(app: Flask, deps: Deps) -> None:
    """Store `deps` on `app` for `app_deps()`."""
    app.extensions[_KEY] = deps


def app_deps() -> Deps:
    """The `Deps` of the app handling the current request."""
    found = current_app.extensions[_KEY]
    assert isinstance(found, Deps)
    return found
