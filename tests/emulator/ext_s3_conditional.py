"""S3 conditional writes made atomic, as AWS makes them, and a hold for overlap tests.

moto 5.2.5 answers PutObject's `If-Match` (ETag) and `If-None-Match: *` with 412
PreconditionFailed like AWS, but checks and writes in two steps: two conditional writes of
one key arriving together on the threaded server can both pass the check. This service runs
the conditional PutObjects one at a time through moto, so exactly one of them wins.

`POST /costwatch-emulator/s3/hold-put {"object": "BUCKET/KEY", "until_gets": N}` holds the
next conditional PutObject of that object until N GetObjects of it have been answered after
it arrived (30 s at most): "the second invocation downloads before the first uploads".
`GET /costwatch-emulator/s3/held` answers {"held": <PutObjects waiting now>}.
"""

import json
import threading
from urllib.parse import parse_qs

from werkzeug.wrappers import Request, Response

CONTROL = "/costwatch-emulator/s3"
HOLD_TIMEOUT = 30


class Service:
    def __init__(self, ext):
        self.ext = ext
        self.write_lock = threading.Lock()
        self.cond = threading.Condition()
        self.reset()

    def reset(self):
        with self.cond:
            self.holds = {}  # object -> GetObjects to wait for, for its next conditional put
            self.gets = {}  # object -> GetObjects answered while watched
            self.held = 0

    def route(self, environ):
        path = environ.get("PATH_INFO", "")
        if path.startswith(CONTROL + "/"):
            return self.control(Request(environ), path[len(CONTROL):])
        method = environ.get("REQUEST_METHOD")
        obj = path.lstrip("/")
        query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        if "/" not in obj or set(query) - {"x-id"}:
            return None  # not an object request (bucket, listing, multipart, ...)
        conditional = "HTTP_IF_MATCH" in environ or "HTTP_IF_NONE_MATCH" in environ
        if method == "PUT" and conditional and "HTTP_X_AMZ_COPY_SOURCE" not in environ:
            self.wait_if_held(obj)
            with self.write_lock:
                return self.moto(environ)
        if method == "GET" and self.watched(obj):
            resp = self.moto(environ)
            with self.cond:
                self.gets[obj] = self.gets.get(obj, 0) + 1
                self.cond.notify_all()
            return resp
        return None

    def watched(self, obj):
        with self.cond:
            return obj in self.holds or obj in self.gets

    def wait_if_held(self, obj):
        with self.cond:
            until = self.holds.pop(obj, None)
            if until is None:
                return
            start = self.gets.get(obj, 0)
            self.held += 1
            self.cond.wait_for(lambda: self.gets.get(obj, 0) >= start + until, HOLD_TIMEOUT)
            self.held -= 1

    def moto(self, environ):
        status, headers, body = self.ext._call_moto(environ)
        headers = {k: v for k, v in headers.items() if k not in ("content-length", "transfer-encoding")}
        return Response(body, status, headers)

    def control(self, req, path):
        if req.method == "POST" and path == "/hold-put":
            body = req.get_json(force=True, silent=True) or {}
            if "/" not in body.get("object", ""):
                return Response(json.dumps({"message": 'expected {"object": "BUCKET/KEY", "until_gets": N}'}), 400)
            with self.cond:
                self.holds[body["object"]] = int(body.get("until_gets", 1))
                self.gets.setdefault(body["object"], 0)
            return Response("{}", 200, content_type="application/json")
        if req.method == "GET" and path == "/held":
            with self.cond:
                return Response(json.dumps({"held": self.held}), 200, content_type="application/json")
        return None
