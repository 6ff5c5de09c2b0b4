"""The app served over real HTTP on 127.0.0.1, for tests that need a socket (browsers,
Stripe's SDK, concurrent clients)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from werkzeug.serving import make_server

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment


def closing_responses(app: WSGIApplication) -> WSGIApplication:
    """Wrap ``app`` so each response is closed as soon as it has been sent or abandoned.

    Werkzeug 3.1's server skips ``close()`` when the client resets the connection while
    it drains the request after the reply (Chromium does, dropping a favicon or a page it
    left): the static file stays open until the garbage collector warns, failing
    whichever test is running then.
    """

    def app_closing_its_response(
        environ: WSGIEnvironment, start_response: StartResponse
    ) -> Iterator[bytes]:
        response: Iterable[bytes] = app(environ, start_response)
        try:
            yield from response
        finally:
            # Reached when the reply is sent, when the server closes us, or when a
            # reply cut short is dropped.
            if hasattr(response, "close"):
                response.close()

    return app_closing_its_response


@contextlib.contextmanager
def serving(app: WSGIApplication) -> Iterator[str]:
    """Serve ``app`` on a free port in a background thread; yield its base URL."""
    server = make_server("127.0.0.1", 0, closing_responses(app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
