//! The documentation keeps up with the code: tools/README.md names every source file and
//! every manifest kind, and `layer-splitter --help` names every manifest kind.

use std::fs;
use std::path::Path;
use std::process::Command;

use pyimage::manifest::KINDS;

fn readme() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md");
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn readme_names_every_module_and_binary() {
    let readme = readme();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    for dir in [src.clone(), src.join("bin")] {
        for entry in fs::read_dir(&dir).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            if name.ends_with(".rs") {
                files.push(name);
            }
        }
    }
    assert!(files.len() > 20, "{files:?}");
    let missing: Vec<&String> = files
        .iter()
        .filter(|f| !readme.contains(&format!("`{f}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "tools/README.md does not name {missing:?}"
    );
}

#[test]
fn readme_and_help_name_every_manifest_kind() {
    let readme = readme();
    let help = Command::new(env!("CARGO_BIN_EXE_layer-splitter"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(help.status.success());
    let help = String::from_utf8(help.stdout).unwrap();
    let manifest_help = help
        .split("      --manifest <PATH>\n")
        .nth(1)
        .and_then(|rest| rest.split("\n\n").next())
        .unwrap_or_else(|| panic!("no --manifest option in {help}"));
    for kind in KINDS {
        assert!(
            readme.contains(&format!("| `{kind}<TAB>DEST")),
            "tools/README.md's manifest table lacks {kind}"
        );
        assert!(
            manifest_help.contains(&format!("`{kind}`")),
            "--manifest help lacks {kind}: {manifest_help}"
        );
    }
}
