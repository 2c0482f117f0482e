//! A function started without its configuration stops at once and says what is missing.

use std::process::Command;

fn stderr_without_env(binary: &str) -> (Option<i32>, String) {
    let output = Command::new(binary).env_clear().output().expect("run the function");
    (output.status.code(), String::from_utf8_lossy(&output.stderr).into_owned())
}

#[test]
fn each_query_function_fails_fast_naming_its_table_variable() {
    for (binary, variable) in [
        (env!("CARGO_BIN_EXE_list-todos"), "TODO_TABLE_NAME"),
        (env!("CARGO_BIN_EXE_get-todo"), "TODO_TABLE_NAME"),
        (env!("CARGO_BIN_EXE_get-todo-history"), "EVENTS_TABLE_NAME"),
        (env!("CARGO_BIN_EXE_get-history"), "EVENTS_TABLE_NAME"),
    ] {
        let (code, stderr) = stderr_without_env(binary);
        assert_ne!(code, Some(0), "{binary} must not start without configuration");
        assert!(stderr.contains(variable), "{binary}: {stderr}");
    }
}
