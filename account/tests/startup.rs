//! `erase-account` started without its configuration stops at once and says what is missing.

use std::process::Command;

#[test]
fn erase_account_fails_fast_naming_each_missing_variable() {
    let all = [
        ("EVENTS_TABLE_NAME", "Events"),
        ("TODO_TABLE_NAME", "Todos"),
        ("STATS_TABLE_NAME", "Stats"),
        ("SNAPSHOTS_TABLE_NAME", "Snapshots"),
        ("CONNECTIONS_TABLE_NAME", "Connections"),
        ("ERASURE_TABLE_NAME", "Erasures"),
        ("ERASURE_KEY", "0000000000000000000000000000000000000000000000000000000000000000"),
        ("CORS_ALLOWED_ORIGIN", "https://todo.example.com"),
    ];
    for missing in 0..all.len() {
        let set: Vec<_> = all.iter().enumerate().filter(|(n, _)| *n != missing).map(|(_, pair)| *pair).collect();
        let output = Command::new(env!("CARGO_BIN_EXE_erase-account"))
            .env_clear()
            .envs(set)
            .output()
            .expect("run erase-account");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_ne!(output.status.code(), Some(0), "started without {}", all[missing].0);
        assert!(stderr.contains(all[missing].0), "without {}: {stderr}", all[missing].0);
    }
}
