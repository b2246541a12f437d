#!/usr/bin/env bash
# The ML examples (examples/pytorch, examples/jax_variants): GBs of wheels, so
# their targets are manual and this suite builds them. Checks, with tools
# rules_pyimage did not write (Python's tarfile and json, skopeo, runc,
# docker-registry):
#   - both JAX variants and the torch image build in one `bazel build`;
#     `--config=cpu` switches :image to the CPU variant;
#   - each image's layer split: NVIDIA and torch/JAX wheels in their own
#     layers, nothing in two layers, a small app layer;
#   - the CPU variant and the torch image run under runc (no GPU);
#   - the config the Dockerfile had (env, ports, working directory);
#   - push_custom takes its registry from --define and pushes latest and the
#     version tag; after an app edit only the app layer digest changes and the
#     push uploads 2 blobs (app layer + config);
#   - the layer_sizes.py command of the READMEs works.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$REPO"
# shellcheck source=dev/testbed/common.sh
. "$REPO/dev/testbed/common.sh"
# shellcheck source=dev/suites/lib.sh
. "$REPO/dev/suites/lib.sh"
mkdir -p "$TESTBED_CACHE/tmp"
e2e_workdir "$(mktemp -d "$TESTBED_CACHE/tmp/ml.XXXXXX")"
fail() { echo "FAIL: $*" >&2; exit 1; }
step() { printf '\n== %s\n' "$*"; }
bazel_quiet() { ./bazelw "$@" >"$WORK/bazel.log" 2>&1 || { tail -40 "$WORK/bazel.log"; fail "bazel $*"; }; }
layout() { # target [flags] -> its OCI layout directory (host path)
    local path
    path=$(./bazelw cquery "$@" --output=files 2>/dev/null | head -n1)
    echo "$REPO/$path"
}
layer_digests() { python3 -c 'import json,sys,os
d=sys.argv[1]; idx=json.load(open(os.path.join(d,"index.json")))
m=json.load(open(os.path.join(d,"blobs/sha256",idx["manifests"][0]["digest"].split(":")[1])))
print(" ".join(l["digest"] for l in m["layers"]))' "$1"; }

TORCH=//examples/pytorch:image
CPU=//examples/jax_variants:image_cpu
CUDA=//examples/jax_variants:image_cuda

step "one bazel build: the torch image and both JAX variants"
start=$SECONDS
bazel_quiet build "$TORCH" //examples/jax_variants:images
echo "built in $((SECONDS - start)) s"
TORCH_DIR=$(layout "$TORCH")
CPU_DIR=$(layout "$CPU")
CUDA_DIR=$(layout "$CUDA")

step "--config=cpu switches :image to the CPU variant"
# Both configurations write :image_cpu to the same path: compare digests, not paths.
cpu_digests=$(layer_digests "$CPU_DIR")
cuda_digests=$(layer_digests "$CUDA_DIR")
[ "$cpu_digests" != "$cuda_digests" ] || fail "the CPU and CUDA variants have the same layers"
bazel_quiet build //examples/jax_variants:image --config=cpu
[ "$(layer_digests "$(layout //examples/jax_variants:image --config=cpu)")" = "$cpu_digests" ] ||
    fail ":image with --config=cpu is not the CPU variant"
bazel_quiet build //examples/jax_variants:image
[ "$(layer_digests "$(layout //examples/jax_variants:image)")" = "$cuda_digests" ] ||
    fail ":image without --config is not the CUDA variant"
bazel_quiet build //examples/jax_variants:images
echo "PASS: :image is the CUDA variant, with --config=cpu the CPU one"

step "layer split (Python tarfile over the built layers)"
# The three reads are independent; run them side by side.
APP_LAYER='app=^(_main|\(launcher\)|\(links\)|_repo_mapping|__init__\.py)$'
python3 dev/suites/ml_check_layers.py "$TORCH_DIR" base,python,nvidia,torch,deps,app \
    --layer 'nvidia=pypi_torch_(nvidia|cuda)_' \
    --layer 'torch=pypi_torch_(torch|torchvision|triton)$' \
    --layer 'python=pyimage_testbed_python$' \
    --layer "$APP_LAYER" \
    --min-bytes nvidia=1000000000 --min-bytes torch=300000000 --max-bytes app=65536 >"$WORK/split_torch.txt" 2>&1 &
torch_check=$!
python3 dev/suites/ml_check_layers.py "$CUDA_DIR" base,python,nvidia,jax,deps,app \
    --layer 'nvidia=pypi_jax_cuda_nvidia_' \
    --layer 'jax=pypi_jax_cuda_jax' \
    --layer "$APP_LAYER" \
    --min-bytes nvidia=500000000 --max-bytes app=65536 >"$WORK/split_cuda.txt" 2>&1 &
cuda_check=$!
python3 dev/suites/ml_check_layers.py "$CPU_DIR" base,python,jax,deps,app \
    --layer 'jax=pypi_jax_cpu_jax' \
    --layer 'deps=pypi_jax_cpu_(numpy|scipy|ml_dtypes|opt_einsum)$' \
    --layer "$APP_LAYER" \
    --max-bytes app=65536 >"$WORK/split_cpu.txt" 2>&1 &
cpu_check=$!
split_failed=0
for check in torch:$torch_check cuda:$cuda_check cpu:$cpu_check; do
    wait "${check#*:}" || split_failed=1
    cat "$WORK/split_${check%%:*}.txt"
done
[ "$split_failed" = 0 ] || fail "layer split"

step "the torch image's report and SBOM: spdx-tools accepts it, every wheel of the layers listed"
bazel_quiet build "${TORCH}_tars" --output_groups=report_html,sbom
sbom=$(./bazelw cquery "${TORCH}_tars" --output_groups=sbom --output=files 2>/dev/null | head -n1)
[ -n "$sbom" ] && [ -s "$REPO/$sbom" ] || fail "no SBOM for ${TORCH}_tars"
verdict=$(testbed_exec "pyspdxtools -i '$REPO/$sbom' 2>&1; echo rc=\$?")
[ "$verdict" = "rc=0" ] || fail "spdx-tools on the torch SBOM: $verdict"
python3 - "$REPO/$sbom" "$TORCH_DIR" <<'PY' || fail "SBOM contents"
import json, os, sys, tarfile, email.parser
doc = json.load(open(sys.argv[1]))
listed = {(p["name"], p["versionInfo"]) for p in doc["packages"]
          if any(r["referenceLocator"].startswith("pkg:pypi/") for r in p.get("externalRefs", []))}
# What the layers hold, read from the image layout itself.
layout = sys.argv[2]
index = json.load(open(os.path.join(layout, "index.json")))
blob = lambda d: os.path.join(layout, "blobs", *d.split(":"))
manifest = json.load(open(blob(index["manifests"][0]["digest"])))
found = set()
for layer in manifest["layers"]:
    with tarfile.open(blob(layer["digest"])) as tar:
        for m in tar:
            if m.isfile() and m.name.endswith(".dist-info/METADATA"):
                meta = email.parser.BytesParser().parsebytes(tar.extractfile(m).read())
                found.add((meta["Name"], meta["Version"]))
assert listed == found, ("SBOM only", sorted(listed - found), "layers only", sorted(found - listed))
refs = [r["licenseId"] for r in doc.get("hasExtractedLicensingInfos", [])]
print("PASS: the SBOM lists all %d distributions of the layers; spdx-tools accepts it (LicenseRefs declared: %s)" % (len(found), ", ".join(refs) or "none"))
PY

step "the Dockerfile's config: env, ports, working directory"
python3 - "$TORCH_DIR" <<'PY'
import json, os, sys
d = sys.argv[1]
blob = lambda dg: os.path.join(d, "blobs", "sha256", dg.split(":")[1])
idx = json.load(open(os.path.join(d, "index.json")))
config = json.load(open(blob(json.load(open(blob(idx["manifests"][0]["digest"])))["config"]["digest"])))["config"]
env = dict(e.split("=", 1) for e in config["Env"])
want = {"CUDA_ARCHITECTURES": "75;80;86;89;90;100;120", "NVIDIA_VISIBLE_DEVICES": "all"}
bad = [k for k, v in want.items() if env.get(k) != v]
bad += [p for p in ["7862/tcp", "8888/tcp"] if p not in config.get("ExposedPorts", {})]
bad += [] if config.get("WorkingDir") == "/workspace" else ["WorkingDir"]
if bad:
    sys.exit("FAIL: config lacks %s: %s" % (bad, json.dumps(config)))
print("PASS: env %s, ports %s, workdir %s" % (sorted(want), sorted(config["ExposedPorts"]), config["WorkingDir"]))
PY

step "the images run under runc: the CPU variant and torch (on the CPU)"
start=$SECONDS
bazel_quiet test //examples/jax_variants:image_cpu_test //examples/pytorch:image_test
grep -E '^//' "$WORK/bazel.log" || true
echo "ran in $((SECONDS - start)) s"

step "push_custom: the registry from --define"
if ./bazelw run //examples/pytorch:push_custom >"$WORK/noreg.log" 2>&1; then
    fail "push_custom without --define=REGISTRY should refuse to run"
fi
grep -q -- "--define=REGISTRY=" "$WORK/noreg.log" || fail "unhelpful error without a registry: $(tail -5 "$WORK/noreg.log")"
if ./bazelw build //examples/pytorch:push_custom --define=REGISTRY=127.0.0.1:5000/ml/app:v1 >"$WORK/badreg.log" 2>&1; then
    fail "a registry with a tag should fail the build"
fi
grep -q "without a tag or digest" "$WORK/badreg.log" || fail "unhelpful error for a tagged registry: $(tail -5 "$WORK/badreg.log")"
echo "PASS: refused without a registry and with a tagged one, saying how to fix it"

start_registry "$WORK"
PORT=$REGISTRY_PORT
REPOSITORY=127.0.0.1:$PORT/ml/pytorch-app
push() {
    local start=$SECONDS
    ./bazelw run //examples/pytorch:push_custom --define=REGISTRY="$REPOSITORY" --define=VERSION=v1.0.0 >"$WORK/push.log" 2>&1 ||
        { cat "$WORK/push.log"; fail "push_custom"; }
    echo "pushed in $((SECONDS - start)) s"
}
uploads() { grep -c 'PUT /v2/ml/pytorch-app/blobs/uploads/' "$WORK/registry.log" || true; }
push
first=$(uploads)
built=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["manifests"][0]["digest"])' "$TORCH_DIR/index.json")
for tag in latest v1.0.0; do
    pushed=$(testbed_exec "skopeo inspect --tls-verify=false docker://$REPOSITORY:$tag | jq -r .Digest")
    [ "$pushed" = "$built" ] || fail "$REPOSITORY:$tag is $pushed, built $built"
done
echo "PASS: $REPOSITORY:latest and :v1.0.0 are the built manifest $built ($first blobs uploaded)"

step "an app edit changes only the app layer, and the push uploads 2 blobs"
before=$(layer_digests "$TORCH_DIR")
keep examples/pytorch/serve.py
printf '# edited %s\n' "$(date +%s%N)" >>examples/pytorch/serve.py
start=$SECONDS
bazel_quiet build "$TORCH"
echo "rebuilt in $((SECONDS - start)) s"
after=$(layer_digests "$TORCH_DIR")
python3 - "$before" "$after" <<'PY' || exit 1
import sys
b, a = sys.argv[1].split(), sys.argv[2].split()
changed = [i for i, (x, y) in enumerate(zip(b, a)) if x != y]
if len(a) != len(b) or changed != [len(a) - 1]:
    sys.exit(f"FAIL: expected only the last (app) layer to change, changed: {changed}")
print(f"PASS: only layer {changed[0]} (app) changed: {b[-1][:19]} -> {a[-1][:19]}")
PY
push
second=$(($(uploads) - first))
app_size=$(python3 -c 'import json,os,sys
d=sys.argv[1]; b=lambda g: os.path.join(d,"blobs/sha256",g.split(":")[1])
m=json.load(open(b(json.load(open(os.path.join(d,"index.json")))["manifests"][0]["digest"])))
print(m["layers"][-1]["size"] + m["config"]["size"])' "$TORCH_DIR")
echo "blobs uploaded: first push $first, after the app edit $second ($app_size bytes: app layer + config)"
[ "$second" = 2 ] || fail "expected 2 uploads after an app edit (app layer + config), got $second"

step "an edit of the JAX app changes only the app layer of both variants"
bazel_quiet build //examples/jax_variants:images
cpu_before=$(layer_digests "$CPU_DIR")
cuda_before=$(layer_digests "$CUDA_DIR")
keep examples/jax_variants/serve.py
printf '# edited %s\n' "$(date +%s%N)" >>examples/jax_variants/serve.py
start=$SECONDS
bazel_quiet build //examples/jax_variants:images
echo "rebuilt both in $((SECONDS - start)) s"
python3 - "$cpu_before" "$(layer_digests "$CPU_DIR")" "$cuda_before" "$(layer_digests "$CUDA_DIR")" <<'PY' || exit 1
import sys
for variant, (b, a) in zip(["cpu", "cuda"], [sys.argv[1:3], sys.argv[3:5]]):
    b, a = b.split(), a.split()
    changed = [i for i, (x, y) in enumerate(zip(b, a)) if x != y]
    if len(a) != len(b) or changed != [len(a) - 1]:
        sys.exit(f"FAIL: {variant}: expected only the last (app) layer to change, changed: {changed}")
print("PASS: only the app layer of each variant changed")
PY

step "layer sizes before/after stripping (the READMEs' command), CPU variant"
examples/layer_sizes.py //examples/jax_variants:image_cpu_layers_unstripped //examples/jax_variants:image_cpu_layers >"$WORK/sizes.md"
cat "$WORK/sizes.md"
grep -q '^| \*\*total\*\*' "$WORK/sizes.md" || fail "layer_sizes.py printed no total"
echo "PASS: the ML examples build, split, run and push as documented"
