"""py_image_layers: a py_binary's runfiles as python, deps and app layer tars."""

load(":base.bzl", "MAX_LAYERS", "check_base")
load(":layer_action.bzl", "COMMON_ATTRS", "TOOLS_TOOLCHAIN", "layer_action", "layer_options")
load(":oci_files.bzl", "list_file_content")
load(":partition.bzl", "assign_repos", "canonical_groups", "distribution_of", "parse_repo_pattern", "repo_basename", "repo_of", "rlocation")
load(":platform.bzl", "PLATFORM_ATTRS")
load(":transition.bzl", "TRANSITION_ATTRS", "platform_transition")

PyImageLayersInfo = provider(
    doc = "The layers of a py_image_layers target and where the binary lands in the image.",
    fields = {
        "layers": "list of struct(name, blob, descriptor, report, contents, img_metadata, media_type) in image order; `img_metadata` is the layer's metadata JSON as rules_img reads it",
        "base_check": "list of the base check's File (`PLATFORM DIGEST`), empty without a base",
        "interpreter": "struct(version, source repository) of the in-build interpreter, or None",
        "mtime": "int: the layers' modification time",
        "entrypoint": "File: the command that runs the binary in the image, one element per line (rules_oci 2.x's format)",
        "launcher": "string: the binary's path in the image",
        "runfiles_dir": "string: the binary's runfiles directory in the image",
    },
)

PyImageSharedLayersInfo = provider(
    doc = "Layers of external repositories that images share: see py_shared_layers.",
    fields = {
        "layers": "list of struct(name, blob, descriptor, report, contents, img_metadata, media_type) in image order",
        "repos": "dict: canonical name of each repository the layers hold -> its layer's name",
        "files": "depset of every File the layers hold",
        "external_dir": "string: the directory of the repositories in the image (`<root>/external`)",
        "label": "Label of the py_shared_layers target, for messages",
    },
)

_PY_TOOLCHAIN = "@bazel_tools//tools/python:toolchain_type"

_DOC = """Partitions a `py_binary`'s runfiles into image layers, one tar per layer.

Files are assigned by the repository that owns them, never by path patterns:

* `python`: the repository of the Python toolchain's interpreter (hermetic
  toolchains put the whole runtime there);
* one layer per entry of `groups`, in the order given;
* `deps`: every other external repository (pip packages, runfiles libraries);
  with `split_deps = True`, one layer per repository instead;
* `app`: the main repository, generated files, the launcher and `_repo_mapping`.

In the image, the binary is at `<root>/<package>/<name>` with its runfiles
directory next to it, and each external repository is in
`<root>/external/<repository>`, which the runfiles directory links to
(`<name>.runfiles/<repository>` is a relative symlink). So a repository's
layer does not depend on the binary that uses it: two images on the same
interpreter and wheels get the same python and deps layers, byte for byte,
and [py_shared_layers](#py_shared_layers) writes them once for all images.

Each layer is written by its own action whose inputs are only that layer's
files, so editing application code re-runs only the `app` action and a remote
cache serves the rest. The tars are the target's default outputs, in image
order, ready for `oci_image(tars = [...])` (rules_oci) or rules_img.

```starlark
load("@rules_pyimage//rules:defs.bzl", "py_image_layers")

py_image_layers(
    name = "layers",
    binary = ":app",
    groups = {"torch": ["@pypi//torch", "@pypi//nvidia_*", "@pypi//triton"]},
)

filegroup(
    name = "entrypoint",
    srcs = [":layers"],
    output_group = "entrypoint",
)

oci_image(
    name = "image",
    base = "@debian_slim",
    tars = [":layers"],
    entrypoint = ":entrypoint",
)
```

Output groups: `descriptors` (per-layer JSON with digest, size and diff_id),
`img_metadata` (the same per layer as rules_img's layer metadata, for the
`py_img_layers` adapter of the `rules_pyimage_img` module, docs/img.md),
`report` (a size report), `entrypoint` (the command file for `oci_image`).
py_image adds the image report and SBOM over these and its extra layers
(`<name>_tars`).
"""

_PICK_ENTRYPOINT = """
set -eu
launcher=$1 with_interpreter=$2 launcher_only=$3 out=$4
first=$(head -c 256 "$launcher" | head -n 1)
case "$first" in
'#!'*python*) cp "$with_interpreter" "$out" ;;
*) cp "$launcher_only" "$out" ;;
esac
"""

def _entrypoint(ctx, executable, launcher, interpreter):
    """The entrypoint file: `[interpreter, launcher]` or `[launcher]`.

    A launcher that is a Python script (Bazel's and rules_python's default
    bootstrap, `#!/usr/bin/env python3`) runs under the image's interpreter when
    the toolchain brings one, so the base needs no Python. Any other launcher
    (rules_python's `bootstrap_impl=script` shell script, a native binary) runs
    as it is: it finds the interpreter itself. Only the launcher's first line
    tells which, so an action reads it.
    """
    out = ctx.actions.declare_file(ctx.label.name + ".entrypoint")
    if not interpreter:
        ctx.actions.write(out, list_file_content([launcher]))
        return out
    with_interpreter = ctx.actions.declare_file(ctx.label.name + ".entrypoint.interpreter")
    ctx.actions.write(with_interpreter, list_file_content([interpreter, launcher]))
    launcher_only = ctx.actions.declare_file(ctx.label.name + ".entrypoint.launcher")
    ctx.actions.write(launcher_only, list_file_content([launcher]))
    ctx.actions.run_shell(
        command = _PICK_ENTRYPOINT,
        arguments = [executable.path, with_interpreter.path, launcher_only.path, out.path],
        inputs = [executable, with_interpreter, launcher_only],
        outputs = [out],
        mnemonic = "PyImageEntrypoint",
        progress_message = "Choosing the entrypoint of %{label}",
    )
    return out

# Attributes that say how a binary's external repositories become layers, the
# same on py_image_layers and py_shared_layers.
_PARTITION_ATTRS = {
    "excludes": attr.string_list(
        doc = """Globs of in-image paths (without the leading `/`) to leave out of every
        layer, with everything below them, e.g.
        `["**/site-packages/*/benchmarks", "**/site-packages/scipy/**/*.pyx"]`
        (packages' own `tests` directories already go with `strip`). Applied with
        or without `strip`; what each removed is in the `report` output group.""",
    ),
    "group_targets": attr.label_keyed_string_dict(
        doc = "Targets (e.g. `@pypi//torch`) mapped to a group name; their repositories go to that group's layer.",
    ),
    "groups": attr.string_list_dict(
        doc = """Group name -> repository patterns; each group becomes its own layer,
        placed after `python` and before `deps`, in the order given. A pattern is
        `@hub//package` (a pip package of the hub; `*` wildcards allowed, e.g.
        `@pypi//nvidia_*`) or `@repo` (a repository by name, wildcards allowed).
        A package is matched by the distribution its repository's files declare
        (`<name>-<version>.dist-info`), whatever rules_python names the
        repository; `py_image` resolves the hub as your repository sees it
        (`@@<canonical name>//package`, which this attribute also accepts).
        Groups take precedence over the python/deps/app split.""",
    ),
    "includes": attr.string_list(
        doc = "Globs of in-image paths to keep whatever `strip` and `excludes` say, e.g. `[\"**/site-packages/numpy/testing/**\"]`.",
    ),
    "large_package_mb": attr.int(
        doc = """Warn when one repository holds more than this many MB (10^6 bytes) of the
        shared `deps` layer, which every change to any dependency writes and pushes
        again; the warning gives the `groups` entry that moves it to a layer of its
        own. 0: no warning.""",
        default = 200,
    ),
    "root": attr.string(
        doc = "Directory in the image that holds the binary and its runfiles; external repositories are in its `external/` directory.",
        default = "/app",
    ),
    "split_deps": attr.bool(
        doc = "One layer per external repository instead of a single `deps` layer: `deps_<distribution>` for a wheel's repository (from its `.dist-info`), `deps_<repository>` for any other.",
        default = False,
    ),
    "strip": attr.bool(
        doc = "Drop what a runtime never needs (tests, caches, headers, RECORD files) from the python and deps layers.",
        default = True,
    ),
    "strip_debug": attr.bool(
        doc = "Also remove ELF debug sections from shared objects and executables in the python and deps layers.",
        default = False,
    ),
}

_ATTRS = dict(_PARTITION_ATTRS, **{
    "base": attr.label(
        doc = "Optional base image (an OCI image layout). When given, a validation action checks that its architecture matches `platform` and that the image stays within 127 layers.",
        allow_single_file = True,
    ),
    "extra_layers": attr.label_list(
        doc = "The image's other layers between the base and these (py_image passes its `extra_layers`): only counted, with the base's and these, against the 127-layer limit of Docker and containerd.",
        allow_files = True,
    ),
    "binary": attr.label(
        doc = "The executable to put in the image: a `py_binary` or any executable with runfiles.",
        mandatory = True,
    ),
    "shared_layers": attr.label(
        doc = """A [py_shared_layers](#py_shared_layers) target: the repositories it holds
        come from its layers, placed first, instead of layers of this target's own, so
        every image that names it shares those layers' actions and bytes. `groups`,
        `split_deps`, `strip` and the globs here apply to the other repositories.""",
        providers = [PyImageSharedLayersInfo],
    ),
})

# Manifest kinds of runfiles (see tools/README.md): `file` copies content,
# `tree` a directory artifact, `link` stores a symlink artifact's own text
# (ctx.actions.declare_symlink, as rules_python's venvs make), and `output` lets
# the tool tell the last two apart where Bazel (7) does not say which it is.
_KINDS = ["file", "tree", "link", "output"]

def _kind(f):
    if f.is_directory:
        return "tree"
    is_symlink = getattr(f, "is_symlink", None)  # Bazel >= 8
    if is_symlink != None:
        return "link" if is_symlink else "file"
    return "file" if f.is_source else "output"

def _main_and_external(files):
    main, external = [], []
    for f in files:
        (external if f.short_path.startswith("../") else main).append(f)
    return main, external

def _main_entry(f):
    return f.short_path + "\t" + f.path

def _external_entry(f):
    return f.short_path[3:] + "\t" + f.path

def _escape(s):
    return s.replace("%", "%%")

def _image_root(attr):
    return "/" + attr.root.strip("/") if attr.root.strip("/") else ""

def _runfiles_relative_empty(path, workspace_name):
    """The runfiles-relative path of an entry of runfiles.empty_filenames.

    They are relative to the main repository's runfiles directory; `../<repo>/...`
    (and, with legacy external runfiles, `external/<repo>/...`) belong to <repo>.
    """
    for prefix in ["../", "external/"]:
        if path.startswith(prefix):
            return path[len(prefix):]
    return workspace_name + "/" + path

def _write_manifest(ctx, layer, content, main_dir, external_dir):
    """Writes a layer-splitter manifest lazily; big lists never become strings here.

    Files of the main repository go below `main_dir`, those of an external
    repository below `external_dir/<repository>`.
    """
    args = ctx.actions.args()
    args.set_param_file_format("multiline")
    for kind in _KINDS:
        main, external = _main_and_external(content.by_kind[kind])
        args.add_all(main, map_each = _main_entry, format_each = _escape("{}\t{}/".format(kind, main_dir)) + "%s")
        args.add_all(external, map_each = _external_entry, format_each = _escape("{}\t{}/".format(kind, external_dir)) + "%s")
    args.add_all(content.lines)
    manifest = ctx.actions.declare_file("{}/{}.manifest".format(ctx.label.name, layer))
    ctx.actions.write(manifest, args)
    return manifest

def _group_repos(ctx):
    """Repositories of the targets in `group_targets`, by group."""
    by_group = {}
    for target, group in ctx.attr.group_targets.items():
        repos = by_group.setdefault(group, [])
        repos.append(target.label.workspace_name)

        # An alias (`@pypi//torch`) resolves to the package's own repository;
        # its files say which one even where the label does not.
        for f in target[DefaultInfo].files.to_list()[:1]:
            repos.append(repo_of(f))
    return by_group

def _plan(ctx, files_by_repo, python_repos):
    """Which layer each repository goes to, and the layers in image order.

    Args:
        ctx: a rule context with _PARTITION_ATTRS.
        files_by_repo: dict canonical repository name -> list of its Files.
        python_repos: repositories of the Python runtime.

    Returns:
        struct(order = layer names, least to most often changed,
        contents = dict layer name -> struct(by_kind, lines)).
    """
    distributions = {}
    for repo, files in files_by_repo.items():
        if repo:
            for f in files:
                if ".dist-info/" in f.short_path:
                    distributions.setdefault(repo, {})[distribution_of(f.short_path)] = True
    for group in list(ctx.attr.groups.keys()) + list(ctx.attr.group_targets.values()):
        if group in ["python", "deps", "app"] or group.startswith("deps_"):
            fail("groups: '{}' is the name of a built-in layer; give the group another name (e.g. '{}_libs')".format(group, group))
    patterns = {}
    for group, group_patterns in ctx.attr.groups.items():
        parsed = []
        for p in group_patterns:
            m = parse_repo_pattern(p)
            if m == None:
                fail("groups: pattern '{}' of group '{}' is not of the form '@hub//package' or '@repo' (wildcards allowed)".format(p, group))
            parsed.append(m)
        patterns[group] = parsed
    assignment = assign_repos(
        files_by_repo.keys(),
        python_repos,
        patterns,
        _group_repos(ctx),
        {repo: names.keys() for repo, names in distributions.items()},
    )
    if assignment.errors:
        fail("\n".join(assignment.errors))
    layer_of = assignment.layer_of

    order = ["python"] + [g for g in ctx.attr.groups] + [g for g in ctx.attr.group_targets.values() if g not in ctx.attr.groups]
    if ctx.attr.split_deps:
        # A wheel's repository is named after the distribution it declares
        # (`deps_six`), not after the repository: rules_python 2.x puts wheel tags
        # and a hash in that name (pypi_314_six_py2_none_any_8abb2f1d), which
        # would change the layer's name with every lock update.
        split_repos = [repo for repo in sorted(files_by_repo.keys()) if layer_of[repo] == "deps"]
        only = {repo: distributions[repo].keys()[0] for repo in split_repos if len(distributions.get(repo, {})) == 1}
        repos_of = {}
        for repo, name in only.items():
            repos_of.setdefault(name, []).append(repo)
        for repo in split_repos:
            if repo in only and len(repos_of[only[repo]]) == 1:
                layer_of[repo] = "deps_" + only[repo]
            else:
                layer_of[repo] = "deps_" + repo.replace("~", "_").replace("+", "_")
            order.append(layer_of[repo])
    else:
        order.append("deps")
    order.append("app")
    order = [name for i, name in enumerate(order) if name not in order[:i]]

    contents = {name: struct(by_kind = {kind: [] for kind in _KINDS}, lines = [], repos = []) for name in order}
    for repo, files in files_by_repo.items():
        content = contents[layer_of[repo]]
        content.repos.append(repo)
        for f in files:
            content.by_kind[_kind(f)].append(f)
    return struct(order = order, contents = contents, distributions = distributions)

def _large_packages(ctx, plan, external_dir):
    """What layer-splitter warns about in the shared `deps` layer: each repository's directory and its `groups` entry."""
    repos = plan.contents["deps"].repos if "deps" in plan.contents else []
    if ctx.attr.large_package_mb <= 0 or len(repos) < 2:
        return None
    packages = {}
    for repo in sorted(repos):
        names = sorted(plan.distributions.get(repo, {}).keys())
        group = names[0] if len(names) == 1 else repo_basename(repo)
        packages["{}/{}".format(external_dir, repo)] = '"{}": ["@{}"]'.format(group, repo_basename(repo))
    return struct(threshold = ctx.attr.large_package_mb * 1000 * 1000, packages = packages)

def _write_layers(ctx, tools, plan, main_dir, external_dir, app_inputs = []):
    """One layer-splitter action per non-empty layer of a plan, in order."""
    options = layer_options(
        ctx.attr,
        strip = ctx.attr.strip,
        strip_debug = ctx.attr.strip_debug,
        excludes = ctx.attr.excludes,
        includes = ctx.attr.includes,
    )
    layers = []
    for name in plan.order:
        content = plan.contents[name]
        files = [f for kind in _KINDS for f in content.by_kind[kind]]
        if not files and not content.lines:
            continue
        manifest = _write_manifest(ctx, name, content, main_dir, external_dir)
        inputs = depset(files + (app_inputs if name == "app" else []))
        profile = "python" if name == "python" else ("none" if name == "app" else "site-packages")
        large = _large_packages(ctx, plan, external_dir) if name == "deps" else None
        layers.append(layer_action(ctx, tools, name, manifest, inputs, options, profile, large))
    return layers

def _summary(ctx, layers):
    report = ctx.actions.declare_file(ctx.label.name + ".report.txt")
    report_args = ctx.actions.args()
    report_args.add(report)
    report_args.add_all([layer.report for layer in layers])
    ctx.actions.run_shell(
        command = 'out=$1; shift; for r in "$@"; do cat "$r"; echo; done > "$out"',
        arguments = [report_args],
        inputs = [layer.report for layer in layers],
        outputs = [report],
        mnemonic = "PyImageReport",
        progress_message = "Summarising layer sizes of %{label}",
    )
    return report

def _python_version(runtime):
    """`X.Y[.Z]` of a py_runtime, from its version info or its `lib/pythonX.Y` directory."""
    info = getattr(runtime, "interpreter_version_info", None)
    if info and getattr(info, "major", None) != None and getattr(info, "minor", None) != None:
        micro = getattr(info, "micro", None)
        return "{}.{}".format(info.major, info.minor) + (".{}".format(micro) if micro != None else "")
    for f in runtime.files.to_list():
        _, found, rest = f.short_path.partition("/lib/python3.")
        minor = rest.partition("/")[0]
        if found and minor.isdigit():
            return "3." + minor
    return None

def _interpreter(ctx):
    """struct(version, source) of the in-build interpreter, for the SBOM; None without one."""
    py_toolchain = ctx.toolchains[_PY_TOOLCHAIN]
    runtime = getattr(py_toolchain, "py3_runtime", None) if py_toolchain else None
    if not runtime or not runtime.interpreter:
        return None
    version = _python_version(runtime)
    return struct(version = version, source = repo_of(runtime.interpreter)) if version else None

def _python_repos(ctx):
    """(repositories of the Python runtime, its interpreter File or None)."""
    py_toolchain = ctx.toolchains[_PY_TOOLCHAIN]
    if py_toolchain and getattr(py_toolchain, "py3_runtime", None) and py_toolchain.py3_runtime.interpreter:
        interpreter = py_toolchain.py3_runtime.interpreter
        return [repo_of(interpreter)], interpreter
    return [], None

def _py_image_layers_impl(ctx):
    binary = ctx.attr.binary
    default_info = binary[DefaultInfo]
    executable = default_info.files_to_run.executable
    if executable == None:
        fail("binary: {} is not executable; give a py_binary (or any executable rule) as `binary`".format(binary.label))
    runfiles = default_info.default_runfiles

    tools = ctx.toolchains[TOOLS_TOOLCHAIN].pyimage
    workspace_name = ctx.workspace_name

    # Where the binary lands in the image. External repositories live in
    # `<root>/external/<repository>` and the runfiles directory links to them, so
    # their layers do not depend on the binary's name or package.
    root = _image_root(ctx.attr)
    external_dir = root + "/external"
    launcher = "{}/{}".format(root, rlocation(executable, workspace_name) if executable.short_path.startswith("../") else executable.short_path)
    runfiles_dir = launcher + ".runfiles"
    python_repos, interpreter = _python_repos(ctx)

    shared = ctx.attr.shared_layers[PyImageSharedLayersInfo] if ctx.attr.shared_layers else None
    shared_files = {f: True for f in shared.files.to_list()} if shared else {}

    # Partition the runfiles by owner repository. This walks the runfiles once
    # at analysis time: each layer action must list exactly its own inputs.
    files_by_repo = {}
    in_runfiles = {}
    missing = []
    for f in runfiles.files.to_list():
        in_runfiles[f] = True
        repo = repo_of(f)
        if shared and repo in shared.repos:
            if f not in shared_files:
                missing.append(f)
            continue
        files_by_repo.setdefault(repo, []).append(f)
    if missing:
        fail("shared_layers: {} holds repositories {} but not these files of them that {} needs: {}{}\nAdd the targets that bring them to the `deps` of {}.".format(
            shared.label,
            ", ".join(sorted({"@@" + repo_of(f): True for f in missing}.keys())),
            binary.label,
            # `@@repository//path`: where the file is, as a label would say it
            ", ".join(["@@{}//{}".format(repo_of(f), f.short_path.split("/", 2)[2]) for f in missing[:5]]),
            " and {} more".format(len(missing) - 5) if len(missing) > 5 else "",
            shared.label,
        ))

    # The directory of each external repository, which the runfiles directory links to.
    repo_dirs = {repo: external_dir for repo in files_by_repo if repo}
    if shared:
        repo_dirs.update({repo: shared.external_dir for repo in shared.repos})

    def image_path(rel):
        """In-image path of a runfiles-relative path: through the links, not below them."""
        repo = rel.partition("/")[0]
        return "{}/{}".format(repo_dirs[repo], rel) if repo in repo_dirs else "{}/{}".format(runfiles_dir, rel)

    plan = _plan(ctx, files_by_repo, python_repos)
    app = plan.contents["app"]
    app.lines.append("file\t{}\t{}".format(launcher, executable.path))
    app_inputs = [executable]

    # Bazel's runfiles tree always has the main repository's directory, even
    # when it holds no file: launchers reach other repositories' files through
    # it (`_main/../<repo>/...`, a binary whose main file is external).
    app.lines.append("dir\t{}/{}".format(runfiles_dir, workspace_name))
    for repo in sorted(repo_dirs.keys()):
        app.lines.append("symlink\t{}/{}\t{}/{}".format(runfiles_dir, repo, repo_dirs[repo], repo))
    repo_mapping = getattr(default_info.files_to_run, "repo_mapping_manifest", None)
    if repo_mapping:
        app.lines.append("file\t{}/_repo_mapping\t{}".format(runfiles_dir, repo_mapping.path))
        app_inputs.append(repo_mapping)

    # What Bazel makes for this binary (empty `__init__.py` files, runfiles
    # symlinks) goes to the app layer, so the other layers hold only their
    # repositories' own files.
    for path in runfiles.empty_filenames.to_list():
        app.lines.append("empty\t" + image_path(_runfiles_relative_empty(path, workspace_name)))
    symlinks = [(workspace_name + "/" + e.path, e.target_file) for e in runfiles.symlinks.to_list()]
    symlinks += [(e.path, e.target_file) for e in runfiles.root_symlinks.to_list()]
    for path, target in symlinks:
        if target in in_runfiles:
            # The target is in the image under its own path: link to it.
            app.lines.append("symlink\t{}\t{}".format(image_path(path), image_path(rlocation(target, workspace_name))))
        else:
            app.lines.append("{}\t{}\t{}".format(_kind(target), image_path(path), target.path))
            app_inputs.append(target)

    layers = (shared.layers if shared else []) + _write_layers(ctx, tools, plan, runfiles_dir + "/" + workspace_name, external_dir, app_inputs)
    above = len(layers) + len(ctx.files.extra_layers)
    if above > MAX_LAYERS:
        fail("{}: the image would have {} layers above its base ({} here{}), and Docker and containerd refuse images of more than {} layers (\"max depth exceeded\"): use fewer `groups` or `extra_layers`, or `split_deps = False` (one layer per external repository)".format(
            ctx.label,
            above,
            len(layers),
            ", {} extra".format(len(ctx.files.extra_layers)) if ctx.files.extra_layers else "",
            MAX_LAYERS,
        ))
    entrypoint_file = _entrypoint(ctx, executable, launcher, runfiles_dir + "/" + rlocation(interpreter, workspace_name) if interpreter else None)
    report = _summary(ctx, layers)
    base_check = check_base(ctx, tools, ctx.file.base, above) if ctx.file.base else []
    return [
        DefaultInfo(files = depset([layer.blob for layer in layers])),
        OutputGroupInfo(
            descriptors = depset([layer.descriptor for layer in layers]),
            entrypoint = depset([entrypoint_file]),
            img_metadata = depset([layer.img_metadata for layer in layers]),
            report = depset([report]),
            _validation = depset(base_check),
        ),
        PyImageLayersInfo(
            layers = layers,
            base_check = base_check,
            interpreter = _interpreter(ctx),
            mtime = ctx.attr.mtime,
            entrypoint = entrypoint_file,
            launcher = launcher,
            runfiles_dir = runfiles_dir,
        ),
    ]

py_image_layers = rule(
    implementation = _py_image_layers_impl,
    doc = _DOC,
    attrs = dict(_ATTRS, **dict(COMMON_ATTRS, **dict(PLATFORM_ATTRS, **TRANSITION_ATTRS))),
    # The whole rule moves to the image's platform, so the Python toolchain it
    # resolves is the one the binary was built with.
    cfg = platform_transition,
    toolchains = [
        config_common.toolchain_type(_PY_TOOLCHAIN, mandatory = False),
        config_common.toolchain_type(TOOLS_TOOLCHAIN, mandatory = True),
    ],
)

def _py_shared_layers_impl(ctx):
    tools = ctx.toolchains[TOOLS_TOOLCHAIN].pyimage
    python_repos, _ = _python_repos(ctx)
    files = []
    if ctx.attr.python and python_repos:
        runtime = ctx.toolchains[_PY_TOOLCHAIN].py3_runtime
        files.append(depset([runtime.interpreter], transitive = [runtime.files] if runtime.files else []))
    files += [dep[DefaultInfo].default_runfiles.files for dep in ctx.attr.deps]
    files_by_repo = {}
    for f in depset(transitive = files).to_list():
        repo = repo_of(f)
        if repo:
            files_by_repo.setdefault(repo, []).append(f)
    if not files_by_repo:
        fail("py_shared_layers {}: `deps` bring no file of an external repository{}; give the pip packages the images share (e.g. \"@pypi//torch\")".format(
            ctx.label,
            "" if ctx.attr.python else " and `python` is False",
        ))
    plan = _plan(ctx, files_by_repo, python_repos if ctx.attr.python else [])
    external_dir = _image_root(ctx.attr) + "/external"
    layers = _write_layers(ctx, tools, plan, None, external_dir)
    report = _summary(ctx, layers)
    return [
        DefaultInfo(files = depset([layer.blob for layer in layers])),
        OutputGroupInfo(
            descriptors = depset([layer.descriptor for layer in layers]),
            img_metadata = depset([layer.img_metadata for layer in layers]),
            report = depset([report]),
        ),
        PyImageSharedLayersInfo(
            layers = layers,
            repos = {repo: name for name in plan.order for repo in plan.contents[name].repos},
            files = depset(transitive = [depset(v) for v in files_by_repo.values()]),
            external_dir = external_dir,
            label = ctx.label,
        ),
    ]

_py_shared_layers = rule(
    implementation = _py_shared_layers_impl,
    doc = "Layers of external repositories that several images share; use the py_shared_layers macro.",
    attrs = dict(_PARTITION_ATTRS, **dict(COMMON_ATTRS, **{
        "deps": attr.label_list(
            doc = "Targets (pip packages, `py_library`s, a `py_binary`) whose runfiles' external repositories the layers hold.",
            mandatory = True,
        ),
        "python": attr.bool(
            doc = "Also hold the Python toolchain's runtime (when it brings one: not a system interpreter), as the `python` layer.",
            default = True,
        ),
    })),
    toolchains = [
        config_common.toolchain_type(_PY_TOOLCHAIN, mandatory = False),
        config_common.toolchain_type(TOOLS_TOOLCHAIN, mandatory = True),
    ],
)

def py_shared_layers(name, deps, python = True, groups = None, tags = None, **kwargs):
    """Layers of external repositories that several images share: one action per layer, one copy.

    Images whose binaries use the same interpreter and wheels (services of one
    monorepo on one torch stack) name one `py_shared_layers` target as
    `shared_layers`; its layers come first in each of them and are written once
    per build, however many images use them, with the same bytes in every image.
    Only each image's own files (its app layer, and repositories the shared target
    does not hold) are written per image.

    It holds the external repositories in the runfiles of `deps` (pip packages,
    libraries; files of the main repository stay in each image's app layer) and,
    with `python = True`, the Python toolchain's runtime, split by `groups` and
    `split_deps` as in [py_image_layers](#py_image_layers), below `<root>/external/`.

    ```starlark
    # third_party/stacks/BUILD.bazel
    py_shared_layers(
        name = "torch",
        deps = ["@pypi//torch", "@pypi//numpy", "@pypi//fastapi"],
        groups = {"cuda": ["@pypi//nvidia_*", "@pypi//triton"], "torch": ["@pypi//torch"]},
        visibility = ["//services:__subpackages__"],
    )

    # services/ranker/BUILD.bazel, services/embedder/BUILD.bazel, ...
    py_image(
        name = "image",
        binary = ":server",
        base = "@cuda_runtime_linux_amd64",
        shared_layers = "//third_party/stacks:torch",
    )
    ```

    It has no platform of its own: it is built in the configuration of the image
    that uses it (the image's `platform`), so images for one platform share one
    set of actions and images for several platforms get one set each. The target
    is tagged `manual`, so `bazel build //...` builds it only through those images,
    not a second time for the host platform.

    A file of the binary's runfiles that belongs to a repository the target holds
    but is missing from its layers fails the image's analysis, naming the files;
    add what brings them to `deps`.

    Args:
        name: name of the target, for `shared_layers` of py_image / py_image_layers.
        deps: targets (pip packages, `py_library`s, a `py_binary`) whose runfiles'
            external repositories the layers hold.
        python: also hold the Python toolchain's runtime (when it brings one,
            not a system interpreter) as the `python` layer.
        groups: dict of layer name -> repository patterns, as for
            [py_image](#py_image).
        tags: tags; `manual` is always added (it is built through the images).
        **kwargs: `group_targets`, `split_deps`, `strip`, `strip_debug`,
            `excludes`, `includes`, `root`, `compression`, `compression_level`,
            `hardlink_duplicates`, `mtime`, `owner`, `visibility`: as for
            [py_image_layers](#py_image_layers).
    """
    _py_shared_layers(
        name = name,
        deps = deps,
        python = python,
        groups = canonical_groups(groups),
        tags = (tags or []) + ["manual"],
        **kwargs
    )
