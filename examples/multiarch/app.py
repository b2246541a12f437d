"""A small HTTP service that says which machine it runs on and whether
MarkupSafe's compiled speedups (a C extension from an architecture-specific
wheel) are loaded: the multi-platform example's app."""

import os
import platform

import markupsafe
from flask import Flask, jsonify

try:
    from markupsafe import _speedups
except ImportError:  # the pure-Python fallback: the wrong wheel was installed
    _speedups = None

app = Flask(__name__)


@app.get("/")
def hello():
    return jsonify(
        message="hello from rules_pyimage",
        machine=platform.machine(),
        python=platform.python_version(),
        speedups=os.path.basename(_speedups.__file__) if _speedups else None,
        escaped=str(markupsafe.escape("<arm64 & amd64>")),
    )


def main():
    port = int(os.environ.get("PORT", "8080"))
    app.run(host=os.environ.get("HOST", "0.0.0.0"), port=port)


if __name__ == "__main__":
    main()
