//! A function started without its configuration stops at once and says what is missing.

use std::process::Command;

fn start_without(binary: &str, set: &[(&str, &str)]) -> (Option<i32>, String) {
    let output = Command::new(binary).env_clear().envs(set.iter().copied()).output().expect("run the function");
    (output.status.code(), String::from_utf8_lossy(&output.stderr).into_owned())
}

const KEY: &str = "0000000000000000000000000000000000000000000000000000000000000000";

#[test]
fn each_command_function_fails_fast_naming_the_missing_variable() {
    for binary in [
        env!("CARGO_BIN_EXE_create-todo"),
        env!("CARGO_BIN_EXE_update-todo"),
        env!("CARGO_BIN_EXE_complete-todo"),
        env!("CARGO_BIN_EXE_delete-todo"),
    ] {
        let (code, stderr) = start_without(binary, &[]);
        assert_ne!(code, Some(0), "{binary} must not start without configuration");
        assert!(stderr.contains("EVENTS_TABLE_NAME"), "{binary}: {stderr}");

        let mut set = vec![("EVENTS_TABLE_NAME", "Events")];
        for (missing, value) in [("ERASURE_TABLE_NAME", "Erasures"), ("ERASURE_KEY", KEY), ("CORS_ALLOWED_ORIGIN", "")]
        {
            let (code, stderr) = start_without(binary, &set);
            assert_ne!(code, Some(0));
            assert!(stderr.contains(missing), "{binary} without {missing}: {stderr}");
            set.push((missing, value));
        }
        let (code, stderr) = start_without(
            binary,
            &[("EVENTS_TABLE_NAME", "Events"), ("ERASURE_TABLE_NAME", "E")]
                .into_iter()
                .chain([("ERASURE_KEY", "not hex"), ("CORS_ALLOWED_ORIGIN", "https://todo.example.com")])
                .collect::<Vec<_>>(),
        );
        assert_ne!(code, Some(0));
        assert!(stderr.contains("ERASURE_KEY is not an erasure key"), "{binary}: {stderr}");
    }
}
