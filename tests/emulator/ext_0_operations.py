"""Every AWS operation called, as the emulator saw it, for costwatch's IAM test.

Each request is recorded as `SERVICE Operation`: the service from the SigV4 credential scope
(`sns`, `budgets`, `sts`, ...), the operation from `X-Amz-Target` (JSON protocols) or the
`Action` parameter (query protocols). REST protocols (S3) and RPCv2 CBOR are not decoded: the
sources report their own calls. `GET /costwatch-emulator/operations` answers
`{"operations": {"budgets DescribeBudgets": 2, ...}}`; a reset clears it. The file name sorts
first among the `ext_*.py` services, so it sees each request before any of them answers it.
"""

import io
import json
import re
import threading
from collections import Counter
from urllib.parse import parse_qs

from werkzeug.wrappers import Response

PATH = "/costwatch-emulator/operations"
SCOPE = re.compile(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/aws4_request")


class Service:
    """Records the operation of each signed request; answers only its read endpoint."""

    def __init__(self, ext):
        self.lock = threading.Lock()
        self.seen = Counter()

    def reset(self):
        with self.lock:
            self.seen.clear()

    def route(self, environ):
        if environ.get("PATH_INFO") == PATH and environ.get("REQUEST_METHOD") == "GET":
            with self.lock:
                body = json.dumps({"operations": dict(self.seen)})
            return Response(body, status=200, content_type="application/json")
        scope = SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
        operation = self.operation(environ)
        if scope and operation:
            with self.lock:
                self.seen[f"{scope.group(1)} {operation}"] += 1
        return None

    @staticmethod
    def operation(environ):
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if target:
            return target.rpartition(".")[2]
        if "x-www-form-urlencoded" not in environ.get("CONTENT_TYPE", ""):
            return None
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length)
        environ["wsgi.input"] = io.BytesIO(body)  # moto reads it again
        return parse_qs(body.decode("utf-8", "replace")).get("Action", [None])[0]
