"""A webhook receiver for the tests: verifies every delivery with the
Standard Webhooks reference library (standardwebhooks, from PyPI) and
writes one JSON line per delivery: its id, type, report and whether its
signature verified.

    webhook_receiver.py PORT SECRET LOG
"""

import json
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

from standardwebhooks.webhooks import Webhook

port, secret, log = int(sys.argv[1]), sys.argv[2], sys.argv[3]
hook = Webhook(secret)


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            payload = hook.verify(body, headers)
            verified = True
        except Exception as e:  # noqa: BLE001 - any failure is a bad delivery
            payload = json.loads(body or b"{}")
            verified = str(e)
        line = {
            "id": headers.get("webhook-id"),
            "type": payload.get("type"),
            "report_id": payload.get("data", {}).get("report", {}).get("id"),
            "verified": verified,
        }
        with open(log, "a", encoding="utf-8") as f:
            f.write(json.dumps(line) + "\n")
        self.send_response(204 if verified is True else 400)
        self.end_headers()

    def log_message(self, *args):
        pass


HTTPServer(("127.0.0.1", port), Handler).serve_forever()
