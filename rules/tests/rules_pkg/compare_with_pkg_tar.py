"""Compares a files_layer tar with what rules_pkg's pkg_tar wrote for the same targets.

    compare_with_pkg_tar.py LAYER REFERENCE [--ids=PATH=UID:GID ...] [--expect-difference=PATH]

Every member of both, read with Python's tarfile: the same paths, types, modes,
owner names, link targets and contents. A hard link counts as the file it links
to (pkg_tar stores every copy). A directory no target declares is the layer's
(no owner names), where pkg_tar names it after the first entry below it: that
is reported, not counted. Numeric ids are checked on LAYER only
(pkg_tar 0.9.1 does not write the `uid`/`gid` attributes): the `--ids` paths have
those, everything else 0:0. With `--expect-difference`, passes only when the two
differ at that path and nowhere else (the comparison's own negative control).
"""

import argparse
import hashlib
import sys
import tarfile

TYPES = {
    tarfile.REGTYPE: "file",
    tarfile.AREGTYPE: "file",
    tarfile.DIRTYPE: "dir",
    tarfile.SYMTYPE: "symlink",
    tarfile.LNKTYPE: "hardlink",
}


def normal(name):
    while name.startswith("./"):
        name = name[2:]
    return name.strip("/")


def members(path):
    """path in the image -> (member, sha256 of its content or None), in archive order."""
    found = {}
    with tarfile.open(path) as tar:
        for member in tar.getmembers():
            name = normal(member.name)
            if not name or name == ".":
                continue  # the archive's root
            if name in found:
                raise SystemExit(f"{path}: {name} appears twice")
            digest = None
            if member.isfile():
                digest = hashlib.sha256(tar.extractfile(member).read()).hexdigest()
            elif member.islnk():
                target = normal(member.linkname)
                if target not in found:
                    raise SystemExit(f"{path}: {name} is a hard link to {target}, which does not precede it")
                digest = found[target][1]
            found[name] = (member, digest)
    return found


def describe(member, digest):
    kind = TYPES.get(member.type, repr(member.type))
    return {
        "type": "file" if kind == "hardlink" else kind,
        "mode": oct(member.mode),
        "uname": member.uname,
        "gname": member.gname,
        "link": member.linkname if member.issym() else "",
        "content": digest,
        "mtime": member.mtime,
    }


def named_after_child(name, member, reference):
    """Whether pkg_tar gave the directory `name` the owner names of the first entry below it."""
    for other, (below, _) in reference.items():
        if other.startswith(name + "/"):
            return (member.uname, member.gname) == (below.uname, below.gname)
    return False


def compare(layer, reference):
    """Human-readable differences, keyed by path."""
    differences = {}
    for name in reference:
        ours, theirs = layer.get(name, (None,))[0], reference[name][0]
        if (
            ours is not None
            and ours.isdir()
            and theirs.isdir()
            and (ours.uname, ours.gname) == ("", "")
            and (theirs.uname, theirs.gname) != ("", "")
            and named_after_child(name, theirs, reference)
        ):
            print(f"note: {name}/: pkg_tar names it {theirs.uname}:{theirs.gname} after the entry below it; the layer gives it none")
            theirs.uname, theirs.gname = "", ""
    for name in sorted(set(layer) | set(reference)):
        if name not in layer:
            differences[name] = "only in pkg_tar's archive"
            continue
        if name not in reference:
            differences[name] = "only in the layer"
            continue
        ours, theirs = describe(*layer[name]), describe(*reference[name])
        fields = [f"{key}: {ours[key]!r} vs pkg_tar's {theirs[key]!r}" for key in ours if ours[key] != theirs[key]]
        if fields:
            differences[name] = "; ".join(fields)
    return differences


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("layer")
    parser.add_argument("reference")
    parser.add_argument("--ids", action="append", default=[], metavar="PATH=UID:GID")
    parser.add_argument("--expect-difference", metavar="PATH")
    args = parser.parse_args()

    layer, reference = members(args.layer), members(args.reference)
    differences = compare(layer, reference)
    if args.expect_difference:
        if list(differences) != [args.expect_difference]:
            print(f"expected a difference at {args.expect_difference} only, got: {differences}")
            return 1
        print(f"the comparison tells them apart: {args.expect_difference}: {differences[args.expect_difference]}")
        return 0
    for name, text in differences.items():
        print(f"{name}: {text}")

    expected_ids = {}
    for item in args.ids:
        path, _, ids = item.partition("=")
        uid, _, gid = ids.partition(":")
        expected_ids[path] = (int(uid), int(gid))
    wrong_ids = []
    for name, (member, _) in sorted(layer.items()):
        want = expected_ids.pop(name, (0, 0))
        if (member.uid, member.gid) != want:
            wrong_ids.append(f"{name}: ids {member.uid}:{member.gid}, expected {want[0]}:{want[1]}")
    wrong_ids += [f"{name}: not in the layer" for name in expected_ids]
    for text in wrong_ids:
        print(text)
    if differences or wrong_ids:
        return 1
    print(f"{len(layer)} members equal to pkg_tar's (paths, types, modes, owner names, link targets, contents, times)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
