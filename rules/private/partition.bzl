"""Partition a binary's runfiles into image layers by owner repository.

Pure functions over plain values (no ctx), so unit tests can drive them.
"""

# Separators of canonical repository names: `~` (Bazel 7), `+` (Bazel 8).
_CANONICAL_SEPARATORS = ["~", "+"]

def repo_of(file):
    """The canonical name of the repository a File belongs to.

    Args:
        file: a File of the runfiles.

    Returns:
        The repository's canonical name; "" for the main repository.
    """
    if file.owner != None:
        return file.owner.workspace_name
    if file.short_path.startswith("../"):
        return file.short_path.split("/")[1]
    return ""

def rlocation(file, workspace_name):
    """The path of a File below the runfiles root, as the runfiles libraries see it."""
    if file.short_path.startswith("../"):
        return file.short_path[3:]
    return workspace_name + "/" + file.short_path

def repo_basename(repo):
    """The last component of a canonical repository name.

    `rules_python~~pip~pypi_311_torch` (Bazel 7), `rules_python++pip+pypi_311_torch`
    (Bazel 8) and `pypi_torch` (WORKSPACE) all give `pypi_311_torch` / `pypi_torch`.
    Only used to match user-written repository patterns, never to infer roles.
    """
    for sep in _CANONICAL_SEPARATORS:
        repo = repo.rpartition(sep)[2]
    return repo

def glob_match(pattern, name):
    """Whether `name` matches `pattern`, where `*` matches any run of characters.

    Args:
        pattern: a name with `*` wildcards.
        name: the name to test.

    Returns:
        True if it matches.
    """
    parts = pattern.split("*")
    if len(parts) == 1:
        return pattern == name
    if not name.startswith(parts[0]):
        return False
    pos = len(parts[0])
    for mid in parts[1:-1]:
        found = name.find(mid, pos)
        if found < 0:
            return False
        pos = found + len(mid)
    last = parts[-1]
    return len(name) - pos >= len(last) and name.endswith(last)

def parse_repo_pattern(pattern):
    """Turn a user pattern into a matcher struct.

    Accepted forms:
      `@hub//package` or `@hub//prefix_*`: pip packages of the hub `hub`. Matches
          a repository of that hub (its name starts with `hub_`) by the
          distribution its files declare (`<name>-<version>.dist-info/`), so
          it works whatever rules_python calls the repository
          (`pypi_torch`, `pypi_311_torch`, `pypi_314_six_py2_none_any_8abb2f1d`);
          a repository without dist-info is matched by `hub_<package>` or
          `hub_<pyversion>_<package>`.
      `@repo` or `@repo_*`: repositories by (last component of) name.

    Args:
        pattern: the pattern as written in `groups`.

    Returns:
        A matcher struct, or None when the pattern is not of these forms.
    """
    if not pattern.startswith("@"):
        return None
    canonical = pattern.startswith("@@")
    repo, sep, package = pattern.lstrip("@").partition("//")
    if not repo:
        return None
    if sep and package:
        package = package.partition(":")[0]
        return struct(kind = "pip", hub = repo, canonical = canonical, package = normalize_distribution(package))
    return struct(kind = "repo", name = repo)

def canonical_pattern(pattern, canonical_repo_name):
    """`@hub//package` with the hub's canonical name: `@@<canonical>//package`.

    Macros call this with `native.package_relative_label`, which resolves the hub
    as the user's repository sees it, so a pattern keeps working when the
    apparent name is not the one rules_python built the wheels' repository
    names from (`use_repo(pip, deps = "pypi")`, a renamed hub).

    Args:
        pattern: a pattern as written in `groups`.
        canonical_repo_name: function from an apparent repository name to its
            canonical name.

    Returns:
        The pattern with a canonical hub, or the pattern unchanged when it is
        not an `@hub//package` pattern.
    """
    matcher = parse_repo_pattern(pattern)
    if matcher == None or matcher.kind != "pip" or matcher.canonical:
        return pattern
    return "@@{}//{}".format(canonical_repo_name(matcher.hub), matcher.package)

def canonical_groups(groups):
    """`groups` of a macro with every `@hub//package` pattern's hub resolved.

    Only for macros (it calls `native.package_relative_label`, which resolves a
    repository as the calling package's repository sees it).

    Args:
        groups: dict group name -> patterns, or None.

    Returns:
        The dict with canonical hubs (see canonical_pattern).
    """
    return {
        group: [canonical_pattern(p, _canonical_repo_name) for p in patterns]
        for group, patterns in (groups or {}).items()
    }

def _canonical_repo_name(apparent):
    # Any target name will do: only the repository is resolved.
    return native.package_relative_label("@{}//:BUILD".format(apparent)).workspace_name

def normalize_distribution(name):
    """A distribution name as pip compares them (PEP 503): lower case, `-`/`.` -> `_`."""
    return name.lower().replace("-", "_").replace(".", "_")

def distribution_of(path):
    """The distribution a file of a wheel's repository declares, or None.

    Args:
        path: a file's path, e.g. `site-packages/six-1.16.0.dist-info/METADATA`.

    Returns:
        The normalised distribution name (`six`), or None for a file outside
        a `.dist-info` directory.
    """
    end = path.find(".dist-info/")
    if end < 0:
        return None
    directory = path[:end].rpartition("/")[2]
    return normalize_distribution(directory.partition("-")[0])

def pattern_matches(matcher, repo, distributions = []):
    """Whether a parsed pattern matches a repository.

    Args:
        matcher: a struct from parse_repo_pattern.
        repo: a canonical repository name.
        distributions: normalised names of the distributions the repository's
            files declare (see distribution_of); pip patterns match these
            when there are any.

    Returns:
        True if it matches.
    """
    base = repo_basename(repo)
    if matcher.kind == "repo":
        return glob_match(matcher.name, base) or glob_match(matcher.name, repo)

    # A hub's wheel repositories are named `<hub>_...`, next to the hub: compare
    # canonical names where the macro resolved the hub, else the last component.
    name = repo if matcher.canonical else base
    prefix = matcher.hub + "_"
    if not name.startswith(prefix):
        return False
    if distributions:
        return len([d for d in distributions if glob_match(matcher.package, d)]) > 0
    rest = name[len(prefix):]
    if glob_match(matcher.package, rest):
        return True

    # rules_python >= 0.26 puts the Python version in between: pypi_311_torch.
    version, _, package = rest.partition("_")
    return version.isdigit() and glob_match(matcher.package, package)

def assign_repos(repos, python_repos, group_patterns, group_repos, distributions = {}):
    """Map every repository to the name of the layer it goes to.

    Args:
        repos: canonical names of all repositories that own runfiles.
        python_repos: repositories of the Python runtime (the python layer).
        group_patterns: dict group name -> list of parsed patterns.
        group_repos: dict group name -> list of canonical repository names
            (from label targets resolved by Bazel).
        distributions: dict repo -> list of the distributions its files declare.

    Returns:
        struct(layer_of = dict repo -> layer name, errors = list of strings).
        Layer names: "python", "app", "deps" and the group names.
    """
    all_groups = sorted({g: True for g in group_patterns.keys() + group_repos.keys()}.keys())
    layer_of = {}
    errors = []
    used = {}
    for repo in repos:
        matches = [
            group
            for group in all_groups
            if repo in group_repos.get(group, []) or [m for m in group_patterns.get(group, []) if pattern_matches(m, repo, distributions.get(repo, []))]
        ]
        for group in matches:
            used[group] = True
        if len(matches) > 1:
            errors.append("repository @@{} is matched by groups {}; a repository belongs to one group only: narrow the patterns in `groups`".format(repo, " and ".join(["'%s'" % g for g in matches])))
        elif matches:
            layer_of[repo] = matches[0]
        elif repo in python_repos:
            layer_of[repo] = "python"
        elif repo == "":
            layer_of[repo] = "app"
        else:
            layer_of[repo] = "deps"
    for group in all_groups:
        if group not in used:
            errors.append("group '{}' in `groups` matches no file of the binary's runfiles: check its patterns or remove it".format(group))
    return struct(layer_of = layer_of, errors = errors)
