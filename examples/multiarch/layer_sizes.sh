#!/usr/bin/env bash
# Per-layer sizes of the multi-platform example, before and after stripping,
# for both platforms: builds the `report` output group of the image's layers
# (strip = True, the default) and of the same layers with strip = False, and
# prints one Markdown table from the layer-splitter's reports.
#
#   examples/multiarch/layer_sizes.sh     # from anywhere in the checkout
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
PKG=//examples/multiarch
PLATFORMS=(linux_amd64 linux_arm64)
targets=()
for p in "${PLATFORMS[@]}"; do targets+=("$PKG:unstripped_$p" "$PKG:image_${p}_layers"); done

./bazelw build --output_groups=report "${targets[@]}" >/dev/null 2>&1 ||
    { ./bazelw build --output_groups=report "${targets[@]}"; exit 1; }
query=$(printf ' + %s' "${targets[@]}")
files=$(./bazelw cquery --output=files --output_groups=report "${query:3}" 2>/dev/null)
report() { # target name -> its report file
    local f
    f=$(grep "/$1\.report\.txt\$" <<<"$files") || { echo "error: no report for $1 in: $files" >&2; exit 1; }
    echo "$f"
}

# report file -> lines "layer entries uncompressed compressed"
layers() { awk '$1 == "layer" && $2 == "entries" { getline; print $1, $2, $3, $4 }' "$1"; }
for i in "${!PLATFORMS[@]}"; do
    layers "$(report "unstripped_${PLATFORMS[$i]}")" >"${TMPDIR:-/tmp}/layer_sizes.before.$$"
    layers "$(report "image_${PLATFORMS[$i]}_layers")" >"${TMPDIR:-/tmp}/layer_sizes.after.$$"
    awk -v platform="${PLATFORMS[$i]/_//}" '
        function size(b) {
            if (b >= 1000000) return sprintf("%.1f MB", b / 1000000)
            if (b >= 1000) return sprintf("%.0f KB", b / 1000)
            return b " B"
        }
        NR == FNR { entries[$1] = $2; raw[$1] = $3; gz[$1] = $4; next }
        {
            printf "| %s | %s | %d → %d | %s → %s | %s → %s |\n", platform, $1, entries[$1], $2,
                size(raw[$1]), size($3), size(gz[$1]), size($4)
        }
    ' "${TMPDIR:-/tmp}/layer_sizes.before.$$" "${TMPDIR:-/tmp}/layer_sizes.after.$$" >>"${TMPDIR:-/tmp}/layer_sizes.rows.$$"
done
echo "| platform | layer | entries (unstripped → stripped) | uncompressed | gzip |"
echo "| --- | --- | ---: | ---: | ---: |"
cat "${TMPDIR:-/tmp}/layer_sizes.rows.$$"
rm -f "${TMPDIR:-/tmp}"/layer_sizes.*."$$"
