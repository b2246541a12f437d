"""registry_copy: an image already pushed to one repository, copied to another of the same registry, which mounts its blobs instead of receiving them again."""

load("@bazel_skylib//lib:shell.bzl", "shell")
load(":layer_action.bzl", "TOOLS_TOOLCHAIN")
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

def _registry_copy_impl(ctx):
    crane = ctx.toolchains[CRANE_TOOLCHAIN]
    meta = ctx.toolchains[TOOLS_TOOLCHAIN].pyimage.meta
    digest = ctx.actions.declare_file(ctx.label.name + ".digest")
    ctx.actions.run(
        executable = meta,
        arguments = ["layout-digest", "--layout", ctx.file.image.path, "--out", digest.path],
        inputs = [ctx.file.image],
        outputs = [digest],
        mnemonic = "PyImageLayoutDigest",
        progress_message = "Reading the digest of %{label}",
        toolchain = TOOLS_TOOLCHAIN,
    )
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
        # The flags rules_oci's push gives every crane call; push_all passes the same
        # arguments to every push.
        "flags=()",
        "while [ $# -gt 0 ]; do",
        "    case $1 in",
        "    --insecure | -v | --verbose | --allow-nondistributable-artifacts) flags+=(\"$1\"); shift ;;",
        "    --platform) flags+=(\"$1\" \"$2\"); shift 2 ;;",
        '    *) echo "error: the copy to $repository takes --insecure, -v, --allow-nondistributable-artifacts and --platform, not \'$1\'" >&2; exit 1 ;;',
        "    esac",
        "done",
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
