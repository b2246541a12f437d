"""py_image: a py_binary as a layered OCI image with load and push targets."""

load("@rules_oci//oci:defs.bzl", "oci_image", "oci_load", "oci_push")
load(":layers.bzl", "py_image_layers")
load(":multirun.bzl", "run_all")
load(":version.bzl", "version_tag")

_ARCHITECTURES = {
    "linux_amd64": "amd64",
    "linux_arm64": "arm64",
}

def py_image(
        name,
        binary,
        base = None,
        extra_layers = None,
        platform = None,
        groups = None,
        split_deps = False,
        compression = "gzip",
        strip = True,
        root = "/app",
        owner = None,
        entrypoint = None,
        cmd = None,
        env = None,
        workdir = None,
        user = None,
        exposed_ports = None,
        labels = None,
        annotations = None,
        repo_tags = None,
        registries = None,
        push_prefix = "push",
        version_define = "VERSION",
        version_status_key = "STABLE_VERSION",
        visibility = None,
        tags = None,
        **kwargs):
    """A `py_binary` as a layered OCI image, with load and push targets.

    Creates:
    * `<name>_layers`: [py_image_layers](#py_image_layers) (python, groups, deps, app);
    * `<name>`: rules_oci `oci_image` with those layers on `base`;
    * `<name>_load`: rules_oci `oci_load` (`bazel run` loads into docker/podman);
    * for each `registries` entry `reg`: `<push_prefix>_<reg>_latest` (tag
      `latest`) and `<push_prefix>_<reg>_tag` (the version tag from
      `--define=VERSION=...` or the workspace status key `STABLE_VERSION`);
    * `<push_prefix>_all`: runs every push target, fails if any fails.

    ```starlark
    py_image(
        name = "image",
        binary = ":app",
        base = "@debian_slim",
        env = {"PORT": "8080"},
        exposed_ports = ["8080/tcp"],
        registries = {
            "dockerhub": "docker.io/acme/app",
            "ghcr": "ghcr.io/acme/app",
        },
    )
    ```

    Registry credentials come from the usual docker config
    (`~/.docker/config.json` or `$DOCKER_CONFIG`); nothing here prints them.

    Args:
        name: name of the `oci_image` target.
        binary: the `py_binary` (or any executable with runfiles).
        base: an `oci_image` or pulled image to build on. Without one, the image
            starts empty (`os`/`architecture` from `platform`).
        extra_layers: more layer tars (e.g. a [files_layer](#files_layer) with CA
            certificates), placed between the base and the python layer.
        platform: platform to build the binary for; default linux/amd64
            (`@rules_pyimage//platforms:linux_amd64`).
        groups: dict of layer name -> repository patterns, e.g.
            `{"torch": ["@pypi//torch", "@pypi//nvidia_*"]}`; see py_image_layers.
        split_deps: one layer per external repository.
        compression: `gzip` (default), `zstd` or `none`.
        strip: strip tests, caches and headers from the python and deps layers.
        root: directory of the binary and its runfiles in the image.
        owner: `uid:gid` of the files (default `0:0`).
        entrypoint: list; default runs the launcher (with the image's
            interpreter when the toolchain provides one).
        cmd: list of default arguments.
        env: dict of environment variables.
        workdir: working directory.
        user: user to run as, e.g. `65532`.
        exposed_ports: list such as `["8080/tcp"]`.
        labels: dict of config labels.
        annotations: dict of manifest annotations.
        repo_tags: tags for `<name>_load`; default `["<name>:latest"]`.
        registries: dict of registry name -> repository (no tag).
        push_prefix: prefix of the push target names.
        version_define: `--define` that holds the version tag.
        version_status_key: workspace status key that holds the version tag.
        visibility: visibility of the image and push targets.
        tags: tags for every target.
        **kwargs: more attributes of `oci_image`.
    """
    tags = tags or []
    internal_tags = tags + ["manual"]
    layers = name + "_layers"
    layer_kwargs = {}
    if owner:
        layer_kwargs["owner"] = owner
    if platform:
        layer_kwargs["platform"] = platform
    py_image_layers(
        name = layers,
        base = base,
        binary = binary,
        groups = groups or {},
        split_deps = split_deps,
        compression = compression,
        strip = strip,
        root = root,
        tags = tags,
        visibility = visibility,
        **layer_kwargs
    )

    if entrypoint == None:
        entrypoint = name + "_entrypoint"
        native.filegroup(
            name = entrypoint,
            srcs = [layers],
            output_group = "entrypoint",
            tags = internal_tags,
        )
    if base == None:
        platform_name = Label(platform).name if platform else "linux_amd64"
        if platform_name not in _ARCHITECTURES:
            fail("py_image {}: without `base`, `platform` must be one of {}; or give a `base` image".format(name, ", ".join(_ARCHITECTURES.keys())))
        kwargs["os"] = "linux"
        kwargs["architecture"] = _ARCHITECTURES[platform_name]
    oci_image(
        name = name,
        base = base,
        tars = (extra_layers or []) + [layers],
        entrypoint = entrypoint,
        cmd = cmd,
        env = env,
        workdir = workdir,
        user = user,
        exposed_ports = exposed_ports,
        labels = labels,
        annotations = annotations,
        tags = tags,
        visibility = visibility,
        **kwargs
    )
    oci_load(
        name = name + "_load",
        image = name,
        repo_tags = repo_tags or [name + ":latest"],
        tags = tags,
        visibility = visibility,
    )

    if not registries:
        return
    version = name + "_version_tag"
    version_tag(
        name = version,
        define = version_define,
        status_key = version_status_key,
        tags = internal_tags,
    )
    pushes = []
    for registry, repository in registries.items():
        latest = "{}_{}_latest".format(push_prefix, registry)
        oci_push(
            name = latest,
            image = name,
            repository = repository,
            remote_tags = ["latest"],
            tags = tags,
            visibility = visibility,
        )

        # The version push refuses to run without a version instead of failing
        # the build, so `bazel build //...` works without --define.
        versioned = "{}_{}_tag".format(push_prefix, registry)
        oci_push(
            name = "_" + versioned,
            image = name,
            repository = repository,
            remote_tags = version,
            tags = internal_tags,
        )
        run_all(
            name = versioned,
            targets = ["_" + versioned],
            require_nonempty = version,
            require_nonempty_message = "no version tag for {}: pass --define={}=v1.2.3, or set the workspace status key {}".format(
                versioned,
                version_define,
                version_status_key,
            ),
            tags = tags,
            visibility = visibility,
        )
        pushes += [latest, versioned]
    run_all(
        name = push_prefix + "_all",
        targets = pushes,
        tags = tags,
        visibility = visibility,
    )
