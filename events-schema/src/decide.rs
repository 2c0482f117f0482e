use crate::{
    Event, Notes, Title, Todo, TodoItem,
    event::{TodoCompleted, TodoCreated, TodoDeleted, TodoEvent, TodoUpdated},
};

/// What a user asks of one todo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Create { title: Title, notes: Option<Notes> },
    Update(Changes),
    Complete,
    Delete,
}

/// The fields an update may change; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    pub title: Option<Title>,
    /// Empty notes clear them.
    pub notes: Option<Notes>,
    /// `true` completes, `false` reopens.
    pub completed: Option<bool>,
}

/// What the decision depends on besides the state and the command.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Context {
    /// The version the client last saw (`If-Match`): the command only applies to that version.
    pub expected_version: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    #[error("no such todo")]
    NotFound,
    #[error("this id is already used by another todo")]
    IdTaken,
    #[error("the todo is at version {actual}, not {expected}")]
    VersionMismatch { expected: u64, actual: u64 },
}

/// Decides which events a command produces on a state. An empty list means "nothing changes": the
/// caller appends nothing and answers with the current state.
pub fn decide(state: &Todo, command: Command, context: &Context) -> Result<Vec<TodoEvent>, DomainError> {
    match command {
        Command::Create { title, notes } => create(state, title, notes),
        Command::Update(changes) => live(state, context).map(|item| update(item, changes)),
        Command::Complete => live(state, context).map(|item| match item.completed {
            true => vec![],
            false => vec![TodoEvent::Completed(TodoCompleted { title: item.title.clone() })],
        }),
        // Deleting twice is a retry, not a mistake: nothing more to do.
        Command::Delete if matches!(state, Todo::Deleted(_)) => Ok(vec![]),
        Command::Delete => {
            live(state, context).map(|item| vec![TodoEvent::Deleted(TodoDeleted { title: item.title.clone() })])
        }
    }
}

/// Whether `command` repeats the create that started a todo's `history` (a client retrying with
/// its own id after not hearing back): the same title and notes as the creation event, whatever
/// happened to the todo since. A create with an id already used for anything else is not.
pub fn repeats_creation(history: &[Event], command: &Command) -> bool {
    let Command::Create { title, notes } = command else { return false };
    let notes = notes.clone().and_then(Notes::into_option);
    match history.first().map(|event| &event.payload) {
        Some(TodoEvent::Created(created)) => created.title == title.as_str() && created.notes == notes,
        _ => false,
    }
}

/// The live item a command applies to, at the version the client expects.
fn live<'a>(state: &'a Todo, context: &Context) -> Result<&'a TodoItem, DomainError> {
    let item = state.live().ok_or(DomainError::NotFound)?;
    match context.expected_version {
        Some(expected) if expected != item.version => {
            Err(DomainError::VersionMismatch { expected, actual: item.version })
        }
        _ => Ok(item),
    }
}

fn create(state: &Todo, title: Title, notes: Option<Notes>) -> Result<Vec<TodoEvent>, DomainError> {
    let notes = notes.and_then(Notes::into_option);
    match state {
        Todo::NotCreated => Ok(vec![TodoEvent::Created(TodoCreated { title: title.as_str().to_owned(), notes })]),
        // The same create again (a client retrying with its own id) changes nothing.
        Todo::Live(item) if item.title == title.as_str() && item.notes == notes => Ok(vec![]),
        Todo::Live(_) | Todo::Deleted(_) => Err(DomainError::IdTaken),
    }
}

fn update(item: &TodoItem, changes: Changes) -> Vec<TodoEvent> {
    let title = changes.title.map(|t| t.as_str().to_owned()).filter(|t| *t != item.title);
    let notes = changes.notes.map(|n| n.as_str().to_owned()).filter(|n| *n != item.notes.clone().unwrap_or_default());
    let reopen = changes.completed == Some(false) && item.completed;
    let complete = changes.completed == Some(true) && !item.completed;

    let title_after = title.clone().unwrap_or_else(|| item.title.clone());

    let mut events = Vec::new();
    if title.is_some() || notes.is_some() || reopen {
        events.push(TodoEvent::Updated(TodoUpdated { title, notes, completed: reopen.then_some(false) }));
    }
    if complete {
        events.push(TodoEvent::Completed(TodoCompleted { title: title_after }));
    }
    events
}
