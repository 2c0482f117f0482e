//! The deployable functions: what each one serves, reads from its environment and may call.
//!
//! This is the one list that `template.yaml`, the OpenAPI document and the local stack's router are
//! checked against (`platform/tests/deployment.rs`). Add a function here first.

/// Environment variable naming the event table.
pub const EVENTS_TABLE_NAME: &str = "EVENTS_TABLE_NAME";
/// Environment variable naming the read-model table.
pub const TODO_TABLE_NAME: &str = "TODO_TABLE_NAME";
/// Environment variable naming the stats projection's table.
pub const STATS_TABLE_NAME: &str = "STATS_TABLE_NAME";
/// Environment variable naming the list snapshots' table.
pub const SNAPSHOTS_TABLE_NAME: &str = "SNAPSHOTS_TABLE_NAME";
/// Environment variable naming the single origin allowed by CORS (the SPA's).
pub const CORS_ALLOWED_ORIGIN: &str = "CORS_ALLOWED_ORIGIN";
/// Environment variable naming the live updates' connections table.
pub const CONNECTIONS_TABLE_NAME: &str = "CONNECTIONS_TABLE_NAME";
/// Environment variable holding the stack's erasure key (64 hex characters): user ids are hashed
/// under it into `ErasureTable`'s keys. From a Secrets Manager secret of the stack.
pub const ERASURE_KEY: &str = "ERASURE_KEY";
/// Environment variable naming the account erasures' table (`ErasureTable`: markers and receipts).
pub const ERASURE_TABLE_NAME: &str = "ERASURE_TABLE_NAME";
/// Environment variable naming the Cognito user pool (`<region>_<id>`) whose ID tokens the live
/// authorizer accepts; the region, the issuer and the JWKS address all follow from it.
pub const COGNITO_USER_POOL_ID: &str = "COGNITO_USER_POOL_ID";
/// Environment variable naming the app client the ID tokens must be issued for (their `aud`).
pub const COGNITO_CLIENT_ID: &str = "COGNITO_CLIENT_ID";
/// Environment variable naming the WebSocket API's management endpoint the notifier posts to
/// (`https://<api id>.execute-api.<region>.amazonaws.com/<stage>`).
pub const LIVE_MANAGEMENT_ENDPOINT: &str = "LIVE_MANAGEMENT_ENDPOINT";

/// Key attributes of both tables (`DESIGN.md`, "Data"): the template, the DynamoDB adapter and the
/// tables the tests create all use these.
pub const USER_ID_KEY: &str = "userId";
/// The event table's sort key: `<todoId>#<version, 10 digits>`.
pub const EVENT_KEY: &str = "eventKey";
/// The read model's sort key.
pub const TODO_ID_KEY: &str = "todoId";
/// The `UserTimeline` index's sort key.
pub const OCCURRED_AT_KEY: &str = "occurredAt";
/// The snapshots table's sort key: `<instant, RFC 3339 with microseconds>#<part, 4 digits>`.
pub const SNAPSHOT_KEY: &str = "snapshotKey";
/// The connections table's sort key: API Gateway's id of one WebSocket connection.
pub const CONNECTION_ID_KEY: &str = "connectionId";
/// The erasure table's partition key (no sort key): the keyed hash of a user id, never the id.
pub const USER_KEY: &str = "userKey";

/// The global secondary index of the event table that orders a user's events in time.
pub const USER_TIMELINE_INDEX: &str = "UserTimeline";
/// The read model's TTL attribute, set on tombstones only.
pub const TODO_TABLE_TTL_ATTRIBUTE: &str = "expiresAt";
/// The connections table's TTL attribute: when API Gateway closes the connection at the latest.
pub const CONNECTIONS_TTL_ATTRIBUTE: &str = "expiresAt";

/// Which table a permission is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    Events,
    /// The event table's `UserTimeline` index.
    EventsTimeline,
    Todos,
    /// The stats projection's table (`StatsTable`).
    Stats,
    /// The list snapshots' table (`SnapshotsTable`).
    Snapshots,
    /// The live updates' open WebSocket connections (`ConnectionsTable`).
    Connections,
    /// Account erasures: markers while they run, then receipts (`ErasureTable`).
    Erasure,
}

/// An HTTP route served through API Gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub method: &'static str,
    /// In API Gateway's notation: `/item/{id}`.
    pub path: &'static str,
}

/// One Lambda function of the stack.
#[derive(Debug, Clone, Copy)]
pub struct Function {
    /// The workspace binary and the template's `BuildProperties.Binary`.
    pub binary: &'static str,
    /// The template's logical id.
    pub logical_id: &'static str,
    pub route: Option<Route>,
    /// Environment variables the binary requires at start-up.
    pub env: &'static [&'static str],
    /// The DynamoDB actions it calls, per table: its IAM policy, no more.
    pub dynamodb: &'static [(Table, &'static [&'static str])],
}

// Every command reads its user's erasure marker before it writes (the erasure fence).
const COMMAND_ENV: &[&str] = &[EVENTS_TABLE_NAME, ERASURE_TABLE_NAME, ERASURE_KEY, CORS_ALLOWED_ORIGIN];
const COMMAND_CALLS: &[(Table, &[&str])] =
    &[(Table::Events, &["dynamodb:Query", "dynamodb:PutItem"]), (Table::Erasure, &["dynamodb:GetItem"])];

pub const FUNCTIONS: &[Function] = &[
    Function {
        binary: "create-todo",
        logical_id: "CreateTodoFunction",
        route: Some(Route { method: "POST", path: "/item" }),
        env: COMMAND_ENV,
        dynamodb: COMMAND_CALLS,
    },
    Function {
        binary: "update-todo",
        logical_id: "UpdateTodoFunction",
        route: Some(Route { method: "PUT", path: "/item/{id}" }),
        env: COMMAND_ENV,
        dynamodb: COMMAND_CALLS,
    },
    Function {
        binary: "complete-todo",
        logical_id: "CompleteTodoFunction",
        route: Some(Route { method: "POST", path: "/item/{id}/done" }),
        env: COMMAND_ENV,
        dynamodb: COMMAND_CALLS,
    },
    Function {
        binary: "delete-todo",
        logical_id: "DeleteTodoFunction",
        route: Some(Route { method: "DELETE", path: "/item/{id}" }),
        env: COMMAND_ENV,
        dynamodb: COMMAND_CALLS,
    },
    Function {
        binary: "list-todos",
        logical_id: "ListTodosFunction",
        route: Some(Route { method: "GET", path: "/item" }),
        // `?asOf=` folds the user's events from the timeline index, never the read model, resumed
        // from the latest list snapshot before the instant (read only: the projector writes them).
        env: &[TODO_TABLE_NAME, EVENTS_TABLE_NAME, SNAPSHOTS_TABLE_NAME, CORS_ALLOWED_ORIGIN],
        dynamodb: &[
            (Table::Todos, &["dynamodb:Query"]),
            (Table::EventsTimeline, &["dynamodb:Query"]),
            (Table::Snapshots, &["dynamodb:Query"]),
        ],
    },
    Function {
        binary: "get-todo",
        logical_id: "GetTodoFunction",
        route: Some(Route { method: "GET", path: "/item/{id}" }),
        // `?asOf=` and `?version=` fold the todo's events from the event table.
        env: &[TODO_TABLE_NAME, EVENTS_TABLE_NAME, CORS_ALLOWED_ORIGIN],
        dynamodb: &[(Table::Todos, &["dynamodb:GetItem"]), (Table::Events, &["dynamodb:Query"])],
    },
    Function {
        binary: "get-todo-history",
        logical_id: "GetTodoHistoryFunction",
        route: Some(Route { method: "GET", path: "/item/{id}/history" }),
        env: &[EVENTS_TABLE_NAME, CORS_ALLOWED_ORIGIN],
        dynamodb: &[(Table::Events, &["dynamodb:Query"])],
    },
    Function {
        binary: "get-history",
        logical_id: "GetHistoryFunction",
        route: Some(Route { method: "GET", path: "/history" }),
        env: &[EVENTS_TABLE_NAME, CORS_ALLOWED_ORIGIN],
        dynamodb: &[(Table::EventsTimeline, &["dynamodb:Query"])],
    },
    Function {
        binary: "get-history-digest",
        logical_id: "GetHistoryDigestFunction",
        route: Some(Route { method: "GET", path: "/history/digest" }),
        env: &[EVENTS_TABLE_NAME, CORS_ALLOWED_ORIGIN],
        dynamodb: &[(Table::Events, &["dynamodb:Query"])],
    },
    Function {
        binary: "export-data",
        logical_id: "ExportDataFunction",
        route: Some(Route { method: "GET", path: "/export" }),
        env: &[EVENTS_TABLE_NAME, CORS_ALLOWED_ORIGIN],
        dynamodb: &[(Table::Events, &["dynamodb:Query"])],
    },
    Function {
        binary: "get-stats",
        logical_id: "GetStatsFunction",
        route: Some(Route { method: "GET", path: "/stats" }),
        env: &[STATS_TABLE_NAME, CORS_ALLOWED_ORIGIN],
        dynamodb: &[(Table::Stats, &["dynamodb:Query"])],
    },
    Function {
        binary: "projector",
        logical_id: "ProjectorFunction",
        route: None,
        env: &[
            EVENTS_TABLE_NAME,
            TODO_TABLE_NAME,
            STATS_TABLE_NAME,
            SNAPSHOTS_TABLE_NAME,
            ERASURE_TABLE_NAME,
            ERASURE_KEY,
        ],
        // A list snapshot is the fold of the user's timeline resumed from the latest one. After
        // each batch it reads the erasure markers of the batch's users, and takes back every row
        // of an account being erased (Query its partition, delete in batches).
        dynamodb: &[
            (Table::Events, &["dynamodb:Query"]),
            (Table::EventsTimeline, &["dynamodb:Query"]),
            (Table::Todos, &["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:BatchWriteItem"]),
            (Table::Stats, &["dynamodb:PutItem", "dynamodb:Query", "dynamodb:BatchWriteItem"]),
            (Table::Snapshots, &["dynamodb:Query", "dynamodb:PutItem", "dynamodb:BatchWriteItem"]),
            (Table::Erasure, &["dynamodb:GetItem", "dynamodb:BatchGetItem"]),
        ],
    },
    // Users' rights: the only function that may delete events.
    Function {
        binary: "erase-account",
        logical_id: "EraseAccountFunction",
        route: Some(Route { method: "DELETE", path: "/account" }),
        env: &[
            EVENTS_TABLE_NAME,
            TODO_TABLE_NAME,
            STATS_TABLE_NAME,
            SNAPSHOTS_TABLE_NAME,
            CONNECTIONS_TABLE_NAME,
            ERASURE_TABLE_NAME,
            ERASURE_KEY,
            CORS_ALLOWED_ORIGIN,
        ],
        dynamodb: &[
            (Table::Events, &["dynamodb:Query", "dynamodb:BatchWriteItem"]),
            (Table::Todos, &["dynamodb:Query", "dynamodb:BatchWriteItem"]),
            (Table::Stats, &["dynamodb:Query", "dynamodb:BatchWriteItem"]),
            (Table::Snapshots, &["dynamodb:Query", "dynamodb:BatchWriteItem"]),
            (Table::Connections, &["dynamodb:Query", "dynamodb:BatchWriteItem"]),
            (Table::Erasure, &["dynamodb:GetItem", "dynamodb:PutItem"]),
        ],
    },
    // One segment of a replay (`replay --segments N --segment I`), invoked by the replay state
    // machine's Map state; the same binary is the command-line tool.
    Function {
        binary: "replay",
        logical_id: "ReplayFunction",
        route: None,
        env: &[EVENTS_TABLE_NAME, TODO_TABLE_NAME, STATS_TABLE_NAME],
        dynamodb: &[
            (Table::Events, &["dynamodb:Scan", "dynamodb:Query"]),
            (Table::Todos, &["dynamodb:Scan", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"]),
            (Table::Stats, &["dynamodb:Scan", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"]),
        ],
    },
    // Live updates (API Gateway WebSocket API): the $connect authorizer, the $connect / $disconnect
    // integration, and the pusher on the read model's stream.
    Function {
        binary: "live-authorizer",
        logical_id: "LiveAuthorizerFunction",
        route: None,
        // It verifies tokens against the user pool's JWKS (fetched over HTTPS): no table at all.
        env: &[COGNITO_USER_POOL_ID, COGNITO_CLIENT_ID],
        dynamodb: &[],
    },
    Function {
        binary: "live-connections",
        logical_id: "LiveConnectionsFunction",
        route: None,
        // `$connect` of an account being erased (a stale token) is refused: its marker is read first.
        env: &[CONNECTIONS_TABLE_NAME, ERASURE_TABLE_NAME, ERASURE_KEY],
        dynamodb: &[
            (Table::Connections, &["dynamodb:PutItem", "dynamodb:DeleteItem"]),
            (Table::Erasure, &["dynamodb:GetItem"]),
        ],
    },
    Function {
        binary: "notifier",
        logical_id: "NotifierFunction",
        route: None,
        env: &[CONNECTIONS_TABLE_NAME, LIVE_MANAGEMENT_ENDPOINT],
        // A user's connections, and the removal of those API Gateway says are gone (410).
        dynamodb: &[(Table::Connections, &["dynamodb:Query", "dynamodb:DeleteItem"])],
    },
];

/// The functions that consume a table's stream (each through its own event source mapping, with
/// partial batch failures and an on-failure queue), and that table.
pub const STREAM_CONSUMERS: &[(&str, Table)] = &[("projector", Table::Events), ("notifier", Table::Todos)];

/// A route of the WebSocket API (`$connect`, `$disconnect`) and the binary of its integration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WebSocketRoute {
    pub route_key: &'static str,
    pub binary: &'static str,
}

/// The WebSocket API's routes (route selection `$request.body.action`; clients send nothing).
pub const WEBSOCKET_ROUTES: &[WebSocketRoute] = &[
    WebSocketRoute { route_key: "$connect", binary: "live-connections" },
    WebSocketRoute { route_key: "$disconnect", binary: "live-connections" },
];

/// The REQUEST authorizer of the WebSocket API's `$connect`, and the query parameter carrying the
/// Cognito ID token it verifies (`wss://.../prod?token=<ID token>`).
pub const WEBSOCKET_AUTHORIZER: &str = "live-authorizer";
pub const WEBSOCKET_TOKEN_PARAMETER: &str = "token";

/// The functions that post to the WebSocket API's connections: `execute-api:ManageConnections` on
/// that API's `@connections`, and nothing else of it.
pub const CONNECTION_PUSHERS: &[&str] = &["notifier"];

/// Binaries that are not Lambda functions (run by a developer or locally).
pub const TOOLS: &[&str] = &["todo-audit", "todo-local"];
