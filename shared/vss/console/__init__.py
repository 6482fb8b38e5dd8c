"""The operations console: server-rendered pages (Flask and Jinja2, no JavaScript needed) where
operators manage tenants, instances and keys, inspect tasks and act on them, and see what each
tenant spends per day; every change is written to the audit log. Served by
`functions/console/` under `/console/`.

    app.py        create_console(deps): the app, its cookie settings and error pages
    access.py     who is asking (an IAP assertion in production, else the session a console
                  token opened) and the CSRF check of every POST
    tokens.py     console tokens: signed, expiring (`vss admin console-token`)
    iap.py        verification of Identity-Aware Proxy assertions
    context.py    the app's Deps and the audit record of an action
    routes/       one blueprint per page family: login, tenants, tasks, audit, usage,
                  operations (failures and health)
    charts.py     server-drawn SVG geometry: the usage page's cost per day, the task page's
                  editing strip
"""

from vss.console.app import create_console

__all__ = ["create_console"]
