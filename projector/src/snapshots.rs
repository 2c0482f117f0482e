//! List snapshots: the projector keeps, per user, a fold of the event table taken every few
//! hundred events, so that a list as of an instant (`GET /item?asOf=`) folds only the events after
//! the latest snapshot before it (see `todo_platform::store::snapshot`).
//!
//! Deciding costs nothing: one event in [`CHECK_ONE_IN`] (by its id, so a redelivered event decides
//! the same) looks at the user's latest snapshot and folds the timeline after it. A new snapshot is
//! kept when that fold holds at least [`MIN_EVENTS_BETWEEN`] new events, and at least a quarter as
//! many as the user has todos (a snapshot's size grows with the todos, so big lists are snapshotted
//! less often): what a past list reads stays in proportion to the user's todos, not events.
//!
//! The fold stops [`SNAPSHOT_MARGIN`] before now, so that no event stamped earlier is still on its
//! way, and a fold that finds a version missing (an index that lags) keeps nothing.

use events_schema::{Event, Timestamp, UserId};
use todo_platform::store::{EventTimeline, ListFold, SNAPSHOT_MARGIN, SnapshotStore, StoreError};

/// One event in this many looks at whether its user's list is due a snapshot.
pub const CHECK_ONE_IN: u64 = 128;

/// The fewest events a new snapshot must add to the previous one.
pub const MIN_EVENTS_BETWEEN: u64 = 200;

/// Whether this event is one that looks at its user's snapshots.
pub fn checks(event: &Event) -> bool {
    (event.event_id.as_u128() as u64).is_multiple_of(CHECK_ONE_IN)
}

/// What looking at a user's snapshots did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A snapshot of `events` events up to `at` was stored.
    Taken { at: Timestamp, events: u64 },
    /// Too few events since the latest snapshot (`new` of the `needed`).
    NotDue { new: u64, needed: u64 },
    /// The timeline missed a version of some todo: nothing kept.
    Gap,
}

/// Folds the user's timeline after their latest snapshot, up to [`SNAPSHOT_MARGIN`] before `now`,
/// and stores the fold as a new snapshot if it is due.
pub async fn take_if_due(
    timeline: &dyn EventTimeline,
    snapshots: &dyn SnapshotStore,
    user: &UserId,
    now: Timestamp,
) -> Result<Outcome, StoreError> {
    let until = Timestamp::from_datetime(now.as_datetime() - SNAPSHOT_MARGIN);
    let latest = snapshots.latest_snapshot(user, until).await?;
    let fold = ListFold::read(timeline, user, latest, Some(until), &|_| true).await?;
    if fold.gap {
        return Ok(Outcome::Gap);
    }
    let needed = MIN_EVENTS_BETWEEN.max(fold.states.len() as u64 / 4);
    if fold.applied < needed {
        return Ok(Outcome::NotDue { new: fold.applied, needed });
    }
    let Some(snapshot) = fold.snapshot(user) else {
        return Ok(Outcome::NotDue { new: 0, needed });
    };
    snapshots.put_snapshot(&snapshot).await?;
    Ok(Outcome::Taken { at: snapshot.at, events: snapshot.events })
}
