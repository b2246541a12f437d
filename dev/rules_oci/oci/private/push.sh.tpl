#!/usr/bin/env bash
# TEST STAND-IN for rules_oci's oci_push runner (v2.2.6 oci/private/push.sh.tpl), with
# Debian's crane and jq from PATH. Never shipped. Paths are relative to the working
# directory `bazel run` gives (the runfiles of the main repository), as in v2.2.6.
# Credentials come from the docker config; nothing here prints them.
set -o pipefail -o errexit -o nounset

readonly CRANE="crane"
readonly JQ="jq"
readonly IMAGE_DIR="{{image_dir}}"
readonly TAGS_FILE="{{tags}}"
readonly FIXED_ARGS=({{fixed_args}})
readonly REPOSITORY_FILE="{{repository_file}}"

REPOSITORY=""
if [ -n "$REPOSITORY_FILE" ] && [ -f "$REPOSITORY_FILE" ]; then
  REPOSITORY=$(tr -d '\n' < "$REPOSITORY_FILE")
fi

# set $@ to FIXED_ARGS + $@
ALL_ARGS=(${FIXED_ARGS[@]+"${FIXED_ARGS[@]}"} "$@")
if [[ ${#ALL_ARGS[@]} -gt 0 ]]; then
  set -- "${ALL_ARGS[@]}"
fi

TAGS=()
GLOBAL_FLAGS=()  # passed to every crane call
ARGS=()          # passed on to `crane push`

while (( $# > 0 )); do
  case $1 in
    (--allow-nondistributable-artifacts|--insecure|-v|--verbose)
      GLOBAL_FLAGS+=( "$1" ); shift;;
    (--platform)
      GLOBAL_FLAGS+=( "--platform" "$2" ); shift 2;;
    (-t|--tag)
      TAGS+=( "$2" ); shift 2;;
    (--tag=*)
      TAGS+=( "${1#--tag=}" ); shift;;
    (-r|--repository)
      REPOSITORY="$2"; shift 2;;
    (--repository=*)
      REPOSITORY="${1#--repository=}"; shift;;
    (*)
      ARGS+=( "$1" ); shift;;
  esac
done

# rules_oci 2.3.x says so; 2.2.6 lets crane fail on the empty reference.
if [[ -z "${REPOSITORY}" ]]; then
  echo "ERROR: repository not set. Please pass --repository flag." >&2
  exit 1
fi

DIGEST=$("${JQ}" -r '.manifests[0].digest' "${IMAGE_DIR}/index.json")

REFS=$(mktemp)
trap 'rm -f "$REFS"' EXIT
"${CRANE}" push "${GLOBAL_FLAGS[@]+"${GLOBAL_FLAGS[@]}"}" "${IMAGE_DIR}" "${REPOSITORY}@${DIGEST}" "${ARGS[@]+"${ARGS[@]}"}" --image-refs "${REFS}"

for tag in "${TAGS[@]+"${TAGS[@]}"}"; do
  "${CRANE}" tag "${GLOBAL_FLAGS[@]+"${GLOBAL_FLAGS[@]}"}" "$(cat "${REFS}")" "${tag}"
done

if [[ -n "${TAGS_FILE}" && -e "${TAGS_FILE}" ]]; then
  xargs -r -n1 "${CRANE}" tag "${GLOBAL_FLAGS[@]+"${GLOBAL_FLAGS[@]}"}" "$(cat "${REFS}")" < "${TAGS_FILE}"
fi
