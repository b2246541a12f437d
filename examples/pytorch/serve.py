"""A small torch service: what the Dockerfile's CMD started, with every wheel already in the image.

GET / answers with the versions, the device torch picked and a torchvision
operator run on that device, as JSON. Listens on $HOST:$PORT (default
0.0.0.0:7862, the port the Dockerfile exposed for the UI).
"""

import json
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import torch
import torchvision
from torchvision.ops import nms


def describe():
    """Versions, device and one real operator call, as a dict."""
    device = "cuda" if torch.cuda.is_available() else "cpu"
    boxes = torch.tensor([[0, 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60]], dtype=torch.float32, device=device)
    scores = torch.tensor([0.9, 0.8, 0.7], device=device)
    return {
        "message": "hello from torch in rules_pyimage",
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "cuda_build": torch.version.cuda,
        "device": device,
        "cuda_architectures": os.environ.get("CUDA_ARCHITECTURES", ""),
        "nms_keep": nms(boxes, scores, iou_threshold=0.5).tolist(),
        "cwd": os.getcwd(),
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
    port = int(os.environ.get("PORT", "7862"))
    print(json.dumps(describe()), flush=True)
    ThreadingHTTPServer((host, port), Handler).serve_forever()


if __name__ == "__main__":
    main()
