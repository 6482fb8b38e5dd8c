"""The operations console: server-rendered pages (Flask and Jinja2, no JavaScript needed) where
operators manage tenants, instances and keys, inspect tasks and act on them; every change is
written to the audit log. Served by `functions/console/` under `/console/`.

    app.py        create_console(deps): the app, its cookie settings and error pages
    access.py     who is asking (an IAP assertion in production, else the session a console
                  token opened) and the CSRF check of every POST
    tokens.py     console tokens: signed, expiring (`vss admin console-token`)
    iap.py        verification of Identity-Aware Proxy assertions
    context.py    the app's Deps and the audit record of an action
    routes/       one blueprint per page family: login, tenants, tasks, audit, operations
                  (failures and health)
"""

from vss.console.app import create_console

__all__ = ["create_console"]
