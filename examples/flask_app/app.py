"""A small HTTP service: the example app that py_image puts in an image."""

import os
import platform
import sys

from flask import Flask, jsonify

app = Flask(__name__)


@app.get("/")
def hello():
    return jsonify(
        message="hello from rules_pyimage",
        python=platform.python_version(),
        executable=sys.executable,
    )


@app.get("/healthz")
def healthz():
    return "ok\n"


def main():
    port = int(os.environ.get("PORT", "8080"))
    app.run(host=os.environ.get("HOST", "0.0.0.0"), port=port)


if __name__ == "__main__":
    main()
