#!/usr/bin/env python3
"""layer_paths_test.py LAYER... [+SUFFIX | -SUFFIX]...: read layer blobs with Python's
tarfile and check that an entry ending in each +SUFFIX is in one of them and none
ending in any -SUFFIX is in any."""
import sys
import tarfile

blobs = [a for a in sys.argv[1:] if a[0] not in "+-"]
checks = [a for a in sys.argv[1:] if a[0] in "+-"]
names = []
for blob in blobs:
    with tarfile.open(blob) as tar:
        names += [m.name.rstrip("/") for m in tar.getmembers()]
failed = False
for check in checks:
    sign, suffix = check[0], check[1:]
    found = [n for n in names if n == suffix or n.endswith("/" + suffix)]
    if (sign == "+") != bool(found):
        failed = True
        print(f"FAIL: {suffix} {'missing from' if sign == '+' else 'present in'} the layers: {found}")
    else:
        print(f"PASS: {suffix} {'in' if sign == '+' else 'not in'} the layers")
sys.exit(1 if failed else 0)
