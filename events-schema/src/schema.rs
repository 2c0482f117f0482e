use schemars::{JsonSchema, generate::SchemaSettings};

use crate::{EventRecord, TodoCompleted, TodoCreated, TodoDeleted, TodoItem, TodoUpdated};

/// The JSON Schema documents checked in under `events-schema/schemas/`: file name -> pretty JSON.
/// The test `schemas_are_current` fails when a type changes without them being regenerated.
pub fn generated_schemas() -> Vec<(&'static str, String)> {
    vec![
        ("event-record.schema.json", render::<EventRecord>()),
        ("TodoCreated.v1.schema.json", render::<TodoCreated>()),
        ("TodoUpdated.v1.schema.json", render::<TodoUpdated>()),
        ("TodoCompleted.v1.schema.json", render::<TodoCompleted>()),
        ("TodoDeleted.v1.schema.json", render::<TodoDeleted>()),
        ("todo.schema.json", render::<TodoItem>()),
    ]
}

fn render<T: JsonSchema>() -> String {
    let schema = SchemaSettings::draft2020_12().into_generator().into_root_schema_for::<T>();
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}
