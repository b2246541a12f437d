"""registry_copy: an image already pushed to one repository, copied to another of the same registry, which mounts its blobs instead of receiving them again; defines_push_all: the same grouping for repositories from --define; referrer_push: an artifact pushed by digest next to its image."""

load("@bazel_skylib//lib:shell.bzl", "shell")
load(":layer_action.bzl", "TOOLS_TOOLCHAIN")
load(":multirun.bzl", "PARALLEL_START", "PARALLEL_WAIT")
load(":partition.bzl", "rlocation")

CRANE_TOOLCHAIN = "@rules_oci//oci:crane_toolchain_type"

def registry_host(repository):
    """The registry part of a repository reference, as crane reads it.

    `ghcr.io/acme/app` -> `ghcr.io`, `localhost:5000/app` -> `localhost:5000`,
    `acme/app` (Docker Hub shorthand) -> `docker.io`.

    Args:
        repository: a repository without tag or digest.

    Returns:
        string.
    """
    first, sep, _ = repository.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        return "index.docker.io" if first == "docker.io" else first
    return "index.docker.io"

def _layout_digest(ctx, layout):
    """The digest file of the image or artifact an OCI layout holds (`pyimage-meta layout-digest`)."""
    digest = ctx.actions.declare_file(ctx.label.name + ".digest")
    ctx.actions.run(
        executable = ctx.toolchains[TOOLS_TOOLCHAIN].pyimage.meta,
        arguments = ["layout-digest", "--layout", layout.path, "--out", digest.path],
        inputs = [layout],
        outputs = [digest],
        mnemonic = "PyImageLayoutDigest",
        progress_message = "Reading the digest of %{label}",
        toolchain = TOOLS_TOOLCHAIN,
    )
    return digest

# The arguments rules_oci's push gives every crane call (v2.2.6 oci/private/push.sh.tpl);
# push_all passes the same arguments to every push. `{other}` handles the rest.
_CRANE_FLAGS = """flags=()
while [ $# -gt 0 ]; do
    case $1 in
    --insecure | -v | --verbose | --allow-nondistributable-artifacts) flags+=("$1"); shift ;;
    --platform) flags+=("$1" "$2"); shift 2 ;;
{other}
    esac
done"""

def _registry_copy_impl(ctx):
    crane = ctx.toolchains[CRANE_TOOLCHAIN]
    digest = _layout_digest(ctx, ctx.file.image)
    workspace = ctx.workspace_name
    lines = [
        "#!/usr/bin/env bash",
        "# Copies the image from {} to {} on the same registry: crane asks the registry".format(ctx.attr.source, ctx.attr.repository),
        "# to mount each blob from the source repository, so none is uploaded again.",
        "set -euo pipefail",
        'RUNFILES_DIR="${RUNFILES_DIR:-$0.runfiles}"',
        'crane="$RUNFILES_DIR/{}"'.format(rlocation(crane.crane_info.binary, workspace)),
        'digest=$(cat "$RUNFILES_DIR/{}")'.format(rlocation(digest, workspace)),
        "source={}".format(shell.quote(ctx.attr.source)),
        "repository={}".format(shell.quote(ctx.attr.repository)),
        "tags=({})".format(" ".join([shell.quote(t) for t in ctx.attr.remote_tags])),
    ]
    if ctx.file.remote_tags_file:
        lines += [
            "fixed=${#tags[@]}",
            'while IFS= read -r tag || [ -n "$tag" ]; do [ -z "$tag" ] || tags+=("$tag"); done <"$RUNFILES_DIR/{}"'.format(rlocation(ctx.file.remote_tags_file, workspace)),
            '[ ${{#tags[@]}} -gt "$fixed" ] || {{ echo "error: {}" >&2; exit 1; }}'.format(ctx.attr.empty_tags_file_message.replace('"', '\\"').replace("$", "\\$")),
        ]
    lines += [
        '[ ${#tags[@]} -gt 0 ] || { echo "error: no tag to copy to $repository" >&2; exit 1; }',
        _CRANE_FLAGS.format(other = """    *) echo "error: the copy to $repository takes --insecure, -v, --allow-nondistributable-artifacts and --platform, not '$1'" >&2; exit 1 ;;"""),
        'echo "copying $source@$digest to $repository:${tags[0]} (the registry mounts its blobs)" >&2',
        '"$crane" copy ${flags[@]+"${flags[@]}"} "$source@$digest" "$repository:${tags[0]}"',
        'for tag in "${tags[@]:1}"; do "$crane" tag ${flags[@]+"${flags[@]}"} "$repository:${tags[0]}" "$tag"; done',
    ]
    script = ctx.actions.declare_file(ctx.label.name + ".sh")
    ctx.actions.write(script, "\n".join(lines) + "\n", is_executable = True)
    runfiles = ctx.runfiles(files = [digest, crane.crane_info.binary] + ([ctx.file.remote_tags_file] if ctx.file.remote_tags_file else []))
    runfiles = runfiles.merge(crane.default.default_runfiles)
    return [DefaultInfo(executable = script, runfiles = runfiles)]

registry_copy = rule(
    implementation = _registry_copy_impl,
    doc = "Copies an image pushed to `source` to `repository` (same registry) by digest, with `remote_tags` and the lines of `remote_tags_file`; the registry mounts the blobs.",
    executable = True,
    attrs = {
        "image": attr.label(doc = "The pushed image's layout (oci_image or oci_image_index).", allow_single_file = True, mandatory = True),
        "empty_tags_file_message": attr.string(doc = "Error when `remote_tags_file` holds no tag.", default = "no tag to copy"),
        "repository": attr.string(doc = "Repository to copy to.", mandatory = True),
        "source": attr.string(doc = "Repository the image was pushed to, on the same registry.", mandatory = True),
        "remote_tags": attr.string_list(doc = "Tags to give it (the first is copied, the others tagged), before those of `remote_tags_file`."),
        "remote_tags_file": attr.label(doc = "File of more tags, one per line.", allow_single_file = True),
    },
    toolchains = [CRANE_TOOLCHAIN, TOOLS_TOOLCHAIN],
)

def _referrer_push_impl(ctx):
    crane = ctx.toolchains[CRANE_TOOLCHAIN]
    digest = _layout_digest(ctx, ctx.file.artifact)
    workspace = ctx.workspace_name
    lines = [
        "#!/usr/bin/env bash",
        "# Pushes an artifact that refers to an image (its SBOM) by digest, after the image.",
        "set -euo pipefail",
        'RUNFILES_DIR="${RUNFILES_DIR:-$0.runfiles}"',
        'crane="$RUNFILES_DIR/{}"'.format(rlocation(crane.crane_info.binary, workspace)),
        'digest=$(cat "$RUNFILES_DIR/{}")'.format(rlocation(digest, workspace)),
        'layout="$RUNFILES_DIR/{}"'.format(rlocation(ctx.file.artifact, workspace)),
    ]
    if ctx.file.repository_file:
        lines.append('repository=$(tr -d "\\n" <"$RUNFILES_DIR/{}")'.format(rlocation(ctx.file.repository_file, workspace)))
    else:
        lines.append("repository={}".format(shell.quote(ctx.attr.repository)))
    lines += [
        "push_args=()",
        # The image push's arguments, which push targets pass to both: its
        # repository, and its tags, which name the image, not the artifact.
        _CRANE_FLAGS.format(other = """    -r | --repository) repository=$2; shift 2 ;;
    --repository=*) repository=${1#--repository=}; shift ;;
    -t | --tag) shift 2 ;;
    --tag=*) shift ;;
    *) push_args+=("$1"); shift ;;"""),
        '[ -n "$repository" ] || { echo "error: no repository to push the SBOM to; pass --repository" >&2; exit 1; }',
        'echo "pushing the SBOM to $repository@$digest (an artifact referring to the image)" >&2',
        '"$crane" push ${flags[@]+"${flags[@]}"} "$layout" "$repository@$digest" ${push_args[@]+"${push_args[@]}"}',
    ]
    script = ctx.actions.declare_file(ctx.label.name + ".sh")
    ctx.actions.write(script, "\n".join(lines) + "\n", is_executable = True)
    files = [digest, ctx.file.artifact, crane.crane_info.binary] + ([ctx.file.repository_file] if ctx.file.repository_file else [])
    runfiles = ctx.runfiles(files = files).merge(crane.default.default_runfiles)
    return [DefaultInfo(executable = script, runfiles = runfiles)]

referrer_push = rule(
    implementation = _referrer_push_impl,
    doc = """Pushes an OCI layout of one artifact (a py_image's `<name>_sbom_referrer`) by digest with crane, from rules_oci's crane toolchain.

Takes the arguments of the image's push, so that a push target can pass its own to
both: `--repository` overrides the repository, `--tag`s are left to the image, crane's
flags (`--insecure`, `-v`, ...) apply, anything else goes to `crane push`.""",
    executable = True,
    attrs = {
        "artifact": attr.label(doc = "The artifact's OCI layout.", allow_single_file = True, mandatory = True),
        "repository": attr.string(doc = "Repository to push to, that of the image."),
        "repository_file": attr.label(doc = "File holding the repository instead (one line).", allow_single_file = True),
    },
    toolchains = [CRANE_TOOLCHAIN, TOOLS_TOOLCHAIN],
)

def _label_text(label):
    """`//pkg:name` for a label of the main repository, as users type it; others as they are."""
    return "//{}:{}".format(label.package, label.name) if not label.workspace_name else str(label)

def _runfiles_path(target, workspace):
    """The executable of `target` in a script's runfiles."""
    return "$RUNFILES_DIR/" + rlocation(target[DefaultInfo].files_to_run.executable, workspace)

def _defines_push_all_impl(ctx):
    crane = ctx.toolchains[CRANE_TOOLCHAIN]
    digest = _layout_digest(ctx, ctx.file.image)
    workspace = ctx.workspace_name
    pushes = {registry: target for target, registry in ctx.attr.pushes.items()}
    sbom_pushes = {}
    for target, registry in ctx.attr.sbom_pushes.items():
        sbom_pushes.setdefault(registry, []).append(target)

    # The repositories are known here, from --define: group them by registry
    # host as push_all groups `registries`.
    repositories, hosts = {}, {}
    for registry, define in ctx.attr.defines.items():
        if registry not in pushes:
            fail("{}: `pushes` has no push target for registry '{}'".format(ctx.label, registry))
        repository = ctx.var.get(define, "").strip()
        if repository:
            repositories[registry] = repository
            hosts.setdefault(registry_host(repository), []).append(registry)

    lines = [
        "#!/usr/bin/env bash",
        "# Pushes the image to each repository given by --define: on each registry host the",
        "# first is pushed and the others are copies the registry mounts from it; hosts at once.",
        "set -uo pipefail",
        'export RUNFILES_DIR="${RUNFILES_DIR:-$0.runfiles}"',
    ]
    if not repositories:
        lines.append('echo "error: no repository for {}: pass {}" >&2; exit 1'.format(
            _label_text(ctx.label),
            " and/or ".join(["--define={}=registry.example.com:5000/team/app".format(d) for d in ctx.attr.defines.values()]),
        ))
    for registry, define in ctx.attr.defines.items():
        if registry not in repositories:
            lines.append('echo "{}: --define={} is not set: not pushing to registry \'{}\' ({})" >&2'.format(_label_text(ctx.label), define, registry, _label_text(pushes[registry].label)))
    lines += [
        'crane="$RUNFILES_DIR/{}"'.format(rlocation(crane.crane_info.binary, workspace)),
        'digest=$(cat "$RUNFILES_DIR/{}")'.format(rlocation(digest, workspace)),
        "tags=()",
        'while IFS= read -r tag || [ -n "$tag" ]; do [ -z "$tag" ] || tags+=("$tag"); done <"$RUNFILES_DIR/{}"'.format(rlocation(ctx.file.remote_tags_file, workspace)),
        "copy() { # source repository args...: the image at source, by digest, to repository with every tag",
        "    local source=$1 repository=$2 tag",
        "    shift 2",
        "\n".join(["    " + line for line in _CRANE_FLAGS.format(other = """    *) echo "error: the copy to $repository takes --insecure, -v, --allow-nondistributable-artifacts and --platform, not '$1'" >&2; return 1 ;;""").split("\n")]),
        '    echo "copying $source@$digest to $repository:${tags[0]} (the registry mounts its blobs)" >&2',
        '    "$crane" copy ${flags[@]+"${flags[@]}"} "$source@$digest" "$repository:${tags[0]}" || return 1',
        '    for tag in "${tags[@]:1}"; do "$crane" tag ${flags[@]+"${flags[@]}"} "$repository:${tags[0]}" "$tag" || return 1; done',
        "}",
    ]
    runfiles = ctx.runfiles(files = [digest, ctx.file.remote_tags_file, crane.crane_info.binary]).merge(crane.default.default_runfiles)
    for target in ctx.attr.pushes.keys() + ctx.attr.sbom_pushes.keys():
        runfiles = runfiles.merge(target[DefaultInfo].default_runfiles)
        runfiles = runfiles.merge(ctx.runfiles(files = [target[DefaultInfo].files_to_run.executable]))

    # One function per host: the first push (the image and its SBOM), then a
    # copy and the SBOM push for each other repository, stopping at a failure.
    for i, host_registries in enumerate(hosts.values()):
        first = host_registries[0]
        lines += [
            "host_{}() {{".format(i),
            '    echo "== {}" >&2'.format(_label_text(pushes[first].label)),
            '    "{}" "$@" || {{ echo "error: {} failed{}" >&2; return 1; }}'.format(
                _runfiles_path(pushes[first], workspace),
                _label_text(pushes[first].label),
                "; not copying to " + ", ".join([repositories[r] for r in host_registries[1:]]) if len(host_registries) > 1 else "",
            ),
        ]
        for registry in host_registries[1:]:
            lines += [
                '    echo "== {} (registry \'{}\'), a copy of {}" >&2'.format(repositories[registry], registry, repositories[first]),
                '    copy {} {} "$@" || {{ echo "error: the copy to {} failed" >&2; return 1; }}'.format(
                    shell.quote(repositories[first]),
                    shell.quote(repositories[registry]),
                    repositories[registry],
                ),
            ]
            for sbom in sbom_pushes.get(registry, []):
                lines.append('    "{}" "$@" || {{ echo "error: {} failed" >&2; return 1; }}'.format(_runfiles_path(sbom, workspace), _label_text(sbom.label)))
        lines.append("}")
    lines += PARALLEL_START
    for i, (host, host_registries) in enumerate(hosts.items()):
        label = "{} ({})".format(host, ", ".join([repositories[r] for r in host_registries]))
        lines.append('prefixed {i} "{label}" host_{i} "$@" >&2 & labels+=("{label}")'.format(i = i, label = label))
    lines += ["failed=()"] + PARALLEL_WAIT + [
        '[ ${#failed[@]} -eq 0 ] || { printf "error: failed: pushes to %s\\n" "${failed[@]}" >&2; exit 1; }',
    ]
    script = ctx.actions.declare_file(ctx.label.name + ".sh")
    ctx.actions.write(script, "\n".join(lines) + "\n", is_executable = True)
    return [DefaultInfo(executable = script, runfiles = runfiles)]

defines_push_all = rule(
    implementation = _defines_push_all_impl,
    doc = """Pushes an image to every `registry_defines` repository whose `--define` is set.

Repositories on one registry host get the image once: the first one's push target
runs (the image, then its SBOM), and each other one receives a copy by digest
(crane), which the registry mounts from the first, so no blob is uploaded twice;
the hosts are pushed at once, each output line prefixed with the host. The
repositories are grouped when the target is built, from the `--define`s; one that
is not set is skipped with a line that says so, and with none set the target
refuses to run.""",
    executable = True,
    attrs = {
        "defines": attr.string_dict(doc = "Registry name -> name of the `--define` that holds its repository, in push order.", mandatory = True),
        "image": attr.label(doc = "The pushed image's layout (oci_image or oci_image_index).", allow_single_file = True, mandatory = True),
        "pushes": attr.label_keyed_string_dict(doc = "Push target of each registry (the image and its SBOM) -> registry name.", mandatory = True, cfg = "target"),
        "remote_tags_file": attr.label(doc = "File of the tags the pushes give, one per line; the copies get the same.", allow_single_file = True, mandatory = True),
        "sbom_pushes": attr.label_keyed_string_dict(doc = "SBOM referrer pushes -> registry name, run after a copy.", cfg = "target"),
    },
    toolchains = [CRANE_TOOLCHAIN, TOOLS_TOOLCHAIN],
)
