//! Routing entries to layers by glob: the first matching `--route` wins, everything else
//! goes to the default layer.

use globset::{GlobSet, GlobSetBuilder};

use crate::error::{Error, Result};
use crate::strip::glob;

/// Compiled `--route NAME=GLOB` rules.
pub struct Router {
    routes: Vec<(String, String)>,
    set: GlobSet,
    default: String,
}

impl Router {
    /// Compiles routes in argument order. A glob also matches everything below the path
    /// it names, so `--route python=opt/python` sends the whole tree.
    pub fn new(routes: &[(String, String)], default: &str) -> Result<Self> {
        let mut builder = GlobSetBuilder::new();
        let mut owners = Vec::new();
        for (name, pattern) in routes {
            let trimmed = pattern.trim_start_matches('/').trim_end_matches('/');
            for candidate in [trimmed.to_string(), format!("{trimmed}/**")] {
                builder.add(glob(&candidate, pattern, "--route")?);
                owners.push((name.clone(), pattern.clone()));
            }
        }
        let set = builder.build().map_err(|source| Error::Glob {
            glob: routes
                .iter()
                .map(|r| r.1.as_str())
                .collect::<Vec<_>>()
                .join(" "),
            flag: "--route",
            source,
        })?;
        Ok(Router {
            routes: owners,
            set,
            default: default.to_string(),
        })
    }

    /// The layer an in-image path belongs to.
    pub fn layer_for(&self, path: &str) -> &str {
        match self.set.matches(path).into_iter().min() {
            Some(i) => &self.routes[i].0,
            None => &self.default,
        }
    }

    /// The default layer's name.
    pub fn default_layer(&self) -> &str {
        &self.default
    }

    /// `(layer, glob)` of every route, in order.
    pub fn routes(&self) -> impl Iterator<Item = (&str, &str)> {
        self.routes
            .iter()
            .step_by(2)
            .map(|(n, g)| (n.as_str(), g.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn router(routes: &[(&str, &str)]) -> Router {
        let routes: Vec<(String, String)> = routes
            .iter()
            .map(|(n, g)| (n.to_string(), g.to_string()))
            .collect();
        Router::new(&routes, "app").unwrap()
    }

    #[test]
    fn first_match_wins_and_default_catches_the_rest() {
        let r = router(&[
            ("numpy", "**/site-packages/numpy"),
            ("deps", "**/site-packages/**"),
            ("python", "/opt/python/"),
        ]);
        assert_eq!(
            r.layer_for("app.runfiles/pypi/site-packages/numpy/core/x.so"),
            "numpy"
        );
        assert_eq!(
            r.layer_for("app.runfiles/pypi/site-packages/numpy"),
            "numpy"
        );
        assert_eq!(
            r.layer_for("app.runfiles/pypi/site-packages/flask/app.py"),
            "deps"
        );
        assert_eq!(r.layer_for("opt/python/bin/python3"), "python");
        assert_eq!(r.layer_for("opt/python"), "python");
        assert_eq!(r.layer_for("opt/pythonx"), "app");
        assert_eq!(r.layer_for("app/main.py"), "app");
        assert_eq!(r.default_layer(), "app");
        assert_eq!(r.routes().count(), 3);
    }

    #[test]
    fn star_stays_within_a_component() {
        let r = router(&[("top", "*.py")]);
        assert_eq!(r.layer_for("main.py"), "top");
        assert_eq!(r.layer_for("pkg/main.py"), "app");
    }

    #[test]
    fn bad_glob_is_an_error() {
        let routes = vec![("x".to_string(), "a[".to_string())];
        let err = Router::new(&routes, "d").err().unwrap().to_string();
        assert!(err.contains("--route"), "{err}");
    }
}
