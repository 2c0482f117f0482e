//! The embedded store's change feed driving the projector: what DynamoDB Streams and Lambda's
//! event source mapping do on AWS. The projector's position is kept in the store, so after a crash
//! it resumes where it stopped; applying an event twice changes nothing, so resuming a little
//! early is harmless.

use std::time::Duration;

use projector::Projector;

use crate::sqlite::SqliteStore;

const CONSUMER: &str = "projector";
const BATCH: usize = 100;

/// Follows the feed until the task is dropped.
pub async fn follow(store: SqliteStore, projector: Projector) {
    let doorbell = store.appended();
    let mut position = match store.feed_position(CONSUMER) {
        Ok(position) => position,
        Err(error) => {
            tracing::error!(error = format!("{:#}", anyhow::Error::from(error)), "projector: cannot read its position");
            0
        }
    };
    let mut backoff = Duration::from_millis(50);
    loop {
        // Registered before reading, so an append between the read and the wait is not missed.
        let rung = doorbell.notified();
        tokio::pin!(rung);
        rung.as_mut().enable();

        match catch_up(&store, &projector, &mut position).await {
            Ok(0) => {
                backoff = Duration::from_millis(50);
                tokio::select! {
                    () = &mut rung => {}
                    () = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
            }
            Ok(_) => backoff = Duration::from_millis(50),
            Err(error) => {
                tracing::error!(error = format!("{error:#}"), position, "projector: batch failed, retrying");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
        }
    }
}

/// Applies one batch after `position`; returns how many events it applied.
async fn catch_up(store: &SqliteStore, projector: &Projector, position: &mut i64) -> anyhow::Result<usize> {
    let batch = store.feed(*position, BATCH)?;
    let count = batch.len();
    for (seq, event) in batch {
        projector.apply_logged(&event).await?;
        *position = seq;
        // The store never makes this task wait, so without a yield a whole batch would be applied
        // before the live connections it wakes (queued behind this task on its worker) could send:
        // a burst longer than their queues would drop clients that keep up perfectly well.
        tokio::task::yield_now().await;
    }
    if count > 0 {
        store.save_feed_position(CONSUMER, *position)?;
    }
    Ok(count)
}
