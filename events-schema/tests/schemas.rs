//! The checked-in JSON Schema files are the event contract other teams read: they must match the types.

use std::path::PathBuf;

#[test]
fn schemas_are_current() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("schemas");
    let update = std::env::var_os("UPDATE_SCHEMAS").is_some();
    let mut stale = Vec::new();
    for (name, generated) in events_schema::generated_schemas() {
        let path = dir.join(name);
        if update {
            std::fs::write(&path, &generated).unwrap();
            continue;
        }
        let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
        if checked_in != generated {
            stale.push(name);
        }
    }
    assert!(
        stale.is_empty(),
        "these schema files differ from the types: {stale:?}; run `make schemas` and commit the result"
    );
}
