#!/usr/bin/env python3
"""Where Bazel ran each action, from its JSON execution log; fails on what must not be.

    check_exec_log.py EXEC_LOG [--remote MNEMONIC[=MIN]]... [--runner RUNNER]...
                      [--forbid-path PATH]... [--json]

EXEC_LOG is what `--execution_log_json_file=FILE` writes (Bazel 7: one JSON
object per spawn, one after the other). Prints a table of spawns per mnemonic
and runner, then checks:

  --remote MNEMONIC[=MIN]  every spawn of MNEMONIC ran on a runner given with
                           --runner (default: "remote", i.e. executed by the
                           engine), and there are at least MIN of them (default 1)
  --forbid-path PATH       no spawn that ran remotely names PATH in its arguments
                           or environment: the worker does not have the client's
                           checkout or output base, so such an action only works
                           by accident where they exist
"""

import argparse
import collections
import json
import sys


def spawns(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    decoder = json.JSONDecoder()
    pos = 0
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text):
            return
        spawn, pos = decoder.raw_decode(text, pos)
        yield spawn


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("exec_log")
    parser.add_argument("--remote", action="append", default=[], metavar="MNEMONIC[=MIN]")
    parser.add_argument("--runner", action="append", default=[], help='accepted runners for --remote (default: "remote")')
    parser.add_argument("--forbid-path", action="append", default=[], metavar="PATH")
    parser.add_argument("--json", action="store_true", help="print the per-mnemonic counts as JSON instead of a table")
    args = parser.parse_args()
    runners = set(args.runner or ["remote"])

    try:
        log = list(spawns(args.exec_log))
    except (OSError, ValueError) as e:
        sys.exit("error: cannot read the execution log %s: %s" % (args.exec_log, e))
    if not log:
        sys.exit("error: %s holds no spawn: was the build run with --execution_log_json_file?" % args.exec_log)

    counts = collections.Counter((s.get("mnemonic", "?"), s.get("runner", "?")) for s in log)
    if args.json:
        table = collections.defaultdict(dict)
        for (mnemonic, runner), n in counts.items():
            table[mnemonic][runner] = n
        print(json.dumps(table, sort_keys=True))
    else:
        for (mnemonic, runner), n in sorted(counts.items()):
            print("  %-28s %-26s %4d" % (mnemonic, runner, n))
        by_runner = collections.Counter(s.get("runner", "?") for s in log)
        print("  %-28s %-26s %4d  (%s)" % ("all", "", len(log), ", ".join("%s %d" % kv for kv in sorted(by_runner.items()))))

    errors = []
    for want in args.remote:
        mnemonic, _, minimum = want.partition("=")
        minimum = int(minimum or 1)
        mine = [s for s in log if s.get("mnemonic") == mnemonic]
        if len(mine) < minimum:
            errors.append("expected at least %d %s spawns, the log has %d" % (minimum, mnemonic, len(mine)))
        for s in mine:
            if s.get("runner") not in runners:
                outputs = [o.get("path") for o in s.get("actualOutputs", [])] or [o for o in s.get("listedOutputs", [])]
                errors.append(
                    "%s for %s ran on '%s', not on %s (outputs %s)"
                    % (mnemonic, s.get("targetLabel", "?"), s.get("runner"), " or ".join(sorted(runners)), outputs[:2])
                )
    for path in args.forbid_path:
        for s in log:
            if not s.get("runner", "").startswith("remote"):
                continue
            texts = list(s.get("commandArgs", [])) + ["%s=%s" % (e.get("name"), e.get("value")) for e in s.get("environmentVariables", [])]
            hits = [t for t in texts if path in t]
            if hits:
                errors.append("%s for %s names the client's path %s: %s" % (s.get("mnemonic"), s.get("targetLabel", "?"), path, hits[0][:200]))
    if errors:
        for e in errors:
            print("FAIL: " + e, file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
