#!/usr/bin/env bash
# The multi-platform image index, checked with tools rules_pyimage did not write:
#  1. skopeo + Python's json: the index lists exactly a linux/amd64 and a
#     linux/arm64 manifest, and the image skopeo picks for each platform has a
#     config of that architecture;
#  2. umoci + file: every ELF file our layers put in each image is for that
#     image's CPU (interpreter, stdlib extensions, MarkupSafe's speedups);
#  3. qemu-aarch64: the arm64 image's interpreter serves the app from the
#     unpacked root, reporting aarch64 and the aarch64 speedups;
#  4. runc: the amd64 image runs and answers over loopback
#     (examples/flask_app/run_image.sh);
#  5. docker-registry: the index's push target uploads the index with the
#     digest built, and pulling by platform gets each platform's manifest; each
#     platform's image has one referrer, its SBOM (push_sbom), in the
#     `sha256-<digest>` tag index, naming that platform's image.
#
#   image_test.sh INDEX_LAYOUT RUN_IMAGE_SH PUSH_LATEST
set -euo pipefail
INDEX=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
RUN_IMAGE=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
PUSH=$3
WORK=${TEST_TMPDIR:-$(mktemp -d)}/multiarch
rm -rf "$WORK" && mkdir -p "$WORK"
fail() { echo "FAIL: $*" >&2; exit 1; }
for tool in skopeo umoci file python3 curl qemu-aarch64 docker-registry; do
    command -v "$tool" >/dev/null || fail "$tool not found; dev/testbed/provision.sh installs it (qemu-aarch64: Debian's qemu-user)"
done
declare -A CPU=([amd64]=x86_64 [arm64]=aarch64)
declare -A FILE_SAYS=([amd64]="x86-64" [arm64]="ARM aarch64")

# 1. The index and the manifest skopeo selects for each platform.
skopeo inspect --raw "oci:$INDEX" >"$WORK/index.json"
python3 - "$WORK/index.json" <<'EOF' || fail "the index is not a linux/amd64 + linux/arm64 image index"
import json, sys
index = json.load(open(sys.argv[1]))
assert index.get("mediaType") == "application/vnd.oci.image.index.v1+json", index.get("mediaType")
platforms = sorted((m["platform"]["os"], m["platform"]["architecture"]) for m in index["manifests"])
assert platforms == [("linux", "amd64"), ("linux", "arm64")], platforms
assert all(m["mediaType"] == "application/vnd.oci.image.manifest.v1+json" for m in index["manifests"])
EOF
for arch in amd64 arm64; do
    skopeo copy -q --override-os linux --override-arch "$arch" "oci:$INDEX" "oci:$WORK/$arch:image"
    listed=$(python3 -c 'import json, sys; print(*[m["digest"] for m in json.load(open(sys.argv[1]))["manifests"] if m["platform"]["architecture"] == sys.argv[2]])' "$WORK/index.json" "$arch")
    picked=sha256:$(skopeo inspect --raw "oci:$WORK/$arch:image" | sha256sum | cut -d' ' -f1)
    [ "$picked" = "$listed" ] || fail "skopeo picked manifest $picked for linux/$arch, the index lists $listed"
    config_arch=$(skopeo inspect --config "oci:$WORK/$arch:image" | python3 -c 'import json, sys; c = json.load(sys.stdin); print(c["os"] + "/" + c["architecture"])')
    [ "$config_arch" = "linux/$arch" ] || fail "the linux/$arch manifest's config says $config_arch"
    echo "PASS: index lists linux/$arch -> $listed, config linux/$arch"
done

# 2. Every ELF file under the image's root (/app) is for the image's CPU.
for arch in amd64 arm64; do
    umoci unpack --image "$WORK/$arch:image" "$WORK/$arch-bundle" >/dev/null
    rootfs=$WORK/$arch-bundle/rootfs
    find "$rootfs/app" -type f -exec file -N -F ' ::' {} + | grep ' :: *ELF ' >"$WORK/$arch-elf.txt" || true
    total=$(wc -l <"$WORK/$arch-elf.txt")
    wrong=$(grep -vF -- "${FILE_SAYS[$arch]}," "$WORK/$arch-elf.txt" | head -n 3 || true)
    [ -z "$wrong" ] || fail "linux/$arch image holds ELF files for another CPU: $wrong"
    grep -q '/bin/python3 ::' "$WORK/$arch-elf.txt" || fail "no ${FILE_SAYS[$arch]} interpreter in the linux/$arch image"
    grep -q "/markupsafe/_speedups.cpython-[0-9]*-${CPU[$arch]}-linux-gnu.so ::" "$WORK/$arch-elf.txt" ||
        fail "no ${CPU[$arch]} build of MarkupSafe's speedups in the linux/$arch image"
    echo "PASS: linux/$arch image: all $total ELF files under /app are ${FILE_SAYS[$arch]}"
done

# 3. The arm64 image under qemu-aarch64, with the unpacked root as its sysroot.
# Without binfmt_misc the launcher's execv of the aarch64 interpreter cannot
# work, so run the app module with the interpreter the entrypoint names and the
# runfiles' site-packages on PYTHONPATH.
rootfs=$WORK/arm64-bundle/rootfs
read -r interpreter launcher < <(python3 -c 'import json, sys; print(*json.load(open(sys.argv[1]))["process"]["args"][:2])' "$WORK/arm64-bundle/config.json")
pythonpath=$(find -L "$rootfs$launcher.runfiles" -mindepth 2 -maxdepth 2 -name site-packages -type d | sort | paste -sd:)
[ -n "$pythonpath" ] || fail "no site-packages under $launcher.runfiles in the arm64 image"
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
PYTHONPATH=$pythonpath PORT=$PORT HOST=127.0.0.1 qemu-aarch64 -L "$rootfs" "$rootfs$interpreter" \
    "$rootfs$launcher.runfiles/_main/examples/multiarch/app.py" >"$WORK/qemu.log" 2>&1 &
QEMU_PID=$!
trap 'kill $QEMU_PID 2>/dev/null || true' EXIT
answer=
for _ in $(seq 1 240); do # emulated, and the stdlib has no bytecode: up to 60 s
    answer=$(curl -fsS "http://127.0.0.1:$PORT/" 2>/dev/null) && break
    kill -0 $QEMU_PID 2>/dev/null || break
    sleep 0.25
done
[ -n "$answer" ] || { cat "$WORK/qemu.log"; fail "the arm64 image's app did not answer under qemu-aarch64"; }
echo "arm64 answer: $answer"
for text in '"machine":"aarch64"' '"speedups":"_speedups.cpython-314-aarch64-linux-gnu.so"' '"escaped":"&lt;arm64 &amp; amd64&gt;"'; do
    grep -qF -- "$text" <<<"$answer" || fail "'$text' not in the arm64 answer"
done
kill $QEMU_PID 2>/dev/null || true
echo "PASS: arm64 image runs under qemu-aarch64 with its aarch64 interpreter and speedups"

# 4. The amd64 image under runc, as the other examples run.
"$RUN_IMAGE" "$WORK/amd64" 4 python,deps,app \
    '"machine":"x86_64"' '"speedups":"_speedups.cpython-314-x86_64-linux-gnu.so"' "hello from rules_pyimage"

# 5. One tag for both platforms: push the index to a registry on loopback.
REGISTRY_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
printf 'version: 0.1\nlog: {level: warn}\nstorage: {filesystem: {rootdirectory: %s}}\nhttp: {addr: 127.0.0.1:%s}\n' \
    "$WORK/registry" "$REGISTRY_PORT" >"$WORK/registry.yml"
docker-registry serve "$WORK/registry.yml" >"$WORK/registry.log" 2>&1 &
REGISTRY_PID=$!
trap 'kill $QEMU_PID $REGISTRY_PID 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do curl -fsS "http://127.0.0.1:$REGISTRY_PORT/v2/" >/dev/null 2>&1 && break; sleep 0.1; done
REPO=127.0.0.1:$REGISTRY_PORT/acme/multiarch
"$PUSH" --repository "$REPO" >"$WORK/push.log" 2>&1 || { cat "$WORK/push.log"; fail "pushing the index failed"; }
built=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["manifests"][0]["digest"])' "$INDEX/index.json")
pushed=sha256:$(skopeo inspect --tls-verify=false --raw "docker://$REPO:latest" | sha256sum | cut -d' ' -f1)
[ "$pushed" = "$built" ] || fail "the registry's $REPO:latest is $pushed, the built index is $built"
for arch in amd64 arm64; do
    listed=$(python3 -c 'import json, sys; print(*[m["digest"] for m in json.load(open(sys.argv[1]))["manifests"] if m["platform"]["architecture"] == sys.argv[2]])' "$WORK/index.json" "$arch")
    skopeo copy -q --src-tls-verify=false --override-os linux --override-arch "$arch" "docker://$REPO:latest" "oci:$WORK/pulled-$arch:image"
    pulled=sha256:$(skopeo inspect --raw "oci:$WORK/pulled-$arch:image" | sha256sum | cut -d' ' -f1)
    [ "$pulled" = "$listed" ] || fail "pulling $REPO:latest for linux/$arch gives manifest $pulled, the index lists $listed"
    config_arch=$(skopeo inspect --config "oci:$WORK/pulled-$arch:image" | python3 -c 'import json, sys; print(json.load(sys.stdin)["architecture"])')
    [ "$config_arch" = "$arch" ] || fail "the image pulled for linux/$arch has a $config_arch config"
    skopeo inspect --tls-verify=false --raw "docker://$REPO:sha256-${listed#sha256:}" >"$WORK/referrers-$arch.json" ||
        fail "no referrers tag for the linux/$arch image $listed"
    sbom=$(python3 - "$WORK/referrers-$arch.json" <<'PY'
import json, sys
[d] = json.load(open(sys.argv[1]))["manifests"]
assert d["artifactType"] == "application/spdx+json", d
print(d["digest"])
PY
    ) || fail "the linux/$arch image's referrers are not its one SBOM: $(cat "$WORK/referrers-$arch.json")"
    skopeo inspect --tls-verify=false --raw "docker://$REPO@$sbom" >"$WORK/sbom-manifest-$arch.json"
    layer=$(python3 -c 'import json, sys; m = json.load(open(sys.argv[1])); assert m["subject"]["digest"] == sys.argv[2], m; print(m["layers"][0]["digest"])' "$WORK/sbom-manifest-$arch.json" "$listed") ||
        fail "the SBOM $sbom does not refer to the linux/$arch image $listed"
    curl -fsS "http://127.0.0.1:$REGISTRY_PORT/v2/acme/multiarch/blobs/$layer" |
        python3 -c 'import json, sys; d = json.load(sys.stdin); assert d["spdxVersion"] == "SPDX-2.3" and d["name"].startswith("//examples/multiarch:image_linux_" + sys.argv[1] + " "), d["name"]' "$arch" ||
        fail "the SBOM referring to the linux/$arch image is not that image's SPDX document"
done
echo "PASS: $REPO:latest is the index $built; pulling it for linux/amd64 and linux/arm64 gives each platform's image, each with its SBOM as a referrer"
