"""A Slack-compatible incoming webhook on 127.0.0.1 that stores each accepted post as
DIR/<sequence>.json.

Checks a post like Slack does (https://api.slack.com/reference/block-kit/blocks): a JSON
object with a non-empty `text` or `blocks`; at most 50 blocks; a header's plain_text at most
150 characters; a section's text at most 3000; a context at most 10 elements of at most 3000.
A bad post is answered 400 `invalid_blocks` (stored as DIR/rejected-<sequence>.json) like
Slack; a good one 200 `ok`. `--status N` answers every post N instead (a webhook that is down).

Prints exactly one line `READY <port>` to stdout, then serves until SIGTERM/SIGINT or until
stdin reaches EOF (unless --ignore-stdin).
"""

import argparse
import json
import os
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from smtp_sink import wait_eof


def problems(post):
    """Why Slack would reject `post`, as a list of strings (empty when it is fine)."""
    if not isinstance(post, dict):
        return ["not a JSON object"]
    found = []
    text, blocks = post.get("text"), post.get("blocks")
    if not (isinstance(text, str) and text.strip()) and not blocks:
        found.append("no text and no blocks")
    if blocks is None:
        return found
    if not isinstance(blocks, list) or len(blocks) > 50:
        return found + ["blocks must be a list of at most 50"]
    for i, block in enumerate(blocks):
        kind = block.get("type")
        if kind == "header":
            t = block.get("text", {})
            if t.get("type") != "plain_text" or not 0 < len(t.get("text", "")) <= 150:
                found.append(f"block {i}: header text must be plain_text of 1..150 characters")
        elif kind == "section":
            t = block.get("text", {})
            if t.get("type") not in ("plain_text", "mrkdwn") or not 0 < len(t.get("text", "")) <= 3000:
                found.append(f"block {i}: section text must be 1..3000 characters")
        elif kind == "context":
            elements = block.get("elements", [])
            if not 0 < len(elements) <= 10 or any(
                not 0 < len(e.get("text", "")) <= 3000 for e in elements
            ):
                found.append(f"block {i}: context takes 1..10 elements of 1..3000 characters")
        elif kind not in ("divider", "image", "actions", "rich_text"):
            found.append(f"block {i}: unknown type {kind!r}")
    return found


class Sink:
    def __init__(self, folder, status):
        self.folder, self.status = folder, status
        self.lock = threading.Lock()
        self.seq = 0

    def store(self, name, body):
        with self.lock:
            self.seq += 1
            path = os.path.join(self.folder, f"{name}{self.seq:06d}.json")
        with open(path + ".tmp", "wb") as f:
            f.write(body)
        os.replace(path + ".tmp", path)


def handler(sink):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if sink.status:
                return self.answer(sink.status, "service unavailable")
            if not self.headers.get("Content-Type", "").startswith("application/json"):
                return self.answer(400, "invalid_payload")
            try:
                found = problems(json.loads(body))
            except ValueError:
                found = ["not JSON"]
            if found:
                sink.store("rejected-", body)
                sys.stderr.write(f"webhook_sink: rejected: {found}\n")
                return self.answer(400, "invalid_blocks")
            sink.store("", body)
            self.answer(200, "ok")

        def answer(self, status, text):
            data = text.encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    return Handler


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--dir", required=True, help="folder for the posts (created)")
    ap.add_argument("--port", type=int, default=0, help="0 picks a free port")
    ap.add_argument("--status", type=int, default=0, help="answer every post with this status")
    ap.add_argument("--ignore-stdin", action="store_true", help="do not exit on stdin EOF")
    args = ap.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), handler(Sink(args.dir, args.status)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    if not args.ignore_stdin:
        threading.Thread(target=lambda: (wait_eof(), stop.set()), daemon=True).start()
    sys.stdout.write(f"READY {server.server_port}\n")
    sys.stdout.flush()
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    stop.wait()
    server.shutdown()


if __name__ == "__main__":
    main()
