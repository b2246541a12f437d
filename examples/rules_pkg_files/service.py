"""A service whose configuration, state directory and links come from rules_pkg targets."""

import os
import tomllib
from http.server import BaseHTTPRequestHandler, HTTPServer

import flask  # noqa: F401  (a real pip dependency, for the deps layer)

CONFIG = "/etc/app/app.toml"
STATE = "/var/lib/app"


def report():
    with open(CONFIG, "rb") as f:
        greeting = tomllib.load(f)["server"]["greeting"]
    # The state directory belongs to the image's user, who can write in it.
    marker = os.path.join(STATE, "started")
    with open(marker, "w") as f:
        f.write("ok\n")
    config = os.stat(CONFIG)
    state = os.stat(STATE)
    return {
        "greeting": greeting,
        "uid": os.getuid(),
        "config_owner": f"{config.st_uid}:{config.st_gid}",
        "config_mode": oct(config.st_mode & 0o7777),
        "state_owner": f"{state.st_uid}:{state.st_gid}",
        "state_mode": oct(state.st_mode & 0o7777),
        "wrote_state": open(marker).read().strip(),
        "python_link": os.readlink("/usr/local/bin/python"),
    }


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        body = "".join(f"{key}={value}\n" for key, value in report().items()).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(body)


def main():
    port = int(os.environ.get("PORT", "8080"))
    HTTPServer((os.environ.get("HOST", "0.0.0.0"), port), Handler).serve_forever()


if __name__ == "__main__":
    main()
