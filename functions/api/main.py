"""HTTP function: the edge API (Flask app served by functions-framework)."""

import functions_framework
from flask import Request, Response, request
from werkzeug.exceptions import HTTPException

from vss.api.app import create_app
from vss.bootstrap.api import for_api
from vss.events import init_function

app = create_app(init_function(for_api, "api"))


@functions_framework.errorhandler(HTTPException)
def framework_error(exc: HTTPException) -> Response:
    """A path the framework's own router refuses before the app sees it (a control character
    in an id, `/api/v1/tasks/%0A/`) is answered as the app answers any routing error: JSON."""
    with app.request_context(request.environ):
        return app.make_response(app.handle_user_exception(exc))


@functions_framework.http
def api(request: Request) -> Response:
    with app.request_context(request.environ):
        return app.full_dispatch_request()
