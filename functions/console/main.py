"""HTTP function: the operations console (Flask app served by functions-framework) under
`/console/`. In production only the IAP-fronted load balancer reaches it."""

import functions_framework
from flask import Request, Response, request
from werkzeug.exceptions import HTTPException

from vss.bootstrap import for_console
from vss.console import create_console
from vss.events import init_function

app = create_console(init_function(for_console, "console"))


@functions_framework.errorhandler(HTTPException)
def framework_error(exc: HTTPException) -> Response:
    """A path the framework's own router refuses before the app sees it is answered with the
    console's own error page, as any routing error of the app is."""
    with app.request_context(request.environ):
        return app.make_response(app.handle_user_exception(exc))


@functions_framework.http
def console(request: Request) -> Response:
    with app.request_context(request.environ):
        return app.full_dispatch_request()
