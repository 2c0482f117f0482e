//! `todo-audit erasures` against DynamoDB Local: every receipt and every erasure still under way of
//! `ErasureTable`, page by page, as text or JSON, with the counts; one user's erasure found by hashing
//! their id under the stack's key; nothing printed names a user; usage errors exit 2.

use std::process::Command;

use events_schema::{Timestamp, UserId};
use serde_json::Value;
use todo_platform::store::dynamo::{DynamoStore, create_erasure_table};
use todo_platform::store::{ErasedCounts, Erasure, ErasureKey, ErasureLog, ErasureReceipt, UserKey};
use todo_testkit::dynamodb::{Tables, tool};

const ANN: &str = "0a1b2c3d-ann0-4e5f-8a9b-0c1d2e3f4a5b";
const BOB: &str = "9f8e7d6c-bob0-4b4a-9f8e-7d6c5b4a3f2e";
const CAROL: &str = "5e6f7a8b-car0-4c1d-9e2f-3a4b5c6d7e8f";
const DAVE: &str = "1c2d3e4f-dav0-4a5b-8c9d-0e1f2a3b4c5d";

struct Erasures {
    tables: Tables,
    table: String,
    key: ErasureKey,
    store: DynamoStore,
}

impl Erasures {
    async fn fresh() -> Self {
        let tables = Tables::fresh().await;
        let table = format!("Erasures-{}", uuid::Uuid::new_v4().simple());
        create_erasure_table(&tables.client, &table).await.expect("creating the erasure table in DynamoDB Local");
        let store = tables.store().with_erasure_table(&table);
        Self { tables, table, key: ErasureKey::generate(), store }
    }

    fn user_key(&self, user: &str) -> UserKey {
        self.key.user_key(&UserId::parse(user).unwrap())
    }

    /// A finished erasure, as `erase-account` leaves it: the marker, then the receipt over it.
    async fn erased(&self, user: &str, requested_at: &str, erased: ErasedCounts) -> ErasureReceipt {
        let user_key = self.user_key(user);
        let requested_at = at(requested_at);
        let request_id = format!("request-of-{}", &user_key.as_str()[..8]);
        self.store.begin_erasure(&user_key, requested_at, &request_id).await.unwrap();
        let receipt = ErasureReceipt {
            user_key,
            requested_at,
            erased_at: Timestamp::from_datetime(requested_at.as_datetime() + chrono::Duration::seconds(18)),
            request_id,
            erased,
        };
        self.store.record_erasure(&Erasure::Erased(receipt.clone())).await.unwrap();
        receipt
    }

    /// An erasure that stopped part of the way: its marker with the progress so far.
    async fn erasing(&self, user: &str, requested_at: &str, erased: ErasedCounts) {
        let user_key = self.user_key(user);
        let request_id = format!("request-of-{}", &user_key.as_str()[..8]);
        self.store.begin_erasure(&user_key, at(requested_at), &request_id).await.unwrap();
        let progress = Erasure::Erasing { user_key, requested_at: at(requested_at), request_id, erased };
        self.store.record_erasure(&progress).await.unwrap();
    }

    fn command(&self) -> Command {
        let mut command = tool(env!("CARGO_BIN_EXE_todo-audit"), &self.tables);
        command.env("ERASURE_TABLE_NAME", &self.table);
        command
    }

    fn run(&self, args: &[&str]) -> Run {
        run(self.command(), args)
    }
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(mut command: Command, args: &[&str]) -> Run {
    let output = command.arg("erasures").args(args).output().expect("run todo-audit");
    let run = Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
    eprintln!("todo-audit erasures {args:?} -> {}:\n{}{}", run.code, run.stdout, run.stderr);
    run
}

fn at(text: &str) -> Timestamp {
    Timestamp::parse(text).unwrap()
}

fn counts(events: u64, todos: u64, stats: u64, snapshots: u64, connections: u64) -> ErasedCounts {
    ErasedCounts { events, todos, stats, snapshots, connections }
}

/// Nothing `todo-audit erasures` prints names a user.
fn names_nobody(text: &str) {
    for user in [ANN, BOB, CAROL, DAVE] {
        assert!(!text.contains(user), "the output names {user}: {text}");
        let prefix = &user[..8];
        assert!(!text.contains(prefix), "the output contains a piece of {user}: {text}");
    }
}

#[tokio::test]
async fn an_empty_table_lists_nothing_and_counts_zero() {
    let erasures = Erasures::fresh().await;
    let run = erasures.run(&[]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.stdout, "0 erasure(s): 0 erased, 0 still erasing\n");

    let run = erasures.run(&["--json"]);
    assert_eq!(run.code, 0);
    assert_eq!(run.stdout, "", "no erasure, no object");
    let summary: Value = serde_json::from_str(run.stderr.lines().last().unwrap()).unwrap();
    assert_eq!(summary["erasures"], 0);
    assert_eq!(summary["oldestErasingRequestedAt"], Value::Null);
}

#[tokio::test]
async fn every_receipt_and_erasure_under_way_is_listed_once_page_by_page() {
    let erasures = Erasures::fresh().await;
    let ann = erasures.erased(ANN, "2026-03-01T10:00:00Z", counts(120, 7, 7, 3, 2)).await;
    let bob = erasures.erased(BOB, "2026-03-02T11:00:00Z", counts(0, 0, 0, 0, 0)).await;
    erasures.erasing(CAROL, "2026-03-03T12:00:00Z", counts(100, 0, 0, 0, 1)).await;

    for page_size in ["1", "2", "1000"] {
        let run = erasures.run(&["--page-size", page_size]);
        assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
        let lines: Vec<&str> = run.stdout.lines().collect();
        assert_eq!(lines.len(), 4, "three erasures and the counts: {}", run.stdout);
        assert_eq!(
            lines[3],
            "3 erasure(s): 2 erased, 1 still erasing (the oldest asked for at 2026-03-03T12:00:00.000000Z)"
        );
        let line_of = |user: &str| {
            let key = erasures.user_key(user);
            let found: Vec<&&str> = lines.iter().filter(|l| l.contains(key.as_str())).collect();
            assert_eq!(found.len(), 1, "{user}'s erasure is listed once: {}", run.stdout);
            found[0].to_string()
        };
        assert_eq!(
            line_of(ANN),
            format!(
                "erased   {} requested 2026-03-01T10:00:00.000000Z erased 2026-03-01T10:00:18.000000Z request {}: \
                 120 events, 7 todos, 7 stats, 3 snapshots, 2 connections",
                ann.user_key, ann.request_id
            )
        );
        assert!(line_of(BOB).starts_with(&format!("erased   {} ", bob.user_key)));
        assert!(
            line_of(CAROL).starts_with(&format!(
                "erasing  {} requested 2026-03-03T12:00:00.000000Z request ",
                erasures.user_key(CAROL)
            )) && line_of(CAROL).ends_with(": so far 100 events, 0 todos, 0 stats, 0 snapshots, 1 connections"),
            "{}",
            line_of(CAROL)
        );
        assert!(!run.stdout.contains(erasures.user_key(DAVE).as_str()), "nobody else");
        names_nobody(&run.stdout);
    }
}

#[tokio::test]
async fn json_gives_each_receipt_as_delete_account_answers_it() {
    let erasures = Erasures::fresh().await;
    let ann = erasures.erased(ANN, "2026-03-01T10:00:00Z", counts(5, 2, 2, 1, 0)).await;
    erasures.erasing(BOB, "2026-03-02T11:00:00Z", counts(3, 0, 0, 0, 0)).await;

    let run = erasures.run(&["--json", "--page-size", "1"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let objects: Vec<Value> =
        run.stdout.lines().map(|l| serde_json::from_str(l).expect("one JSON object a line")).collect();
    assert_eq!(objects.len(), 2, "{}", run.stdout);
    let of = |status: &str| objects.iter().find(|o| o["status"] == status).expect(status).clone();

    let mut receipt = of("erased");
    receipt.as_object_mut().unwrap().remove("status");
    assert_eq!(receipt, serde_json::to_value(&ann).unwrap(), "the receipt as DELETE /account's 200 carries it");

    let under_way = of("erasing");
    assert_eq!(under_way["userKey"], erasures.user_key(BOB).as_str());
    assert_eq!(under_way["requestedAt"], "2026-03-02T11:00:00.000000Z");
    assert_eq!(
        under_way["erased"],
        serde_json::json!({"events": 3, "todos": 0, "stats": 0, "snapshots": 0, "connections": 0})
    );
    assert!(under_way.get("erasedAt").is_none(), "not erased yet: {under_way}");

    let summary: Value = serde_json::from_str(run.stderr.lines().last().unwrap()).unwrap();
    assert_eq!(
        summary,
        serde_json::json!({"erasures": 2, "erased": 1, "erasing": 1, "oldestErasingRequestedAt": "2026-03-02T11:00:00.000000Z"})
    );
    names_nobody(&run.stdout);
    names_nobody(&run.stderr);
}

#[tokio::test]
async fn one_users_erasure_is_found_with_the_stacks_key() {
    let erasures = Erasures::fresh().await;
    let ann = erasures.erased(ANN, "2026-03-01T10:00:00Z", counts(5, 2, 2, 1, 0)).await;
    erasures.erasing(BOB, "2026-03-02T11:00:00Z", counts(3, 0, 0, 0, 0)).await;
    let with_key = |key: &str| {
        let mut command = erasures.command();
        command.env("ERASURE_KEY", key);
        command
    };
    let key = erasures.key.to_hex();

    let found = run(with_key(&key), &["--user", ANN]);
    assert_eq!(found.code, 0, "{}{}", found.stdout, found.stderr);
    assert_eq!(found.stdout.lines().count(), 2, "{}", found.stdout);
    assert!(found.stdout.starts_with(&format!("erased   {} ", ann.user_key)), "{}", found.stdout);
    assert!(found.stdout.ends_with("1 erasure(s): 1 erased, 0 still erasing\n"), "{}", found.stdout);
    names_nobody(&found.stdout);

    let under_way = run(with_key(&key), &["--user", BOB, "--json"]);
    assert_eq!(under_way.code, 0);
    let object: Value = serde_json::from_str(under_way.stdout.trim()).unwrap();
    assert_eq!(
        (object["status"].as_str(), object["userKey"].as_str()),
        (Some("erasing"), Some(erasures.user_key(BOB).as_str()))
    );

    let none = run(with_key(&key), &["--user", DAVE]);
    assert_eq!(none.code, 0);
    assert_eq!(
        none.stdout,
        format!(
            "no erasure of this user (userKey {})\n0 erasure(s): 0 erased, 0 still erasing\n",
            erasures.user_key(DAVE)
        )
    );

    // Another stack's key hashes Ann elsewhere: her receipt is not found under it.
    let other = run(with_key(&ErasureKey::generate().to_hex()), &["--user", ANN]);
    assert_eq!(other.code, 0);
    assert!(other.stdout.starts_with("no erasure of this user"), "{}", other.stdout);
}

#[tokio::test]
async fn usage_errors_exit_2() {
    let erasures = Erasures::fresh().await;
    // --user without the key, with a key that is not 64 hex characters, with a malformed user id.
    let cases: Vec<(Command, Vec<&str>)> = vec![
        (erasures.command(), vec!["--user", ANN]),
        (
            {
                let mut command = erasures.command();
                command.env("ERASURE_KEY", "not-a-key");
                command
            },
            vec!["--user", ANN],
        ),
        (
            {
                let mut command = erasures.command();
                command.env("ERASURE_KEY", erasures.key.to_hex());
                command
            },
            vec!["--user", ""],
        ),
        (erasures.command(), vec!["--page-size", "0"]),
        (erasures.command(), vec!["--frobnicate"]),
        // No ERASURE_TABLE_NAME.
        (tool(env!("CARGO_BIN_EXE_todo-audit"), &erasures.tables), vec![]),
    ];
    for (command, args) in cases {
        let run = run(command, &args);
        assert_eq!(run.code, 2, "{args:?}: {}{}", run.stdout, run.stderr);
    }
}
