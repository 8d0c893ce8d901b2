"""An SMTP sink on 127.0.0.1 that stores each message as DIR/<sequence>.eml.

Prints exactly one line `READY <port>` to stdout, then serves until SIGTERM/SIGINT
or until stdin reaches EOF (unless --ignore-stdin). AUTH PLAIN/LOGIN is offered
without TLS and accepts user `costwatch` with any password; unauthenticated mail
is accepted too. --reject answers 451 to every RCPT TO.
"""

import argparse
import asyncio
import logging
import os
import re
import signal
import sys
import threading

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

USER = b"costwatch"
log = logging.getLogger("smtp_sink")


def wait_eof():
    """Block until stdin reaches EOF (unbuffered, so exiting never waits on a stdin lock)."""
    try:
        while os.read(0, 65536):
            pass
    except OSError:  # no stdin at all counts as EOF
        pass


class MaildirHandler:
    """Writes each message atomically (temp file, then rename) as <n>.eml."""

    def __init__(self, maildir, reject):
        self.maildir = maildir
        self.reject = reject
        self.lock = threading.Lock()
        numbers = [int(m.group(1)) for f in os.listdir(maildir) if (m := re.fullmatch(r"(\d+)\.eml", f))]
        self.seq = max(numbers, default=0)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.reject:
            return "451 4.3.0 Mailbox temporarily unavailable, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        # Trace headers a delivering MTA would add: the envelope is not in the message.
        trace = f"Return-Path: <{envelope.mail_from}>\r\n" + "".join(
            f"Delivered-To: {rcpt}\r\n" for rcpt in envelope.rcpt_tos
        )
        with self.lock:
            self.seq += 1
            name = f"{self.seq:06d}.eml"
        tmp = os.path.join(self.maildir, f".{name}.tmp")
        with open(tmp, "wb") as f:
            f.write(trace.encode() + envelope.original_content)
        os.replace(tmp, os.path.join(self.maildir, name))
        log.info("stored %s from %s to %s", name, envelope.mail_from, envelope.rcpt_tos)
        return "250 Message accepted for delivery"


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.login == USER
    return AuthResult(success=ok, handled=False)


async def serve(args):
    loop = asyncio.get_running_loop()
    handler = MaildirHandler(args.maildir, args.reject)

    def factory():
        return SMTP(
            handler,
            hostname="costwatch-smtp-sink",
            enable_SMTPUTF8=True,
            auth_required=False,
            auth_require_tls=False,
            authenticator=authenticator,
        )

    server = await loop.create_server(factory, "127.0.0.1", args.port)
    port = server.sockets[0].getsockname()[1]
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if not args.ignore_stdin:
        def watch_stdin():
            wait_eof()
            loop.call_soon_threadsafe(stop.set)

        threading.Thread(target=watch_stdin, daemon=True).start()

    sys.stdout.write(f"READY {port}\n")
    sys.stdout.flush()
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # stray prints must not block on stdout
    await stop.wait()
    server.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--maildir", required=True, help="folder for the .eml files (created)")
    ap.add_argument("--port", type=int, default=0, help="0 picks a free port")
    ap.add_argument("--reject", action="store_true", help="answer 451 to every RCPT TO")
    ap.add_argument("--ignore-stdin", action="store_true", help="do not exit on stdin EOF")
    ap.add_argument("-v", "--verbose", action="store_true", help="log each session to stderr")
    args = ap.parse_args()
    logging.basicConfig(stream=sys.stderr, level=logging.INFO if args.verbose else logging.WARNING)
    logging.getLogger("mail.log").setLevel(logging.INFO if args.verbose else logging.ERROR)
    os.makedirs(args.maildir, exist_ok=True)
    asyncio.run(serve(args))


if __name__ == "__main__":
    main()
