//! The projector started without its configuration stops at once and says what is missing.

#[test]
fn the_projector_fails_fast_naming_the_missing_variable() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_projector")).env_clear().output().expect("run");
    assert_ne!(output.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&output.stderr).contains("EVENTS_TABLE_NAME"));
}
