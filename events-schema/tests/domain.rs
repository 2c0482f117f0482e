//! Given the events so far, when a command is decided, then these events (or this error).

use events_schema::*;
use uuid::Uuid;

const TODO: &str = "0193f3a4-1b2c-7d8e-9f00-112233445566";

/// Events recorded for one todo, versions 1.. and one microsecond apart.
fn given(payloads: Vec<TodoEvent>) -> Vec<Event> {
    let start = Timestamp::parse("2026-11-25T10:00:00Z").unwrap();
    let mut at = start;
    payloads
        .into_iter()
        .enumerate()
        .map(|(i, payload)| {
            at = at.next();
            Event {
                user_id: UserId::parse("user-1").unwrap(),
                todo_id: TodoId::parse(TODO).unwrap(),
                version: i as u64 + 1,
                event_id: Uuid::now_v7(),
                occurred_at: at,
                payload,
                metadata: EventMetadata::default(),
                chain: None,
            }
        })
        .collect()
}

fn when(history: &[Event], command: Command) -> Result<Vec<TodoEvent>, DomainError> {
    decide(&fold(history), command, &Context::default())
}

fn when_at_version(history: &[Event], command: Command, expected: u64) -> Result<Vec<TodoEvent>, DomainError> {
    decide(&fold(history), command, &Context { expected_version: Some(expected) })
}

fn created(title: &str) -> TodoEvent {
    TodoEvent::Created(TodoCreated { title: title.into(), notes: None })
}

fn create(title: &str, notes: Option<&str>) -> Command {
    Command::Create { title: Title::parse(title).unwrap(), notes: notes.map(|n| Notes::parse(n).unwrap()) }
}

fn update(title: Option<&str>, notes: Option<&str>, completed: Option<bool>) -> Command {
    Command::Update(Changes {
        title: title.map(|t| Title::parse(t).unwrap()),
        notes: notes.map(|n| Notes::parse(n).unwrap()),
        completed,
    })
}

fn updated(title: Option<&str>, notes: Option<&str>, completed: Option<bool>) -> TodoEvent {
    TodoEvent::Updated(TodoUpdated { title: title.map(Into::into), notes: notes.map(Into::into), completed })
}

fn completed(title: &str) -> TodoEvent {
    TodoEvent::Completed(TodoCompleted { title: title.into() })
}

fn deleted(title: &str) -> TodoEvent {
    TodoEvent::Deleted(TodoDeleted { title: title.into() })
}

// --- create ---

#[test]
fn create_on_nothing_records_the_title_and_notes() {
    assert_eq!(
        when(&[], create("buy milk", Some("semi-skimmed"))),
        Ok(vec![TodoEvent::Created(TodoCreated { title: "buy milk".into(), notes: Some("semi-skimmed".into()) })])
    );
}

#[test]
fn create_with_empty_notes_records_no_notes() {
    assert_eq!(when(&[], create("buy milk", Some(""))), Ok(vec![created("buy milk")]));
}

#[test]
fn repeating_the_same_create_changes_nothing() {
    assert_eq!(when(&given(vec![created("buy milk")]), create("buy milk", None)), Ok(vec![]));
}

#[test]
fn a_create_repeats_the_creation_event_whatever_happened_since() {
    let history = given(vec![created("buy milk"), updated(Some("buy oat milk"), None, None), deleted("buy oat milk")]);
    assert!(repeats_creation(&history, &create("buy milk", None)), "the same content as the creation event");
    assert!(!repeats_creation(&history, &create("buy oat milk", None)), "not the todo's current content");
    assert!(!repeats_creation(&history, &create("buy milk", Some("2 litres"))));
    assert!(!repeats_creation(&given(vec![]), &create("buy milk", None)), "no creation to repeat");
    assert!(!repeats_creation(&history, &Command::Complete));
}

#[test]
fn create_with_a_used_id_and_other_content_is_refused() {
    assert_eq!(when(&given(vec![created("buy milk")]), create("walk dog", None)), Err(DomainError::IdTaken));
}

#[test]
fn create_with_the_id_of_a_deleted_todo_is_refused() {
    assert_eq!(
        when(&given(vec![created("buy milk"), deleted("buy milk")]), create("buy milk", None)),
        Err(DomainError::IdTaken)
    );
}

// --- update ---

#[test]
fn update_records_only_what_changed() {
    let history = given(vec![created("buy milk")]);
    assert_eq!(
        when(&history, update(Some("buy milk"), Some("2 litres"), None)),
        Ok(vec![updated(None, Some("2 litres"), None)])
    );
}

#[test]
fn update_that_changes_nothing_records_nothing() {
    let history = given(vec![TodoEvent::Created(TodoCreated { title: "a".into(), notes: Some("n".into()) })]);
    assert_eq!(when(&history, update(Some("a"), Some("n"), Some(false))), Ok(vec![]));
    assert_eq!(when(&history, update(None, None, None)), Ok(vec![]));
}

#[test]
fn empty_notes_clear_existing_notes() {
    let history = given(vec![TodoEvent::Created(TodoCreated { title: "a".into(), notes: Some("n".into()) })]);
    assert_eq!(when(&history, update(None, Some(""), None)), Ok(vec![updated(None, Some(""), None)]));
    let cleared = given(vec![
        TodoEvent::Created(TodoCreated { title: "a".into(), notes: Some("n".into()) }),
        updated(None, Some(""), None),
    ]);
    assert_eq!(fold(&cleared).live().unwrap().notes, None);
}

#[test]
fn update_with_completed_true_is_a_completion() {
    let history = given(vec![created("a")]);
    assert_eq!(
        when(&history, update(Some("b"), None, Some(true))),
        Ok(vec![updated(Some("b"), None, None), completed("b")])
    );
}

#[test]
fn reopening_is_an_update_with_completed_false() {
    let history = given(vec![created("a"), completed("a")]);
    assert_eq!(when(&history, update(None, None, Some(false))), Ok(vec![updated(None, None, Some(false))]));
    let reopened = given(vec![created("a"), completed("a"), updated(None, None, Some(false))]);
    let item = fold(&reopened).live().cloned().unwrap();
    assert!(!item.completed);
    assert_eq!(item.completed_at, None);
}

#[test]
fn update_of_a_missing_or_deleted_todo_is_not_found() {
    assert_eq!(when(&[], update(Some("a"), None, None)), Err(DomainError::NotFound));
    assert_eq!(
        when(&given(vec![created("a"), deleted("a")]), update(Some("b"), None, None)),
        Err(DomainError::NotFound)
    );
}

// --- complete ---

#[test]
fn complete_records_a_completion_once() {
    assert_eq!(when(&given(vec![created("a")]), Command::Complete), Ok(vec![completed("a")]));
    assert_eq!(when(&given(vec![created("a"), completed("a")]), Command::Complete), Ok(vec![]));
}

#[test]
fn completion_time_is_the_event_time() {
    let history = given(vec![created("a"), completed("a")]);
    let item = fold(&history).live().cloned().unwrap();
    assert!(item.completed);
    assert_eq!(item.completed_at, Some(history[1].occurred_at));
    assert_eq!(item.updated_at, history[1].occurred_at);
    assert_eq!(item.created_at, history[0].occurred_at);
}

#[test]
fn complete_of_a_missing_todo_is_not_found() {
    assert_eq!(when(&[], Command::Complete), Err(DomainError::NotFound));
}

// --- delete ---

#[test]
fn delete_leaves_a_tombstone_with_the_last_version() {
    let history = given(vec![created("a"), deleted("a")]);
    assert_eq!(when(&history[..1], Command::Delete), Ok(vec![deleted("a")]));
    assert!(matches!(fold(&history), Todo::Deleted(ref item) if item.version == 2));
}

#[test]
fn deleting_again_changes_nothing_and_deleting_nothing_is_not_found() {
    assert_eq!(when(&given(vec![created("a"), deleted("a")]), Command::Delete), Ok(vec![]));
    assert_eq!(when(&[], Command::Delete), Err(DomainError::NotFound));
}

// --- If-Match ---

#[test]
fn a_stale_expected_version_is_refused_for_every_change() {
    let history = given(vec![created("a"), completed("a")]);
    for command in [update(Some("b"), None, None), Command::Complete, Command::Delete] {
        assert_eq!(when_at_version(&history, command, 1), Err(DomainError::VersionMismatch { expected: 1, actual: 2 }));
    }
}

#[test]
fn the_current_expected_version_is_accepted() {
    let history = given(vec![created("a")]);
    assert_eq!(when_at_version(&history, Command::Complete, 1), Ok(vec![completed("a")]));
}

#[test]
fn a_missing_todo_is_not_found_whatever_version_is_expected() {
    assert_eq!(when_at_version(&[], Command::Delete, 3), Err(DomainError::NotFound));
}

// --- fold ---

#[test]
fn the_fold_tracks_the_version_and_every_field() {
    let history = given(vec![
        TodoEvent::Created(TodoCreated { title: "a".into(), notes: Some("n".into()) }),
        updated(Some("b"), None, None),
        completed("b"),
    ]);
    let item = fold(&history).live().cloned().unwrap();
    assert_eq!(item.title, "b");
    assert_eq!(item.notes.as_deref(), Some("n"));
    assert_eq!(item.version, 3);
    assert_eq!(item.id.to_string(), TODO);
}

#[test]
fn nothing_happens_before_creation() {
    assert_eq!(fold(&given(vec![])), Todo::NotCreated);
    assert_eq!(Todo::NotCreated.version(), 0);
}
