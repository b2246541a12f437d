"""The app of bench/e2e_bench.sh: one line of its own, a synthetic deps set."""

import synthetic_blobs

print("synthetic app on", synthetic_blobs.__name__)
# e
