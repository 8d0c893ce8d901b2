"""What moto's SNS published, for costwatch's tests.

moto keeps every message published to a topic but has no HTTP call to read them back.
`GET /costwatch-emulator/sns/published` answers
`{"messages": [{"topic", "subject", "message"}, ...]}` in publish order, for all accounts
and regions.
"""

import json

from werkzeug.wrappers import Response

PATH = "/costwatch-emulator/sns/published"


class Service:
    """The ext_*.py service: one read-only control endpoint; moto serves SNS itself."""

    def __init__(self, ext):
        pass

    def reset(self):
        pass  # moto's own reset clears its topics

    def route(self, environ):
        if environ.get("PATH_INFO") != PATH or environ.get("REQUEST_METHOD") != "GET":
            return None
        from moto.sns.models import sns_backends

        messages = []
        for account, regions in sns_backends.items():
            for region, backend in regions.items():
                for arn, topic in backend.topics.items():
                    for _id, message, subject, _attrs, _group in topic.sent_notifications:
                        messages.append({"topic": arn, "subject": subject, "message": message})
        body = json.dumps({"messages": messages})
        return Response(body, status=200, content_type="application/json")
