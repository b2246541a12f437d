"""py_image, py_image_index: a py_binary as a layered OCI image (or one per platform) with load and push targets."""

load("@rules_oci//oci:defs.bzl", "oci_image", "oci_image_index", "oci_load", "oci_push")
load(":base.bzl", "empty_base")
load(":files_layer.bzl", "extra_layers")
load(":layers.bzl", "py_image_layers")
load(":mirror.bzl", "defines_push_all", "referrer_push", "registry_copy", "registry_host")
load(":multirun.bzl", "run_all")
load(":partition.bzl", "canonical_groups")
load(":report.bzl", "image_report", "image_tars", "sbom_referrer")
load(":version.bzl", "repository_from_define", "version_tag")

def py_image(
        name,
        binary,
        base = None,
        extra_layers = None,
        platform = None,
        groups = None,
        group_targets = None,
        split_deps = False,
        shared_layers = None,
        compression = "gzip",
        compression_level = -1,
        hardlink_duplicates = True,
        mtime = 0,
        strip = True,
        strip_debug = False,
        large_package_mb = 200,
        push_sbom = False,
        excludes = None,
        includes = None,
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
        registry_defines = None,
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
    * `<name>_report`: `bazel run` prints the layers' sizes, which changed since
      its last run, and where the HTML report and the SPDX SBOM are (the
      `report_html` and `sbom` output groups of `<name>_tars`, the layers
      `oci_image` gets, which also warns on every build about a file that is
      in more than one layer);
    * for each `registries` entry `reg`: `<push_prefix>_<reg>_latest` (tag
      `latest`) and `<push_prefix>_<reg>_tag` (the version tag from
      `--define=VERSION=...` or the workspace status key `STABLE_VERSION`);
    * `<push_prefix>_all`: runs every push target, the registries at once (each
      line of output prefixed with its target), fails if any fails, naming
      each; `<push_prefix>_all_latest` and `<push_prefix>_all_tag` run only the
      `_latest` or only the `_tag` ones. Several repositories on one registry
      (e.g. `ghcr.io/acme/app` and `ghcr.io/acme/app-staging`) get the image
      once: the first is pushed, the others receive a copy by digest (crane,
      from rules_oci's crane toolchain) that the registry mounts from the
      first, so no blob is uploaded twice;
    * for each `registry_defines` entry `reg`: `<push_prefix>_<reg>`, which
      pushes to the repository given at build time (e.g.
      `--define=REGISTRY=registry.example.com:5000/team/app`) with the tag
      `latest` and, when set, the version tag; not part of `_all`;
    * with `registry_defines`, `<push_prefix>_all_defines`: pushes to every
      one whose `--define` is set (saying which are not), grouped as
      `_all` groups `registries`: repositories on one registry host get the
      image once, the others a copy the registry mounts from the first, and
      the hosts are pushed at once;
    * with `push_sbom = True`, `<name>_sbom_referrer`: an OCI layout of the
      SBOM as an artifact (`artifactType` `application/spdx+json`, the SPDX
      JSON as its config and its one layer) whose `subject` is the image.
      Every push target above then pushes it by digest after the image, so
      that `oras discover`, `regctl artifact list` or a scanner finds it among
      the image's referrers.

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
            starts empty, its `os`, `architecture` and `variant` from the
            platform's constraints (Linux on x86_64, aarch64, armv7, i386,
            x86_32, ppc64le, riscv64 or s390x).
        extra_layers: more layers, placed in order between the base and the
            python layer: layer tars (a [files_layer](#files_layer) with CA
            certificates, a `pkg_tar`) as they are, and rules_pkg `pkg_files`,
            `pkg_mkdirs`, `pkg_mklink` or `pkg_filegroup` targets each as one
            layer written like a files_layer (with this image's `compression`,
            `mtime` and `owner`).
        platform: platform to build the binary for; default linux/amd64
            (`@rules_pyimage//platforms:linux_amd64`).
        groups: dict of layer name -> repository patterns, e.g.
            `{"torch": ["@pypi//torch", "@pypi//nvidia_*"]}`; see py_image_layers.
        group_targets: dict of target (e.g. `@pypi//torch`) -> layer name, for
            groups named by label; see py_image_layers.
        split_deps: one layer per external repository.
        shared_layers: a [py_shared_layers](#py_shared_layers) target whose
            layers (written once for every image that names it) hold the
            repositories it has; see py_image_layers.
        compression: `gzip` (default), `zstd` or `none`.
        compression_level: compression level; -1 uses the tool's default
            (gzip 5, zstd 3).
        hardlink_duplicates: store files with identical content and mode once
            per layer, the others as hard links to it.
        mtime: modification time of every entry, in seconds since the epoch.
        strip: strip tests, caches and headers from the python and deps layers.
        strip_debug: also remove ELF debug sections from the python and deps layers.
        large_package_mb: warn when one repository holds more than this many MB
            of the shared deps layer, with the `groups` entry that gives it a
            layer of its own; 0: never.
        push_sbom: push the SBOM next to the image as an artifact that refers
            to it (OCI 1.1 `subject`): to the referrers API where the registry
            has one, else listed in the `sha256-<digest>` tag that crane
            keeps for registries without it.
        excludes: globs of in-image paths (no leading `/`) to leave out of every
            layer, with everything below them, e.g. `["**/site-packages/*/benchmarks"]`;
            see py_image_layers.
        includes: globs of in-image paths to keep whatever `strip` and
            `excludes` say.
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
        registry_defines: dict of registry name -> name of the `--define` that
            holds the repository, for registries chosen when pushing.
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
    if extra_layers:
        _extra_layers(
            name,
            extra_layers,
            internal_tags,
            compression = compression,
            compression_level = compression_level,
            hardlink_duplicates = hardlink_duplicates,
            mtime = mtime,
            **({"owner": owner} if owner else {})
        )
        layer_kwargs["extra_layers"] = [name + "_extra_layers"]
    py_image_layers(
        name = layers,
        base = base,
        binary = binary,
        groups = canonical_groups(groups),
        group_targets = group_targets or {},
        split_deps = split_deps,
        shared_layers = shared_layers,
        compression = compression,
        compression_level = compression_level,
        hardlink_duplicates = hardlink_duplicates,
        mtime = mtime,
        strip = strip,
        strip_debug = strip_debug,
        large_package_mb = large_package_mb,
        excludes = excludes or [],
        includes = includes or [],
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
        # An empty image whose os and architecture come from the platform's
        # constraints, so any Linux platform with a known CPU works.
        base = name + "_base"
        empty_base(
            name = base,
            tags = internal_tags,
            **({"platform": platform} if platform else {})
        )
    image_tars(
        name = name + "_tars",
        layers = layers,
        extra_layers = [name + "_extra_layers"] if extra_layers else [],
        tags = internal_tags,
        visibility = visibility,
    )
    oci_image(
        name = name,
        base = base,
        tars = [name + "_tars"],
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
    image_report(
        name = name + "_report",
        tars = name + "_tars",
        tags = tags,
        visibility = visibility,
    )
    sbom = None
    if push_sbom:
        # py_image_index names it after each platform's image too.
        sbom = name + "_sbom_referrer"
        sbom_referrer(
            name = sbom,
            image = name,
            tars = name + "_tars",
            tags = tags,
            visibility = visibility,
        )

    _push_targets(
        name = name,
        image = name,
        sboms = [sbom] if sbom else [],
        registries = registries,
        registry_defines = registry_defines,
        push_prefix = push_prefix,
        version_define = version_define,
        version_status_key = version_status_key,
        tags = tags,
        visibility = visibility,
    )

def py_image_index(
        name,
        binary,
        platforms,
        registries = None,
        registry_defines = None,
        push_prefix = "push",
        version_define = "VERSION",
        version_status_key = "STABLE_VERSION",
        visibility = None,
        tags = None,
        **kwargs):
    """A `py_binary` as a multi-platform image index: one image per platform, from one target.

    Creates:
    * for each `platforms` entry, `<name>_<platform name>` (e.g. `image_linux_arm64`):
      a [py_image](#py_image) built for that platform on that entry's base, with
      its `_layers` and `_load` targets. The binary, its Python toolchain and its
      wheels are resolved for the platform, so a `select()` on
      `@platforms//cpu:aarch64` in the binary's `deps` picks arm64 wheels;
    * `<name>`: rules_oci `oci_image_index` of those images (each manifest's
      `platform` comes from its image config);
    * for each `registries` entry, the push targets of [py_image](#py_image),
      pushing the index: one tag serves every platform.

    ```starlark
    py_image_index(
        name = "image",
        binary = ":app",
        platforms = {
            "@rules_pyimage//platforms:linux_amd64": "@debian_linux_amd64",
            "@rules_pyimage//platforms:linux_arm64": "@debian_linux_arm64",
        },
        env = {"PORT": "8080"},
        registries = {"ghcr": "ghcr.io/acme/app"},
    )
    ```

    Each base's architecture is checked against its platform at build time, so
    swapped bases fail the build instead of producing an image that cannot start.

    Bazel 7's `py_binary` needs a C++ toolchain for every platform at analysis
    time (nothing is compiled unless the binary has C/C++ deps). Without a cross
    compiler for linux/arm64, register
    `@rules_pyimage//platforms:no_cc_compiler_linux_arm64`, which satisfies
    analysis and fails any real compile with an explanation.

    Args:
        name: name of the `oci_image_index` target.
        binary: the `py_binary` (or any executable with runfiles).
        platforms: dict of platform label -> base image for that platform
            (`None` for an image without base). Platforms need distinct names:
            they name the per-platform images.
        registries: dict of registry name -> repository (no tag); the index is pushed.
        registry_defines: dict of registry name -> name of the `--define` that
            holds the repository, as for [py_image](#py_image).
        push_prefix: prefix of the push target names.
        version_define: `--define` that holds the version tag.
        version_status_key: workspace status key that holds the version tag.
        visibility: visibility of the index, the images and the push targets.
        tags: tags for every target.
        **kwargs: more arguments of [py_image](#py_image), the same for every
            platform (`env`, `exposed_ports`, `groups`, `strip`, `extra_layers`, ...);
            not `base` or `platform`, which come from `platforms`.
    """
    if not platforms:
        fail("py_image_index {}: `platforms` is empty; give a dict of platform -> base image, e.g. {{\"@rules_pyimage//platforms:linux_arm64\": \"@debian_linux_arm64\"}}".format(name))
    for attr in ["base", "platform"]:
        if attr in kwargs:
            fail("py_image_index {}: `{}` is not an argument here; give each platform's base as `platforms = {{platform: base}}`".format(name, attr))
    tags = tags or []
    if kwargs.get("extra_layers"):
        # Written once for every platform: the files are the same. What the
        # caller did not set keeps the rule's defaults (those of py_image).
        _extra_layers(
            name,
            kwargs["extra_layers"],
            tags + ["manual"],
            **{k: kwargs[k] for k in _EXTRA_LAYER_OPTIONS if kwargs.get(k) != None}
        )
        kwargs["extra_layers"] = [name + "_extra_layers"]
    images = {}
    for platform, base in platforms.items():
        image = "{}_{}".format(name, native.package_relative_label(platform).name)
        if image in images:
            fail("py_image_index {}: platforms {} and {} have the same name; the per-platform images are named after it, so give them distinct names".format(name, images[image], platform))
        images[image] = platform
        py_image(
            name = image,
            binary = binary,
            base = base,
            platform = platform,
            tags = tags,
            visibility = visibility,
            **kwargs
        )
    oci_image_index(
        name = name,
        images = list(images.keys()),
        tags = tags,
        visibility = visibility,
    )
    _push_targets(
        name = name,
        image = name,
        # Each platform's SBOM refers to that platform's image, which the
        # index push puts in the registry.
        sboms = [image + "_sbom_referrer" for image in images] if kwargs.get("push_sbom") else [],
        registries = registries,
        registry_defines = registry_defines,
        push_prefix = push_prefix,
        version_define = version_define,
        version_status_key = version_status_key,
        tags = tags,
        visibility = visibility,
    )

# py_image's arguments that also say how its rules_pkg extra layers are written.
_EXTRA_LAYER_OPTIONS = ["compression", "compression_level", "hardlink_duplicates", "mtime", "owner"]

def _extra_layers(name, layers, tags, **options):
    """`<name>_extra_layers`: the layer files of py_image's `extra_layers`, in order; `options` are some of _EXTRA_LAYER_OPTIONS."""
    extra_layers(
        name = name + "_extra_layers",
        layers = layers,
        tags = tags,
        **options
    )

def _sbom_pushes(push, sboms, tags, **repository):
    """Pushes of each SBOM referrer layout in `sboms` to the repository of the push target `push` (`repository` or `repository_file`); their names."""
    names = []
    for sbom in sboms:
        name = "_{}_{}".format(push, native.package_relative_label(sbom).name)
        referrer_push(name = name, artifact = sbom, tags = tags, **repository)
        names.append(name)
    return names

def _push_targets(name, image, sboms, registries, registry_defines, push_prefix, version_define, version_status_key, tags, visibility):
    """`<push_prefix>_<registry>_{latest,tag}`, `<push_prefix>_all*` and the registry_defines pushes for an image or index; each push of the image also pushes the SBOM referrers in `sboms`."""
    if not registries and not registry_defines:
        return
    internal_tags = tags + ["manual"]
    version = name + "_version_tag"
    version_tag(
        name = version,
        define = version_define,
        status_key = version_status_key,
        tags = internal_tags,
    )
    sbom_pushes = {}
    for registry, repository in (registries or {}).items():
        sbom_pushes[registry] = _sbom_pushes("{}_{}".format(push_prefix, registry), sboms, internal_tags, repository = repository)
        latest = "{}_{}_latest".format(push_prefix, registry)
        oci_push(
            name = "_" + latest if sboms else latest,
            image = image,
            repository = repository,
            remote_tags = ["latest"],
            tags = internal_tags if sboms else tags,
            visibility = None if sboms else visibility,
        )
        if sboms:
            run_all(
                name = latest,
                targets = ["_" + latest] + sbom_pushes[registry],
                # a referrer needs its image there first
                stop_at_failure = True,
                tags = tags,
                visibility = visibility,
            )

        # The version push refuses to run without a version instead of failing
        # the build, so `bazel build //...` works without --define.
        versioned = "{}_{}_tag".format(push_prefix, registry)
        oci_push(
            name = "_" + versioned,
            image = image,
            repository = repository,
            remote_tags = version,
            tags = internal_tags,
        )
        run_all(
            name = versioned,
            targets = ["_" + versioned] + sbom_pushes[registry],
            stop_at_failure = True,
            require_nonempty = version,
            require_nonempty_message = "no version tag for {}: pass --define={}=v1.2.3, or set the workspace status key {}".format(
                versioned,
                version_define,
                version_status_key,
            ),
            tags = tags,
            visibility = visibility,
        )

    # Registries at once. Within one registry, in turn: the version push after
    # `latest`, so it finds every blob there already and uploads none again, and
    # then the other repositories of that registry as copies of the first, which
    # the registry mounts instead of receiving the blobs again.
    hosts = {}
    for registry, repository in (registries or {}).items():
        hosts.setdefault(registry_host(repository), []).append(registry)
    runs = {"_all": [], "_all_latest": [], "_all_tag": []}
    for host_registries in hosts.values():
        first = host_registries[0]
        sequences = {
            "_all": ["{}_{}_latest".format(push_prefix, first), "{}_{}_tag".format(push_prefix, first)],
            "_all_latest": ["{}_{}_latest".format(push_prefix, first)],
            "_all_tag": ["{}_{}_tag".format(push_prefix, first)],
        }
        for registry in host_registries[1:]:
            for suffix, fixed, tags_file in [("_all", ["latest"], version), ("_all_latest", ["latest"], None), ("_all_tag", [], version)]:
                copy = "_{}_{}_copy{}".format(push_prefix, registry, suffix.removeprefix("_all"))
                registry_copy(
                    name = copy,
                    image = image,
                    source = registries[first],
                    repository = registries[registry],
                    remote_tags = fixed,
                    remote_tags_file = tags_file,
                    empty_tags_file_message = "no version tag for {}: pass --define={}=v1.2.3, or set the workspace status key {}".format(
                        push_prefix + suffix,
                        version_define,
                        version_status_key,
                    ),
                    tags = internal_tags,
                )
                sequences[suffix].append(copy)
                sequences[suffix].extend(sbom_pushes[registry])
        for suffix, targets in sequences.items():
            if len(targets) == 1:
                runs[suffix].append(targets[0])
            else:
                run_all(
                    name = "_{}_{}{}".format(push_prefix, first, suffix),
                    targets = targets,
                    # the copies need what the first push put there
                    stop_at_failure = True,
                    tags = internal_tags,
                )
                runs[suffix].append("_{}_{}{}".format(push_prefix, first, suffix))
    for suffix, targets in runs.items():
        if targets:
            run_all(
                name = push_prefix + suffix,
                targets = targets,
                parallel = True,
                tags = tags,
                visibility = visibility,
            )

    # The repository comes from a --define when the push runs; without it the
    # push refuses to run (the build still works), like the version push.
    define_pushes, define_sbom_pushes = {}, {}
    for registry, define in (registry_defines or {}).items():
        if registry in (registries or {}):
            fail("{}: registry '{}' is in both `registries` and `registry_defines`; give one of them another name".format(name, registry))
        push = "{}_{}".format(push_prefix, registry)
        repository_from_define(
            name = push + "_repository",
            define = define,
            tags = internal_tags,
        )
        version_tag(
            name = push + "_tags",
            define = version_define,
            fixed_tags = ["latest"],
            status_key = version_status_key,
            tags = internal_tags,
        )
        oci_push(
            name = "_" + push,
            image = image,
            repository_file = push + "_repository",
            remote_tags = push + "_tags",
            tags = internal_tags,
        )
        pushed_sboms = _sbom_pushes(push, sboms, internal_tags, repository_file = push + "_repository")
        run_all(
            name = push,
            targets = ["_" + push] + pushed_sboms,
            stop_at_failure = True,
            require_nonempty = push + "_repository",
            require_nonempty_message = "no repository for {}: pass --define={}=registry.example.com:5000/team/app".format(push, define),
            tags = tags,
            visibility = visibility,
        )
        define_pushes[":" + push] = registry
        define_sbom_pushes.update({":" + sbom_push: registry for sbom_push in pushed_sboms})

    # Every registry_defines repository given on the command line, grouped by
    # registry host when the target is built (the --defines are known then):
    # the first of a host is pushed, the others get copies the registry mounts.
    if registry_defines:
        defines_push_all(
            name = push_prefix + "_all_defines",
            image = image,
            defines = registry_defines,
            pushes = define_pushes,
            sbom_pushes = define_sbom_pushes,
            # latest and the version tag, as each push gives them
            remote_tags_file = "{}_{}_tags".format(push_prefix, registry_defines.keys()[0]),
            tags = tags,
            visibility = visibility,
        )
