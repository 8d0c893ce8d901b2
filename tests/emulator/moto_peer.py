"""Run moto's server, with costwatch's extensions, on 127.0.0.1.

Prints exactly one line `READY <port>` to stdout, then serves until SIGTERM/SIGINT
or until stdin reaches EOF (unless --ignore-stdin). Everything else goes to stderr.
"""

import argparse
import logging
import os
import signal
import sys
import threading

DUMMY_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
}


def wait_eof():
    """Block until stdin reaches EOF (unbuffered, so exiting never waits on a stdin lock)."""
    try:
        while os.read(0, 65536):
            pass
    except OSError:  # no stdin at all counts as EOF
        pass


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--port", type=int, default=0, help="0 picks a free port")
    ap.add_argument("--ignore-stdin", action="store_true", help="do not exit on stdin EOF")
    ap.add_argument("-v", "--verbose", action="store_true", help="log every request to stderr")
    args = ap.parse_args()

    os.environ.update(DUMMY_ENV)  # never let anything here reach real AWS
    level = logging.INFO if args.verbose else logging.WARNING
    logging.basicConfig(stream=sys.stderr, level=level)
    logging.getLogger("werkzeug").setLevel(level)

    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    from extensions import Extensions

    app = Extensions(DomainDispatcherApplication(create_backend_app))
    server = make_server(
        "127.0.0.1", args.port, app, threaded=True, request_handler=MotoRequestHandler
    )
    port = server.server_port
    os.environ["MOTO_PORT"] = str(port)

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    if not args.ignore_stdin:
        threading.Thread(target=lambda: (wait_eof(), stop.set()), daemon=True).start()
    threading.Thread(target=server.serve_forever, daemon=True).start()

    sys.stdout.write(f"READY {port}\n")
    sys.stdout.flush()
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # stray prints must not block on stdout

    while not stop.wait(0.5):
        pass
    server.shutdown()
    logging.getLogger(__name__).info("moto peer on port %d stopped", port)


if __name__ == "__main__":
    main()
