//! The stats projection: each todo's [`TodoFacts`] (created, completed, deleted, and when), from
//! which `GET /stats` computes a user's counts, weekly figures and median time to completion.
//!
//! It follows the same fold as the read model: the projector hands it each state transition it
//! computes (the stored state and the next one, a gap repaired from the event table), and it writes
//! the next state's facts guarded by version, so duplicates and reordering converge to the facts of
//! the fold of all events. A transition that changes no figure (a rename, new notes) writes
//! nothing: the stored facts are already those of the new state.

use events_schema::{Todo, UserId};
use todo_platform::store::{StatsStore, StoreError, TodoFacts, WriteGuard};

/// Applies one state transition of a todo, from a state with facts `before` to `after`; `true`
/// when a row was written.
pub async fn apply(
    stats: &dyn StatsStore,
    user: &UserId,
    before: Option<&TodoFacts>,
    after: &Todo,
) -> Result<bool, StoreError> {
    let Some(facts) = TodoFacts::of(after) else { return Ok(false) };
    if before.is_some_and(|before| before.same_figures(&facts)) {
        return Ok(false);
    }
    stats.put_facts(user, &facts, WriteGuard::NewerOnly).await
}
