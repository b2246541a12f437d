#!/usr/bin/env python3
"""TEST STAND-IN for rules_oci: assemble an OCI image layout. Never shipped.

Reads an optional base layout, appends the given layer blobs exactly as they are
(rules_oci 2.x does not recompress), applies config options and writes a new
OCI image layout. Only the Python standard library and `zstd` (for zstd layer
diff_ids) are used, so it is independent of the code it helps to test.
"""

import argparse
import gzip
import hashlib
import json
import os
import shutil
import subprocess
import sys

MANIFEST = "application/vnd.oci.image.manifest.v1+json"
INDEX = "application/vnd.oci.image.index.v1+json"
CONFIG = "application/vnd.oci.image.config.v1+json"
LAYER = "application/vnd.oci.image.layer.v1.tar"
EPOCH = "1970-01-01T00:00:00Z"


def sha256_file(path, opener=open):
    h = hashlib.sha256()
    with opener(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return "sha256:" + h.hexdigest()


def layer_media_type_and_diff_id(path):
    with open(path, "rb") as f:
        magic = f.read(4)
    if magic[:2] == b"\x1f\x8b":
        return LAYER + "+gzip", sha256_file(path, gzip.open)
    if magic == b"\x28\xb5\x2f\xfd":
        proc = subprocess.Popen(["zstd", "-dc", path], stdout=subprocess.PIPE)
        h = hashlib.sha256()
        for chunk in iter(lambda: proc.stdout.read(1 << 20), b""):
            h.update(chunk)
        if proc.wait() != 0:
            sys.exit("error: zstd could not decompress layer %s" % path)
        return LAYER + "+zstd", "sha256:" + h.hexdigest()
    return LAYER, sha256_file(path)


class Layout:
    def __init__(self, root):
        self.root = root
        os.makedirs(os.path.join(root, "blobs", "sha256"), exist_ok=True)

    def blob_path(self, digest):
        return os.path.join(self.root, "blobs", "sha256", digest.split(":", 1)[1])

    def add_file(self, path, digest):
        dest = self.blob_path(digest)
        if os.path.exists(dest):
            return
        try:
            os.link(os.path.realpath(path), dest)
        except OSError:
            shutil.copyfile(path, dest)

    def add_json(self, obj, media_type):
        data = json.dumps(obj, separators=(",", ":"), sort_keys=True).encode()
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        with open(self.blob_path(digest), "wb") as f:
            f.write(data)
        return {"mediaType": media_type, "digest": digest, "size": len(data)}

    def finish(self, manifest_descriptor):
        with open(os.path.join(self.root, "oci-layout"), "w") as f:
            json.dump({"imageLayoutVersion": "1.0.0"}, f)
        with open(os.path.join(self.root, "index.json"), "w") as f:
            json.dump(
                {"schemaVersion": 2, "mediaType": INDEX, "manifests": [manifest_descriptor]},
                f,
                sort_keys=True,
            )


def read_json(path):
    with open(path) as f:
        return json.load(f)


def read_base(base):
    index = read_json(os.path.join(base, "index.json"))
    manifests = index.get("manifests", [])
    if len(manifests) != 1 or manifests[0].get("mediaType") != MANIFEST:
        sys.exit(
            "error: base %s must hold exactly one single-platform image manifest; "
            "pick one platform of a multi-platform base" % base
        )

    def blob(digest):
        return os.path.join(base, "blobs", "sha256", digest.split(":", 1)[1])

    manifest = read_json(blob(manifests[0]["digest"]))
    config = read_json(blob(manifest["config"]["digest"]))
    return manifest, config, blob


def read_lines(path):
    with open(path) as f:
        return [line for line in f.read().split("\n") if line]


def read_list(path):
    """rules_oci's list files: one line, comma-separated."""
    with open(path) as f:
        content = f.read().rstrip("\n")
    return content.split(",") if content else []


def read_pairs(path):
    pairs = {}
    for line in read_lines(path):
        key, sep, value = line.partition("=")
        if not sep:
            sys.exit("error: %s: expected name=value, got %r" % (path, line))
        pairs[key] = value
    return pairs


def expand_env(value, env):
    """Expand $KEY and ${KEY} from the base environment, as rules_oci does."""
    out, i = [], 0
    while i < len(value):
        c = value[i]
        if c == "$" and i + 1 < len(value):
            if value[i + 1] == "{":
                end = value.find("}", i)
                if end > 0:
                    out.append(env.get(value[i + 2 : end], ""))
                    i = end + 1
                    continue
            j = i + 1
            while j < len(value) and (value[j].isalnum() or value[j] == "_"):
                j += 1
            if j > i + 1:
                out.append(env.get(value[i + 1 : j], ""))
                i = j
                continue
        out.append(c)
        i += 1
    return "".join(out)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--output", required=True)
    p.add_argument("--base")
    p.add_argument("--os")
    p.add_argument("--architecture")
    p.add_argument("--variant")
    p.add_argument("--layer", action="append", default=[])
    for name in ("entrypoint", "cmd", "env", "labels", "annotations", "exposed-ports", "volumes", "created"):
        p.add_argument("--" + name)
    p.add_argument("--user")
    p.add_argument("--workdir")
    a = p.parse_args()

    out = Layout(a.output)
    if a.base:
        manifest, config, base_blob = read_base(a.base)
        for layer in manifest["layers"]:
            out.add_file(base_blob(layer["digest"]), layer["digest"])
    else:
        manifest = {"schemaVersion": 2, "mediaType": MANIFEST, "layers": []}
        config = {"architecture": a.architecture, "os": a.os, "rootfs": {"type": "layers", "diff_ids": []}}
        if a.variant:
            config["variant"] = a.variant
    cfg = config.setdefault("config", {})
    history = config.setdefault("history", [])

    for path in a.layer:
        media_type, diff_id = layer_media_type_and_diff_id(path)
        digest = sha256_file(path)
        out.add_file(path, digest)
        manifest["layers"].append({"mediaType": media_type, "digest": digest, "size": os.path.getsize(path)})
        config["rootfs"]["diff_ids"].append(diff_id)
        history.append({"created": EPOCH, "created_by": "bazel build (rules_oci stand-in)"})

    if a.entrypoint:
        cfg["Entrypoint"] = read_list(a.entrypoint)
        cfg.pop("Cmd", None)  # as in Docker: a new entrypoint resets cmd
    if a.cmd:
        cfg["Cmd"] = read_list(a.cmd)
    if a.env:
        env = dict(e.split("=", 1) for e in cfg.get("Env", []))
        for key, value in read_pairs(a.env).items():
            env[key] = expand_env(value, env)
        cfg["Env"] = ["%s=%s" % kv for kv in env.items()]
    if a.labels:
        cfg.setdefault("Labels", {}).update(read_pairs(a.labels))
    if a.exposed_ports:
        ports = cfg.setdefault("ExposedPorts", {})
        for port in read_list(a.exposed_ports):
            port = port.strip()
            if port:
                ports[port if "/" in port else port + "/tcp"] = {}
    if a.volumes:
        vols = cfg.setdefault("Volumes", {})
        for vol in read_list(a.volumes):
            if vol.strip():
                vols[vol.strip()] = {}
    if a.user:
        cfg["User"] = a.user
    if a.workdir:
        cfg["WorkingDir"] = a.workdir
    config["created"] = read_lines(a.created)[0] if a.created else EPOCH

    manifest["config"] = out.add_json(config, CONFIG)
    manifest.pop("annotations", None)
    if a.annotations:
        manifest["annotations"] = read_pairs(a.annotations)
    descriptor = out.add_json(manifest, MANIFEST)
    descriptor["platform"] = {k: config[k] for k in ("architecture", "os", "variant") if config.get(k)}
    out.finish(descriptor)


if __name__ == "__main__":
    main()
