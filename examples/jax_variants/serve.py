"""One program, two images: JAX on the CPU (CI) or on CUDA (production).

GET / answers with the JAX version, the backend and devices it found and one
jit-compiled computation, as JSON. Listens on $HOST:$PORT (default 0.0.0.0:8080).
"""

import json
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jax
import jax.numpy as jnp


@jax.jit
def _norm(x):
    return jnp.sqrt(jnp.sum(x * x))


def describe():
    """Versions, backend, devices and one computation, as a dict."""
    return {
        "message": "hello from jax in rules_pyimage",
        "jax": jax.__version__,
        "backend": jax.default_backend(),
        "devices": [str(d) for d in jax.devices()],
        "norm_of_3_4": float(_norm(jnp.array([3.0, 4.0]))),
    }


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps(describe()).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def main():
    host = os.environ.get("HOST", "0.0.0.0")
    port = int(os.environ.get("PORT", "8080"))
    print(json.dumps(describe()), flush=True)
    ThreadingHTTPServer((host, port), Handler).serve_forever()


if __name__ == "__main__":
    main()
