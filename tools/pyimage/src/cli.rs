//! Command-line options shared by `layer-splitter` and `stripper`.
//!
//! Both binaries flatten [`StripArgs`] into their own arguments, so the strip options are
//! declared, documented and turned into [`StripRules`] in one place. The profile is not
//! part of it: `layer-splitter` calls it `--strip-profile` (default `none`, since most
//! layers strip nothing) and `stripper` calls it `--profile` (required).

use crate::error::Result;
use crate::strip::{StripProfile, StripRules};

/// `--exclude`, `--include` and `--strip-debug`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct StripArgs {
    /// Also drop paths matching GLOB and everything below them. Paths are relative to the
    /// tree's root (ROOT, or the image's `/`). Repeatable.
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,

    /// Keep paths matching GLOB whatever the strip rules and --exclude say. Repeatable.
    #[arg(long, value_name = "GLOB")]
    pub include: Vec<String>,

    /// Remove debug sections from ELF executables and shared libraries.
    #[arg(long)]
    pub strip_debug: bool,
}

impl StripArgs {
    /// The rules of `profile` with these globs.
    pub fn rules(&self, profile: StripProfile) -> Result<StripRules> {
        StripRules::new(profile, &self.exclude, &self.include)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        strip: StripArgs,
    }

    #[test]
    fn parses_repeated_globs_and_the_debug_switch() {
        let cli = Cli::try_parse_from([
            "x",
            "--exclude",
            "a/**",
            "--include",
            "a/keep",
            "--exclude",
            "b",
            "--strip-debug",
        ])
        .unwrap();
        assert_eq!(cli.strip.exclude, ["a/**", "b"]);
        assert_eq!(cli.strip.include, ["a/keep"]);
        assert!(cli.strip.strip_debug);
        let rules = cli.strip.rules(StripProfile::None).unwrap();
        assert!(rules.rule_for("a/x/y").is_some());
        assert!(rules.rule_for("a/keep").is_none());
        assert!(rules.rule_for("c").is_none());

        let none = Cli::try_parse_from(["x"]).unwrap();
        assert!(none.strip.exclude.is_empty() && !none.strip.strip_debug);
        assert!(Cli::try_parse_from(["x", "--exclude"]).is_err());
        assert!(none.strip.rules(StripProfile::None).is_ok());
        let bad = Cli::try_parse_from(["x", "--exclude", "a[", "--strip-debug"]).unwrap();
        assert!(bad.strip.rules(StripProfile::None).is_err());
    }
}
