"""HTTP function: the edge API (Flask app served by functions-framework)."""

import functions_framework
from flask import Request, Response

from vss.api.app import create_app
from vss.events import init_function

app = create_app(init_function())


@functions_framework.http
def api(request: Request) -> Response:
    with app.request_context(request.environ):
        return app.full_dispatch_request()
