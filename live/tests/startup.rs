//! The live functions started without their configuration stop at once and say what is missing.

use std::process::Command;

use todo_platform::manifest::FUNCTIONS;

#[test]
fn each_live_function_fails_fast_naming_each_missing_variable() {
    for (binary, path) in [
        ("live-authorizer", env!("CARGO_BIN_EXE_live-authorizer")),
        ("live-connections", env!("CARGO_BIN_EXE_live-connections")),
        ("notifier", env!("CARGO_BIN_EXE_notifier")),
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

#[test]
fn the_authorizer_refuses_a_user_pool_id_that_is_none() {
    let output = Command::new(env!("CARGO_BIN_EXE_live-authorizer"))
        .env_clear()
        .env("COGNITO_USER_POOL_ID", "not-a-pool")
        .env("COGNITO_CLIENT_ID", "client")
        .output()
        .expect("run the function");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_ne!(output.status.code(), Some(0));
    assert!(stderr.contains("not a Cognito user pool id"), "{stderr}");
}
