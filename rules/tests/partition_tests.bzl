"""Unit tests for the runfiles partitioning."""

load("@bazel_skylib//lib:unittest.bzl", "asserts", "unittest")
load("//rules/private:oci_files.bzl", "list_file_content")
load("//rules/private:partition.bzl", "assign_repos", "canonical_pattern", "distribution_of", "glob_match", "parse_repo_pattern", "pattern_matches", "repo_basename")

def _repo_basename_test(ctx):
    env = unittest.begin(ctx)
    asserts.equals(env, "pypi_311_torch", repo_basename("rules_python~~pip~pypi_311_torch"))
    asserts.equals(env, "pypi_311_torch", repo_basename("rules_python++pip+pypi_311_torch"))
    asserts.equals(env, "pypi_torch", repo_basename("pypi_torch"))
    asserts.equals(env, "", repo_basename(""))
    return unittest.end(env)

repo_basename_test = unittest.make(_repo_basename_test)

def _glob_match_test(ctx):
    env = unittest.begin(ctx)
    asserts.true(env, glob_match("nvidia_*", "nvidia_cudnn_cu12"))
    asserts.true(env, glob_match("*", ""))
    asserts.true(env, glob_match("a*b*c", "aXXbYYc"))
    asserts.true(env, glob_match("torch", "torch"))
    asserts.false(env, glob_match("torch", "torchvision"))
    asserts.false(env, glob_match("a*b", "ab_"))
    asserts.false(env, glob_match("ab*ba", "aba"))
    return unittest.end(env)

glob_match_test = unittest.make(_glob_match_test)

def _pattern_test(ctx):
    env = unittest.begin(ctx)
    torch = parse_repo_pattern("@pypi//torch")
    nvidia = parse_repo_pattern("@pypi//nvidia_*")
    asserts.equals(env, "pip", torch.kind)

    # rules_python < 0.26 (no version), >= 0.26 Bazel 7 and Bazel 8 names
    asserts.true(env, pattern_matches(torch, "rules_python~~pip~pypi_torch"))
    asserts.true(env, pattern_matches(torch, "rules_python~~pip~pypi_311_torch"))
    asserts.true(env, pattern_matches(torch, "rules_python++pip+pypi_311_torch"))
    asserts.true(env, pattern_matches(torch, "pypi_torch"))
    asserts.false(env, pattern_matches(torch, "rules_python~~pip~pypi_311_torchvision"))
    asserts.false(env, pattern_matches(torch, "rules_python~~pip~other_311_torch"))
    asserts.true(env, pattern_matches(nvidia, "rules_python++pip+pypi_312_nvidia_cublas_cu12"))
    asserts.false(env, pattern_matches(nvidia, "rules_python++pip+pypi_312_torch"))

    # dashes and case of a package name are normalised as pip does
    asserts.true(env, pattern_matches(parse_repo_pattern("@pypi//Typing-Extensions"), "pypi_typing_extensions"))
    repo = parse_repo_pattern("@local_cuda*")
    asserts.equals(env, "repo", repo.kind)
    asserts.true(env, pattern_matches(repo, "_main~_repo_rules~local_cuda_12"))
    asserts.equals(env, None, parse_repo_pattern("//foo:bar"))
    asserts.equals(env, None, parse_repo_pattern("torch"))
    return unittest.end(env)

pattern_test = unittest.make(_pattern_test)

def _assign_test(ctx):
    env = unittest.begin(ctx)
    repos = [
        "",
        "rules_python~",
        "rules_python~~pip~pypi_311_torch",
        "rules_python~~pip~pypi_311_nvidia_cudnn_cu12",
        "rules_python~~pip~pypi_311_flask",
        "rules_python~~python~python_3_11_x86_64-unknown-linux-gnu",
    ]
    got = assign_repos(
        repos,
        ["rules_python~~python~python_3_11_x86_64-unknown-linux-gnu"],
        {"torch": [parse_repo_pattern("@pypi//torch"), parse_repo_pattern("@pypi//nvidia_*")]},
        {},
    )
    asserts.equals(env, [], got.errors)
    asserts.equals(env, {
        "": "app",
        "rules_python~": "deps",
        "rules_python~~pip~pypi_311_torch": "torch",
        "rules_python~~pip~pypi_311_nvidia_cudnn_cu12": "torch",
        "rules_python~~pip~pypi_311_flask": "deps",
        "rules_python~~python~python_3_11_x86_64-unknown-linux-gnu": "python",
    }, got.layer_of)

    # a pip repository whose name looks like an interpreter's stays in deps
    got = assign_repos(["rules_python~~pip~pypi_311_python_3_11_x86_64_unknown_linux_gnu"], [], {}, {})
    asserts.equals(env, "deps", got.layer_of["rules_python~~pip~pypi_311_python_3_11_x86_64_unknown_linux_gnu"])

    # groups win over the python split; label-resolved repositories count too
    got = assign_repos(["interp", "x"], ["interp"], {}, {"runtime": ["interp"]})
    asserts.equals(env, {"interp": "runtime", "x": "deps"}, got.layer_of)
    return unittest.end(env)

assign_test = unittest.make(_assign_test)

def _assign_errors_test(ctx):
    env = unittest.begin(ctx)
    got = assign_repos(
        ["rules_python~~pip~pypi_torch"],
        [],
        {
            "a": [parse_repo_pattern("@pypi//torch")],
            "b": [parse_repo_pattern("@pypi//t*")],
            "empty": [parse_repo_pattern("@pypi//nothing_here")],
        },
        {},
    )
    asserts.equals(env, 2, len(got.errors))
    asserts.true(env, "groups 'a' and 'b'" in got.errors[0], got.errors[0])
    asserts.true(env, "group 'empty'" in got.errors[1], got.errors[1])
    asserts.true(env, "`groups`" in got.errors[1])
    return unittest.end(env)

assign_errors_test = unittest.make(_assign_errors_test)

def _distribution_test(ctx):
    env = unittest.begin(ctx)
    asserts.equals(env, "six", distribution_of("site-packages/six-1.16.0.dist-info/METADATA"))
    asserts.equals(env, "typing_extensions", distribution_of("typing_extensions-4.12.2.dist-info/RECORD"))
    asserts.equals(env, "zope_interface", distribution_of("site-packages/zope.interface-7.0.dist-info/METADATA"))
    asserts.equals(env, None, distribution_of("site-packages/six.py"))

    # rules_python 2.x names a wheel's repository after the wheel file: the
    # hub's package name is only in the files' dist-info.
    six = parse_repo_pattern("@pypi//six")
    repo = "rules_python~~pip~pypi_314_six_py2_none_any_8abb2f1d"
    asserts.true(env, pattern_matches(six, repo, ["six"]))
    asserts.false(env, pattern_matches(six, repo, []))
    asserts.true(env, pattern_matches(parse_repo_pattern("@pypi//si*"), repo, ["six"]))
    asserts.false(env, pattern_matches(parse_repo_pattern("@pypi//sixx"), repo, ["six"]))
    asserts.false(env, pattern_matches(parse_repo_pattern("@other//six"), repo, ["six"]))

    # the dist-info decides over the name's shape
    asserts.false(env, pattern_matches(parse_repo_pattern("@pypi//torch"), "rules_python~~pip~pypi_311_torch", ["torchvision"]))
    nvidia = parse_repo_pattern("@pypi//nvidia_*")
    asserts.true(env, pattern_matches(nvidia, "rules_python++pip+pypi_314_nvidia_cudnn_cu12_py3_none_manylinux_2_27_x86_64_5a1b2c3d", ["nvidia_cudnn_cu12"]))
    got = assign_repos(
        ["", repo],
        [],
        {"six": [six]},
        {},
        {repo: ["six"]},
    )
    asserts.equals(env, [], got.errors)
    asserts.equals(env, "six", got.layer_of[repo])
    return unittest.end(env)

distribution_test = unittest.make(_distribution_test)

def _renamed_hub(apparent):
    return {"deps": "rules_python~~pip~smoke_pypi", "pypi": "rules_python++pip+pypi"}[apparent]

def _canonical_hub_test(ctx):
    env = unittest.begin(ctx)
    asserts.equals(env, "@@rules_python~~pip~smoke_pypi//six", canonical_pattern("@deps//six", _renamed_hub))
    asserts.equals(env, "@@rules_python++pip+pypi//nvidia_*", canonical_pattern("@pypi//nvidia_*", _renamed_hub))
    asserts.equals(env, "@local_cuda*", canonical_pattern("@local_cuda*", _renamed_hub))
    asserts.equals(env, "@@already//six", canonical_pattern("@@already//six", _renamed_hub))

    # The hub the user calls @deps is rules_python's `smoke_pypi`: its wheels'
    # repositories carry that name, which the apparent name would never match.
    wheel = "rules_python~~pip~smoke_pypi_314_six_py2_none_any_8abb2f1d"
    asserts.false(env, pattern_matches(parse_repo_pattern("@deps//six"), wheel, ["six"]))
    canonical = parse_repo_pattern(canonical_pattern("@deps//six", _renamed_hub))
    asserts.true(env, canonical.canonical)
    asserts.true(env, pattern_matches(canonical, wheel, ["six"]))
    asserts.false(env, pattern_matches(canonical, "rules_python~~pip~other_314_six_py2_none_any_8abb2f1d", ["six"]))
    asserts.false(env, pattern_matches(canonical, "rules_python~~pip~smoke_pypi_314_sixx", ["sixx"]))

    # without dist-info: the name after the hub, with or without a Python version
    asserts.true(env, pattern_matches(parse_repo_pattern("@@rules_python++pip+pypi//torch"), "rules_python++pip+pypi_312_torch"))
    return unittest.end(env)

canonical_hub_test = unittest.make(_canonical_hub_test)

def _list_file_test(ctx):
    env = unittest.begin(ctx)

    # rules_oci 2.x: one element per line; commas are part of an element.
    asserts.equals(env, "/app/bin/python3\n/app/main\n", list_file_content(["/app/bin/python3", "/app/main"]))
    asserts.equals(env, "--greeting\nhello, world\n", list_file_content(["--greeting", "hello, world"]))
    asserts.equals(env, "a%5Cnb\n", list_file_content(["a\nb"]))
    asserts.equals(env, "", list_file_content([]))
    return unittest.end(env)

list_file_test = unittest.make(_list_file_test)

def partition_test_suite(name):
    unittest.suite(
        name,
        repo_basename_test,
        glob_match_test,
        distribution_test,
        canonical_hub_test,
        list_file_test,
        pattern_test,
        assign_test,
        assign_errors_test,
    )
