"""What a docker-registry (distribution 2.8) access log says was pushed, per repository.

    python3 dev/suites/registry_log.py REGISTRY_LOG [--skip-lines N]
    python3 dev/suites/registry_log.py REGISTRY_LOG --layout IMAGE_LAYOUT \
        --uploaded REPOSITORY... --mounted REPOSITORY=FROM...

Without --layout, prints JSON: for each repository, the blobs uploaded to it (a finished upload,
201 Created, by digest), the blobs the registry mounted into it from another
repository (a POST with `mount` and `from` answered 201), the mounts it refused
(answered 202: the client uploads instead), and the manifests put. Reads the
request lines of the access log (Apache combined format, one per request); the
registry's other lines (`time=... level=...`) are skipped, and any line that
starts like a request line but does not parse fails, so that a change of
format cannot make the counts zero. `--skip-lines N` reads from line N + 1, for
what a later push did.

With --layout, checks the pushes of the image in that OCI layout (its config and
layers, read from the layout with json): each `--uploaded` repository received
every blob exactly once and had none mounted; each `--mounted` one had every blob
mounted from FROM exactly once, no mount refused and nothing uploaded. Prints one
line of counts; exits 1 naming what differs.
"""

import argparse
import collections
import json
import os
import re
import sys
import urllib.parse

# 127.0.0.1 - - [04/Dec/2026:21:19:39 +0000] "PUT /v2/a/one/blobs/uploads/<id>?digest=sha256%3A... HTTP/1.1" 201 0 "" "go-containerregistry"
REQUEST = re.compile(
    r'^(?P<client>\S+) \S+ \S+ \[[^\]]+\] "(?P<method>[A-Z]+) (?P<target>\S+) HTTP/[0-9.]+" (?P<status>\d{3}) (?:\d+|-) "[^"]*" "[^"]*"$'
)
LOOKS_LIKE_REQUEST = re.compile(r"^\d+\.\d+\.\d+\.\d+ \S+ \S+ \[")
UPLOADS = re.compile(r"^/v2/(?P<repository>.+)/blobs/uploads/(?P<session>[^/]*)$")
MANIFESTS = re.compile(r"^/v2/(?P<repository>.+)/manifests/(?P<reference>[^/]+)$")


def summarize(lines):
    repositories = collections.defaultdict(
        lambda: {"uploads": [], "mounts": [], "refused_mounts": [], "manifests": []}
    )
    for number, line in lines:
        line = line.rstrip("\n")
        match = REQUEST.match(line)
        if not match:
            if LOOKS_LIKE_REQUEST.match(line):
                raise SystemExit(f"registry log line {number} is a request line this script cannot read: {line}")
            continue
        method, status = match["method"], int(match["status"])
        target = urllib.parse.urlsplit(match["target"])
        query = urllib.parse.parse_qs(target.query)
        upload = UPLOADS.match(target.path)
        manifest = MANIFESTS.match(target.path)
        if upload:
            repo = repositories[upload["repository"]]
            if method == "POST" and "mount" in query:
                mount = {"digest": query["mount"][0], "from": query.get("from", [""])[0]}
                (repo["mounts"] if status == 201 else repo["refused_mounts"]).append(mount)
            elif method in ("PUT", "POST") and status == 201 and "digest" in query:
                # the upload's last request (a PUT after PATCHes, or one POST with the blob)
                repo["uploads"].append(query["digest"][0])
        elif manifest and method == "PUT" and status == 201:
            repositories[manifest["repository"]]["manifests"].append(manifest["reference"])
    return dict(sorted(repositories.items()))


def image_blobs(layout):
    """The config and layer digests of the one image in an OCI layout."""

    def read(digest):
        with open(os.path.join(layout, "blobs", *digest.split(":", 1))) as f:
            return json.load(f)

    with open(os.path.join(layout, "index.json")) as f:
        (descriptor,) = json.load(f)["manifests"]
    manifest = read(descriptor["digest"])
    return [manifest["config"]["digest"]] + [layer["digest"] for layer in manifest["layers"]]


def check(summary, blobs, uploaded, mounted):
    """Problems (strings) with what `summary` says was pushed, and one line of counts."""
    empty = {"uploads": [], "mounts": [], "refused_mounts": [], "manifests": []}
    want = sorted(blobs)
    problems, counts = [], []
    for repository in uploaded:
        repo = summary.get(repository, empty)
        if sorted(repo["uploads"]) != want:
            problems.append(f"{repository}: expected each of the image's {len(want)} blobs uploaded once, got {len(repo['uploads'])} uploads: {sorted(repo['uploads'])}")
        if repo["mounts"]:
            problems.append(f"{repository}: expected no mount, got {repo['mounts']}")
        counts.append(f"{repository}: {len(repo['uploads'])} uploads, {len(repo['mounts'])} mounts")
    for repository, source in mounted:
        repo = summary.get(repository, empty)
        got = sorted(m["digest"] for m in repo["mounts"])
        if got != want:
            problems.append(f"{repository}: expected each of the image's {len(want)} blobs mounted once, got {len(got)} mounts: {got}")
        sources = sorted({m["from"] for m in repo["mounts"]})
        if repo["mounts"] and sources != [source]:
            problems.append(f"{repository}: expected the mounts from {source}, got from {sources}")
        if repo["uploads"] or repo["refused_mounts"]:
            problems.append(f"{repository}: expected no upload and no refused mount, got {len(repo['uploads'])} uploads, refused {repo['refused_mounts']}")
        counts.append(f"{repository}: {len(repo['uploads'])} uploads, {len(repo['mounts'])} mounts from {', '.join(sources) or '-'}")
    return problems, "; ".join(counts)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("log", help="the registry's log (stdout and stderr of `docker-registry serve`)")
    parser.add_argument("--skip-lines", type=int, default=0, help="read from this line + 1")
    parser.add_argument("--layout", help="check the pushes of the image in this OCI layout")
    parser.add_argument("--uploaded", nargs="*", default=[], metavar="REPOSITORY", help="repositories that received every blob")
    parser.add_argument("--mounted", nargs="*", default=[], metavar="REPOSITORY=FROM", help="repositories that had every blob mounted from FROM")
    args = parser.parse_args()
    with open(args.log, encoding="utf-8", errors="replace") as f:
        lines = [(n, line) for n, line in enumerate(f, 1) if n > args.skip_lines]
    summary = summarize(lines)
    if not args.layout:
        json.dump(summary, sys.stdout, indent=1)
        print()
        return
    blobs = image_blobs(args.layout)
    problems, counts = check(summary, blobs, args.uploaded, [m.split("=", 1) for m in args.mounted])
    print(f"{args.log} ({len(blobs)} blobs in the image): {counts}")
    if problems:
        raise SystemExit("FAIL: " + "\nFAIL: ".join(problems))


if __name__ == "__main__":
    main()
