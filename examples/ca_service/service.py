"""A service that trusts a company-internal CA, shipped in its own image layer."""

import json
import os
import ssl
from http.server import BaseHTTPRequestHandler, HTTPServer

import flask  # noqa: F401  (a real pip dependency, for the deps layer)

CA_FILE = os.environ.get("INTERNAL_CA_FILE", "/etc/ssl/certs/internal-ca.pem")


def trusted_subjects():
    context = ssl.create_default_context(cafile=CA_FILE)
    return [dict(x[0] for x in cert["subject"]) for cert in context.get_ca_certs()]


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({"trusted": trusted_subjects()}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)


def main():
    port = int(os.environ.get("PORT", "8443"))
    HTTPServer((os.environ.get("HOST", "0.0.0.0"), port), Handler).serve_forever()


if __name__ == "__main__":
    main()
