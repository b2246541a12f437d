#!/usr/bin/env bash
# A target for run_all_test: named slow_ok or slow_fail (its file name says which), it
# records when it starts and ends in DIR, says hello, takes a second, and slow_fail
# exits 3.
set -euo pipefail
name=$(basename "$0")
dir=$1
date +%s.%N >"$dir/$name.start"
echo "hello from $name"
sleep 1
date +%s.%N >"$dir/$name.end"
[ "$name" != slow_fail ] || exit 3
