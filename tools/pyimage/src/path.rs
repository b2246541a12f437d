//! In-image path handling: normalising destinations and turning symlink targets into
//! relative links that provably stay inside the image.

/// Why an in-image path was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathProblem {
    /// The path has a `..` component.
    ParentComponent,
    /// The path names the image root itself (or is empty).
    Root,
    /// The path contains a TAB, newline, carriage return or NUL.
    ControlCharacter,
}

impl PathProblem {
    /// A sentence saying what is wrong and how to fix it.
    pub fn explain(&self) -> &'static str {
        match self {
            PathProblem::ParentComponent => {
                "has a '..' component; in-image paths must not climb out of their directory, write the path without '..'"
            }
            PathProblem::Root => "names the image root; give a file or directory below '/'",
            PathProblem::ControlCharacter => {
                "contains a TAB, newline, carriage return or NUL character; rename the file"
            }
        }
    }
}

/// Normalises an in-image path: drops a leading `/`, `.` components and repeated slashes.
/// The result has no leading or trailing `/`.
///
/// ```
/// assert_eq!(pyimage::normalize_dest("/usr//lib/./x").unwrap(), "usr/lib/x");
/// assert!(pyimage::normalize_dest("a/../b").is_err());
/// ```
pub fn normalize_dest(raw: &str) -> Result<String, PathProblem> {
    if raw.contains(['\t', '\n', '\r', '\0']) {
        return Err(PathProblem::ControlCharacter);
    }
    let mut out = String::with_capacity(raw.len());
    for component in raw.split('/') {
        match component {
            "" | "." => continue,
            ".." => return Err(PathProblem::ParentComponent),
            name => {
                if !out.is_empty() {
                    out.push('/');
                }
                out.push_str(name);
            }
        }
    }
    if out.is_empty() {
        return Err(PathProblem::Root);
    }
    Ok(out)
}

/// The parent of a normalised path (`""` for a top-level entry).
pub fn parent(path: &str) -> &str {
    match path.rfind('/') {
        Some(i) => &path[..i],
        None => "",
    }
}

/// The proper ancestors of a normalised path, outermost first: `a/b/c` gives `a`, `a/b`.
pub fn ancestors(path: &str) -> impl Iterator<Item = &str> {
    path.match_indices('/').map(move |(i, _)| &path[..i])
}

/// Resolves a symlink target lexically against the link's location.
///
/// `target` is relative to the link's parent directory, or an absolute in-image path.
/// Returns the normalised in-image path the link points to (`""` for the root), or `None`
/// when `..` climbs above the image root.
pub fn resolve_link(link: &str, target: &str) -> Option<String> {
    let mut parts: Vec<&str> = if target.starts_with('/') {
        Vec::new()
    } else {
        split(parent(link)).collect()
    };
    for component in target.split('/') {
        match component {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            name => parts.push(name),
        }
    }
    Some(parts.join("/"))
}

/// The relative path from directory `from` to `to` (both normalised, `""` is the root).
pub fn relative_path(from: &str, to: &str) -> String {
    let from: Vec<&str> = split(from).collect();
    let to: Vec<&str> = split(to).collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<&str> = vec![".."; from.len() - common];
    parts.extend(&to[common..]);
    if parts.is_empty() {
        ".".to_string()
    } else {
        parts.join("/")
    }
}

/// Rewrites a symlink target as the canonical relative link from `link`'s directory, or
/// `None` when the target escapes the image root.
///
/// ```
/// assert_eq!(pyimage::relative_link("usr/bin/py", "/usr/lib/x").unwrap(), "../lib/x");
/// assert_eq!(pyimage::relative_link("usr/bin/py", "python3.11").unwrap(), "python3.11");
/// assert!(pyimage::relative_link("a/b", "../../x").is_none());
/// ```
pub fn relative_link(link: &str, target: &str) -> Option<String> {
    let resolved = resolve_link(link, target)?;
    Some(relative_path(parent(link), &resolved))
}

fn split(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter(|c| !c.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_slashes_and_dots() {
        assert_eq!(normalize_dest("a").unwrap(), "a");
        assert_eq!(normalize_dest("/a/b/").unwrap(), "a/b");
        assert_eq!(normalize_dest("./a//b/./c").unwrap(), "a/b/c");
        assert_eq!(normalize_dest("//a").unwrap(), "a");
    }

    #[test]
    fn refuses_parent_root_and_control_characters() {
        assert_eq!(normalize_dest("a/../b"), Err(PathProblem::ParentComponent));
        assert_eq!(normalize_dest(".."), Err(PathProblem::ParentComponent));
        assert_eq!(normalize_dest("/"), Err(PathProblem::Root));
        assert_eq!(normalize_dest(""), Err(PathProblem::Root));
        assert_eq!(normalize_dest("./."), Err(PathProblem::Root));
        assert_eq!(normalize_dest("a\tb"), Err(PathProblem::ControlCharacter));
        assert_eq!(normalize_dest("a\nb"), Err(PathProblem::ControlCharacter));
    }

    #[test]
    fn ancestors_and_parent() {
        assert_eq!(ancestors("a/b/c").collect::<Vec<_>>(), vec!["a", "a/b"]);
        assert_eq!(ancestors("a").count(), 0);
        assert_eq!(parent("a/b/c"), "a/b");
        assert_eq!(parent("a"), "");
    }

    #[test]
    fn links_are_made_relative() {
        assert_eq!(
            relative_link("bin/python3", "python3.11").unwrap(),
            "python3.11"
        );
        assert_eq!(
            relative_link("bin/python3", "/bin/python3.11").unwrap(),
            "python3.11"
        );
        assert_eq!(
            relative_link("usr/bin/x", "/usr/lib/y").unwrap(),
            "../lib/y"
        );
        assert_eq!(
            relative_link("usr/bin/x", "../../etc/z").unwrap(),
            "../../etc/z"
        );
        assert_eq!(relative_link("x", "/etc/z").unwrap(), "etc/z");
        assert_eq!(relative_link("a/b", "/").unwrap(), "..");
        assert_eq!(relative_link("a", "/").unwrap(), ".");
        assert_eq!(relative_link("a/b", "./c/./d//e").unwrap(), "c/d/e");
        assert_eq!(relative_link("a/b/c", "../../a/b/d").unwrap(), "d");
    }

    /// Random links: the relative form never escapes and resolves where the original did.
    #[test]
    fn relative_form_resolves_like_the_original() {
        let parts = ["a", "b", "..", ".", "", "c"];
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut pick = move |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as usize
        };
        for _ in 0..20_000 {
            let link: Vec<&str> = (0..1 + pick(4)).map(|_| ["a", "b", "c"][pick(3)]).collect();
            let link = link.join("/");
            let mut target: Vec<&str> = (0..pick(6)).map(|_| parts[pick(parts.len())]).collect();
            if pick(3) == 0 {
                target.insert(0, "");
            }
            let target = target.join("/");
            if target.is_empty() {
                continue;
            }
            match relative_link(&link, &target) {
                Some(rel) => {
                    assert!(!rel.starts_with('/'), "{link} -> {target}: {rel}");
                    assert_eq!(
                        resolve_link(&link, &rel),
                        resolve_link(&link, &target),
                        "{link} -> {target}: {rel}"
                    );
                }
                None => assert!(resolve_link(&link, &target).is_none()),
            }
        }
    }

    #[test]
    fn escaping_links_are_refused() {
        assert!(relative_link("a", "../x").is_none());
        assert!(relative_link("a/b", "../../x").is_none());
        assert!(relative_link("a/b", "/../x").is_none());
        assert!(relative_link("a/b", "c/../../../x").is_none());
    }
}
