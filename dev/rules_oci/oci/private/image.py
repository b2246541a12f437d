#!/usr/bin/env python3
"""TEST STAND-IN for rules_oci's image.sh (v2.2.6 oci/private/image.sh). Never shipped.

Takes the same arguments in the same order as image.sh and gives the same
result, with the Python standard library instead of jq and regctl:

  --from=LAYOUT | --scratch=PLATFORM_JSON   the base
  --layer=TAR=DESCRIPTOR                    one per layer, from descriptor.py
  --entrypoint= --cmd= --exposed-ports= --volumes= --env= --labels=
  --annotations= --created= --user= --workdir=

Layers are never read here: their digests come from the per-layer descriptor
actions and their blobs are relative symlinks into the layout (image.sh with
treeartifact_symlinks=1, Bazel >= 7.1), so assembling an image after an app
edit costs O(config), whatever the size of the other layers. JSON is written
as jq writes it (two-space indent, keys in insertion order), so digests can be
compared with the real rules_oci.
"""

import hashlib
import json
import os
import re
import sys

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
REF_NAME = "org.opencontainers.image.ref.name"
# image.sh ENV_EXPAND_FILTER: match("\\${?([a-zA-Z0-9_]+)}?"; "gm")
ENV_REF = re.compile(r"\$\{?([a-zA-Z0-9_]+)\}?")


def jq_text(value):
    """jq's default output: pretty-printed with two spaces, UTF-8 as is."""
    return json.dumps(value, indent=2, ensure_ascii=False)


def jq_merge(left, right):
    """jq's `*` on objects: recursive merge, the right side wins elsewhere."""
    if isinstance(left, dict) and isinstance(right, dict):
        out = dict(left)
        for key, value in right.items():
            out[key] = jq_merge(out[key], value) if key in out else value
        return out
    return right


def read_text(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def nonempty_lines(text):
    return [line for line in text.split("\n") if line]


def key_value(line):
    # split("=") | {key: .[0], value: .[1:] | join("=")}
    key, _, value = line.partition("=")
    return key, value


class Layout:
    """The OCI layout being written: what regctl does to `ocidir://OUTPUT`."""

    def __init__(self, root):
        self.root = root
        self.blobs = os.path.join(root, "blobs", "sha256")
        os.makedirs(self.blobs, exist_ok=True)
        self.manifest = None
        self.config = None

    def link(self, target, digest):
        """A relative symlink, as `realpath --no-symlinks --relative-to` + `ln -sf`."""
        dest = os.path.join(self.blobs, digest.split(":", 1)[1])
        if os.path.lexists(dest):
            os.unlink(dest)
        os.symlink(os.path.relpath(os.path.abspath(target), os.path.abspath(self.blobs)), dest)

    def put_blob(self, data):
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        path = os.path.join(self.blobs, digest.split(":", 1)[1])
        if os.path.lexists(path):
            os.unlink(path)
        with open(path, "wb") as f:
            f.write(data)
        os.chmod(path, 0o600)
        return digest

    def finish(self, oci_layout):
        # update_config: `echo -n "$config" | regctl blob put`; size is ${#config}.
        config_text = jq_text(self.config)
        digest = self.put_blob(config_text.encode())
        self.manifest.setdefault("config", {})
        self.manifest["config"]["digest"] = digest
        self.manifest["config"]["size"] = len(config_text)
        self.manifest["config"].pop("data", None)
        manifest_bytes = (jq_text(self.manifest) + "\n").encode()
        manifest_digest = self.put_blob(manifest_bytes)
        with open(os.path.join(self.root, "oci-layout"), "w") as f:
            f.write(oci_layout)
        # The last line of image.sh drops every manifest's annotations (the ref name).
        index = {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [{"mediaType": self.manifest.get("mediaType", OCI_MANIFEST), "digest": manifest_digest, "size": len(manifest_bytes)}],
        }
        with open(os.path.join(self.root, "index.json"), "w") as f:
            f.write(jq_text(index) + "\n")
        # regctl (ocidir, v0.8.0) writes index.json and blobs with mode 0600.
        os.chmod(os.path.join(self.root, "index.json"), 0o600)
        # regctl garbage-collects the layout when it closes it: only blobs that
        # index.json reaches remain, so the base's own manifest and config (and
        # any other blob of the base's layout) are gone from the image.
        keep = {manifest_digest, digest} | {layer["digest"] for layer in self.manifest.get("layers", [])}
        for name in os.listdir(self.blobs):
            if "sha256:" + name not in keep:
                os.unlink(os.path.join(self.blobs, name))


def base_from(out, path):
    for algorithm in sorted(os.listdir(os.path.join(path, "blobs"))):
        for name in sorted(os.listdir(os.path.join(path, "blobs", algorithm))):
            out.link(os.path.join(path, "blobs", algorithm, name), "%s:%s" % (algorithm, name))
    index = json.loads(read_text(os.path.join(path, "index.json")))
    # base_from reads .manifests[0] and nothing else.
    first = index["manifests"][0]

    def blob(digest):
        return json.loads(read_text(os.path.join(path, "blobs", *digest.split(":", 1))))

    out.manifest = blob(first["digest"])
    if "config" not in out.manifest or "layers" not in out.manifest:
        sys.exit(
            "error: base %s: its index.json's first manifest (%s) is not an image manifest; "
            "oci_image's base must be a single-platform image" % (path, first.get("mediaType"))
        )
    out.config = blob(out.manifest["config"]["digest"])
    return read_text(os.path.join(path, "oci-layout"))


def base_from_scratch(out, platform_json):
    out.manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "size": 0},
        "layers": [],
    }
    out.config = {"created": "1970-01-01T00:00:00Z", "config": {}, "history": [], "rootfs": {"type": "layers", "diff_ids": []}}
    out.config.update(json.loads(platform_json))
    return '{"imageLayoutVersion":"1.0.0"}'


def add_layer(out, path, descriptor_path):
    desc = json.loads(read_text(descriptor_path))
    if out.manifest.get("mediaType", "").startswith("application/vnd.docker."):
        media_type, comp_ext = "application/vnd.docker.image.rootfs.diff.tar", "."
    else:
        media_type, comp_ext = "application/vnd.oci.image.layer.v1.tar", "+"
    compression = comp_ext + desc["compression"] if desc["compression"] != "" else ""
    rootfs = out.config.setdefault("rootfs", {})
    rootfs["diff_ids"] = (rootfs.get("diff_ids") or []) + [desc["diffid"]]
    out.config["history"] = (out.config.get("history") or []) + [desc["history"]]
    out.manifest["layers"] = (out.manifest.get("layers") or []) + [
        {"size": desc["size"], "digest": desc["digest"], "mediaType": media_type + compression}
    ]
    out.link(path, desc["digest"])


def expand(raw, env):
    """ENV_EXPAND_FILTER: $KEY / ${KEY} from the environment so far; unknown -> empty."""
    parts, prev = [], 0
    for match in ENV_REF.finditer(raw):
        parts.append(raw[prev : match.start()])
        parts.extend(value for key, value in env if key == match.group(1))
        prev = match.end()
    parts.append(raw[prev:])
    return "".join(parts)


def main(argv):
    out, oci_layout, overrides = None, None, {}
    cfg = overrides.setdefault("config", {})
    annotations = None
    for arg in argv:
        flag, _, value = arg.partition("=")
        if flag == "--output":
            out = Layout(value)
        elif flag == "--scratch":
            oci_layout = base_from_scratch(out, value)
        elif flag == "--from":
            oci_layout = base_from(out, value)
        elif flag == "--layer":
            layer, _, descriptor = value.partition("=")
            add_layer(out, layer, descriptor)
        elif flag == "--env":
            env = [key_value(e) for e in (out.config.get("config") or {}).get("Env") or []]
            # `while IFS= read -r expansion || [ -n "$expansion" ]`: every line, a last one without newline too.
            lines = read_text(value).split("\n")
            if lines and lines[-1] == "":
                lines.pop()
            for line in lines:
                key = line.split("=", 1)[0]
                expanded = expand(line[len(key) + 1 :], env)
                for i, (k, _) in enumerate(env):
                    if k == key:
                        env[i] = (k, expanded)
                        break
                else:
                    env.append((key, expanded))
            cfg["Env"] = ["%s=%s" % kv for kv in env]
        elif flag == "--cmd":
            cfg["Cmd"] = [e.replace("%5Cn", "\n") for e in nonempty_lines(read_text(value))]
        elif flag == "--entrypoint":
            # Setting the entrypoint resets cmd (rules_oci #649), as crane and Dockerfiles do.
            cfg["Cmd"] = None
            cfg["Entrypoint"] = [e.replace("%5Cn", "\n") for e in nonempty_lines(read_text(value))]
        elif flag in ("--exposed-ports", "--volumes"):
            # split(",") on the whole file: comma-separated, no trimming.
            text = read_text(value)
            cfg["ExposedPorts" if flag == "--exposed-ports" else "Volumes"] = {k: {} for k in (text.split(",") if text else [])}
        elif flag == "--user":
            cfg["User"] = value
        elif flag == "--workdir":
            cfg["WorkingDir"] = value
        elif flag == "--labels":
            labels = cfg.get("Labels") or {}
            labels.update(key_value(line) for line in nonempty_lines(read_text(value)))
            cfg["Labels"] = labels
        elif flag == "--created":
            overrides["created"] = read_text(value)
        elif flag == "--annotations":
            annotations = dict(out.manifest.get("annotations") or {})
            annotations.update(key_value(line) for line in nonempty_lines(read_text(value)))
            out.manifest["annotations"] = annotations
        else:
            sys.exit("unknown argument %s" % arg)
    # `. *= $config | del(.config.Cmd|nulls)`
    out.config = jq_merge(out.config, overrides)
    if out.config.get("config", {}).get("Cmd", 0) is None:
        del out.config["config"]["Cmd"]
    out.finish(oci_layout)


if __name__ == "__main__":
    main(sys.argv[1:])
