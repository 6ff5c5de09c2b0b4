"""Run localstripe for the test suite: on 127.0.0.1, a free port, no state file.

localstripe (GPL, test-only) pickles its whole store to /tmp after every write and
reloads it at start; a test peer must start empty and leave nothing behind, so both
are switched off here. Prints the port it listens on, then serves until killed.

Two answers are made to match Stripe's: a deleted customer stays readable as
``{"id": ..., "object": "customer", "deleted": true}``, where localstripe answers 404
(which Stripe reserves for a customer the key cannot see); and every plan can be read as
a price with the same id, as Stripe serves them, where localstripe has no Prices API.
"""

import re
import socket

from aiohttp import web
from localstripe import resources
from localstripe.errors import UserError
from localstripe.server import app

resources.Store.dump_to_disk = lambda self: None
resources.Store.try_load_from_disk = lambda self: None

CUSTOMER_PATH = re.compile(r"/v1/customers/(cus_\w+)")
deleted_customers: set[str] = set()


@web.middleware
async def deleted_customers_stay_readable(request, handler):
    customer = CUSTOMER_PATH.fullmatch(request.path)
    try:
        response = await handler(request)
    except UserError as error:
        if customer and request.method == "GET" and customer[1] in deleted_customers:
            return web.json_response({"id": customer[1], "object": "customer", "deleted": True})
        raise error
    if customer and request.method == "DELETE" and response.status == 200:
        deleted_customers.add(customer[1])
    return response


app.middlewares.append(deleted_customers_stay_readable)


async def retrieve_price(request):
    plan = resources.Plan._api_retrieve(request.match_info["id"])  # 404 if there is none
    recurring = {"interval": plan.interval, "interval_count": plan.interval_count}
    price = {"id": plan.id, "object": "price", "product": plan.product, "active": plan.active}
    price |= {"unit_amount": plan.amount, "currency": plan.currency, "recurring": recurring}
    return web.json_response(price)


app.router.add_get("/v1/prices/{id}", retrieve_price)

sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
sock.bind(("127.0.0.1", 0))
print(sock.getsockname()[1], flush=True)
web.run_app(app, sock=sock, print=None, access_log=None)
