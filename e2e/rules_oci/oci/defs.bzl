"""TEST STAND-IN for rules_oci's public API. Never shipped.

load("@rules_oci//oci:defs.bzl", "oci_image", "oci_image_index", "oci_load", "oci_push")

Same macro signatures as rules_oci 2.x: friendly values (lists, dicts) are
written to files and passed to strict rules, as the real macros do.
"""

load("//oci/private:image.bzl", _oci_image_rule = "oci_image")
load("//oci/private:index.bzl", _oci_image_index_rule = "oci_image_index")
load("//oci/private:load.bzl", _oci_load_rule = "oci_load")
load("//oci/private:push.bzl", _oci_push_rule = "oci_push")

oci_image_rule = _oci_image_rule
oci_image_index_rule = _oci_image_index_rule
oci_load_rule = _oci_load_rule
oci_push_rule = _oci_push_rule

def _to_file(name, suffix, value, render, tags):
    """Friendly value -> label of a file; labels and None pass through."""
    if value == None or type(value) == "string":
        return value
    out = "_{}_{}".format(name, suffix)
    native.genrule(
        name = out,
        outs = [out + ".txt"],
        cmd = "printf '%s' {} > $@".format(_shell_quote(render(value))),
        tags = tags + ["manual"],
    )
    return out

def _shell_quote(s):
    return "'" + s.replace("'", "'\\''") + "'"

def _lines(values):
    return "".join([v + "\n" for v in values])

def _commas(values):
    return ",".join(values)

def _pairs(values):
    return "".join(["{}={}\n".format(k, v) for k, v in values.items()])

def oci_image(name, created = None, labels = None, annotations = None, env = None, cmd = None, entrypoint = None, exposed_ports = None, volumes = None, **kwargs):
    """Build an OCI image layout from a base and layer tars (stand-in).

    Args:
        name: target name; the output is an OCI image layout directory.
        created: label of a file with the creation timestamp.
        labels: dict or label of a name=value file.
        annotations: dict or label of a name=value file.
        env: dict or label of a name=value file; $KEY expands from the base.
        cmd: list or label of a comma-separated file.
        entrypoint: list or label of a comma-separated file.
        exposed_ports: list or label of a comma-separated file.
        volumes: list or label of a comma-separated file.
        **kwargs: base, tars, user, workdir, os, architecture, variant and common attributes.
    """
    tags = kwargs.get("tags", [])
    _oci_image_rule(
        name = name,
        created = created,
        labels = _to_file(name, "labels", labels, _pairs, tags),
        annotations = _to_file(name, "annotations", annotations, _pairs, tags),
        env = _to_file(name, "env", env, _pairs, tags),
        cmd = _to_file(name, "cmd", cmd, _commas, tags),
        entrypoint = _to_file(name, "entrypoint", entrypoint, _commas, tags),
        exposed_ports = _to_file(name, "exposed_ports", exposed_ports, _commas, tags),
        volumes = _to_file(name, "volumes", volumes, _commas, tags),
        **kwargs
    )

def oci_image_index(name, **kwargs):
    """Combine images into a multi-platform image index (stand-in).

    rules_oci 2.x has no `annotations` here, so neither does the stand-in.

    Args:
        name: target name.
        **kwargs: images, platforms (refused) and common attributes.
    """
    _oci_image_index_rule(name = name, **kwargs)

def oci_load(name, repo_tags = None, **kwargs):
    """Load an image into a container runtime (stand-in).

    Args:
        name: target name.
        repo_tags: list or label of a newline-separated file of repo:tag.
        **kwargs: image, format, loader and common attributes.
    """
    _oci_load_rule(
        name = name,
        repo_tags = _to_file(name, "repo_tags", repo_tags, _lines, kwargs.get("tags", [])),
        **kwargs
    )

def oci_push(name, remote_tags = None, **kwargs):
    """Push an image to a registry (stand-in).

    Args:
        name: target name.
        remote_tags: list or label of a newline-separated file of tags.
        **kwargs: image, repository, repository_file and common attributes.
    """
    _oci_push_rule(
        name = name,
        remote_tags = _to_file(name, "remote_tags", remote_tags, _lines, kwargs.get("tags", [])),
        **kwargs
    )
