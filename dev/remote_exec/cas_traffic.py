#!/usr/bin/env python3
"""Bytes a Bazel client moved to and from the remote CAS, from its own gRPC log.

    cas_traffic.py GRPC_LOG [--json]

GRPC_LOG is what `--experimental_remote_grpc_log=FILE` writes: length-delimited
`remote_logging.LogEntry` messages (Bazel's src/main/protobuf/remote_execution_log.proto).
The few fields needed are read straight from the protobuf wire format, so no
generated code is needed:

    LogEntry.method_name = 3, LogEntry.details = 4
    RpcCallDetails.read = 5:  ReadDetails.request = 1 (ReadRequest.resource_name = 1),
                              ReadDetails.bytes_read = 3
    RpcCallDetails.write = 6: WriteDetails.resource_names = 1, WriteDetails.bytes_sent = 3

Prints one line per direction (or a JSON object with --json): calls, bytes, and
the blobs read, largest first. A log that names a CAS read method this script
does not count (BatchReadBlobs) is an error, so a figure is never partial.
"""

import argparse
import json
import sys

READ = "google.bytestream.ByteStream/Read"
WRITE = "google.bytestream.ByteStream/Write"
UNCOUNTED_READS = ("build.bazel.remote.execution.v2.ContentAddressableStorage/BatchReadBlobs",)


class WireError(ValueError):
    pass


def varint(buf, pos):
    result = shift = 0
    while True:
        if pos >= len(buf):
            raise WireError("truncated varint at byte %d" % pos)
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise WireError("varint longer than 64 bits at byte %d" % pos)


def fields(buf):
    """(field number, wire type, value) of one message; value is an int or bytes."""
    pos = 0
    while pos < len(buf):
        key, pos = varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = varint(buf, pos)
        elif wire == 1:
            value, pos = int.from_bytes(buf[pos:pos + 8], "little"), pos + 8
        elif wire == 2:
            size, pos = varint(buf, pos)
            if pos + size > len(buf):
                raise WireError("field %d overruns its message" % number)
            value, pos = buf[pos:pos + size], pos + size
        elif wire == 5:
            value, pos = int.from_bytes(buf[pos:pos + 4], "little"), pos + 4
        else:
            raise WireError("unsupported wire type %d for field %d" % (wire, number))
        yield number, wire, value


def first(buf, number, default=None):
    for n, _, value in fields(buf):
        if n == number:
            return value
    return default


def entries(data):
    pos = 0
    while pos < len(data):
        size, pos = varint(data, pos)
        if pos + size > len(data):
            raise WireError("the last entry is truncated (was Bazel still running?)")
        yield data[pos:pos + size]
        pos += size


def blob_of(resource_name):
    """`[instance/]blobs/HASH/SIZE` or `[instance/]uploads/UUID/blobs/HASH/SIZE`."""
    parts = resource_name.split("/")
    if "blobs" in parts:
        i = len(parts) - 1 - parts[::-1].index("blobs")
        if i + 2 < len(parts) and parts[i + 2].isdigit():
            return parts[i + 1], int(parts[i + 2])
    return resource_name, None


def summarize(path):
    with open(path, "rb") as f:
        data = f.read()
    reads, writes = {}, {}
    totals = {"read_calls": 0, "read_bytes": 0, "write_calls": 0, "write_bytes": 0}
    methods = {}
    for entry in entries(data):
        method = first(entry, 3, b"").decode().lstrip("/")
        methods[method] = methods.get(method, 0) + 1
        if method in UNCOUNTED_READS:
            raise SystemExit(
                "error: %s calls %s, which this script does not count; extend dev/remote_exec/cas_traffic.py" % (path, method)
            )
        details = first(entry, 4, b"")
        if method == READ:
            read = first(details, 5, b"")
            request = first(read, 1, b"")
            name = first(request, 1, b"").decode()
            got = first(read, 3, 0)
            totals["read_calls"] += 1
            totals["read_bytes"] += got
            blob, size = blob_of(name)
            reads[blob] = reads.get(blob, 0) + got
        elif method == WRITE:
            write = first(details, 6, b"")
            names = [v.decode() for n, _, v in fields(write) if n == 1 and v]
            sent = first(write, 3, 0)
            totals["write_calls"] += 1
            totals["write_bytes"] += sent
            blob = blob_of(names[0])[0] if names else "?"
            writes[blob] = writes.get(blob, 0) + sent
    totals["methods"] = dict(sorted(methods.items()))
    totals["largest_reads"] = sorted(reads.items(), key=lambda kv: -kv[1])[:5]
    totals["largest_writes"] = sorted(writes.items(), key=lambda kv: -kv[1])[:5]
    return totals


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("grpc_log", help="file written by --experimental_remote_grpc_log")
    parser.add_argument("--json", action="store_true", help="print the totals as one JSON object")
    args = parser.parse_args()
    try:
        totals = summarize(args.grpc_log)
    except (OSError, WireError) as e:
        sys.exit("error: cannot read the gRPC log %s: %s" % (args.grpc_log, e))
    if args.json:
        print(json.dumps(totals, sort_keys=True))
        return
    print("CAS reads:  %d calls, %d bytes" % (totals["read_calls"], totals["read_bytes"]))
    print("CAS writes: %d calls, %d bytes" % (totals["write_calls"], totals["write_bytes"]))


if __name__ == "__main__":
    main()
