#!/usr/bin/env bash
# Per-layer sizes of the multi-platform example for both platforms: without
# stripping (strip = False), as the image has them (strip = True, the default),
# and with ELF debug sections removed too (strip_debug = True). Builds the
# `report` output group of each and prints one Markdown table from the
# layer-splitter's reports.
#
#   examples/multiarch/layer_sizes.sh     # from anywhere in the checkout
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
PKG=//examples/multiarch
PLATFORMS=(linux_amd64 linux_arm64)
targets=()
for p in "${PLATFORMS[@]}"; do targets+=("$PKG:unstripped_$p" "$PKG:image_${p}_layers" "$PKG:strip_debug_$p"); done

./bazelw build --output_groups=report "${targets[@]}" >/dev/null 2>&1 ||
    { ./bazelw build --output_groups=report "${targets[@]}"; exit 1; }
query=$(printf ' + %s' "${targets[@]}")
files=$(./bazelw cquery --output=files --output_groups=report "${query:3}" 2>/dev/null)
report() { # target name -> its report file
    grep "/$1\.report\.txt\$" <<<"$files" || { echo "error: no report for $1 in: $files" >&2; exit 1; }
}
# report file -> lines "layer entries uncompressed compressed"
layers() { awk '$1 == "layer" && $2 == "entries" { getline; print $1, $2, $3, $4 }' "$(report "$1")"; }

echo "| platform | layer | entries: unstripped → strip | uncompressed: unstripped → strip → + strip_debug | gzip: unstripped → strip → + strip_debug |"
echo "| --- | --- | ---: | ---: | ---: |"
for p in "${PLATFORMS[@]}"; do
    {
        layers "unstripped_$p" | sed 's/^/0 /'
        layers "image_${p}_layers" | sed 's/^/1 /'
        layers "strip_debug_$p" | sed 's/^/2 /'
    } | awk -v platform="${p/_//}" '
        function size(b) {
            if (b >= 1000000) return sprintf("%.1f MB", b / 1000000)
            if (b >= 1000) return sprintf("%.0f KB", b / 1000)
            return b " B"
        }
        {
            if (!($2 in seen)) { seen[$2] = 1; order[n++] = $2 }
            entries[$2, $1] = $3; raw[$2, $1] = size($4); gz[$2, $1] = size($5)
        }
        END {
            for (i = 0; i < n; i++) {
                l = order[i]
                printf "| %s | %s | %d → %d | %s → %s → %s | %s → %s → %s |\n", platform, l,
                    entries[l, 0], entries[l, 1], raw[l, 0], raw[l, 1], raw[l, 2], gz[l, 0], gz[l, 1], gz[l, 2]
            }
        }'
done
