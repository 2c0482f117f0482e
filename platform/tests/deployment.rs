//! `template.yaml`, `openapi.yaml` and the workspace's binaries agree with the function manifest
//! (`todo_platform::manifest`), the one list of what is deployed, what it serves, what it reads from
//! its environment and what it may call.
//!
//! When one of these fails, the message names the side that drifted. Change the manifest first,
//! then the template and the OpenAPI document to match it.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use serde_yaml::Value;
use todo_platform::manifest::{
    CONNECTION_ID_KEY, CONNECTION_PUSHERS, CONNECTIONS_TTL_ATTRIBUTE, EVENT_KEY, FUNCTIONS, Function,
    OCCURRED_AT_KEY as OCCURRED_AT, SNAPSHOT_KEY, STREAM_CONSUMERS, TODO_ID_KEY as TODO_ID, TODO_TABLE_TTL_ATTRIBUTE,
    TOOLS, Table, USER_ID_KEY as USER_ID, USER_KEY, USER_TIMELINE_INDEX, WEBSOCKET_AUTHORIZER, WEBSOCKET_ROUTES,
    WEBSOCKET_TOKEN_PARAMETER,
};

/// Logical ids of the template resources the manifest's `Table`s stand for.
const EVENTS_TABLE: &str = "EventsTable";
const TODO_TABLE: &str = "TodoTable";
const STATS_TABLE: &str = "StatsTable";
const SNAPSHOTS_TABLE: &str = "SnapshotsTable";
const CONNECTIONS_TABLE: &str = "ConnectionsTable";
const ERASURE_TABLE: &str = "ErasureTable";

/// The template resource a manifest `Table` stands for (an index stands for its table).
fn table_resource(table: Table) -> &'static str {
    match table {
        Table::Events | Table::EventsTimeline => EVENTS_TABLE,
        Table::Todos => TODO_TABLE,
        Table::Stats => STATS_TABLE,
        Table::Snapshots => SNAPSHOTS_TABLE,
        Table::Connections => CONNECTIONS_TABLE,
        Table::Erasure => ERASURE_TABLE,
    }
}

/// What Lambda's event source mapping needs to read a table's stream.
const STREAM_READ_ACTIONS: &[&str] =
    &["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams"];

/// What Step Functions needs to deliver a state machine's logs to CloudWatch Logs; these actions
/// take no resource, so they are granted on `*`.
const LOG_DELIVERY_ACTIONS: &[&str] = &[
    "logs:CreateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:DescribeLogGroups",
    "logs:DescribeResourcePolicies",
    "logs:GetLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:UpdateLogDelivery",
];

const HTTP_METHODS: &[&str] = &["get", "put", "post", "delete", "patch", "head", "options", "trace"];

// ------------------------------------------------------------------------------------------ tests

#[test]
fn template_declares_exactly_the_manifest_functions() {
    let template = Template::load();
    let declared: BTreeSet<&str> = template.functions().map(|(id, _)| id).collect();
    let expected: BTreeSet<&str> = FUNCTIONS.iter().map(|f| f.logical_id).collect();
    assert_eq!(FUNCTIONS.len(), expected.len(), "manifest.rs lists a logical id twice");
    let missing: Vec<_> = expected.difference(&declared).collect();
    let extra: Vec<_> = declared.difference(&expected).collect();
    assert!(
        missing.is_empty(),
        "template.yaml lacks the AWS::Serverless::Function resources {missing:?} that manifest.rs lists"
    );
    assert!(
        extra.is_empty(),
        "template.yaml declares functions {extra:?} that manifest.rs does not list: add them to FUNCTIONS first"
    );
    let raw: Vec<&str> = template.resources_of_type("AWS::Lambda::Function").map(|(id, _)| id).collect();
    assert!(
        raw.is_empty(),
        "template.yaml declares plain AWS::Lambda::Function resources {raw:?}; declare AWS::Serverless::Function ones from the manifest"
    );
}

#[test]
fn routes_agree_across_template_openapi_and_manifest() {
    let template = Template::load();
    let openapi = load_yaml("openapi.yaml");

    let manifest_routes: BTreeSet<(String, String)> =
        FUNCTIONS.iter().filter_map(|f| f.route).map(|r| (r.method.to_owned(), r.path.to_owned())).collect();
    assert_eq!(
        manifest_routes.len(),
        FUNCTIONS.iter().filter(|f| f.route.is_some()).count(),
        "manifest.rs gives two functions the same route"
    );

    // Per function: the template's Api events are the manifest's route, and only it.
    for function in FUNCTIONS {
        let resource = template.function(function.logical_id);
        let served = api_events(resource);
        let expected: Vec<(String, String)> =
            function.route.iter().map(|r| (r.method.to_owned(), r.path.to_owned())).collect();
        assert_eq!(
            served, expected,
            "{} in template.yaml serves {served:?} (its Events of type Api) but manifest.rs gives it the route {expected:?}",
            function.logical_id
        );
    }

    // All Api events hang off the one REST API.
    let apis: BTreeSet<String> = template
        .functions()
        .flat_map(|(_, f)| events_of_type(f, "Api"))
        .map(|event| render(event.get("Properties").and_then(|p| p.get("RestApiId")).unwrap_or(&Value::Null)))
        .collect();
    assert_eq!(
        apis.len(),
        1,
        "template.yaml's Api events name several or no RestApiId ({apis:?}); every route belongs to the one Cognito-authorised API"
    );

    let documented = openapi_routes(&openapi);
    let undocumented: Vec<_> = manifest_routes.difference(&documented).collect();
    let unknown: Vec<_> = documented.difference(&manifest_routes).collect();
    assert!(
        undocumented.is_empty(),
        "openapi.yaml does not describe the routes {undocumented:?} that manifest.rs (and so template.yaml) serves"
    );
    assert!(unknown.is_empty(), "openapi.yaml describes routes {unknown:?} that no function in manifest.rs serves");
}

#[test]
fn every_function_builds_its_manifest_binary_with_cargo_lambda() {
    let template = Template::load();
    for function in FUNCTIONS {
        let id = function.logical_id;
        let resource = template.function(id);
        let metadata = resource.get("Metadata");
        let build_method = metadata.and_then(|m| m.get("BuildMethod")).and_then(Value::as_str);
        assert_eq!(
            build_method,
            Some("rust-cargolambda"),
            "{id} in template.yaml must have Metadata.BuildMethod rust-cargolambda"
        );
        let binary =
            metadata.and_then(|m| m.get("BuildProperties")).and_then(|p| p.get("Binary")).and_then(Value::as_str);
        assert_eq!(
            binary,
            Some(function.binary),
            "{id} in template.yaml builds the binary {binary:?} (Metadata.BuildProperties.Binary) but manifest.rs says `{}`",
            function.binary
        );
        let property = |name: &str| template.function_property(id, name).map(render);
        assert_eq!(
            property("CodeUri").as_deref(),
            Some("."),
            "{id}: CodeUri (own or Globals) must be the workspace root `.`, where cargo-lambda finds the binary"
        );
        assert_eq!(property("Runtime").as_deref(), Some("provided.al2023"), "{id}: Runtime must be provided.al2023");
        assert_eq!(property("Handler").as_deref(), Some("bootstrap"), "{id}: Handler must be bootstrap");
        assert_eq!(
            property("Architectures").as_deref(),
            Some("[!Ref Architecture]"),
            "{id}: Architectures must be [!Ref Architecture] so one parameter picks arm64 or x86_64"
        );
    }
}

#[test]
fn every_manifest_binary_exists_in_the_workspace() {
    let binaries = workspace_binaries();
    let wanted = FUNCTIONS.iter().map(|f| f.binary).chain(TOOLS.iter().copied());
    let missing: Vec<&str> = wanted.filter(|b| !binaries.contains_key(*b)).collect();
    assert!(
        missing.is_empty(),
        "manifest.rs names binaries {missing:?} that no workspace member builds (as [[bin]], src/bin/<name>.rs, \
         src/bin/<name>/main.rs or a package's src/main.rs); found {:?}",
        binaries.keys().collect::<Vec<_>>()
    );
}

#[test]
fn environment_variables_are_the_manifest_env() {
    let template = Template::load();
    let global: BTreeSet<String> = template
        .globals_function()
        .and_then(|g| g.get("Environment"))
        .and_then(|e| e.get("Variables"))
        .map(mapping_keys)
        .unwrap_or_default();
    for function in FUNCTIONS {
        let own: BTreeSet<String> = template
            .function(function.logical_id)
            .get("Properties")
            .and_then(|p| p.get("Environment"))
            .and_then(|e| e.get("Variables"))
            .map(mapping_keys)
            .unwrap_or_default();
        let declared: BTreeSet<String> = own.union(&global).cloned().collect();
        let expected: BTreeSet<String> = function.env.iter().map(|v| (*v).to_owned()).collect();
        assert_eq!(
            declared, expected,
            "{} in template.yaml sets the environment variables {declared:?} (its own plus Globals) but manifest.rs says it reads {expected:?}",
            function.logical_id
        );
    }
}

#[test]
fn tables_have_the_designed_keys_index_stream_and_ttl() {
    let template = Template::load();

    let events = template.resource(EVENTS_TABLE, "AWS::DynamoDB::Table");
    let props = events.get("Properties").expect("EventsTable has Properties");
    assert_eq!(
        key_schema(props.get("KeySchema")),
        vec![(USER_ID.to_owned(), "HASH".to_owned()), (EVENT_KEY.to_owned(), "RANGE".to_owned())],
        "EventsTable's key schema must be {USER_ID} (HASH) + {EVENT_KEY} (RANGE)"
    );
    let gsis = props.get("GlobalSecondaryIndexes").and_then(Value::as_sequence).cloned().unwrap_or_default();
    let timeline =
        gsis.iter().find(|g| g.get("IndexName").and_then(Value::as_str) == Some(USER_TIMELINE_INDEX)).unwrap_or_else(
            || panic!("EventsTable has no GSI named {USER_TIMELINE_INDEX} (manifest::USER_TIMELINE_INDEX)"),
        );
    assert_eq!(
        key_schema(timeline.get("KeySchema")),
        vec![(USER_ID.to_owned(), "HASH".to_owned()), (OCCURRED_AT.to_owned(), "RANGE".to_owned())],
        "the {USER_TIMELINE_INDEX} index must be keyed {USER_ID} (HASH) + {OCCURRED_AT} (RANGE)"
    );
    assert_eq!(
        timeline.get("Projection").and_then(|p| p.get("ProjectionType")).and_then(Value::as_str),
        Some("ALL"),
        "the {USER_TIMELINE_INDEX} index must project ALL attributes: GET /history reads whole events from it"
    );
    assert_eq!(
        attribute_types(props),
        BTreeMap::from([
            (USER_ID.to_owned(), "S".to_owned()),
            (EVENT_KEY.to_owned(), "S".to_owned()),
            (OCCURRED_AT.to_owned(), "S".to_owned()),
        ]),
        "EventsTable's AttributeDefinitions must be exactly its key attributes, all strings"
    );
    assert_eq!(
        props.get("StreamSpecification").and_then(|s| s.get("StreamViewType")).and_then(Value::as_str),
        Some("NEW_IMAGE"),
        "EventsTable's stream must carry NEW_IMAGE: the projector decodes each new event from it"
    );

    let todos = template.resource(TODO_TABLE, "AWS::DynamoDB::Table");
    let props = todos.get("Properties").expect("TodoTable has Properties");
    assert_eq!(
        key_schema(props.get("KeySchema")),
        vec![(USER_ID.to_owned(), "HASH".to_owned()), (TODO_ID.to_owned(), "RANGE".to_owned())],
        "TodoTable's key schema must be {USER_ID} (HASH) + {TODO_ID} (RANGE)"
    );
    assert_eq!(
        attribute_types(props),
        BTreeMap::from([(USER_ID.to_owned(), "S".to_owned()), (TODO_ID.to_owned(), "S".to_owned())]),
        "TodoTable's AttributeDefinitions must be exactly its key attributes, all strings"
    );
    let ttl = props.get("TimeToLiveSpecification");
    assert_eq!(
        ttl.and_then(|t| t.get("AttributeName")).and_then(Value::as_str),
        Some(TODO_TABLE_TTL_ATTRIBUTE),
        "TodoTable's TTL attribute must be manifest::TODO_TABLE_TTL_ATTRIBUTE, the one tombstones carry"
    );
    assert_eq!(
        ttl.and_then(|t| t.get("Enabled")).and_then(Value::as_bool),
        Some(true),
        "TodoTable's TTL must be enabled, or tombstones are never removed"
    );
    assert_eq!(
        props.get("StreamSpecification").and_then(|s| s.get("StreamViewType")).and_then(Value::as_str),
        Some("NEW_AND_OLD_IMAGES"),
        "TodoTable's stream must carry NEW_AND_OLD_IMAGES: the notifier makes each live message from a row's two images"
    );

    let stats = template.resource(STATS_TABLE, "AWS::DynamoDB::Table");
    let props = stats.get("Properties").expect("StatsTable has Properties");
    assert_eq!(
        key_schema(props.get("KeySchema")),
        vec![(USER_ID.to_owned(), "HASH".to_owned()), (TODO_ID.to_owned(), "RANGE".to_owned())],
        "StatsTable's key schema must be {USER_ID} (HASH) + {TODO_ID} (RANGE): one row of facts per todo"
    );
    assert_eq!(
        attribute_types(props),
        BTreeMap::from([(USER_ID.to_owned(), "S".to_owned()), (TODO_ID.to_owned(), "S".to_owned())]),
        "StatsTable's AttributeDefinitions must be exactly its key attributes, all strings"
    );
    for (property, why) in [
        ("StreamSpecification", "nothing reads a stream of the stats projection"),
        ("TimeToLiveSpecification", "its rows are facts, never tombstones that expire"),
        ("GlobalSecondaryIndexes", "GET /stats queries the user's partition"),
    ] {
        assert!(props.get(property).is_none(), "StatsTable must have no {property}: {why}");
    }

    let snapshots = template.resource(SNAPSHOTS_TABLE, "AWS::DynamoDB::Table");
    let props = snapshots.get("Properties").expect("SnapshotsTable has Properties");
    assert_eq!(
        key_schema(props.get("KeySchema")),
        vec![(USER_ID.to_owned(), "HASH".to_owned()), (SNAPSHOT_KEY.to_owned(), "RANGE".to_owned())],
        "SnapshotsTable's key schema must be {USER_ID} (HASH) + {SNAPSHOT_KEY} (RANGE): a user's snapshots in \
         order of their instant, each in parts"
    );
    assert_eq!(
        attribute_types(props),
        BTreeMap::from([(USER_ID.to_owned(), "S".to_owned()), (SNAPSHOT_KEY.to_owned(), "S".to_owned())]),
        "SnapshotsTable's AttributeDefinitions must be exactly its key attributes, all strings"
    );
    for (property, why) in [
        ("StreamSpecification", "nothing reads a stream of the list snapshots"),
        ("TimeToLiveSpecification", "a list as of an old instant resumes from an old snapshot"),
        ("GlobalSecondaryIndexes", "GET /item?asOf= queries the user's partition by instant"),
    ] {
        assert!(props.get(property).is_none(), "SnapshotsTable must have no {property}: {why}");
    }

    let connections = template.resource(CONNECTIONS_TABLE, "AWS::DynamoDB::Table");
    let props = connections.get("Properties").expect("ConnectionsTable has Properties");
    assert_eq!(
        key_schema(props.get("KeySchema")),
        vec![(USER_ID.to_owned(), "HASH".to_owned()), (CONNECTION_ID_KEY.to_owned(), "RANGE".to_owned())],
        "ConnectionsTable's key schema must be {USER_ID} (HASH) + {CONNECTION_ID_KEY} (RANGE): a user's open connections"
    );
    assert_eq!(
        attribute_types(props),
        BTreeMap::from([(USER_ID.to_owned(), "S".to_owned()), (CONNECTION_ID_KEY.to_owned(), "S".to_owned())]),
        "ConnectionsTable's AttributeDefinitions must be exactly its key attributes, all strings"
    );
    let ttl = props.get("TimeToLiveSpecification");
    assert_eq!(
        (
            ttl.and_then(|t| t.get("AttributeName")).and_then(Value::as_str),
            ttl.and_then(|t| t.get("Enabled")).and_then(Value::as_bool)
        ),
        (Some(CONNECTIONS_TTL_ATTRIBUTE), Some(true)),
        "ConnectionsTable's TTL must be enabled on manifest::CONNECTIONS_TTL_ATTRIBUTE: a connection whose $disconnect \
         never came expires when API Gateway closes it"
    );
    for (property, why) in [
        ("StreamSpecification", "nothing reads a stream of the connections"),
        ("GlobalSecondaryIndexes", "the notifier queries the user's partition; $disconnect knows the user"),
    ] {
        assert!(props.get(property).is_none(), "ConnectionsTable must have no {property}: {why}");
    }

    let erasures = template.resource(ERASURE_TABLE, "AWS::DynamoDB::Table");
    let props = erasures.get("Properties").expect("ErasureTable has Properties");
    assert_eq!(
        key_schema(props.get("KeySchema")),
        vec![(USER_KEY.to_owned(), "HASH".to_owned())],
        "ErasureTable's key schema must be {USER_KEY} (HASH) alone: one marker, then one receipt, per erased user"
    );
    assert_eq!(
        attribute_types(props),
        BTreeMap::from([(USER_KEY.to_owned(), "S".to_owned())]),
        "ErasureTable's AttributeDefinitions must be exactly its key attribute, a string"
    );
    for (property, why) in [
        ("TimeToLiveSpecification", "receipts are kept: they prove the erasure and keep the account fenced"),
        ("StreamSpecification", "nothing reads a stream of the erasures"),
        ("GlobalSecondaryIndexes", "it is read by key (the fence) and scanned (todo-audit erasures)"),
    ] {
        assert!(props.get(property).is_none(), "ErasureTable must have no {property}: {why}");
    }

    for (id, table) in [
        (EVENTS_TABLE, events),
        (TODO_TABLE, todos),
        (STATS_TABLE, stats),
        (SNAPSHOTS_TABLE, snapshots),
        (CONNECTIONS_TABLE, connections),
        (ERASURE_TABLE, erasures),
    ] {
        let props = table.get("Properties").unwrap_or(&Value::Null);
        assert_eq!(
            props.get("BillingMode").and_then(Value::as_str),
            Some("PAY_PER_REQUEST"),
            "{id} must be billed PAY_PER_REQUEST"
        );
        assert_eq!(
            props
                .get("PointInTimeRecoverySpecification")
                .and_then(|p| p.get("PointInTimeRecoveryEnabled"))
                .and_then(Value::as_bool),
            Some(true),
            "{id} must have point-in-time recovery"
        );
        assert_eq!(
            props.get("SSESpecification").and_then(|p| p.get("SSEEnabled")).and_then(Value::as_bool),
            Some(true),
            "{id} must set SSESpecification.SSEEnabled: true (encrypted with the AWS managed KMS key)"
        );
    }
}

#[test]
fn iam_grants_exactly_the_manifest_dynamodb_calls() {
    let template = Template::load();
    let consumers = stream_consumers(&template);
    let live = LiveApiIdentity::of(&template);
    for function in FUNCTIONS {
        let id = function.logical_id;
        let resource = template.function(id);
        let properties = resource.get("Properties").unwrap_or(&Value::Null);
        assert!(
            properties.get("Role").is_none(),
            "{id} names its own Role; let SAM build it from Policies so the grants below are all it has"
        );
        if let Some(globals) = template.globals_function() {
            assert!(globals.get("Policies").is_none(), "Globals.Function must not grant Policies to every function");
        }
        let consumed = consumers.get(id);

        let mut granted: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let mut stream_actions: BTreeSet<String> = BTreeSet::new();
        let mut manages_connections = false;
        for statement in policy_statements(id, properties) {
            let effect = statement.get("Effect").and_then(Value::as_str);
            assert_eq!(effect, Some("Allow"), "{id}: unexpected statement effect {effect:?}");
            let actions = string_list(statement.get("Action"));
            let resources: Vec<String> = value_list(statement.get("Resource")).into_iter().map(render).collect();
            for action in &actions {
                assert!(
                    action != "*" && !action.ends_with(":*") && !action.ends_with('*'),
                    "{id} is granted the wildcard action `{action}`; grant the manifest's actions one by one"
                );
            }
            for resource in &resources {
                assert!(resource != "*", "{id} is granted {actions:?} on every resource (`*`)");
            }

            if actions.iter().all(|a| a.starts_with("dynamodb:")) {
                if resources.iter().all(|r| r.contains("StreamArn") || r.contains("/stream/")) {
                    let Some((table, _)) = consumed else {
                        panic!(
                            "{id} is granted a table's stream ({actions:?} on {resources:?}); only the functions of \
                             manifest::STREAM_CONSUMERS, each invoked by its stream's event source mapping, read one"
                        );
                    };
                    for resource in &resources {
                        assert!(
                            [format!("!GetAtt {table}.StreamArn"), format!("!Sub ${{{table}.Arn}}/stream/*")]
                                .contains(resource),
                            "{id} consumes {table}'s stream and may read only it, not {resource}"
                        );
                    }
                    for action in &actions {
                        assert!(
                            STREAM_READ_ACTIONS.contains(&action.as_str()),
                            "{id} is granted `{action}` on a stream; it needs only {STREAM_READ_ACTIONS:?}"
                        );
                    }
                    stream_actions.extend(actions);
                } else {
                    for resource in &resources {
                        granted.entry(resource.clone()).or_default().extend(actions.iter().cloned());
                    }
                }
            } else if actions == ["sqs:SendMessage"] {
                let Some((_, mapping)) = consumed else {
                    panic!("{id} may send to SQS but only a stream consumer's failed batches go to a queue");
                };
                assert_eq!(
                    resources,
                    vec![mapping.failure_destination.clone()],
                    "{id} may send only to its own stream mapping's on-failure queue"
                );
            } else if actions == ["execute-api:ManageConnections"] {
                assert!(
                    CONNECTION_PUSHERS.contains(&function.binary),
                    "{id} may manage the WebSocket API's connections, but manifest::CONNECTION_PUSHERS does not list it"
                );
                assert_eq!(
                    resources,
                    vec![live.post_to_connections()],
                    "{id} may only POST to the live API's own stage's @connections"
                );
                manages_connections = true;
            } else {
                panic!(
                    "{id} has a statement template.yaml's manifest check does not know: actions {actions:?} on {resources:?}"
                );
            }
        }

        let expected = expected_grants(function);
        assert_eq!(
            granted, expected,
            "{id}'s DynamoDB grants in template.yaml (resource -> actions) differ from its `dynamodb` list in manifest.rs"
        );
        if consumed.is_some() {
            let expected_stream: BTreeSet<String> = STREAM_READ_ACTIONS.iter().map(|a| (*a).to_owned()).collect();
            assert_eq!(
                stream_actions, expected_stream,
                "{id} consumes a stream and needs exactly {STREAM_READ_ACTIONS:?} on it"
            );
        }
        assert_eq!(
            manages_connections,
            CONNECTION_PUSHERS.contains(&function.binary),
            "{id}: execute-api:ManageConnections is granted to manifest::CONNECTION_PUSHERS, and only to them"
        );
    }
}

#[test]
fn projector_reads_the_event_stream_with_partial_batch_failures() {
    let template = Template::load();
    let mapping = projector_mapping(&template);
    let consumer = FUNCTIONS.iter().find(|f| f.logical_id == mapping.function).unwrap_or_else(|| {
        panic!(
            "the event source mapping on EventsTable's stream invokes {}, which manifest.rs does not list",
            mapping.function
        )
    });
    assert!(
        consumer.route.is_none(),
        "the event source mapping on EventsTable's stream invokes {}, which serves an API route; the stream's consumer has none",
        mapping.function
    );
    let consumer = template.function(&mapping.function);
    let sam_events: Vec<String> = consumer
        .get("Properties")
        .and_then(|p| p.get("Events"))
        .map(mapping_keys)
        .unwrap_or_default()
        .into_iter()
        .collect();
    assert!(
        sam_events.is_empty(),
        "{} has SAM Events {sam_events:?}: a SAM DynamoDB event attaches AWSLambdaDynamoDBExecutionRole (every stream \
         in the account); keep the stream on the explicit AWS::Lambda::EventSourceMapping",
        mapping.function
    );
}

/// Each stream consumer of the manifest reads its table's stream through its own event source mapping
/// (partial batch failures, bisecting, capped retries and record age, an on-failure queue of its own),
/// serves no route and has no SAM event.
#[test]
fn every_stream_consumer_reads_its_tables_stream_through_its_own_mapping() {
    let template = Template::load();
    let consumers = stream_consumers(&template);
    let queues: BTreeSet<&str> = consumers.values().map(|(_, m)| m.failure_destination.as_str()).collect();
    assert_eq!(queues.len(), consumers.len(), "each stream consumer has an on-failure queue of its own");
    for (id, (table, _)) in &consumers {
        let function = FUNCTIONS.iter().find(|f| f.logical_id == id.as_str()).expect("a manifest function");
        assert!(function.route.is_none(), "{id} consumes {table}'s stream and must serve no API route");
        let events = template.function(id).get("Properties").and_then(|p| p.get("Events")).map(mapping_keys);
        assert!(events.unwrap_or_default().is_empty(), "{id}: no SAM Events, the explicit mapping only");
    }
}

/// The WebSocket API: `$connect` behind the REQUEST authorizer reading the token query parameter,
/// each route to its manifest function, API Gateway allowed to invoke exactly those, and the
/// addresses the SPA (`LiveUrl`) and the notifier (`LIVE_MANAGEMENT_ENDPOINT`) use.
#[test]
fn the_websocket_api_authorizes_connect_and_routes_to_the_manifest_functions() {
    let template = Template::load();
    let live = LiveApiIdentity::of(&template);
    let api_ref = format!("!Ref {}", live.id);
    let lambda_uri = |function: &str| {
        format!(
            "arn:${{AWS::Partition}}:apigateway:${{AWS::Region}}:lambda:path/2015-03-31/functions/${{{function}.Arn}}/invocations"
        )
    };
    let source_arn = |rest: &str| {
        format!("!Sub arn:${{AWS::Partition}}:execute-api:${{AWS::Region}}:${{AWS::AccountId}}:${{{}}}/{rest}", live.id)
    };
    let property = |resource: &Value, name: &str| resource.get("Properties").and_then(|p| p.get(name)).map(render);

    let routes: BTreeMap<String, &Value> = template
        .resources_of_type("AWS::ApiGatewayV2::Route")
        .filter(|(_, r)| property(r, "ApiId").as_deref() == Some(api_ref.as_str()))
        .map(|(_, r)| (property(r, "RouteKey").unwrap_or_default(), r))
        .collect();
    let expected_keys: BTreeSet<String> = WEBSOCKET_ROUTES.iter().map(|r| r.route_key.to_owned()).collect();
    assert_eq!(
        routes.keys().cloned().collect::<BTreeSet<_>>(),
        expected_keys,
        "{}'s routes must be manifest::WEBSOCKET_ROUTES",
        live.id
    );

    let authorizer_function = manifest_function(WEBSOCKET_AUTHORIZER).logical_id;
    let mut permissions: BTreeSet<(String, String)> = BTreeSet::new();
    for route in WEBSOCKET_ROUTES {
        let resource = routes[route.route_key];
        let function = manifest_function(route.binary).logical_id;
        let target = property(resource, "Target").unwrap_or_default();
        let integration =
            target.strip_prefix("!Sub integrations/${").and_then(|t| t.strip_suffix('}')).unwrap_or_else(|| {
                panic!("{}'s Target must be !Sub integrations/${{<integration>}}, is {target}", route.route_key)
            });
        let integration = template.resource(integration, "AWS::ApiGatewayV2::Integration");
        assert_eq!(property(integration, "IntegrationType").as_deref(), Some("AWS_PROXY"));
        assert_eq!(
            property(integration, "IntegrationUri"),
            Some(format!("!Sub {}", lambda_uri(function))),
            "{} must be integrated with {function} ({})",
            route.route_key,
            route.binary
        );
        permissions.insert((function.to_owned(), source_arn(&format!("*/{}", route.route_key))));

        let authorization = property(resource, "AuthorizationType").unwrap_or_else(|| "NONE".to_owned());
        if route.route_key == "$connect" {
            assert_eq!(authorization, "CUSTOM", "$connect must be authorised by {authorizer_function}");
            let authorizer_id = property(resource, "AuthorizerId").unwrap_or_default();
            let authorizer_id = authorizer_id.strip_prefix("!Ref ").expect("$connect's AuthorizerId is a !Ref");
            let authorizer = template.resource(authorizer_id, "AWS::ApiGatewayV2::Authorizer");
            assert_eq!(property(authorizer, "AuthorizerType").as_deref(), Some("REQUEST"));
            assert_eq!(
                string_list(authorizer.get("Properties").and_then(|p| p.get("IdentitySource"))),
                [format!("route.request.querystring.{WEBSOCKET_TOKEN_PARAMETER}")],
                "the authorizer reads the ID token from the `{WEBSOCKET_TOKEN_PARAMETER}` query parameter"
            );
            assert_eq!(
                property(authorizer, "AuthorizerUri"),
                Some(format!("!Sub {}", lambda_uri(authorizer_function)))
            );
            permissions
                .insert((authorizer_function.to_owned(), source_arn(&format!("authorizers/${{{authorizer_id}}}"))));
        } else {
            assert_eq!(authorization, "NONE", "{}: API Gateway authorises $connect only", route.route_key);
        }
    }

    let websocket = websocket_functions();
    let granted: BTreeSet<(String, String)> = template
        .resources_of_type("AWS::Lambda::Permission")
        .filter_map(|(id, permission)| {
            let function = property(permission, "FunctionName").unwrap_or_default();
            let function = function.strip_prefix("!Ref ")?.to_owned();
            websocket.contains(function.as_str()).then(|| {
                assert_eq!(property(permission, "Action").as_deref(), Some("lambda:InvokeFunction"), "{id}");
                assert_eq!(property(permission, "Principal").as_deref(), Some("apigateway.amazonaws.com"), "{id}");
                (function, property(permission, "SourceArn").unwrap_or_default())
            })
        })
        .collect();
    assert_eq!(
        granted, permissions,
        "API Gateway may invoke the WebSocket functions for this API's routes and authorizer, and nothing else"
    );

    let outputs = template.root.get("Outputs").expect("template.yaml has Outputs");
    let live_url = outputs.get("LiveUrl").and_then(|o| o.get("Value")).map(render);
    assert_eq!(
        live_url,
        Some(format!("!Sub wss://{}", live.host_and_stage())),
        "the LiveUrl output (the SPA's liveUrl)"
    );
    for pusher in CONNECTION_PUSHERS {
        let id = manifest_function(pusher).logical_id;
        let endpoint = template
            .function(id)
            .get("Properties")
            .and_then(|p| p.get("Environment"))
            .and_then(|e| e.get("Variables"))
            .and_then(|v| v.get(todo_platform::manifest::LIVE_MANAGEMENT_ENDPOINT))
            .map(render);
        assert_eq!(endpoint, Some(format!("!Sub https://{}", live.host_and_stage())), "{id} posts to this API's stage");
    }
}

/// Every function without a route has exactly one kind of invoker: its stream's event source
/// mapping, the WebSocket API, or a state machine; a state machine may invoke only the rest and
/// deliver its logs, nothing more.
#[test]
fn functions_without_a_route_are_invoked_by_a_stream_the_websocket_api_or_a_state_machine_only() {
    let template = Template::load();
    let consumers: BTreeSet<String> = stream_consumers(&template).into_keys().collect();
    let websocket = websocket_functions();
    let routeless: BTreeSet<&str> = FUNCTIONS.iter().filter(|f| f.route.is_none()).map(|f| f.logical_id).collect();

    let raw: Vec<&str> = template.resources_of_type("AWS::StepFunctions::StateMachine").map(|(id, _)| id).collect();
    assert!(
        raw.is_empty(),
        "template.yaml declares plain AWS::StepFunctions::StateMachine resources {raw:?}; declare \
         AWS::Serverless::StateMachine ones, whose Policies this test holds to least privilege"
    );

    let mut invoked: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let state_machines: Vec<(&str, &Value)> = template.resources_of_type("AWS::Serverless::StateMachine").collect();
    for (id, machine) in &state_machines {
        let properties = machine.get("Properties").unwrap_or(&Value::Null);
        assert!(
            properties.get("Role").is_none(),
            "{id} names its own Role; let SAM build it from Policies so the grants below are all it has"
        );
        let mut targets = BTreeSet::new();
        let mut logs: BTreeSet<String> = BTreeSet::new();
        for statement in policy_statements(id, properties) {
            let effect = statement.get("Effect").and_then(Value::as_str);
            assert_eq!(effect, Some("Allow"), "{id}: unexpected statement effect {effect:?}");
            let actions = string_list(statement.get("Action"));
            let resources: Vec<String> = value_list(statement.get("Resource")).into_iter().map(render).collect();
            if actions == ["lambda:InvokeFunction"] {
                for resource in &resources {
                    let target =
                        resource.strip_prefix("!GetAtt ").and_then(|r| r.strip_suffix(".Arn")).unwrap_or_else(|| {
                            panic!("{id} may invoke {resource}; grant !GetAtt <Function>.Arn, one function by name")
                        });
                    assert!(
                        routeless.contains(target) && !consumers.contains(target) && !websocket.contains(target),
                        "{id} may invoke {target}, which is not a manifest function without a route (other than the \
                         stream consumers and the WebSocket API's functions)"
                    );
                    targets.insert(target.to_owned());
                }
            } else if actions.iter().all(|a| a.starts_with("logs:")) {
                assert_eq!(resources, ["*"], "{id}: log delivery actions take no resource; grant them on `*` alone");
                logs.extend(actions);
            } else {
                panic!(
                    "{id} is granted {actions:?} on {resources:?}: a state machine may only invoke its functions and deliver its logs"
                );
            }
        }
        let expected_logs: BTreeSet<String> = LOG_DELIVERY_ACTIONS.iter().map(|a| (*a).to_owned()).collect();
        if properties.get("Logging").is_some() {
            assert_eq!(logs, expected_logs, "{id} logs to CloudWatch Logs and needs exactly {LOG_DELIVERY_ACTIONS:?}");
        } else {
            assert!(logs.is_empty(), "{id} does not log but is granted {logs:?}");
        }
        assert!(!targets.is_empty(), "{id} may invoke no function");
        for target in targets {
            invoked.entry(target).or_default().push((*id).to_owned());
        }
    }

    for id in routeless {
        let function = template.function(id);
        let sam_events = function.get("Properties").and_then(|p| p.get("Events")).map(mapping_keys).unwrap_or_default();
        assert!(sam_events.is_empty(), "{id} has no route but SAM Events {sam_events:?}");
        if consumers.contains(id) {
            assert!(!invoked.contains_key(id), "{id} consumes a stream; no state machine may invoke it too");
            continue;
        }
        if websocket.contains(id) {
            assert!(!invoked.contains_key(id), "{id} serves the WebSocket API; no state machine may invoke it too");
            continue;
        }
        let invokers = invoked.get(id).cloned().unwrap_or_default();
        assert_eq!(
            invokers.len(),
            1,
            "{id} has no route and does not consume the stream, so exactly one state machine must be allowed to invoke it \
             (lambda:InvokeFunction on !GetAtt {id}.Arn); found {invokers:?}"
        );
    }
}

#[test]
fn openapi_documents_the_designed_contract() {
    let openapi = load_yaml("openapi.yaml");
    let version = openapi.get("openapi").and_then(Value::as_str).unwrap_or_default();
    assert!(version.starts_with("3."), "openapi.yaml must be OpenAPI 3.x, is {version:?}");

    let schemes =
        openapi.get("components").and_then(|c| c.get("securitySchemes")).map(mapping_keys).unwrap_or_default();
    let required: BTreeSet<String> = value_list(openapi.get("security")).into_iter().flat_map(mapping_keys).collect();
    assert!(
        !required.is_empty() && required.is_subset(&schemes),
        "openapi.yaml must require the Cognito ID token on every route (top-level security naming a security scheme); \
         requires {required:?}, defines {schemes:?}"
    );

    for function in FUNCTIONS {
        let Some(route) = function.route else { continue };
        let operation = openapi_operation(&openapi, route.method, route.path);
        let at = format!("openapi.yaml {} {}", route.method, route.path);
        let responses = operation.get("responses").map(mapping_keys).unwrap_or_default();

        let mut expected: Vec<&str> = vec!["400", "401", "500"];
        if route.path.contains("{id}") {
            expected.push("404");
        }
        let is_command = route.method != "GET";
        if is_command && route.path.contains("{id}") {
            expected.extend(["409", "412"]);
            let parameters = resolved_parameter_names(&openapi, operation, route.path);
            assert!(parameters.contains("If-Match"), "{at} must accept the If-Match header");
        }
        let body = operation.get("requestBody");
        if let Some(body) = body {
            expected.extend(["413", "415"]);
            let schema = resolve(
                &openapi,
                body.get("content").and_then(|c| c.get("application/json")).and_then(|c| c.get("schema")),
            );
            assert_eq!(
                schema.and_then(|s| s.get("additionalProperties")).and_then(Value::as_bool),
                Some(false),
                "{at}: the request body schema must say additionalProperties: false (an unknown field is a 400)"
            );
        }
        for status in expected {
            assert!(responses.contains(status), "{at} does not document the {status} answer the design gives it");
        }

        for status in &responses {
            let response = resolve(&openapi, operation.get("responses").and_then(|r| r.get(status.as_str())))
                .unwrap_or_else(|| panic!("{at}: response {status} is a dangling $ref"));
            let headers = response.get("headers").map(mapping_keys).unwrap_or_default();
            assert!(
                headers.contains("x-request-id"),
                "{at}: response {status} does not document the x-request-id header"
            );
            if status.starts_with('4') || status.starts_with('5') {
                let schema = response
                    .get("content")
                    .and_then(|c| c.get("application/json"))
                    .and_then(|c| c.get("schema"))
                    .and_then(|s| s.get("$ref"))
                    .and_then(Value::as_str);
                assert_eq!(
                    schema,
                    Some("#/components/schemas/Error"),
                    "{at}: error {status} must use the {{\"error\": {{code, message}}}} schema"
                );
            }
        }
    }

    let schemas =
        openapi.get("components").and_then(|c| c.get("schemas")).expect("openapi.yaml has components.schemas");
    let max_length = |name: &str| schemas.get(name).and_then(|s| s.get("maxLength")).and_then(Value::as_u64);
    assert_eq!(
        max_length("Title"),
        Some(events_schema::MAX_TITLE_CHARS as u64),
        "openapi.yaml's Title.maxLength must be events_schema::MAX_TITLE_CHARS"
    );
    assert_eq!(
        max_length("Notes"),
        Some(events_schema::MAX_NOTES_CHARS as u64),
        "openapi.yaml's Notes.maxLength must be events_schema::MAX_NOTES_CHARS"
    );
    assert_eq!(
        openapi.get("x-max-body-bytes").and_then(Value::as_u64),
        Some(todo_platform::http::MAX_BODY_BYTES as u64),
        "openapi.yaml's x-max-body-bytes must be todo_platform::http::MAX_BODY_BYTES"
    );
    let limit = openapi
        .get("components")
        .and_then(|c| c.get("parameters"))
        .and_then(|p| p.get("Limit"))
        .and_then(|l| l.get("schema"))
        .expect("openapi.yaml has components.parameters.Limit.schema");
    assert_eq!(
        (
            limit.get("minimum").and_then(Value::as_u64),
            limit.get("maximum").and_then(Value::as_u64),
            limit.get("default").and_then(Value::as_u64)
        ),
        (Some(1), Some(todo_platform::http::MAX_PAGE_SIZE as u64), Some(todo_platform::http::DEFAULT_PAGE_SIZE as u64)),
        "openapi.yaml's limit parameter must be 1..MAX_PAGE_SIZE with default DEFAULT_PAGE_SIZE (todo_platform::http)"
    );
}

#[test]
fn api_preflights_and_gateway_errors_carry_cors() {
    let template = Template::load();
    let api = template
        .resources_of_type("AWS::Serverless::Api")
        .map(|(_, r)| r)
        .next()
        .expect("template.yaml has an AWS::Serverless::Api");
    let properties = api.get("Properties").expect("the API has Properties");
    let allow_headers = properties.get("Cors").and_then(|c| c.get("AllowHeaders")).map(render).unwrap_or_default();
    for header in ["Authorization", "Content-Type", "If-Match"] {
        assert!(
            allow_headers.split([',', '\'']).any(|h| h.trim() == header),
            "the API's CORS preflight must allow the {header} header (AllowHeaders is {allow_headers:?})"
        );
    }
    let authorizer = properties.get("Auth").and_then(|a| a.get("DefaultAuthorizer")).and_then(Value::as_str);
    assert!(authorizer.is_some(), "the API must have a default (Cognito) authorizer");
    for response in ["DEFAULT_4XX", "DEFAULT_5XX"] {
        let headers = properties
            .get("GatewayResponses")
            .and_then(|g| g.get(response))
            .and_then(|r| r.get("ResponseParameters"))
            .and_then(|p| p.get("Headers"))
            .map(mapping_keys)
            .unwrap_or_default();
        for header in ["Access-Control-Allow-Origin", "Access-Control-Expose-Headers"] {
            assert!(
                headers.contains(header),
                "API Gateway's own {response} answers must carry {header}, or the SPA sees a CORS failure instead of the error"
            );
        }
    }
}

// ------------------------------------------------------------------------------------------ users' rights

/// The function that erases accounts (`DELETE /account`), the one exception to the append-only rule.
const ERASER: &str = "erase-account";
/// DynamoDB actions that remove or rewrite stored items, or the table itself.
const MUTATING_ACTIONS: &[&str] = &[
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:UpdateItem",
    "dynamodb:PartiQLDelete",
    "dynamodb:PartiQLUpdate",
    "dynamodb:DeleteTable",
    "dynamodb:UpdateTable",
    "dynamodb:RestoreTableFromBackup",
    "dynamodb:RestoreTableToPointInTime",
    "dynamodb:ImportTable",
];
/// API Gateway's REST integration timeout: a function behind a route that runs longer is cut off.
const API_GATEWAY_INTEGRATION_LIMIT_SECONDS: u64 = 29;
/// The scope an access token needs for Cognito's `DeleteUser` (the SPA deletes the user after the erasure).
const COGNITO_USER_ADMIN_SCOPE: &str = "aws.cognito.signin.user.admin";

/// The event log is append-only for everyone but the erasure: no statement anywhere in the template
/// (functions, state machines, roles) grants an action that deletes or rewrites events, except
/// `BatchWriteItem` to `EraseAccountFunction`, and the manifest says the same.
#[test]
fn only_erase_account_may_delete_events() {
    for function in FUNCTIONS {
        let mutating: Vec<&str> = function
            .dynamodb
            .iter()
            .filter(|(table, _)| matches!(table, Table::Events | Table::EventsTimeline))
            .flat_map(|(_, actions)| actions.iter().copied())
            .filter(|action| MUTATING_ACTIONS.contains(action))
            .collect();
        let allowed: &[&str] = if function.binary == ERASER { &["dynamodb:BatchWriteItem"] } else { &[] };
        assert_eq!(
            mutating, allowed,
            "manifest.rs gives {} the event table actions {mutating:?} that delete or rewrite events; only {ERASER} may, \
             with BatchWriteItem alone",
            function.binary
        );
    }

    let template = Template::load();
    let eraser = manifest_function(ERASER).logical_id;
    let mut eraser_deletes = false;
    for (id, resource) in template.resources() {
        let mut statements = Vec::new();
        collect_statements(resource, &mut statements);
        for statement in statements {
            let resources: Vec<String> = value_list(statement.get("Resource")).into_iter().map(render).collect();
            if !resources.iter().any(|r| r.contains(EVENTS_TABLE) || r == "*") {
                continue;
            }
            let actions = string_list(statement.get("Action"));
            for action in &actions {
                let lowered = action.to_lowercase();
                let mutates = MUTATING_ACTIONS.iter().any(|m| m.to_lowercase() == lowered)
                    || (lowered.starts_with("dynamodb:") && lowered.contains('*'));
                if !mutates {
                    continue;
                }
                assert!(
                    id == eraser
                        && action == "dynamodb:BatchWriteItem"
                        && resources == [format!("!GetAtt {EVENTS_TABLE}.Arn")],
                    "{id} is granted `{action}` on {resources:?}: the event log is append-only, and only {eraser} may \
                     delete events (dynamodb:BatchWriteItem on !GetAtt {EVENTS_TABLE}.Arn)"
                );
                eraser_deletes = true;
            }
        }
    }
    assert!(
        eraser_deletes,
        "{eraser} must be granted dynamodb:BatchWriteItem on {EVENTS_TABLE}, or it cannot erase events"
    );
}

/// Every IAM policy statement (a mapping with `Effect` and `Action`) anywhere below `value`.
fn collect_statements<'a>(value: &'a Value, statements: &mut Vec<&'a Value>) {
    match value {
        Value::Mapping(mapping) => {
            if mapping.contains_key("Effect") && (mapping.contains_key("Action") || mapping.contains_key("NotAction")) {
                assert!(
                    !mapping.contains_key("NotAction") && !mapping.contains_key("NotResource"),
                    "template.yaml has a statement with NotAction or NotResource, which grants everything it does not \
                     name: {}",
                    render(value)
                );
                statements.push(value);
            }
            for inner in mapping.values() {
                collect_statements(inner, statements);
            }
        }
        Value::Sequence(items) => items.iter().for_each(|item| collect_statements(item, statements)),
        Value::Tagged(tagged) => collect_statements(&tagged.value, statements),
        _ => {}
    }
}

/// A command runs at most `COMMAND_TIME_LIMIT`: the erasure waits that long (within `SETTLE`) for a
/// command that passed the fence before the marker, so the commands' timeout must be exactly it.
#[test]
fn commands_time_out_within_the_erasures_settle_time() {
    use todo_platform::store::{COMMAND_TIME_LIMIT, SETTLE};
    let template = Template::load();
    let global = template.globals_function().and_then(|g| g.get("Timeout")).and_then(Value::as_u64);
    assert_eq!(
        global,
        Some(COMMAND_TIME_LIMIT.as_secs()),
        "Globals.Function.Timeout must be todo_platform::store::COMMAND_TIME_LIMIT ({} s): the erasure's settle time \
         (SETTLE, {} s) assumes no command runs longer",
        COMMAND_TIME_LIMIT.as_secs(),
        SETTLE.as_secs()
    );
    for binary in COMMAND_BINARIES {
        let id = manifest_function(binary).logical_id;
        let timeout = template.function_property(id, "Timeout").and_then(Value::as_u64);
        assert_eq!(
            timeout,
            Some(COMMAND_TIME_LIMIT.as_secs()),
            "{id} must not override the commands' timeout (COMMAND_TIME_LIMIT): the erasure's settle time relies on it"
        );
    }
    assert!(SETTLE > COMMAND_TIME_LIMIT, "SETTLE must outlast a command");
    for function in FUNCTIONS.iter().filter(|f| f.route.is_some()) {
        let timeout = template.function_property(function.logical_id, "Timeout").and_then(Value::as_u64);
        assert!(
            timeout.is_some_and(|t| t <= API_GATEWAY_INTEGRATION_LIMIT_SECONDS),
            "{} serves a route: its Timeout ({timeout:?}) must be at most API Gateway's {API_GATEWAY_INTEGRATION_LIMIT_SECONDS} s",
            function.logical_id
        );
    }
    let eraser = manifest_function(ERASER).logical_id;
    assert_eq!(
        template.function_property(eraser, "Timeout").and_then(Value::as_u64),
        Some(API_GATEWAY_INTEGRATION_LIMIT_SECONDS),
        "{eraser} works for its request budget (20 s) and answers 202; its Timeout is API Gateway's limit"
    );
}

/// `ERASURE_KEY` is a Secrets Manager secret of the stack that Secrets Manager generates as exactly
/// what `ErasureKey::from_hex` reads (64 lower-case hex characters), resolved by CloudFormation into
/// the functions whose manifest env lists it, and never rotated (rotation would unfence erased users).
#[test]
fn the_erasure_key_is_a_generated_hex_secret_of_the_stack() {
    let template = Template::load();
    let readers: Vec<&Function> =
        FUNCTIONS.iter().filter(|f| f.env.contains(&todo_platform::manifest::ERASURE_KEY)).collect();
    assert!(!readers.is_empty(), "manifest.rs lists no function reading ERASURE_KEY");
    let mut secrets = BTreeSet::new();
    for function in &readers {
        let value = template
            .function(function.logical_id)
            .get("Properties")
            .and_then(|p| p.get("Environment"))
            .and_then(|e| e.get("Variables"))
            .and_then(|v| v.get(todo_platform::manifest::ERASURE_KEY))
            .map(render)
            .unwrap_or_default();
        let secret = value
            .strip_prefix("!Sub {{resolve:secretsmanager:${")
            .and_then(|rest| rest.strip_suffix("}:SecretString}}"))
            .unwrap_or_else(|| {
                panic!(
                    "{}: ERASURE_KEY must be !Sub '{{{{resolve:secretsmanager:${{<the stack's secret>}}:SecretString}}}}', is {value:?}",
                    function.logical_id
                )
            });
        secrets.insert(secret.to_owned());
    }
    assert_eq!(secrets.len(), 1, "every function must read the one erasure key, not {secrets:?}");
    let id = secrets.into_iter().next().expect("one secret");
    let secret = template.resource(&id, "AWS::SecretsManager::Secret");
    let properties = secret.get("Properties").unwrap_or(&Value::Null);
    assert!(properties.get("SecretString").is_none(), "{id} must be generated, never written into the template");
    let generate = properties.get("GenerateSecretString").unwrap_or_else(|| panic!("{id} needs GenerateSecretString"));
    assert!(
        generate.get("SecretStringTemplate").is_none() && generate.get("GenerateStringKey").is_none(),
        "{id} must be the bare generated string (ERASURE_KEY resolves SecretString whole), not a JSON document"
    );
    assert_eq!(
        generate.get("PasswordLength").and_then(Value::as_u64),
        Some(64),
        "{id}: 64 hex characters, the 32 bytes ErasureKey::from_hex reads"
    );
    let flag = |name: &str| generate.get(name).and_then(Value::as_bool).unwrap_or(false);
    let excluded = generate.get("ExcludeCharacters").and_then(Value::as_str).unwrap_or_default();
    let alphabet: String = (' '..='~')
        .filter(|c| *c != ' ' || flag("IncludeSpace"))
        .filter(|c| !(flag("ExcludeUppercase") && c.is_ascii_uppercase()))
        .filter(|c| !(flag("ExcludeLowercase") && c.is_ascii_lowercase()))
        .filter(|c| !(flag("ExcludeNumbers") && c.is_ascii_digit()))
        .filter(|c| !(flag("ExcludePunctuation") && c.is_ascii_punctuation()))
        .filter(|c| !excluded.contains(*c))
        .collect();
    assert_eq!(
        alphabet, "0123456789abcdef",
        "{id} must generate from the lower-case hex digits only (ErasureKey::from_hex), generates from {alphabet:?}"
    );
    let key = "0123456789abcdef".repeat(4);
    assert!(todo_platform::store::ErasureKey::from_hex(&key).is_ok(), "such a string is an erasure key");
    let rotations: Vec<&str> =
        template.resources_of_type("AWS::SecretsManager::RotationSchedule").map(|(r, _)| r).collect();
    assert!(
        rotations.is_empty(),
        "the erasure key must never rotate ({rotations:?}): stored userKeys are hashed under it"
    );
    assert_eq!(
        secret.get("UpdateReplacePolicy").and_then(Value::as_str),
        Some("Retain"),
        "{id}: a replacement must not drop the key every stored userKey was hashed under"
    );
}

/// The SPA deletes its Cognito user after `DELETE /account` with the user's access token, which
/// needs the `aws.cognito.signin.user.admin` scope: the app client allows it and the SPA's
/// config.json (written by deploy/site.py) asks for it, and for nothing the client does not allow.
#[test]
fn the_spa_asks_for_the_scope_delete_user_needs() {
    let template = Template::load();
    let clients: Vec<(&str, &Value)> = template.resources_of_type("AWS::Cognito::UserPoolClient").collect();
    assert_eq!(clients.len(), 1, "template.yaml must declare the SPA's one app client");
    let (id, client) = clients[0];
    let allowed: BTreeSet<String> =
        string_list(client.get("Properties").and_then(|p| p.get("AllowedOAuthScopes"))).into_iter().collect();
    assert!(
        allowed.contains(COGNITO_USER_ADMIN_SCOPE),
        "{id}'s AllowedOAuthScopes must include {COGNITO_USER_ADMIN_SCOPE} (Cognito's DeleteUser), has {allowed:?}"
    );
    let site = fs::read_to_string(repo_root().join("deploy/site.py")).expect("deploy/site.py");
    let requested = site
        .lines()
        .find_map(|line| line.strip_prefix("SCOPE = "))
        .map(|value| value.trim().trim_matches('"'))
        .expect("deploy/site.py sets SCOPE = \"...\" (the SPA's config.json scope)");
    let requested: BTreeSet<String> = requested.split_whitespace().map(str::to_owned).collect();
    assert!(
        requested.contains(COGNITO_USER_ADMIN_SCOPE),
        "deploy/site.py's SCOPE must request {COGNITO_USER_ADMIN_SCOPE}, requests {requested:?}"
    );
    let unknown: Vec<_> = requested.difference(&allowed).collect();
    assert!(unknown.is_empty(), "deploy/site.py's SCOPE requests {unknown:?}, which {id} does not allow");
}

// ------------------------------------------------------------------------------------------ operations

/// The namespace of the metrics the functions write as CloudWatch embedded metric format log lines,
/// each with the dimension `Function` (the writing function's name) besides its own labels.
const METRICS_NAMESPACE: &str = "TodoApp";
/// Every custom metric the functions write; the dashboard shows each one.
const CUSTOM_METRICS: &[&str] = &[
    "Commands",
    "CommandsRejected",
    "ProjectorLag",
    "ProjectorBatchFailures",
    "ProjectorGapRepairs",
    "SnapshotsTaken",
    "SnapshotFailures",
    "ReplayEvents",
    "Unavailable",
    "LivePushesSent",
    "LivePushesGone",
    "LivePushesFailed",
    "LivePushLag",
    "NotifierBatchFailures",
    "LiveConnectsDenied",
    "AccountsErased",
];
/// The functions that count `Commands` and `CommandsRejected` (labels `Route`, `Outcome`, `Reason`).
const COMMAND_BINARIES: &[&str] = &["create-todo", "update-todo", "complete-todo", "delete-todo"];
/// What every function is watched by on the dashboard (`AWS/Lambda`, dimension `FunctionName`).
const LAMBDA_HEALTH_METRICS: &[&str] = &["Errors", "Throttles", "Duration"];
/// What the dashboard shows of the REST API's stage (`AWS/ApiGateway`, `ApiName` + `Stage`).
const API_METRICS: &[&str] = &["Count", "4XXError", "5XXError", "Latency"];
const DASHBOARD_COLUMNS: i64 = 24;

/// The one dashboard names this stack's own functions, API stage, queue, log groups and alarms (a
/// `!Sub` whose every `${...}` is a resource of the template or a pseudo parameter) and shows every
/// custom metric, every function's health, the API, the stream and the failure queue.
#[test]
fn the_dashboard_shows_this_stacks_resources_and_every_metric() {
    let template = Template::load();
    let dashboards: Vec<(&str, &Value)> = template.resources_of_type("AWS::CloudWatch::Dashboard").collect();
    assert_eq!(
        dashboards.len(),
        1,
        "template.yaml must declare one AWS::CloudWatch::Dashboard (the README's Operations section walks through it), found {:?}",
        dashboards.iter().map(|(id, _)| id).collect::<Vec<_>>()
    );
    let (id, resource) = dashboards[0];
    let body = resource.get("Properties").and_then(|p| p.get("DashboardBody"));
    let (text, variables) = body.and_then(sub_template).unwrap_or_else(|| {
        panic!("{id}'s DashboardBody must be a !Sub of the dashboard's JSON, so that it names this stack's resources")
    });

    // Every substitution names something of this stack.
    for reference in sub_references(&text) {
        let base = reference.split('.').next().unwrap_or_default();
        assert!(
            base.starts_with("AWS::")
                || variables.contains(&reference)
                || template.has_resource(base)
                || template.has_parameter(&reference),
            "{id}'s DashboardBody substitutes ${{{reference}}}, which is no resource, parameter or pseudo parameter of template.yaml"
        );
    }
    let dashboard: serde_json::Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{id}'s DashboardBody is not JSON (before substitution): {e}"));
    let widgets = dashboard.get("widgets").and_then(serde_json::Value::as_array).cloned().unwrap_or_default();
    assert!(!widgets.is_empty(), "{id} has no widgets");

    let mut metrics: Vec<MetricRef> = Vec::new();
    let mut expressions: Vec<String> = Vec::new();
    let mut queries: Vec<String> = Vec::new();
    let mut alarm_arns: BTreeSet<String> = BTreeSet::new();
    for widget in &widgets {
        let kind = widget.get("type").and_then(serde_json::Value::as_str).unwrap_or_default();
        let number = |key: &str| widget.get(key).and_then(serde_json::Value::as_i64);
        let (x, width) = (number("x").unwrap_or(-1), number("width").unwrap_or(-1));
        assert!(
            x >= 0
                && width > 0
                && x + width <= DASHBOARD_COLUMNS
                && number("y").is_some()
                && number("height").is_some(),
            "{id}: a {kind} widget lies outside the dashboard's {DASHBOARD_COLUMNS} columns or lacks x/y/width/height: {widget}"
        );
        let properties = widget.get("properties").cloned().unwrap_or_default();
        let title = properties.get("title").and_then(serde_json::Value::as_str).unwrap_or("(untitled)").to_owned();
        if kind == "metric" || kind == "log" {
            assert_eq!(
                properties.get("region").and_then(serde_json::Value::as_str),
                Some("${AWS::Region}"),
                "{id}: widget {title:?} must show the stack's region (\"region\": \"${{AWS::Region}}\")"
            );
        }
        match kind {
            "metric" => {
                let default_stat =
                    properties.get("stat").and_then(serde_json::Value::as_str).unwrap_or("Average").to_owned();
                for entry in properties.get("metrics").and_then(serde_json::Value::as_array).into_iter().flatten() {
                    let parts = entry.as_array().cloned().unwrap_or_default();
                    let options = parts.iter().find(|p| p.is_object()).cloned().unwrap_or_default();
                    if let Some(expression) = options.get("expression").and_then(serde_json::Value::as_str) {
                        expressions.push(expression.to_owned());
                        continue;
                    }
                    let names: Vec<String> =
                        parts.iter().filter_map(serde_json::Value::as_str).map(str::to_owned).collect();
                    assert!(
                        !names.iter().any(|n| n == "." || n == "..."),
                        "{id}: widget {title:?} abbreviates a metric ({entry}); spell it out so this test can read it"
                    );
                    assert!(
                        names.len() >= 2 && names.len().is_multiple_of(2),
                        "{id}: widget {title:?} has a metric that is not [namespace, name, dimension, value...]: {entry}"
                    );
                    let stat = options.get("stat").and_then(serde_json::Value::as_str).unwrap_or(&default_stat);
                    metrics.push(MetricRef {
                        namespace: names[0].clone(),
                        name: names[1].clone(),
                        dimensions: names[2..].chunks(2).map(|d| (d[0].clone(), d[1].clone())).collect(),
                        stat: stat.to_owned(),
                    });
                }
            }
            "log" => {
                queries.push(properties.get("query").and_then(serde_json::Value::as_str).unwrap_or_default().to_owned())
            }
            "alarm" => alarm_arns.extend(
                properties
                    .get("alarms")
                    .and_then(serde_json::Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(serde_json::Value::as_str)
                    .map(str::to_owned),
            ),
            _ => {}
        }
    }
    let shows = |namespace: &str, name: &str, dimensions: &[(&str, &str)]| {
        metrics.iter().any(|m| {
            m.namespace == namespace
                && m.name == name
                && dimensions.iter().all(|(k, v)| m.dimensions.get(*k).map(String::as_str) == Some(*v))
        })
    };
    let stats_of = |namespace: &str, name: &str, dimensions: &[(&str, &str)]| -> BTreeSet<String> {
        metrics
            .iter()
            .filter(|m| {
                m.namespace == namespace
                    && m.name == name
                    && dimensions.iter().all(|(k, v)| m.dimensions.get(*k).map(String::as_str) == Some(*v))
            })
            .map(|m| m.stat.clone())
            .collect()
    };
    let searches = |name: &str, function: &str| {
        let metric = format!("MetricName=\"{name}\"");
        let scope = format!("Function=\"${{{function}}}\"");
        expressions
            .iter()
            .any(|e| e.contains(&format!("{{{METRICS_NAMESPACE},")) && e.contains(&metric) && e.contains(&scope))
    };

    // Custom metrics: each shown, each scoped to a function of this stack.
    for name in CUSTOM_METRICS {
        let explicit = metrics.iter().any(|m| m.namespace == METRICS_NAMESPACE && m.name == *name);
        let searched = expressions.iter().any(|e| e.contains(&format!("MetricName=\"{name}\"")));
        assert!(explicit || searched, "{id} does not show the {METRICS_NAMESPACE} metric {name}");
    }
    for metric in metrics.iter().filter(|m| m.namespace == METRICS_NAMESPACE) {
        let function = metric.dimensions.get("Function").map(|f| f.trim_start_matches("${").trim_end_matches('}'));
        assert!(
            function.is_some_and(|f| FUNCTIONS.iter().any(|m| m.logical_id == f)),
            "{id} shows {METRICS_NAMESPACE}/{} for {:?}; every custom metric is per function: Function = ${{<a manifest function>}}",
            metric.name,
            metric.dimensions
        );
    }
    for expression in expressions.iter().filter(|e| e.contains(&format!("{{{METRICS_NAMESPACE},"))) {
        assert!(
            FUNCTIONS.iter().any(|f| expression.contains(&format!("Function=\"${{{}}}\"", f.logical_id))),
            "{id}: the search {expression:?} must be scoped to one of this stack's functions (Function=\"${{<LogicalId>}}\"), \
             or it shows every stack's metrics"
        );
    }
    for binary in COMMAND_BINARIES {
        let function = manifest_function(binary);
        for name in ["Commands", "CommandsRejected"] {
            assert!(
                searches(name, function.logical_id),
                "{id} does not show {name} of {} (a SEARCH of {{{METRICS_NAMESPACE},Function,...}} MetricName=\"{name}\" \
                 Function=\"${{{}}}\")",
                function.binary,
                function.logical_id
            );
        }
    }
    let stream_consumer = projector_mapping(&template).function;
    let consumer_ref = format!("${{{stream_consumer}}}");
    let lag = stats_of(METRICS_NAMESPACE, "ProjectorLag", &[("Function", &consumer_ref)]);
    for stat in ["p50", "p99", "Maximum"] {
        assert!(lag.contains(stat), "{id} must show the projector's ProjectorLag {stat} (shows {lag:?})");
    }
    for name in ["ProjectorBatchFailures", "ProjectorGapRepairs", "SnapshotsTaken", "SnapshotFailures"] {
        assert!(
            shows(METRICS_NAMESPACE, name, &[("Function", &consumer_ref)]),
            "{id} must show {name} of the stream's consumer {stream_consumer}"
        );
    }
    let replay = manifest_function("replay").logical_id;
    assert!(searches("ReplayEvents", replay), "{id} must show ReplayEvents of {replay} by projection and mode");
    for function in FUNCTIONS.iter().filter(|f| f.route.is_some()) {
        let reference = format!("${{{}}}", function.logical_id);
        assert!(
            shows(METRICS_NAMESPACE, "Unavailable", &[("Function", &reference)]),
            "{id} must show the 503s (Unavailable) of {}, which serves an API route",
            function.logical_id
        );
    }

    // Every function's health, the stream, the failure queue.
    for function in FUNCTIONS {
        let reference = format!("${{{}}}", function.logical_id);
        for name in LAMBDA_HEALTH_METRICS {
            assert!(
                shows("AWS/Lambda", name, &[("FunctionName", &reference)]),
                "{id} must show AWS/Lambda {name} of {} (FunctionName = {reference})",
                function.logical_id
            );
        }
    }
    assert!(
        shows("AWS/Lambda", "IteratorAge", &[("FunctionName", &consumer_ref)]),
        "{id} must show the stream mapping's IteratorAge (AWS/Lambda, FunctionName = {consumer_ref})"
    );
    let queue = failure_queue(&template);
    assert!(
        shows("AWS/SQS", "ApproximateNumberOfMessagesVisible", &[("QueueName", &format!("${{{queue}.QueueName}}"))]),
        "{id} must show the depth of the projector's on-failure queue {queue} (QueueName = ${{{queue}.QueueName}})"
    );

    // The REST API's stage.
    let api = TodoApiIdentity::of(&template);
    let api_name = api.name.strip_prefix("!Sub ").unwrap_or(&api.name).to_owned();
    let stages = [format!("${{{}.Stage}}", api.id), api.stage_name.clone()];
    for name in API_METRICS {
        assert!(
            metrics.iter().any(|m| m.namespace == "AWS/ApiGateway"
                && m.name == *name
                && m.dimensions.get("ApiName") == Some(&api_name)
                && m.dimensions.get("Stage").is_some_and(|s| stages.contains(s))),
            "{id} must show AWS/ApiGateway {name} of {} (ApiName = {api_name}, Stage = ${{{}.Stage}})",
            api.id,
            api.id
        );
    }
    let latency = stats_of("AWS/ApiGateway", "Latency", &[("ApiName", &api_name)]);
    for stat in ["p50", "p99"] {
        assert!(latency.contains(stat), "{id} must show the API's Latency {stat} (shows {latency:?})");
    }

    // Every alarm, and every function's log group in the logs widgets.
    let alarms: BTreeSet<String> =
        template.resources_of_type("AWS::CloudWatch::Alarm").map(|(a, _)| format!("${{{a}.Arn}}")).collect();
    let unlisted: Vec<_> = alarms.difference(&alarm_arns).collect();
    assert!(unlisted.is_empty(), "{id}'s alarm widget does not list the alarms {unlisted:?}");
    let trace = queries.iter().find(|q| q.contains("filter requestId")).unwrap_or_else(|| {
        panic!("{id} must have a logs widget that follows one request (a query with `filter requestId`)")
    });
    for function in FUNCTIONS {
        let log_group = template
            .function_property(function.logical_id, "LoggingConfig")
            .and_then(|c| c.get("LogGroup"))
            .map(render)
            .unwrap_or_default();
        let log_group = log_group.strip_prefix("!Ref ").unwrap_or_else(|| {
            panic!("{}: LoggingConfig.LogGroup must be !Ref <its AWS::Logs::LogGroup>", function.logical_id)
        });
        assert!(
            trace.contains(&format!("SOURCE '${{{log_group}}}'")),
            "{id}'s request trace does not read {}'s log group {log_group}",
            function.logical_id
        );
    }
}

/// The alarms watch this stack's projector, failure queue and API stage, and notify the optional
/// topic.
#[test]
fn alarms_watch_the_projector_the_failure_queue_and_the_api() {
    let template = Template::load();
    let stream_consumer = projector_mapping(&template).function;
    let queue = failure_queue(&template);
    let api = TodoApiIdentity::of(&template);
    let stages = [format!("!Ref {}.Stage", api.id), api.stage_name.clone()];
    let topics: BTreeMap<&str, Option<&str>> = template
        .resources_of_type("AWS::SNS::Topic")
        .map(|(id, t)| (id, t.get("Condition").and_then(Value::as_str)))
        .collect();

    let alarms: Vec<(&str, &Value)> = template.resources_of_type("AWS::CloudWatch::Alarm").collect();
    let mut watched: Vec<(&str, MetricRef, &Value)> = Vec::new();
    for (id, alarm) in &alarms {
        let properties = alarm.get("Properties").unwrap_or(&Value::Null);
        let missing = properties.get("TreatMissingData").and_then(Value::as_str);
        assert!(
            matches!(missing, Some("breaching" | "notBreaching" | "ignore" | "missing")),
            "{id} must say how missing data counts (TreatMissingData)"
        );
        for actions in ["AlarmActions", "OKActions"] {
            let rendered = properties.get(actions).map(render).unwrap_or_default();
            assert!(
                topics.iter().any(|(topic, condition)| match condition {
                    Some(condition) => rendered == format!("!If [{condition}, [!Ref {topic}], !Ref AWS::NoValue]"),
                    None => rendered == format!("[!Ref {topic}]"),
                }),
                "{id}'s {actions} must notify the alarm topic, and only when it exists \
                 (!If [<its Condition>, [!Ref <topic>], !Ref AWS::NoValue]); is {rendered:?}"
            );
        }
        for metric in watched_metrics(properties) {
            let dimension = |name: &str| metric.dimensions.get(name).cloned().unwrap_or_default();
            match metric.namespace.as_str() {
                "AWS/ApiGateway" => assert!(
                    dimension("ApiName") == api.name && stages.contains(&dimension("Stage")),
                    "{id} watches AWS/ApiGateway {} of ApiName {:?}, Stage {:?}; this stack's API is {} ({}), stage !Ref {}.Stage",
                    metric.name,
                    dimension("ApiName"),
                    dimension("Stage"),
                    api.id,
                    api.name,
                    api.id
                ),
                "AWS/Lambda" | METRICS_NAMESPACE => {
                    let key = if metric.namespace == "AWS/Lambda" { "FunctionName" } else { "Function" };
                    let function = dimension(key);
                    assert!(
                        function.strip_prefix("!Ref ").is_some_and(|f| FUNCTIONS.iter().any(|m| m.logical_id == f)),
                        "{id} watches {}/{} of {key} {function:?}; name a manifest function with !Ref",
                        metric.namespace,
                        metric.name
                    );
                }
                "AWS/SQS" => assert_eq!(
                    dimension("QueueName"),
                    format!("!GetAtt {queue}.QueueName"),
                    "{id} watches a queue other than the projector's on-failure queue {queue}"
                ),
                _ => {}
            }
            watched.push((id, metric, properties));
        }
    }

    let find = |namespace: &str, name: &str, dimension: Option<(&str, String)>| {
        watched
            .iter()
            .filter(|(_, m, _)| {
                m.namespace == namespace
                    && m.name == name
                    && dimension.as_ref().is_none_or(|(k, v)| m.dimensions.get(*k) == Some(v))
            })
            .map(|(id, m, p)| (*id, m, *p))
            .collect::<Vec<_>>()
    };
    let consumer = format!("!Ref {stream_consumer}");

    let lag = find(METRICS_NAMESPACE, "ProjectorLag", Some(("Function", consumer.clone())));
    assert!(
        lag.iter().any(|(_, m, _)| m.stat == "p99"),
        "template.yaml must alarm on the projector's lag: {METRICS_NAMESPACE}/ProjectorLag p99 with Function = {consumer}"
    );
    assert!(
        !find("AWS/Lambda", "IteratorAge", Some(("FunctionName", consumer.clone()))).is_empty(),
        "template.yaml must alarm on the stream mapping's IteratorAge (AWS/Lambda, FunctionName = {consumer})"
    );
    let depth = find("AWS/SQS", "ApproximateNumberOfMessagesVisible", None);
    assert!(
        depth.iter().any(|(_, _, p)| {
            p.get("Threshold").and_then(Value::as_f64) == Some(0.0)
                && p.get("ComparisonOperator").and_then(Value::as_str) == Some("GreaterThanThreshold")
        }),
        "template.yaml must alarm as soon as the on-failure queue {queue} holds a message (> 0)"
    );
    assert!(
        find("AWS/ApiGateway", "Latency", None).iter().any(|(_, m, _)| m.stat == "p99"),
        "template.yaml must alarm on the API's p99 Latency"
    );
    let errors: BTreeSet<&str> = find("AWS/ApiGateway", "5XXError", None).iter().map(|(id, _, _)| *id).collect();
    let counts: BTreeSet<&str> = find("AWS/ApiGateway", "Count", None).iter().map(|(id, _, _)| *id).collect();
    let rate = errors.intersection(&counts).find(|id| {
        let properties = alarms.iter().find(|(a, _)| a == *id).and_then(|(_, a)| a.get("Properties"));
        value_list(properties.and_then(|p| p.get("Metrics")))
            .iter()
            .any(|m| m.get("Expression").is_some() && m.get("ReturnData").and_then(Value::as_bool) != Some(false))
    });
    assert!(
        rate.is_some(),
        "template.yaml must alarm on the API's 5xx rate: metric math over AWS/ApiGateway 5XXError and Count, returning the expression"
    );
}

/// A metric a dashboard widget shows or an alarm evaluates (alone or in its metric math), with
/// its dimension values as written (`${ProjectorFunction}` in the dashboard's !Sub,
/// `!Ref ProjectorFunction` in an alarm).
struct MetricRef {
    namespace: String,
    name: String,
    dimensions: BTreeMap<String, String>,
    stat: String,
}

fn watched_metrics(alarm_properties: &Value) -> Vec<MetricRef> {
    let dimensions = |value: Option<&Value>| -> BTreeMap<String, String> {
        value_list(value)
            .into_iter()
            .map(|d| {
                let name = d.get("Name").and_then(Value::as_str).unwrap_or_default().to_owned();
                (name, d.get("Value").map(render).unwrap_or_default())
            })
            .collect()
    };
    let text = |value: Option<&Value>| value.map(render).unwrap_or_default();
    let mut metrics = Vec::new();
    if alarm_properties.get("MetricName").is_some() {
        metrics.push(MetricRef {
            namespace: text(alarm_properties.get("Namespace")),
            name: text(alarm_properties.get("MetricName")),
            dimensions: dimensions(alarm_properties.get("Dimensions")),
            stat: text(alarm_properties.get("ExtendedStatistic").or_else(|| alarm_properties.get("Statistic"))),
        });
    }
    for query in value_list(alarm_properties.get("Metrics")) {
        let Some(stat) = query.get("MetricStat") else { continue };
        let metric = stat.get("Metric").unwrap_or(&Value::Null);
        metrics.push(MetricRef {
            namespace: text(metric.get("Namespace")),
            name: text(metric.get("MetricName")),
            dimensions: dimensions(metric.get("Dimensions")),
            stat: text(stat.get("Stat")),
        });
    }
    metrics
}

/// The REST API every route hangs off: its logical id, its `Name` (API Gateway's `ApiName`
/// dimension) and its stage's name.
struct TodoApiIdentity {
    id: String,
    name: String,
    stage_name: String,
}

impl TodoApiIdentity {
    fn of(template: &Template) -> Self {
        let apis: Vec<(&str, &Value)> = template.resources_of_type("AWS::Serverless::Api").collect();
        assert_eq!(apis.len(), 1, "template.yaml must declare one AWS::Serverless::Api");
        let (id, api) = apis[0];
        let properties = api.get("Properties").unwrap_or(&Value::Null);
        let name = properties.get("Name").map(render).unwrap_or_else(|| {
            panic!("{id} must set Name: API Gateway's metrics name the API by it (dimension ApiName)")
        });
        let stage_name = properties.get("StageName").map(render).unwrap_or_default();
        Self { id: id.to_owned(), name, stage_name }
    }
}

/// The logical ids of the functions the WebSocket API invokes: its authorizer and its routes'.
fn websocket_functions() -> BTreeSet<&'static str> {
    std::iter::once(WEBSOCKET_AUTHORIZER)
        .chain(WEBSOCKET_ROUTES.iter().map(|r| r.binary))
        .map(|binary| manifest_function(binary).logical_id)
        .collect()
}

/// The one WebSocket API (live updates) and its one stage.
struct LiveApiIdentity {
    id: String,
    stage: String,
}

impl LiveApiIdentity {
    fn of(template: &Template) -> Self {
        let apis: Vec<(&str, &Value)> = template
            .resources_of_type("AWS::ApiGatewayV2::Api")
            .filter(|(_, a)| {
                a.get("Properties").and_then(|p| p.get("ProtocolType")).and_then(Value::as_str) == Some("WEBSOCKET")
            })
            .collect();
        assert_eq!(apis.len(), 1, "template.yaml must declare one WebSocket AWS::ApiGatewayV2::Api (live updates)");
        let (id, api) = apis[0];
        assert_eq!(
            api.get("Properties").and_then(|p| p.get("RouteSelectionExpression")).and_then(Value::as_str),
            Some("$request.body.action"),
            "{id}'s RouteSelectionExpression"
        );
        let api_ref = format!("!Ref {id}");
        let stages: Vec<(&str, &Value)> = template
            .resources_of_type("AWS::ApiGatewayV2::Stage")
            .filter(|(_, s)| {
                s.get("Properties").and_then(|p| p.get("ApiId")).map(render).as_deref() == Some(api_ref.as_str())
            })
            .collect();
        assert_eq!(stages.len(), 1, "{id} must have one stage");
        let (stage, properties) = (stages[0].0, stages[0].1.get("Properties").unwrap_or(&Value::Null));
        let deployed = properties.get("AutoDeploy").and_then(Value::as_bool) == Some(true)
            || properties.get("DeploymentId").is_some();
        assert!(deployed, "{stage} must deploy the API: AutoDeploy: true, or a DeploymentId");
        Self { id: id.to_owned(), stage: stage.to_owned() }
    }

    /// `${Api}.execute-api.${AWS::Region}.${AWS::URLSuffix}/${Stage}`, as a `!Sub` writes it.
    fn host_and_stage(&self) -> String {
        format!("${{{}}}.execute-api.${{AWS::Region}}.${{AWS::URLSuffix}}/${{{}}}", self.id, self.stage)
    }

    /// The resource of `execute-api:ManageConnections` that allows posting to this stage's connections.
    fn post_to_connections(&self) -> String {
        format!(
            "!Sub arn:${{AWS::Partition}}:execute-api:${{AWS::Region}}:${{AWS::AccountId}}:${{{}}}/${{{}}}/POST/@connections/*",
            self.id, self.stage
        )
    }
}

/// The logical id of the projector's on-failure queue.
fn failure_queue(template: &Template) -> String {
    let destination = projector_mapping(template).failure_destination;
    let queue = destination.strip_prefix("!GetAtt ").and_then(|d| d.strip_suffix(".Arn")).unwrap_or_else(|| {
        panic!("the stream mapping's on-failure destination must be !GetAtt <queue>.Arn, is {destination}")
    });
    template.resource(queue, "AWS::SQS::Queue");
    queue.to_owned()
}

fn manifest_function(binary: &str) -> &'static Function {
    FUNCTIONS.iter().find(|f| f.binary == binary).unwrap_or_else(|| panic!("manifest.rs lists no function {binary}"))
}

/// A `!Sub`'s template string and the names of its variable map, short or long form alike.
fn sub_template(value: &Value) -> Option<(String, BTreeSet<String>)> {
    let argument = match value {
        Value::Tagged(tagged) if tagged.tag.to_string().trim_start_matches('!') == "Sub" => &tagged.value,
        Value::Mapping(mapping) if mapping.len() == 1 => mapping.get("Fn::Sub")?,
        _ => return None,
    };
    match argument {
        Value::String(text) => Some((text.clone(), BTreeSet::new())),
        Value::Sequence(parts) if parts.len() == 2 => {
            Some((parts[0].as_str()?.to_owned(), parts[1].as_mapping().map(|_| mapping_keys(&parts[1]))?))
        }
        _ => None,
    }
}

/// The names a `!Sub` template substitutes (`${Name}`, `${Resource.Attribute}`), not its literal `${!...}`.
fn sub_references(text: &str) -> BTreeSet<String> {
    let mut references = BTreeSet::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        rest = &rest[start + 2..];
        if rest.starts_with('!') {
            continue;
        }
        if let Some(end) = rest.find('}') {
            references.insert(rest[..end].trim().to_owned());
            rest = &rest[end + 1..];
        }
    }
    references
}

// ------------------------------------------------------------------------------------------ template

struct Template {
    root: Value,
}

impl Template {
    fn load() -> Self {
        Self { root: load_yaml("template.yaml") }
    }

    fn resources(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.root
            .get("Resources")
            .and_then(Value::as_mapping)
            .expect("template.yaml has Resources")
            .iter()
            .filter_map(|(k, v)| Some((k.as_str()?, v)))
    }

    fn resources_of_type<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = (&'a str, &'a Value)> + 'a {
        self.resources().filter(move |(_, r)| r.get("Type").and_then(Value::as_str) == Some(kind))
    }

    fn functions(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.resources_of_type("AWS::Serverless::Function")
    }

    fn resource(&self, id: &str, kind: &str) -> &Value {
        let resource = self
            .resources()
            .find(|(k, _)| *k == id)
            .map(|(_, r)| r)
            .unwrap_or_else(|| panic!("template.yaml has no resource {id}"));
        assert_eq!(resource.get("Type").and_then(Value::as_str), Some(kind), "template.yaml's {id} must be a {kind}");
        resource
    }

    fn function(&self, id: &str) -> &Value {
        self.resource(id, "AWS::Serverless::Function")
    }

    fn has_resource(&self, id: &str) -> bool {
        self.resources().any(|(k, _)| k == id)
    }

    fn has_parameter(&self, name: &str) -> bool {
        self.root.get("Parameters").and_then(|p| p.get(name)).is_some()
    }

    fn globals_function(&self) -> Option<&Value> {
        self.root.get("Globals").and_then(|g| g.get("Function"))
    }

    /// A function's property, or the Globals one it inherits.
    fn function_property(&self, id: &str, name: &str) -> Option<&Value> {
        self.function(id)
            .get("Properties")
            .and_then(|p| p.get(name))
            .or_else(|| self.globals_function().and_then(|g| g.get(name)))
    }
}

struct StreamMapping {
    function: String,
    failure_destination: String,
}

/// The one event source mapping on the event table's stream, with the settings the design asks for.
fn projector_mapping(template: &Template) -> StreamMapping {
    stream_mapping(template, EVENTS_TABLE)
}

/// The stream consumers of the manifest by logical id, each with the table whose stream it reads
/// and its mapping: each is the one function its table's stream invokes.
fn stream_consumers(template: &Template) -> BTreeMap<String, (&'static str, StreamMapping)> {
    let mut consumers = BTreeMap::new();
    for (binary, table) in STREAM_CONSUMERS {
        let function = manifest_function(binary);
        let table = table_resource(*table);
        let mapping = stream_mapping(template, table);
        assert_eq!(
            mapping.function, function.logical_id,
            "the event source mapping on {table}'s stream must invoke {} (manifest::STREAM_CONSUMERS), not {}",
            function.logical_id, mapping.function
        );
        consumers.insert(function.logical_id.to_owned(), (table, mapping));
    }
    let mapped = template.resources_of_type("AWS::Lambda::EventSourceMapping").count();
    assert_eq!(
        mapped,
        consumers.len(),
        "template.yaml has event source mappings manifest::STREAM_CONSUMERS does not list"
    );
    consumers
}

/// The one event source mapping on a table's stream, with the settings the design asks for.
fn stream_mapping(template: &Template, table: &str) -> StreamMapping {
    let stream = format!("!GetAtt {table}.StreamArn");
    let mappings: Vec<(&str, &Value)> = template
        .resources_of_type("AWS::Lambda::EventSourceMapping")
        .filter(|(_, m)| {
            m.get("Properties").and_then(|p| p.get("EventSourceArn")).map(render).as_deref() == Some(stream.as_str())
        })
        .collect();
    assert_eq!(mappings.len(), 1, "template.yaml must have exactly one AWS::Lambda::EventSourceMapping on {stream}");
    let (id, mapping) = mappings[0];
    let props = mapping.get("Properties").unwrap_or(&Value::Null);
    let function = props.get("FunctionName").map(render).unwrap_or_default();
    let function = function.strip_prefix("!Ref ").unwrap_or(&function).to_owned();
    assert!(
        string_list(props.get("FunctionResponseTypes")).contains(&"ReportBatchItemFailures".to_owned()),
        "{id} must set FunctionResponseTypes [ReportBatchItemFailures]: one bad record must not block the shard"
    );
    assert_eq!(
        props.get("BisectBatchOnFunctionError").and_then(Value::as_bool),
        Some(true),
        "{id} must bisect failing batches"
    );
    let retries = props.get("MaximumRetryAttempts").and_then(Value::as_i64);
    assert!(matches!(retries, Some(0..=10)), "{id} must cap MaximumRetryAttempts (is {retries:?})");
    let age = props.get("MaximumRecordAgeInSeconds").and_then(Value::as_i64);
    assert!(matches!(age, Some(60..=86_400)), "{id} must cap MaximumRecordAgeInSeconds (is {age:?})");
    let failure_destination = props
        .get("DestinationConfig")
        .and_then(|d| d.get("OnFailure"))
        .and_then(|o| o.get("Destination"))
        .map(render)
        .unwrap_or_else(|| {
            panic!("{id} must send what still fails to an on-failure queue (DestinationConfig.OnFailure)")
        });
    StreamMapping { function, failure_destination }
}

/// The `(METHOD, path)` of a function's SAM events of type Api.
fn api_events(function: &Value) -> Vec<(String, String)> {
    events_of_type(function, "Api")
        .map(|event| {
            let props = event.get("Properties").unwrap_or(&Value::Null);
            let method = props.get("Method").and_then(Value::as_str).unwrap_or_default().to_uppercase();
            let path = props.get("Path").and_then(Value::as_str).unwrap_or_default().to_owned();
            (method, path)
        })
        .collect()
}

fn events_of_type<'a>(function: &'a Value, kind: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
    function
        .get("Properties")
        .and_then(|p| p.get("Events"))
        .and_then(Value::as_mapping)
        .into_iter()
        .flat_map(|events| events.values())
        .filter(move |event| event.get("Type").and_then(Value::as_str) == Some(kind))
}

/// The statements of a function's inline policies; a managed policy or SAM policy template fails.
fn policy_statements<'a>(id: &str, properties: &'a Value) -> Vec<&'a Value> {
    let mut statements = Vec::new();
    for policy in value_list(properties.get("Policies")) {
        let Some(list) = policy.get("Statement") else {
            panic!(
                "{id} uses the managed policy or SAM policy template {}; grant with inline statements so its \
                 permissions are exactly the manifest's",
                render(policy)
            );
        };
        statements.extend(value_list(Some(list)));
    }
    statements
}

/// resource -> actions, as the manifest says.
fn expected_grants(function: &Function) -> BTreeMap<String, BTreeSet<String>> {
    let mut grants: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (table, actions) in function.dynamodb {
        let resource = match table {
            Table::EventsTimeline => format!("!Sub ${{{EVENTS_TABLE}.Arn}}/index/{USER_TIMELINE_INDEX}"),
            other => format!("!GetAtt {}.Arn", table_resource(*other)),
        };
        grants.entry(resource).or_default().extend(actions.iter().map(|a| (*a).to_owned()));
    }
    grants
}

fn key_schema(value: Option<&Value>) -> Vec<(String, String)> {
    value_list(value)
        .into_iter()
        .map(|k| {
            let name = k.get("AttributeName").and_then(Value::as_str).unwrap_or_default().to_owned();
            let kind = k.get("KeyType").and_then(Value::as_str).unwrap_or_default().to_owned();
            (name, kind)
        })
        .collect()
}

fn attribute_types(table_properties: &Value) -> BTreeMap<String, String> {
    value_list(table_properties.get("AttributeDefinitions"))
        .into_iter()
        .map(|a| {
            let name = a.get("AttributeName").and_then(Value::as_str).unwrap_or_default().to_owned();
            let kind = a.get("AttributeType").and_then(Value::as_str).unwrap_or_default().to_owned();
            (name, kind)
        })
        .collect()
}

// ------------------------------------------------------------------------------------------ OpenAPI

fn openapi_routes(openapi: &Value) -> BTreeSet<(String, String)> {
    let paths = openapi.get("paths").and_then(Value::as_mapping).expect("openapi.yaml has paths");
    let mut routes = BTreeSet::new();
    for (path, item) in paths {
        let path = path.as_str().expect("openapi.yaml path keys are strings");
        for method in item.as_mapping().into_iter().flat_map(|m| m.keys()).filter_map(Value::as_str) {
            if HTTP_METHODS.contains(&method) {
                routes.insert((method.to_uppercase(), path.to_owned()));
            }
        }
    }
    routes
}

fn openapi_operation<'a>(openapi: &'a Value, method: &str, path: &str) -> &'a Value {
    openapi
        .get("paths")
        .and_then(|p| p.get(path))
        .and_then(|item| item.get(method.to_lowercase().as_str()))
        .unwrap_or_else(|| panic!("openapi.yaml does not describe {method} {path}"))
}

/// Names of an operation's parameters, its path item's included, `$ref`s followed.
fn resolved_parameter_names(openapi: &Value, operation: &Value, path: &str) -> BTreeSet<String> {
    let path_item = openapi.get("paths").and_then(|p| p.get(path));
    let lists = [path_item.and_then(|p| p.get("parameters")), operation.get("parameters")];
    lists
        .into_iter()
        .flat_map(value_list)
        .filter_map(|p| resolve(openapi, Some(p)))
        .filter_map(|p| p.get("name").and_then(Value::as_str).map(str::to_owned))
        .collect()
}

/// Follows a local `$ref` (`#/a/b/c`), or returns the value itself.
fn resolve<'a>(document: &'a Value, value: Option<&'a Value>) -> Option<&'a Value> {
    let value = value?;
    match value.get("$ref").and_then(Value::as_str) {
        Some(reference) => {
            let pointer = reference.strip_prefix("#/")?;
            pointer.split('/').try_fold(document, |node, key| node.get(key))
        }
        None => Some(value),
    }
}

// ------------------------------------------------------------------------------------------ workspace

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("platform/ has a parent").to_path_buf()
}

fn load_yaml(name: &str) -> Value {
    let path = repo_root().join(name);
    let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{} is not valid YAML: {e}", path.display()))
}

/// Every binary the workspace members build, with the file it starts from.
fn workspace_binaries() -> BTreeMap<String, PathBuf> {
    let root = repo_root();
    let root_manifest = fs::read_to_string(root.join("Cargo.toml")).expect("the workspace has a Cargo.toml");
    let mut binaries = BTreeMap::new();
    for member in workspace_members(&root_manifest) {
        let dir = root.join(&member);
        let Ok(text) = fs::read_to_string(dir.join("Cargo.toml")) else { continue };
        let package = CargoPackage::parse(&text);
        if let Some(name) = &package.name {
            let main = dir.join("src/main.rs");
            if main.is_file() {
                binaries.insert(name.clone(), main);
            }
        }
        if let Ok(entries) = fs::read_dir(dir.join("src/bin")) {
            for entry in entries.flatten() {
                let path = entry.path();
                if path.extension().is_some_and(|e| e == "rs") {
                    if let Some(stem) = path.file_stem().and_then(|s| s.to_str()) {
                        binaries.insert(stem.to_owned(), path.clone());
                    }
                } else if path.join("main.rs").is_file()
                    && let Some(name) = path.file_name().and_then(|s| s.to_str())
                {
                    binaries.insert(name.to_owned(), path.join("main.rs"));
                }
            }
        }
        for bin in package.bins {
            let Some(name) = bin.name else { continue };
            let path = match bin.path {
                Some(path) => dir.join(path),
                None if package.name.as_deref() == Some(name.as_str()) => dir.join("src/main.rs"),
                None => dir.join(format!("src/bin/{name}.rs")),
            };
            if path.is_file() {
                binaries.insert(name, path);
            }
        }
    }
    binaries
}

/// The quoted entries of the root manifest's `members = [...]`.
fn workspace_members(root_manifest: &str) -> Vec<String> {
    let start = root_manifest.find("members").expect("the workspace Cargo.toml lists members");
    let rest = &root_manifest[start..];
    let open = rest.find('[').expect("members = [");
    let close = rest.find(']').expect("members = [...]");
    rest[open + 1..close].split(',').map(|m| m.trim().trim_matches('"').to_owned()).filter(|m| !m.is_empty()).collect()
}

/// The few fields of a member's Cargo.toml this test needs, read line by line (no TOML crate here).
#[derive(Default)]
struct CargoPackage {
    name: Option<String>,
    bins: Vec<CargoBin>,
}

#[derive(Default)]
struct CargoBin {
    name: Option<String>,
    path: Option<String>,
}

impl CargoPackage {
    fn parse(text: &str) -> Self {
        let mut package = Self::default();
        let mut section = String::new();
        for line in text.lines() {
            let line = line.split('#').next().unwrap_or_default().trim();
            if line.starts_with('[') {
                section = line.to_owned();
                if section == "[[bin]]" {
                    package.bins.push(CargoBin::default());
                }
                continue;
            }
            let Some((key, value)) = line.split_once('=') else { continue };
            let (key, value) = (key.trim(), value.trim().trim_matches('"').to_owned());
            match (section.as_str(), key) {
                ("[package]", "name") => package.name = Some(value),
                ("[[bin]]", "name") => package.bins.last_mut().expect("a [[bin]] section").name = Some(value),
                ("[[bin]]", "path") => package.bins.last_mut().expect("a [[bin]] section").path = Some(value),
                _ => {}
            }
        }
        package
    }
}

// ------------------------------------------------------------------------------------------ YAML

/// A scalar or a CloudFormation intrinsic in one canonical spelling, short or long form alike:
/// `!GetAtt EventsTable.Arn`, `!Sub ${EventsTable.Arn}/index/UserTimeline`, `!Ref TodoApi`.
fn render(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Null => "null".to_owned(),
        Value::Sequence(items) => format!("[{}]", items.iter().map(render).collect::<Vec<_>>().join(", ")),
        Value::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            render_intrinsic(tag.trim_start_matches('!'), &tagged.value)
        }
        Value::Mapping(mapping) if mapping.len() == 1 => {
            let (key, inner) = mapping.iter().next().expect("one entry");
            match key.as_str() {
                Some("Ref") => render_intrinsic("Ref", inner),
                Some(name) if name.starts_with("Fn::") => render_intrinsic(&name[4..], inner),
                _ => serde_yaml::to_string(value).unwrap_or_default().trim().to_owned(),
            }
        }
        Value::Mapping(_) => serde_yaml::to_string(value).unwrap_or_default().trim().to_owned(),
    }
}

fn render_intrinsic(name: &str, argument: &Value) -> String {
    let argument = match (name, argument) {
        // The long form of GetAtt is [resource, attribute].
        ("GetAtt", Value::Sequence(parts)) => parts.iter().map(render).collect::<Vec<_>>().join("."),
        _ => render(argument),
    };
    format!("!{name} {argument}")
}

fn value_list(value: Option<&Value>) -> Vec<&Value> {
    match value {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Sequence(items)) => items.iter().collect(),
        Some(single) => vec![single],
    }
}

fn string_list(value: Option<&Value>) -> Vec<String> {
    value_list(value).into_iter().map(render).collect()
}

fn mapping_keys(value: &Value) -> BTreeSet<String> {
    value.as_mapping().into_iter().flat_map(|m| m.keys()).filter_map(|k| k.as_str().map(str::to_owned)).collect()
}

/// The live-updates frames are described in `openapi.yaml`'s components as exactly what
/// `todo_platform::live` sends: the same members, all required, and the same names of changes.
#[test]
fn openapi_describes_the_live_messages_as_sent() {
    use events_schema::{Timestamp, Todo, TodoId, TodoItem};
    use todo_platform::live::{LiveMessage, REREAD_MESSAGE};

    let openapi = load_yaml("openapi.yaml");
    let schema = |name: &str| {
        openapi
            .get("components")
            .and_then(|c| c.get("schemas"))
            .and_then(|s| s.get(name))
            .cloned()
            .unwrap_or_else(|| panic!("openapi.yaml has no components.schemas.{name}"))
    };
    let strings = |value: Option<&Value>| -> BTreeSet<String> {
        value_list(value).into_iter().filter_map(|v| v.as_str().map(str::to_owned)).collect()
    };
    let at = Timestamp::parse("2026-11-29T10:00:00Z").unwrap();
    let item = |version, completed| TodoItem {
        id: TodoId::from_uuid(uuid::Uuid::from_u128(1)),
        title: "Buy milk".into(),
        notes: None,
        completed,
        created_at: at,
        updated_at: at,
        completed_at: None,
        version,
    };
    let states = [
        Todo::NotCreated,
        Todo::Live(item(1, false)),
        Todo::Live(item(2, false)),
        Todo::Live(item(3, true)),
        Todo::Live(item(4, false)),
        Todo::Deleted(item(5, false)),
    ];
    let live = schema("LiveMessage");
    let members = live.get("properties").map(mapping_keys).unwrap_or_default();
    assert_eq!(strings(live.get("required")), members, "every member of a live message is always sent");
    let mut changes = BTreeSet::new();
    for pair in states.windows(2) {
        let sent: serde_json::Value =
            serde_json::from_str(&LiveMessage::between(&pair[0], &pair[1]).unwrap().to_json()).unwrap();
        let keys: BTreeSet<String> = sent.as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys, members, "the members sent: {sent}");
        changes.insert(sent["change"].as_str().unwrap().to_owned());
    }
    let documented = strings(live.get("properties").and_then(|p| p.get("change")).and_then(|c| c.get("enum")));
    assert_eq!(changes, documented, "the changes sent are the changes documented");

    let reread: serde_json::Value = serde_json::from_str(REREAD_MESSAGE).unwrap();
    let reread_schema = schema("LiveReread");
    assert_eq!(
        strings(reread_schema.get("properties").and_then(|p| p.get("type")).and_then(|t| t.get("enum"))),
        BTreeSet::from([reread["type"].as_str().unwrap().to_owned()])
    );
}
