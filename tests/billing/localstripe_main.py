"""Run localstripe for the test suite: on 127.0.0.1, a free port, no state file.

localstripe (GPL, test-only) pickles its whole store to /tmp after every write and
reloads it at start; a test peer must start empty and leave nothing behind, so both
are switched off here. Prints the port it listens on, then serves until killed.
"""

import socket

from aiohttp import web
from localstripe import resources
from localstripe.server import app

resources.Store.dump_to_disk = lambda self: None
resources.Store.try_load_from_disk = lambda self: None

sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
sock.bind(("127.0.0.1", 0))
print(sock.getsockname()[1], flush=True)
web.run_app(app, sock=sock, print=None, access_log=None)
