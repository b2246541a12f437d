"""TEST STAND-IN for rules_oci's public API (v2.2.6 oci/defs.bzl). Never shipped.

load("@rules_oci//oci:defs.bzl", "oci_image", "oci_image_index", "oci_load", "oci_push")

The macros are rules_oci 2.2.6's: friendly values are written to files with
skylib's write_file, under the same target and file names, in the same
formats (see README.md for the line each one mirrors), and `<name>.digest`
holds the image's digest.
"""

load("@bazel_skylib//lib:types.bzl", "types")
load("@bazel_skylib//rules:write_file.bzl", "write_file")
load("//oci/private:image.bzl", _oci_image_rule = "oci_image")
load("//oci/private:index.bzl", _oci_image_index_rule = "oci_image_index")
load("//oci/private:load.bzl", _oci_load_rule = "oci_load")
load("//oci/private:push.bzl", _oci_push_rule = "oci_push")

oci_image_rule = _oci_image_rule
oci_image_index_rule = _oci_image_index_rule
oci_tarball_rule = _oci_load_rule
oci_push_rule = _oci_push_rule

# aspect_bazel_lib lib/utils.bzl propagate_common_rule_attributes: the common
# attributes that the macros pass on to their helper targets.
_COMMON_RULE_ATTRIBUTES = [
    "compatible_with",
    "deprecation",
    "exec_compatible_with",
    "exec_properties",
    "features",
    "restricted_to",
    "tags",
    "target_compatible_with",
    "testonly",
    "toolchains",
    "visibility",
]

def _common(kwargs):
    return {k: v for k, v in kwargs.items() if k in _COMMON_RULE_ATTRIBUTES}

def _write(name, kind, content, forwarded_kwargs):
    """`<name>_write_<kind>` -> `<name>.<kind>.txt`, lines joined by "\\n" without a trailing one."""
    label = "{}_write_{}".format(name, kind)
    write_file(name = label, out = "{}.{}.txt".format(name, kind), content = content, **forwarded_kwargs)
    return label

def _lines(elems):
    # as _write_nl_seperated_file: one element per line, a newline inside one written %5Cn
    return [elem.replace("\n", "%5Cn") for elem in elems]

def _pairs(pairs):
    return ["{}={}".format(key, value) for (key, value) in pairs.items()]

def _commas(elems):
    return [",".join(elems)]

def _digest_impl(ctx):
    out = ctx.actions.declare_file(ctx.attr.out)
    ctx.actions.run_shell(
        command = 'jq --raw-output ".manifests[0].digest" "$1/index.json" > "$2"',
        arguments = [ctx.file.image.path, out.path],
        inputs = [ctx.file.image],
        outputs = [out],
        mnemonic = "OCIDigest",
    )
    return [DefaultInfo(files = depset([out]))]

_digest_rule = rule(
    implementation = _digest_impl,
    attrs = {
        "image": attr.label(allow_single_file = True),
        "out": attr.string(),
    },
    doc = "`<name>.digest`: the jq target of rules_oci's `_digest` (`.manifests[0].digest`).",
)

def _digest(name, **kwargs):
    _digest_rule(name = name + ".digest", image = name, out = name + ".json.sha256", **kwargs)

def oci_image(name, created = None, labels = None, annotations = None, env = None, cmd = None, entrypoint = None, exposed_ports = None, volumes = None, **kwargs):
    """oci_image_rule with friendly values written to files, as rules_oci 2.2.6 does.

    Args:
        name: target name; the output is an OCI image layout directory.
        created: label of a file with the creation timestamp.
        labels: dict, or label of a file of `name=value` lines.
        annotations: dict, or label of a file of `name=value` lines.
        env: dict, or label of a file of `name=value` lines; `$KEY` expands from the base.
        cmd: list, or label of a file with one element per line.
        entrypoint: list, or label of a file with one element per line.
        exposed_ports: list, or label of a file of comma-separated ports.
        volumes: list, or label of a file of comma-separated paths.
        **kwargs: base, tars, user, workdir, os, architecture, variant and common attributes.
    """
    forwarded_kwargs = _common(kwargs)
    if types.is_dict(annotations):
        annotations = _write(name, "annotations", _pairs(annotations), forwarded_kwargs)
    if types.is_dict(labels):
        labels = _write(name, "labels", _pairs(labels), forwarded_kwargs)
    if types.is_dict(env):
        env = _write(name, "env", _pairs(env), forwarded_kwargs)
    if types.is_list(cmd):
        cmd = _write(name, "cmd", _lines(cmd), forwarded_kwargs)
    if types.is_list(entrypoint):
        entrypoint = _write(name, "entrypoint", _lines(entrypoint), forwarded_kwargs)
    if types.is_list(exposed_ports):
        exposed_ports = _write(name, "exposed_ports", _commas(exposed_ports), forwarded_kwargs)
    if types.is_list(volumes):
        volumes = _write(name, "volumes", _commas(volumes), forwarded_kwargs)
    _oci_image_rule(
        name = name,
        created = created,
        annotations = annotations,
        labels = labels,
        env = env,
        cmd = cmd,
        entrypoint = entrypoint,
        exposed_ports = exposed_ports,
        volumes = volumes,
        **kwargs
    )
    _digest(name = name, **forwarded_kwargs)

def oci_image_index(name, **kwargs):
    """oci_image_index_rule and its `<name>.digest`.

    rules_oci 2.2.6 has no `annotations` here (2.3 added them), so neither does the stand-in.

    Args:
        name: target name.
        **kwargs: images, platforms (refused) and common attributes.
    """
    _oci_image_index_rule(name = name, **kwargs)
    _digest(name = name, **_common(kwargs))

def oci_load(name, repo_tags = None, **kwargs):
    """oci_tarball_rule with a list of repo tags written to `<name>.tags.txt`.

    Args:
        name: target name.
        repo_tags: list, or label of a `.txt` file of repo:tag, one per line.
        **kwargs: image, format, loader and common attributes.
    """
    if types.is_list(repo_tags):
        repo_tags = _write(name, "tags", repo_tags, _common(kwargs))
    _oci_load_rule(name = name, repo_tags = repo_tags, **kwargs)

def oci_push(name, remote_tags = None, **kwargs):
    """oci_push_rule with a list of remote tags written to `<name>.tags.txt`.

    Args:
        name: target name.
        remote_tags: list, or label of a file of tags, one per line.
        **kwargs: image, repository, repository_file and common attributes.
    """
    if types.is_list(remote_tags):
        remote_tags = _write(name, "tags", remote_tags, _common(kwargs))
    _oci_push_rule(name = name, remote_tags = remote_tags, **kwargs)
