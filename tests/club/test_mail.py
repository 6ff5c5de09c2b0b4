"""What every mail carries, and delivery through an SMTP relay that lacks SMTPUTF8."""

from __future__ import annotations

import email
import email.policy
import socket
import threading

import pytest

from club import mail
from tests.club.test_auth import signup_data


class PlainRelay:
    """An SMTP server that offers 8BITMIME but not SMTPUTF8, as many hosted relays do.

    It records each envelope recipient and message, answering every command with 250.
    """

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.recipients: list[str] = []
        self.messages: list[bytes] = []
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self) -> None:
        while True:
            connection, _ = self.server.accept()
            with connection, connection.makefile("rwb") as stream:
                self.converse(stream)

    def converse(self, stream) -> None:
        stream.write(b"220 relay\r\n")
        stream.flush()
        for line in stream:
            command = line.strip().upper()
            if command.startswith(b"EHLO"):
                stream.write(b"250-relay\r\n250 8BITMIME\r\n")
            elif command.startswith(b"RCPT TO:"):
                self.recipients.append(line.decode().strip()[8:].strip("<>"))
                stream.write(b"250 ok\r\n")
            elif command == b"DATA":
                stream.write(b"354 go on\r\n")
                stream.flush()
                self.messages.append(b"".join(iter(stream.readline, b".\r\n")))
                stream.write(b"250 queued\r\n")
            elif command == b"QUIT":
                stream.write(b"221 bye\r\n")
                stream.flush()
                return
            else:
                stream.write(b"250 ok\r\n")
            stream.flush()


@pytest.fixture
def relay(app):
    server = PlainRelay()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=server.port, MAIL_USE_TLS=False)
    return server


def test_an_address_with_an_international_domain_reaches_a_plain_relay(client, relay):
    client.submit("/signup", signup_data(email="anna@bücher.example"))

    assert relay.recipients == ["anna@xn--bcher-kva.example"]
    assert b"/confirm/" in relay.messages[0]


def test_a_sender_and_support_address_on_an_international_domain_reach_a_plain_relay(
    app, client, relay
):
    app.config.update(
        MAIL_FROM="Club <no-reply@bücher.example>", SUPPORT_EMAIL="help@bücher.example"
    )
    client.submit("/signup", signup_data(email="new@example.com"))

    (raw,) = relay.messages
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert message["From"].addresses[0].domain == "xn--bcher-kva.example"
    assert message["From"].addresses[0].display_name == "Club"
    # In the raw header: an encoded word inside the address is one nobody can reply to.
    assert b"Reply-To: help@xn--bcher-kva.example\r\n" in raw


@pytest.mark.parametrize("support", ["sören@example.de", "Help Desk <help@club.example>"])
def test_a_support_address_that_needs_no_punycode_goes_out_as_written(app, client, outbox, support):
    app.config.update(SUPPORT_EMAIL=support)
    client.submit("/signup", signup_data(email="new@example.com"))

    (path,) = sorted(outbox.glob("*.eml"))
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert message["Reply-To"] == support


def test_every_mail_says_when_it_was_sent_that_it_is_automatic_and_where_replies_go(
    app, client, outbox
):
    app.config.update(MAIL_FROM="Club <hello@club.example>", SUPPORT_EMAIL="help@club.example")
    client.submit("/signup", signup_data(email="new@example.com"))

    (path,) = sorted(outbox.glob("*.eml"))
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert message["Date"].datetime is not None
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Reply-To"] == "help@club.example"
    assert message["Message-ID"].endswith("@club.example>")


def test_the_default_sender_is_named_after_the_site(app):
    from club.config import load

    assert load({"SITE_NAME": "Health Circle"})["MAIL_FROM"].startswith("Health Circle <")
    with app.app_context():
        assert mail.sender_domain("Club <hello@bücher.example>") == "xn--bcher-kva.example"
        assert mail.sender_domain("Club <no-reply>") == "localhost"
        assert mail.deliverable("Ze\u0301@bücher.example") == "Ze\u0301@xn--bcher-kva.example"
