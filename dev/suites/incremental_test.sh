#!/usr/bin/env bash
# Incremental rebuilds: after an edit, only the layer that holds the edited
# file is written again. Checked from Bazel's own execution log.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$REPO"
# shellcheck source=dev/testbed/common.sh
. "$REPO/dev/testbed/common.sh"
# shellcheck source=dev/suites/lib.sh
. "$REPO/dev/suites/lib.sh"
e2e_workdir "$(mktemp -d "$REPO/.incremental.XXXXXX")"

BUILD_FLAGS=()
layers_rerun() { # target -> names of the layer blobs written by the build
    ./bazelw build "$1" ${BUILD_FLAGS[@]+"${BUILD_FLAGS[@]}"} --execution_log_json_file="$WORK/exec.json" >"$WORK/build.log" 2>&1 ||
        { cat "$WORK/build.log"; exit 1; }
    # Every layer spawn in the log, executed or served by the disk cache (a lock
    # change seen in an earlier run is a disk cache hit): Bazel only runs, or
    # looks up, an action whose inputs changed since the last build.
    jq -rs '[.[] | select(.mnemonic == "PyImageLayer")
             | .actualOutputs[].path | select(test("\\.tar(\\.gz|\\.zst)?$")) | split("/")[-1]]
            | sort | join(" ")' "$WORK/exec.json"
}

change() { # target, description, expected rebuilt layers, command that makes the change...
    local target=$1 what=$2 want=$3 got
    shift 3
    ./bazelw build "$target" ${BUILD_FLAGS[@]+"${BUILD_FLAGS[@]}"} >/dev/null 2>&1
    "$@"
    got=$(layers_rerun "$target")
    printf '%-34s %-38s -> re-run: %s\n' "$target" "$what" "${got:-none}"
    [ "$got" = "$want" ] || { echo "FAIL: expected only '$want' to be written again"; exit 1; }
}

append() { # file, text
    keep "$1"
    printf '%s %s\n' "$2" "$(date +%s%N)" >>"$1"
}

check() { # target, file to edit, text to append, expected rebuilt layers
    change "$1" "edit $2" "$4" append "$2" "$3"
}

# A lock change: werkzeug 3.1.9 -> 3.1.8 (flask 3.1 accepts both).
downgrade_werkzeug() {
    local lock=examples/flask_app/requirements_lock.txt
    keep "$lock"
    sed -i -e 's/^werkzeug==3\.1\.9 /werkzeug==3.1.8 /' \
        -e 's/sha256:6392e50c78460ba618e5b21f08a71f59c99ce99cdc6cf6e3dd7e6ccca8754fab/sha256:63a77fb8892bf28ebc3178683445222aa500e48ebad5ec77b0ad80f8726b1f50/' "$lock"
    grep -q '^werkzeug==3.1.8 ' "$lock" || { echo "FAIL: could not edit $lock"; exit 1; }
}

# An interpreter change, as a patch release would be: the test bed's Python
# repository takes the first python3 on PATH; put a different build of it first.
new_interpreter() {
    mkdir -p "$WORK/python/bin"
    testbed_exec "cp \"\$(readlink -f /usr/bin/python3)\" $WORK/python/bin/python3 && printf 'patch' >> $WORK/python/bin/python3"
    BUILD_FLAGS=("--repo_env=PATH=$WORK/python/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
}

# A real registry, to see what a push after an app edit uploads.
start_registry "$WORK"
PORT=$REGISTRY_PORT
push() { ./bazelw run //:push_dockerhub_latest -- --repository "127.0.0.1:$PORT/incremental/app" >"$WORK/push.log" 2>&1 ||
    { cat "$WORK/push.log"; exit 1; }; }
# What the registry's access log says (dev/suites/registry_log.py parses it).
registry_log() { python3 dev/suites/registry_log.py "$@"; }
uploads() { registry_log "$WORK/registry.log" | python3 -c 'import json, sys; print(len(json.load(sys.stdin).get("incremental/app", {"uploads": []})["uploads"]))'; }

push
before=$(uploads)
[ "$before" -ge 5 ] || { echo "FAIL: the first push should upload every layer and the config, log shows $before"; exit 1; }
check //:image examples/flask_app/app.py "# edited" "app.tar.gz"
push
after=$(uploads)
echo "blobs uploaded (registry log): first push $before, push after the app edit $((after - before))"
[ $((after - before)) = 2 ] || { echo "FAIL: expected 2 uploads (app layer + config), got $((after - before))"; exit 1; }
check //examples/ca_service:image examples/ca_service/service.py "# edited" "app.tar.gz"
check //examples/ca_service:image examples/ca_service/internal_ca.pem "# rotated" "ca_layer.tar.gz"
# Two services on one py_shared_layers target: an edit of one re-runs only its
# app layer; a change to a shared layer re-runs that layer's action once, not
# once per image.
check //examples/shared_stack/... examples/shared_stack/orders/service.py "# edited" "app.tar.gz"
change //examples/shared_stack/... "lock: werkzeug 3.1.9 -> 3.1.8" "web.tar.gz" downgrade_werkzeug
restore examples/flask_app/requirements_lock.txt
change //examples/ca_service:image "lock: werkzeug 3.1.9 -> 3.1.8" "deps.tar.gz" downgrade_werkzeug
change //examples/ca_service:image "interpreter: another python3 build" "python.tar.gz" new_interpreter
BUILD_FLAGS=()
echo "PASS: each edit re-runs only the layer that holds the edited file"

# push_all over three repositories of one registry: the first receives the blobs,
# the other two get copies that the registry mounts from it (cross-repository
# mount), so no blob is uploaded twice. Counted in the registry's log; the tags
# read back with crane.
MOUNT_PKG=${WORK#"$REPO"/}/mount
mkdir -p "$MOUNT_PKG"
cat >"$MOUNT_PKG/BUILD.bazel" <<BUILD
load("//rules:defs.bzl", "py_image")

py_image(
    name = "image",
    binary = "//examples/flask_app:app",
    registries = {
        "first": "127.0.0.1:$PORT/mount/first",
        "second": "127.0.0.1:$PORT/mount/second",
        "third": "127.0.0.1:$PORT/mount/third",
    },
)
BUILD
./bazelw run "//$MOUNT_PKG:push_all" --define=VERSION=v9.9.9 >"$WORK/push_all.log" 2>&1 ||
    { cat "$WORK/push_all.log"; echo "FAIL: push_all"; exit 1; }
mount_layout=$(./bazelw cquery "//$MOUNT_PKG:image" --output=files 2>/dev/null)
# each blob uploaded once, to the first, and mounted from it into the others
registry_log "$WORK/registry.log" --layout "$mount_layout" --uploaded mount/first \
    --mounted mount/second=mount/first mount/third=mount/first || exit 1
want=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1] + "/index.json"))["manifests"][0]["digest"])' "$mount_layout")
for ref in first:latest first:v9.9.9 second:latest second:v9.9.9 third:latest third:v9.9.9; do
    got=$(testbed_exec "crane digest 127.0.0.1:$PORT/mount/$ref")
    [ "$got" = "$want" ] || { echo "FAIL: mount/$ref is $got, the image is $want"; exit 1; }
done
echo "PASS: every repository has both tags of the image ($want); each blob was uploaded once"

# push_all_defines over registry_defines: two repositories on this registry and
# one on a second registry, all from --define. On each registry the image is
# uploaded once; the second repository of the first registry gets it by mount.
mkdir -p "$WORK/other"
start_registry "$WORK/other"
OTHER_PORT=$REGISTRY_PORT
DEFINES_PKG=${WORK#"$REPO"/}/defines
mkdir -p "$DEFINES_PKG"
cat >"$DEFINES_PKG/BUILD.bazel" <<BUILD
load("//rules:defs.bzl", "py_image")

py_image(
    name = "image",
    binary = "//examples/flask_app:app",
    registry_defines = {
        "one": "ONE_REPOSITORY",
        "two": "TWO_REPOSITORY",
        "elsewhere": "ELSEWHERE_REPOSITORY",
        "unused": "UNUSED_REPOSITORY",
    },
)
BUILD
if ./bazelw run "//$DEFINES_PKG:push_all_defines" >"$WORK/defines_none.log" 2>&1; then
    echo "FAIL: push_all_defines ran without any --define"; exit 1
fi
grep -qF -- "no repository for //$DEFINES_PKG:push_all_defines: pass --define=ONE_REPOSITORY=registry.example.com:5000/team/app" "$WORK/defines_none.log" ||
    { tail -n 5 "$WORK/defines_none.log"; echo "FAIL: push_all_defines without --define does not say which --define to pass"; exit 1; }
./bazelw run "//$DEFINES_PKG:push_all_defines" --define=VERSION=v3.0.0 \
    --define=ONE_REPOSITORY="127.0.0.1:$PORT/defines/one" --define=TWO_REPOSITORY="127.0.0.1:$PORT/defines/two" \
    --define=ELSEWHERE_REPOSITORY="127.0.0.1:$OTHER_PORT/defines/elsewhere" >"$WORK/defines.log" 2>&1 ||
    { cat "$WORK/defines.log"; echo "FAIL: push_all_defines"; exit 1; }
grep -qF -- "--define=UNUSED_REPOSITORY is not set: not pushing to registry 'unused'" "$WORK/defines.log" ||
    { cat "$WORK/defines.log"; echo "FAIL: push_all_defines does not say that it skips the registry whose --define is not set"; exit 1; }
defines_layout=$(./bazelw cquery "//$DEFINES_PKG:image" --output=files 2>/dev/null)
registry_log "$WORK/registry.log" --layout "$defines_layout" --uploaded defines/one --mounted defines/two=defines/one || exit 1
registry_log "$WORK/other/registry.log" --layout "$defines_layout" --uploaded defines/elsewhere || exit 1
want=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1] + "/index.json"))["manifests"][0]["digest"])' "$defines_layout")
for ref in "$PORT/defines/one" "$PORT/defines/two" "$OTHER_PORT/defines/elsewhere"; do
    for tag in latest v3.0.0; do
        got=$(testbed_exec "crane digest 127.0.0.1:$ref:$tag")
        [ "$got" = "$want" ] || { echo "FAIL: 127.0.0.1:$ref:$tag is $got, the image is $want"; exit 1; }
    done
done
echo "PASS: push_all_defines: each registry received each blob once, the second repository on one registry by mount; all three have both tags of $want"

# push_sbom: every push also sends the SBOM as an artifact whose subject is the
# image, by digest. The registry (docker-registry 2.8) has no referrers API, so
# crane lists it in the `sha256-<hex>` tag index. Read back with skopeo and curl,
# not crane: the index names exactly one referrer of type application/spdx+json in
# each repository (pushed twice to the first by push_all: no duplicate), whose
# subject is the image and whose layer is the bytes of the `sbom` output group; a
# `--tag` given to a push tags the image, not the SBOM.
SBOM_PKG=${WORK#"$REPO"/}/sbom
mkdir -p "$SBOM_PKG"
cat >"$SBOM_PKG/BUILD.bazel" <<BUILD
load("//rules:defs.bzl", "py_image")

py_image(
    name = "image",
    binary = "//examples/flask_app:app",
    push_sbom = True,
    registries = {
        "first": "127.0.0.1:$PORT/sbom/first",
        "second": "127.0.0.1:$PORT/sbom/second",
    },
    registry_defines = {"chosen": "SBOM_REGISTRY"},
)
BUILD
run_push() { # log name, bazel run arguments...
    local log="$WORK/$1.log"
    shift
    ./bazelw run "$@" >"$log" 2>&1 || { cat "$log"; echo "FAIL: bazel run $*"; exit 1; }
}
run_push sbom_all "//$SBOM_PKG:push_all" --define=VERSION=v1.0.0
run_push sbom_extra "//$SBOM_PKG:push_first_latest" -- --tag extra
run_push sbom_chosen "//$SBOM_PKG:push_chosen" --define=SBOM_REGISTRY="127.0.0.1:$PORT/sbom/chosen"
image_layout=$(./bazelw cquery "//$SBOM_PKG:image" --output=files 2>/dev/null)
sbom_file=$(./bazelw cquery "//$SBOM_PKG:image_tars" --output=files --output_groups=sbom 2>/dev/null)
image_digest=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1] + "/index.json"))["manifests"][0]["digest"])' "$image_layout")
PORT_HOST=127.0.0.1:$PORT
for repo in first second chosen; do
    ref="$PORT_HOST/sbom/$repo"
    testbed_exec "skopeo inspect --tls-verify=false --raw docker://$ref:sha256-${image_digest#sha256:}" >"$WORK/referrers.json"
    referrer=$(python3 - "$WORK/referrers.json" <<'PY'
import json, sys
index = json.load(open(sys.argv[1]))
assert index["mediaType"] == "application/vnd.oci.image.index.v1+json", index
spdx = [d for d in index["manifests"] if d.get("artifactType") == "application/spdx+json"]
assert len(spdx) == 1 and len(index["manifests"]) == 1, f"expected one SBOM referrer: {index}"
print(spdx[0]["digest"])
PY
    ) || { echo "FAIL: $ref: referrers of $image_digest"; cat "$WORK/referrers.json"; exit 1; }
    testbed_exec "skopeo inspect --tls-verify=false --raw docker://$ref@$referrer" >"$WORK/referrer.json"
    layer=$(python3 - "$WORK/referrer.json" "$image_digest" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
assert m["artifactType"] == "application/spdx+json", m
assert m["subject"]["digest"] == sys.argv[2], m["subject"]
[layer] = m["layers"]
assert layer["mediaType"] == "application/spdx+json", layer
print(layer["digest"])
PY
    ) || { echo "FAIL: $ref@$referrer is not the image's SBOM"; cat "$WORK/referrer.json"; exit 1; }
    testbed_exec "curl -fsS http://$PORT_HOST/v2/sbom/$repo/blobs/$layer" >"$WORK/pushed.spdx.json"
    cmp "$WORK/pushed.spdx.json" "$sbom_file" || { echo "FAIL: the SBOM in $ref differs from $sbom_file"; exit 1; }
done
for ref in first:latest first:v1.0.0 first:extra second:latest second:v1.0.0 chosen:latest; do
    got=$(testbed_exec "skopeo inspect --tls-verify=false --raw docker://127.0.0.1:$PORT/sbom/$ref" | sha256sum | cut -d' ' -f1)
    [ "sha256:$got" = "$image_digest" ] || { echo "FAIL: sbom/$ref is sha256:$got, the image is $image_digest"; exit 1; }
done
echo "PASS: the SBOM ($(wc -c <"$sbom_file") bytes) is the one spdx referrer of $image_digest in each repository; tags name the image"
