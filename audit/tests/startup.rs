//! The audit functions started without their configuration stop at once and say what is missing.

use std::process::Command;

use todo_platform::manifest::FUNCTIONS;

#[test]
fn each_audit_function_fails_fast_naming_each_missing_variable() {
    for (binary, path) in [
        ("get-history-digest", env!("CARGO_BIN_EXE_get-history-digest")),
        ("export-data", env!("CARGO_BIN_EXE_export-data")),
    ] {
        let function = FUNCTIONS.iter().find(|f| f.binary == binary).expect("a manifest function");
        for missing in function.env {
            let set = function.env.iter().filter(|name| *name != missing).map(|name| (*name, "configured"));
            let output = Command::new(path).env_clear().envs(set).output().expect("run the function");
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert_ne!(output.status.code(), Some(0), "{binary} must not start without {missing}");
            assert!(stderr.contains(missing), "{binary} without {missing}: {stderr}");
        }
    }
}
