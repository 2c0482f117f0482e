//! A function started without its configuration stops at once and says what is missing.

use std::process::Command;

use todo_platform::manifest::FUNCTIONS;

/// Starts `binary` with every variable the manifest requires of it except `missing`.
fn stderr_without(binary: &str, path: &str, missing: &str) -> (Option<i32>, String) {
    let function = FUNCTIONS.iter().find(|f| f.binary == binary).expect("a manifest function");
    let set = function.env.iter().filter(|name| **name != missing).map(|name| (*name, "configured"));
    let output = Command::new(path).env_clear().envs(set).output().expect("run the function");
    (output.status.code(), String::from_utf8_lossy(&output.stderr).into_owned())
}

#[test]
fn each_query_function_fails_fast_naming_each_missing_variable() {
    for (binary, path) in [
        ("list-todos", env!("CARGO_BIN_EXE_list-todos")),
        ("get-todo", env!("CARGO_BIN_EXE_get-todo")),
        ("get-todo-history", env!("CARGO_BIN_EXE_get-todo-history")),
        ("get-history", env!("CARGO_BIN_EXE_get-history")),
        ("get-stats", env!("CARGO_BIN_EXE_get-stats")),
    ] {
        let function = FUNCTIONS.iter().find(|f| f.binary == binary).expect("a manifest function");
        for missing in function.env {
            let (code, stderr) = stderr_without(binary, path, missing);
            assert_ne!(code, Some(0), "{binary} must not start without {missing}");
            assert!(stderr.contains(missing), "{binary} without {missing}: {stderr}");
        }
    }
}
