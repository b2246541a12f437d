//! Strip rules: which files of an interpreter tree or a site-packages directory a
//! runtime image can do without. Shared by `layer-splitter` and `stripper`.
//!
//! Every rule matches normalised paths (no leading `/`). A pattern also matches everything
//! below what it names, so a rule for `**/__pycache__` removes the directory's contents.
//! `--include` globs win over every rule, including `--exclude`.

use std::fmt;
use std::str::FromStr;

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

use crate::error::{Error, Result};

/// A built-in set of strip rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StripProfile {
    /// No built-in rules; only `--exclude` applies.
    #[default]
    None,
    /// A CPython installation tree: test suites, GUI and dev tooling, static libraries,
    /// headers, man pages and bytecode caches go.
    Python,
    /// Installed wheels: bytecode caches, `RECORD` files and the `tests` directories inside
    /// packages go; metadata and `testing` modules stay.
    SitePackages,
}

impl StripProfile {
    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            StripProfile::None => "none",
            StripProfile::Python => "python",
            StripProfile::SitePackages => "site-packages",
        }
    }
}

impl fmt::Display for StripProfile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for StripProfile {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "none" => Ok(StripProfile::None),
            "python" => Ok(StripProfile::Python),
            "site-packages" => Ok(StripProfile::SitePackages),
            _ => Err(format!(
                "unknown strip profile {s:?}; expected none, python or site-packages"
            )),
        }
    }
}

/// `(name, patterns, unless)`: a rule removes paths matching `patterns` unless they match
/// `unless`.
type RuleSpec = (
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
);

/// Site-packages inside an interpreter tree are not the stdlib.
const NOT_SITE_PACKAGES: &[&str] = &[
    "**/lib/python3*/site-packages/**",
    "**/lib/python3*/dist-packages/**",
];

const BYTECODE: RuleSpec = ("bytecode", &["**/__pycache__", "**/*.pyc", "**/*.pyo"], &[]);

const PYTHON_RULES: &[RuleSpec] = &[
    (
        "stdlib-tests",
        &[
            "**/lib/python3*/**/test",
            "**/lib/python3*/**/tests",
            "**/lib/python3*/**/idle_test",
        ],
        NOT_SITE_PACKAGES,
    ),
    (
        "idlelib",
        &["**/lib/python3*/idlelib", "**/bin/idle3*"],
        &[],
    ),
    (
        "tkinter",
        &[
            "**/lib/python3*/tkinter",
            "**/lib/python3*/lib-dynload/_tkinter.*",
        ],
        &[],
    ),
    ("turtledemo", &["**/lib/python3*/turtledemo"], &[]),
    ("ensurepip", &["**/lib/python3*/ensurepip"], &[]),
    ("lib2to3", &["**/lib/python3*/lib2to3", "**/bin/2to3*"], &[]),
    (
        "static-libs",
        &["**/*.a", "**/lib/python3*/config-*"],
        NOT_SITE_PACKAGES,
    ),
    ("headers", &["**/include/python3*"], NOT_SITE_PACKAGES),
    ("man-pages", &["**/share/man"], NOT_SITE_PACKAGES),
    BYTECODE,
];

/// A package's own test suite: a `tests` directory anywhere inside a top-level package of
/// a `site-packages` (or Debian `dist-packages`) directory, e.g. `numpy/_core/tests`.
/// Anchored at `site-packages/` so that a `tests` directory elsewhere on the path (a
/// Bazel package named `tests`, a non-wheel repository, the interpreter's stdlib) is never
/// taken for one. A top-level `site-packages/tests` stays: it is a distribution's import
/// package (declared in its `top_level.txt`), not a test suite inside one. Only `tests`:
/// `testing` packages are imported at run time (`numpy.testing` by scipy and scikit-learn,
/// `torch.testing` by torch), and of the measured wheels only joblib has a `test`
/// directory (0.34 MB; see bench/wheel_strip.py), not worth breaking a `test` package
/// someone imports. A `tests.py` module is a file of another name and stays.
const PACKAGE_TESTS: RuleSpec = (
    "package-tests",
    &["**/site-packages/*/**/tests", "**/dist-packages/*/**/tests"],
    &["**/site-packages/tests", "**/dist-packages/tests"],
);

const SITE_PACKAGES_RULES: &[RuleSpec] = &[
    BYTECODE,
    ("record", &["**/*.dist-info/RECORD"], &[]),
    PACKAGE_TESTS,
];

struct Rule {
    name: String,
    matches: GlobSet,
    unless: Option<GlobSet>,
}

/// A compiled set of strip rules: a profile plus `--exclude` and `--include` globs.
pub struct StripRules {
    rules: Vec<Rule>,
    include: Option<GlobSet>,
}

impl StripRules {
    /// Compiles a profile and the user's extra globs.
    pub fn new(profile: StripProfile, exclude: &[String], include: &[String]) -> Result<Self> {
        let specs: &[RuleSpec] = match profile {
            StripProfile::None => &[],
            StripProfile::Python => PYTHON_RULES,
            StripProfile::SitePackages => SITE_PACKAGES_RULES,
        };
        let mut rules = Vec::new();
        for (name, patterns, unless) in specs {
            rules.push(Rule {
                name: format!("{profile}:{name}"),
                matches: compile(patterns, "--strip-profile")?,
                unless: if unless.is_empty() {
                    None
                } else {
                    Some(compile(unless, "--strip-profile")?)
                },
            });
        }
        for pattern in exclude {
            rules.push(Rule {
                name: format!("exclude:{pattern}"),
                matches: compile(&[pattern.as_str()], "--exclude")?,
                unless: None,
            });
        }
        let include = if include.is_empty() {
            None
        } else {
            let patterns: Vec<&str> = include.iter().map(String::as_str).collect();
            Some(compile(&patterns, "--include")?)
        };
        Ok(StripRules { rules, include })
    }

    /// True when no rule can remove anything.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The rule names, in evaluation order (indexes match [`StripRules::rule_for`]).
    pub fn rule_names(&self) -> Vec<&str> {
        self.rules.iter().map(|r| r.name.as_str()).collect()
    }

    /// The index of the first rule that removes `path`, or `None` to keep it.
    pub fn rule_for(&self, path: &str) -> Option<usize> {
        if self.rules.is_empty() {
            return None;
        }
        let path = path.trim_start_matches('/');
        if self.include.as_ref().is_some_and(|inc| inc.is_match(path)) {
            return None;
        }
        self.rules.iter().position(|rule| {
            rule.matches.is_match(path) && !rule.unless.as_ref().is_some_and(|u| u.is_match(path))
        })
    }

    /// True when `path` is removed by some rule.
    pub fn removes(&self, path: &str) -> bool {
        self.rule_for(path).is_some()
    }
}

/// Per-rule counters of what was removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StripStats {
    /// `(rule name, files removed, bytes saved)`, in rule order.
    pub rules: Vec<(String, u64, u64)>,
}

impl StripStats {
    /// Zeroed counters for `rules`.
    pub fn new(rules: &StripRules) -> Self {
        StripStats {
            rules: rules
                .rule_names()
                .into_iter()
                .map(|n| (n.to_string(), 0, 0))
                .collect(),
        }
    }

    /// Counts one removed file of `bytes` bytes against rule `index`.
    pub fn record(&mut self, index: usize, bytes: u64) {
        let rule = &mut self.rules[index];
        rule.1 += 1;
        rule.2 += bytes;
    }

    /// Total files and bytes removed.
    pub fn total(&self) -> (u64, u64) {
        self.rules
            .iter()
            .fold((0, 0), |(f, b), r| (f + r.1, b + r.2))
    }

    /// A fixed-width table: rule, files, bytes saved.
    pub fn table(&self) -> String {
        let width = self
            .rules
            .iter()
            .map(|r| r.0.len())
            .chain([5])
            .max()
            .unwrap_or(5);
        let mut out = format!(
            "{:<width$}  {:>8}  {:>14}\n",
            "rule", "files", "bytes saved"
        );
        for (name, files, bytes) in &self.rules {
            out += &format!("{name:<width$}  {files:>8}  {bytes:>14}\n");
        }
        let (files, bytes) = self.total();
        out += &format!("{:<width$}  {files:>8}  {bytes:>14}\n", "total");
        out
    }
}

/// Compiles globs with `*` not crossing `/`; each pattern also matches everything below it.
pub(crate) fn compile(patterns: &[&str], flag: &'static str) -> Result<GlobSet> {
    let mut builder = GlobSetBuilder::new();
    for raw in patterns {
        let pattern = raw.trim_start_matches('/').trim_end_matches('/');
        for candidate in [pattern.to_string(), format!("{pattern}/**")] {
            builder.add(glob(&candidate, raw, flag)?);
        }
    }
    builder.build().map_err(|source| Error::Glob {
        glob: patterns.join(" "),
        flag,
        source,
    })
}

/// Compiles one glob with the crate's conventions (`*` stays within a path component).
pub(crate) fn glob(pattern: &str, shown: &str, flag: &'static str) -> Result<globset::Glob> {
    GlobBuilder::new(pattern)
        .literal_separator(true)
        .backslash_escape(true)
        .build()
        .map_err(|source| Error::Glob {
            glob: shown.to_string(),
            flag,
            source,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn python() -> StripRules {
        StripRules::new(StripProfile::Python, &[], &[]).unwrap()
    }

    fn rule(rules: &StripRules, path: &str) -> Option<String> {
        rules
            .rule_for(path)
            .map(|i| rules.rule_names()[i].to_string())
    }

    #[test]
    fn python_profile_drops_stdlib_tests_only() {
        let r = python();
        assert_eq!(
            rule(&r, "lib/python3.11/test").as_deref(),
            Some("python:stdlib-tests")
        );
        assert!(r.removes("lib/python3.11/test/test_os.py"));
        assert!(r.removes("py/lib/python3.11/unittest/test/test_case.py"));
        assert!(r.removes("lib/python3.11/ctypes/test/__init__.py"));
        assert!(r.removes("lib/python3.11/idlelib/idle_test/x.py"));
        // Not the stdlib, or not a test directory:
        assert!(!r.removes("lib/python3.11/site-packages/numpy/tests/test_x.py"));
        assert!(!r.removes("lib/python3.11/site-packages/foo/test/x.py"));
        assert!(!r.removes("app/test/x.py"));
        assert!(!r.removes("lib/python3.11/unittest/case.py"));
        assert!(!r.removes("lib/python3.11/testing.py"));
        assert!(!r.removes("lib/python3.11/test_support.py"));
        assert!(!r.removes("lib/python3.11/doctest.py"));
    }

    #[test]
    fn python_profile_drops_tooling_libs_and_caches() {
        let r = python();
        for path in [
            "lib/python3.11/idlelib/idle.py",
            "bin/idle3.11",
            "lib/python3.11/tkinter/__init__.py",
            "lib/python3.11/lib-dynload/_tkinter.cpython-311-x86_64-linux-gnu.so",
            "lib/python3.11/turtledemo/clock.py",
            "lib/python3.11/ensurepip/_bundled/pip.whl",
            "lib/python3.11/lib2to3/fixer_base.py",
            "bin/2to3-3.11",
            "lib/libpython3.11.a",
            "lib/python3.11/config-3.11-x86_64-linux-gnu/Makefile",
            "include/python3.11/Python.h",
            "share/man/man1/python3.11.1",
            "lib/python3.11/__pycache__/os.cpython-311.pyc",
            "lib/python3.11/site-packages/x/__pycache__/y.pyc",
            "lib/python3.11/stray.pyc",
        ] {
            assert!(r.removes(path), "{path} should be removed");
        }
        for path in [
            "bin/python3.11",
            "lib/libpython3.11.so.1.0",
            "lib/python3.11/os.py",
            "lib/python3.11/turtle.py",
            "lib/python3.11/lib-dynload/_ssl.cpython-311-x86_64-linux-gnu.so",
            "lib/python3.11/site-packages/numpy/core/include/numpy/x.h",
            "lib/python3.11/site-packages/numpy/core/lib/libnpymath.a",
            "lib/python3.11/configparser.py",
        ] {
            assert!(!r.removes(path), "{path} should stay");
        }
    }

    #[test]
    fn site_packages_profile_keeps_metadata() {
        let r = StripRules::new(StripProfile::SitePackages, &[], &[]).unwrap();
        assert!(r.removes("flask/__pycache__/app.cpython-311.pyc"));
        assert!(r.removes("flask/__pycache__"));
        assert!(r.removes("flask-3.0.dist-info/RECORD"));
        for keep in [
            "flask-3.0.dist-info/METADATA",
            "flask-3.0.dist-info/entry_points.txt",
            "flask-3.0.dist-info/top_level.txt",
            "flask-3.0.dist-info/INSTALLER",
            "flask-3.0.dist-info/WHEEL",
            "flask-3.0.dist-info/LICENSE.rst",
            "flask-3.0.dist-info/licenses/LICENSE",
            "flask/app.py",
            "flask/RECORD",
        ] {
            assert!(!r.removes(keep), "{keep} should stay");
        }
    }

    #[test]
    fn site_packages_profile_drops_package_tests_only() {
        let r = StripRules::new(StripProfile::SitePackages, &[], &[]).unwrap();
        let sp = "app/bin.runfiles/rules_python++pip+pypi_311_numpy/site-packages";
        for path in [
            "site-packages/numpy/tests",
            "site-packages/numpy/tests/test_numeric.py",
            "site-packages/numpy/_core/tests/data/umath-validation-set-log.csv",
            "site-packages/pandas/tests/frame/test_api.py",
            "site-packages/scipy/linalg/tests/test_basic.py",
            "site-packages/pkg/tests/tests/x.py",
            "venv/lib/python3.11/site-packages/sklearn/utils/tests/test_x.py",
            "usr/lib/python3/dist-packages/numpy/tests/test_x.py",
        ] {
            assert_eq!(
                rule(&r, path).as_deref(),
                Some("site-packages:package-tests"),
                "{path}"
            );
            let image_path = format!("{sp}/{}", path.trim_start_matches("site-packages/"));
            if path.starts_with("site-packages/") {
                assert!(r.removes(&image_path), "{image_path}");
            }
        }
        for keep in [
            // Importable by other code: a module, not a test directory.
            "site-packages/numpy/testing/__init__.py",
            "site-packages/numpy/testing/_private/utils.py",
            "site-packages/torch/testing/_internal/common_utils.py",
            "site-packages/pkg/tests.py",
            "site-packages/pkg/sub/tests.py",
            "site-packages/pkg/test/x.py",
            "site-packages/pkg/test_utils.py",
            "site-packages/pkg/testsuite/x.py",
            "site-packages/pkg/Tests/x.py",
            "site-packages/pkg/tests_data/x.csv",
            "site-packages/pkg/mytests/x.py",
            // A top-level `tests` package is a distribution's import package.
            "site-packages/tests",
            "site-packages/tests/__init__.py",
            "site-packages/tests/unit/tests/test_x.py",
            "site-packages/tests.py",
            "usr/lib/python3/dist-packages/tests/__init__.py",
            // Metadata, even of a distribution with a `tests` directory.
            "site-packages/numpy-2.4.6.dist-info/METADATA",
            // Not below site-packages: not a wheel's test suite.
            "pkg/tests/test_x.py",
            "lib/python3.11/test/test_os.py",
            "lib/python3.11/unittest/tests/test_case.py",
            "app/tests/bin.runfiles/_main/tests/lib.py",
            "app/tests/bin.runfiles/_main/app.py",
            "external/some_repo/tests/helpers.py",
        ] {
            assert!(!r.removes(keep), "{keep} should stay");
        }
        // A binary in a Bazel package named `tests` keeps its dependencies.
        let nested = "app/tests/bin.runfiles/rules_python++pip+pypi_311_six/site-packages/six.py";
        assert!(!r.removes(nested));
        assert!(r.removes(
            "app/tests/bin.runfiles/rules_python++pip+pypi_311_numpy/site-packages/numpy/tests/x.py"
        ));
    }

    #[test]
    fn include_keeps_package_tests() {
        let r = StripRules::new(
            StripProfile::SitePackages,
            &[],
            &["**/site-packages/numpy/**/tests".to_string()],
        )
        .unwrap();
        assert!(!r.removes("site-packages/numpy/tests"));
        assert!(!r.removes("site-packages/numpy/tests/__init__.py"));
        assert!(!r.removes("site-packages/numpy/_core/tests/data/x.csv"));
        // `--include` wins over every rule, bytecode too.
        assert!(!r.removes("site-packages/numpy/_core/tests/__pycache__/x.pyc"));
        assert!(r.removes("site-packages/numpy/__pycache__/x.pyc"));
        assert!(r.removes("site-packages/scipy/linalg/tests/test_basic.py"));
    }

    #[test]
    fn python_profile_leaves_site_packages_tests() {
        let r = python();
        assert!(!r.removes("lib/python3.11/site-packages/pip/_vendor/x/tests/t.py"));
        assert!(!r.removes("site-packages/numpy/tests/test_x.py"));
    }

    #[test]
    fn exclude_and_include() {
        let r = StripRules::new(
            StripProfile::SitePackages,
            &["**/tests".to_string(), "*.txt".to_string()],
            &[
                "**/keep/__pycache__/**".to_string(),
                "pkg/tests/conftest.py".to_string(),
            ],
        )
        .unwrap();
        assert_eq!(
            rule(&r, "pkg/tests/test_a.py").as_deref(),
            Some("exclude:**/tests")
        );
        assert!(!r.removes("pkg/tests/conftest.py"));
        assert!(r.removes("notes.txt"));
        assert!(!r.removes("pkg/notes.txt"), "* does not cross /");
        assert!(r.removes("a/__pycache__/x.pyc"));
        assert!(!r.removes("a/keep/__pycache__/x.pyc"));
        assert!(StripRules::new(StripProfile::None, &["[".to_string()], &[]).is_err());
        assert!(StripRules::new(StripProfile::None, &[], &[])
            .unwrap()
            .is_empty());
    }

    #[test]
    fn stats_table() {
        let r = StripRules::new(StripProfile::SitePackages, &[], &[]).unwrap();
        let mut stats = StripStats::new(&r);
        stats.record(0, 100);
        stats.record(0, 20);
        stats.record(1, 5);
        assert_eq!(stats.total(), (3, 125));
        let table = stats.table();
        assert!(table.contains("site-packages:bytecode"));
        assert!(table.lines().last().unwrap().contains("125"));
    }

    #[test]
    fn profile_names_round_trip() {
        for p in [
            StripProfile::None,
            StripProfile::Python,
            StripProfile::SitePackages,
        ] {
            assert_eq!(p.name().parse::<StripProfile>().unwrap(), p);
        }
        assert!("pythn".parse::<StripProfile>().is_err());
    }
}
