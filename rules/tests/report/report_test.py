#!/usr/bin/env python3
"""report_test.py clean FILE... base DIR dup FILE...: check two images' HTML reports in
headless Chromium and their SPDX SBOMs with spdx-tools, against what Python's tarfile
reads from the layers themselves.

`clean` is //:image (python, deps, app on the Debian base): its page lists those layers
with the descriptors' digests, the deps layer's distributions as the layer's own
METADATA files say, and no file in two layers. `dup` is an image whose extra layers
hold files other layers hold too: the page must list exactly those."""
import email.parser
import html.parser
import json
import os
import struct
import subprocess
import sys
import tarfile
import tempfile
import zlib

failures = []


def check(ok, message):
    if not ok:
        failures.append(message)


def groups(argv):
    out, key = {}, None
    for arg in argv:
        if arg in ("clean", "base", "dup"):
            key = arg
            out[key] = []
        else:
            out[key].append(arg)
    return out


def chromium(*args):
    cmd = ["chromium", "--headless", "--no-sandbox", "--disable-gpu",
           "--disable-dev-shm-usage", "--user-data-dir=" + tempfile.mkdtemp()] + list(args)
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        sys.exit("chromium failed: {}\n{}".format(" ".join(cmd), result.stderr[-2000:]))
    return result.stdout


class Dom(html.parser.HTMLParser):
    """Elements by class and id, and the text of each table row, from Chromium's DOM."""

    def __init__(self):
        super().__init__()
        self.elements = []  # (tag, attrs, [text])
        self.open = []

    def handle_starttag(self, tag, attrs):
        element = (tag, dict(attrs), [])
        self.elements.append(element)
        if tag not in ("meta", "br", "img", "input"):
            self.open.append(element)

    def handle_endtag(self, tag):
        while self.open:
            if self.open.pop()[0] == tag:
                break

    def handle_data(self, data):
        for element in self.open:
            element[2].append(data)

    def by_class(self, name):
        return [e for e in self.elements if name in e[1].get("class", "").split()]

    def by_id(self, name):
        return [e for e in self.elements if e[1].get("id") == name]


def cells(row_text):
    return [t.strip() for t in row_text if t.strip()]


def rendered(page):
    dom = Dom()
    dom.feed(chromium("--dump-dom", "file://" + os.path.abspath(page)))
    return dom


def png_pixels(path):
    """(width, height, set of RGB colours) of an 8-bit RGB or RGBA PNG."""
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, width = 8, b"", 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and colour in (2, 6), "PNG depth {} colour {}".format(depth, colour)
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * channels
    previous = bytearray(stride)
    colours = set()
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - channels] if i >= channels else 0
            b = previous[i]
            c = previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + a) & 255
            elif kind == 2:
                line[i] = (line[i] + b) & 255
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        for x in range(0, stride, channels * 4):
            colours.add(bytes(line[x:x + 3]))
        previous = line
    return width, height, colours


def layer_distributions(blob):
    """(name, version) of every .dist-info/METADATA in a layer tar."""
    found = set()
    with tarfile.open(blob) as tar:
        for member in tar.getmembers():
            if member.isfile() and member.name.endswith(".dist-info/METADATA"):
                meta = email.parser.BytesParser().parsebytes(tar.extractfile(member).read())
                found.add((meta["Name"], meta["Version"]))
    return found


def descriptors(paths):
    """Layer name -> descriptor JSON (the descriptors output group)."""
    return {os.path.basename(p)[:-len(".json")]: json.load(open(p)) for p in paths}


def validate_sbom(path):
    result = subprocess.run(["pyspdxtools", "-i", path], capture_output=True, text=True)
    # spdx-tools may exit 0 and still print what it found wrong.
    output = (result.stdout + result.stderr).strip()
    return result.returncode == 0 and not output, output


def sbom_packages(path):
    doc = json.load(open(path))
    packages = {p["SPDXID"]: p for p in doc["packages"]}
    contains = {}
    for r in doc["relationships"]:
        if r["relationshipType"] == "CONTAINS":
            contains.setdefault(r["spdxElementId"], []).append(r["relatedSpdxElement"])
    return doc, packages, contains


def main():
    args = groups(sys.argv[1:])
    clean = args["clean"]
    html_page = next(p for p in clean if p.endswith(".report.html"))
    sbom = next(p for p in clean if p.endswith(".spdx.json"))
    descs = descriptors([p for p in clean if p.endswith(".json") and ("/" + p).count("/image_layers/")])
    blobs = {os.path.basename(p).split(".")[0]: p for p in clean if p.endswith(".tar.gz")}
    base = args["base"][0]

    # The page as Chromium renders it.
    dom = rendered(html_page)
    rows = dom.by_class("layer")
    check([r[1]["data-layer"] for r in rows] == ["python", "deps", "app"],
          "layer rows: {}".format([r[1].get("data-layer") for r in rows]))
    for row in rows:
        name = row[1]["data-layer"]
        check(descs[name]["digest"] in cells(row[2]),
              "layer {}: digest {} not on its row {}".format(name, descs[name]["digest"], cells(row[2])))
    check(bool(dom.by_id("duplicates")) and "ok" in dom.by_id("duplicates")[0][1].get("class", ""),
          "//:image: the page should say no file is in two layers")
    deps_section = [e for e in dom.by_class("layer-detail") if e[1].get("data-layer") == "deps"]
    check(len(deps_section) == 1, "one deps section")
    want = layer_distributions(blobs["deps"])
    check(len(want) >= 5, "the deps layer holds Flask and its dependencies: {}".format(want))
    shown = {tuple(cells(r[2])[:2]) for r in dom.by_class("distribution")}
    check(shown == want, "distributions on the page {} != METADATA in the deps layer {}".format(shown, want))
    # Each distribution owns its files (rules_python leaves RECORD out of the runfiles).
    for row in dom.by_class("distribution"):
        texts = cells(row[2])
        counts = [t for t in texts[2:] if t.isdigit()]  # the licence cell may be empty
        check(bool(counts) and int(counts[0]) > 0, "{} owns no file on the page: {}".format(texts[:2], texts))
    check(len(dom.by_class("file")) > 0 and len(dom.by_class("strip-rule")) > 0,
          "biggest files and strip rules are listed")

    # A screenshot: the page draws (text and the bars' colour), at the size asked for.
    shot = os.path.join(os.environ.get("TEST_TMPDIR", tempfile.mkdtemp()), "report.png")
    chromium("--screenshot=" + shot, "--window-size=1200,900", "file://" + os.path.abspath(html_page))
    width, height, colours = png_pixels(shot)
    check((width, height) == (1200, 900), "screenshot is {}x{}".format(width, height))
    check(bytes([0x3a, 0x7b, 0xd5]) in colours, "no size bar drawn in the screenshot")
    check(len(colours) > 20, "screenshot has only {} colours: blank page?".format(len(colours)))

    # The SBOM: valid for spdx-tools, and what the layers hold.
    ok, output = validate_sbom(sbom)
    check(ok, "pyspdxtools refuses the SBOM: {}".format(output))
    doc, packages, contains = sbom_packages(sbom)
    deps_id = next(i for i, p in packages.items() if p["name"] == "layer deps")
    in_deps = {(packages[i]["name"], packages[i]["versionInfo"]) for i in contains.get(deps_id, [])}
    check(in_deps == want, "SBOM deps layer {} != {}".format(in_deps, want))
    for i in contains.get(deps_id, []):
        ref = packages[i]["externalRefs"][0]["referenceLocator"]
        check(ref.startswith("pkg:pypi/") and "@" in ref, "purl {}".format(ref))
    check(packages[deps_id]["checksums"][0]["checksumValue"] == descs["deps"]["digest"][len("sha256:"):],
          "SBOM deps layer checksum is not the layer's digest")
    index = json.load(open(os.path.join(base, "index.json")))
    base_digests = {m["digest"] for m in index["manifests"]}
    check(packages.get("SPDXRef-Base", {}).get("versionInfo") in base_digests,
          "SBOM base {} not in the base layout's index {}".format(packages.get("SPDXRef-Base"), base_digests))
    python = [p for p in packages.values() if p["name"] == "CPython"]
    check(len(python) == 1 and python[0]["versionInfo"].startswith("3."), "SBOM interpreter {}".format(python))
    # The validator is not a rubber stamp: a package without its SPDXID is refused.
    broken = dict(doc)
    broken["packages"] = [dict(p) for p in doc["packages"]]
    del broken["packages"][1]["SPDXID"]
    bad = os.path.join(os.path.dirname(shot), "broken.spdx.json")
    json.dump(broken, open(bad, "w"))
    check(not validate_sbom(bad)[0], "pyspdxtools accepted an SBOM with a package without SPDXID")

    # The image with files in more than one layer.
    dup = args["dup"]
    dom = rendered(next(p for p in dup if p.endswith(".report.html")))
    names = [r[1]["data-layer"] for r in dom.by_class("layer")]
    check(len(names) == 6 and names[3:] == ["python", "deps", "app"], "dup image layers {}".format(names))
    dups = {cells(r[2])[0]: cells(r[2])[1] for r in dom.by_class("duplicate")}
    main_py = "/app/examples/flask_app/app.runfiles/_main/examples/flask_app/app.py"
    check(set(dups) == {"/etc/app.toml", main_py}, "files in two layers: {}".format(dups))
    check(dups.get(main_py, "").endswith(", app"), "app.py's copies: {}".format(dups.get(main_py)))
    ok, output = validate_sbom(next(p for p in dup if p.endswith(".spdx.json")))
    check(ok, "pyspdxtools refuses the dup image's SBOM: {}".format(output))

    if failures:
        sys.exit("FAIL:\n  " + "\n  ".join(failures))
    print("ok: report and SBOM of //:image and the dup image")


main()
