//! Erasing a user's account: everything of theirs goes, and a receipt without personal data stays.
//!
//! Two ports. [`ErasureLog`] is `ErasureTable`: one item per erasure, keyed by a keyed hash of the
//! user id ([`UserKey`], HMAC-SHA-256 under the stack's [`ErasureKey`]), first as a marker while the
//! erasure runs ([`Erasure::Erasing`]), then as its receipt ([`Erasure::Erased`]). It holds no user
//! id, email, title or note: without the key nobody can tell whose a receipt is, and with it only
//! by hashing a user id they already know. [`UserEraser`] is each store that holds something of a
//! user (events, read-model rows and tombstones, stats, list snapshots, live connections), deleting
//! it a page at a time so that an erasure of any size can stop and resume.
//!
//! The marker is the fence that keeps a erased account erased: a command checks it before it
//! appends ([`ErasureFence`]) and the projector after it writes (and takes back what it wrote for
//! a marked user), so that nothing in flight brings a row back. See `account` for the order of the
//! steps and why it is enough.

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use events_schema::integrity::{hex, is_hash};
use events_schema::{Timestamp, UserId};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use super::{Page, StoreError};

/// How long a fence keeps a user's "not erased" answer.
pub const FENCE_REMEMBER: Duration = Duration::from_secs(5);
/// The longest a command can run: the API functions' timeout (`Globals.Function.Timeout` in
/// `template.yaml`, checked by a deployment test).
pub const COMMAND_TIME_LIMIT: Duration = Duration::from_secs(10);
/// How long after its marker an erasure sweeps the events once more, on a store whose commands
/// check the marker through an [`ErasureFence`]: any command that passed the fence before the
/// marker was written (or within the fence's memory of an earlier pass) has finished writing by
/// then, and every later one fails.
pub const SETTLE: Duration = Duration::from_secs(FENCE_REMEMBER.as_secs() + COMMAND_TIME_LIMIT.as_secs() + 2);

/// The secret under which user ids are hashed into [`UserKey`]s: 32 random bytes.
///
/// Every write of the local store and every command hashes a user id, so the HMAC's two padded key
/// blocks are hashed once, here, and each user id costs two SHA-256 blocks.
#[derive(Clone)]
pub struct ErasureKey {
    bytes: [u8; 32],
    /// SHA-256 after the inner and the outer padded key block.
    inner: Sha256,
    outer: Sha256,
}

impl PartialEq for ErasureKey {
    fn eq(&self, other: &Self) -> bool {
        self.bytes == other.bytes
    }
}

impl Eq for ErasureKey {}

impl fmt::Debug for ErasureKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ErasureKey(..)")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("an erasure key is 64 hexadecimal characters (32 bytes)")]
pub struct ErasureKeyError;

impl ErasureKey {
    /// A fresh random key.
    pub fn generate() -> Self {
        let mut bytes = [0; 32];
        bytes[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
        bytes[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
        // A v4 UUID has 122 random bits; hashing both spreads the 244 over all 256.
        Self::from_bytes(Sha256::digest(bytes).into())
    }

    fn from_bytes(bytes: [u8; 32]) -> Self {
        let (inner, outer) = hmac_pads(&bytes);
        Self { bytes, inner, outer }
    }

    pub fn from_hex(text: &str) -> Result<Self, ErasureKeyError> {
        let text = text.trim();
        if text.len() != 64 {
            return Err(ErasureKeyError);
        }
        let mut bytes = [0; 32];
        for (byte, pair) in bytes.iter_mut().zip(text.as_bytes().chunks(2)) {
            let pair = std::str::from_utf8(pair).map_err(|_| ErasureKeyError)?;
            *byte = u8::from_str_radix(pair, 16).map_err(|_| ErasureKeyError)?;
        }
        Ok(Self::from_bytes(bytes))
    }

    /// For a Lambda: the key in `ERASURE_KEY`.
    pub fn from_env() -> anyhow::Result<Self> {
        use anyhow::Context as _;
        let text = crate::config::required_env(crate::manifest::ERASURE_KEY)?;
        Self::from_hex(&text).with_context(|| format!("{} is not an erasure key", crate::manifest::ERASURE_KEY))
    }

    pub fn to_hex(&self) -> String {
        hex(&self.bytes)
    }

    /// The user's key in `ErasureTable`: HMAC-SHA-256 (RFC 2104) of the user id.
    pub fn user_key(&self, user: &UserId) -> UserKey {
        UserKey(hex(&self.mac(user.as_str().as_bytes())))
    }

    fn mac(&self, message: &[u8]) -> [u8; 32] {
        let inner = self.inner.clone().chain_update(message).finalize();
        self.outer.clone().chain_update(inner).finalize().into()
    }
}

/// SHA-256 after HMAC's inner (`key ^ 0x36..`) and outer (`key ^ 0x5c..`) padded key blocks.
fn hmac_pads(key: &[u8; 32]) -> (Sha256, Sha256) {
    const BLOCK: usize = 64;
    let mut padded = [0u8; BLOCK];
    padded[..key.len()].copy_from_slice(key);
    let inner_pad: [u8; BLOCK] = padded.map(|byte| byte ^ 0x36);
    let outer_pad: [u8; BLOCK] = padded.map(|byte| byte ^ 0x5c);
    (Sha256::new().chain_update(inner_pad), Sha256::new().chain_update(outer_pad))
}

/// A user as `ErasureTable` knows them: the keyed hash of their id, 64 hex characters.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct UserKey(String);

impl UserKey {
    /// A key as stored; `None` for anything that is not 64 lowercase hex characters.
    pub fn parse(text: &str) -> Option<Self> {
        is_hash(text).then(|| Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UserKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What an erasure deletes, in the order it deletes it (see `account`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum UserData {
    /// Live connections first: nothing is pushed to the user while the rest goes.
    Connections,
    /// Every event of the user (only the erasure may delete events).
    Events,
    /// Read-model rows, tombstones included.
    Todos,
    /// Stats projection rows.
    Stats,
    /// List snapshots.
    Snapshots,
}

impl UserData {
    pub const ALL: [UserData; 5] = [Self::Connections, Self::Events, Self::Todos, Self::Stats, Self::Snapshots];
}

/// How many items of each kind an erasure deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErasedCounts {
    pub events: u64,
    pub todos: u64,
    pub stats: u64,
    pub snapshots: u64,
    pub connections: u64,
}

impl ErasedCounts {
    pub fn add(&mut self, what: UserData, count: u64) {
        *match what {
            UserData::Connections => &mut self.connections,
            UserData::Events => &mut self.events,
            UserData::Todos => &mut self.todos,
            UserData::Stats => &mut self.stats,
            UserData::Snapshots => &mut self.snapshots,
        } += count;
    }
}

/// The proof that an account was erased: no personal data, only the keyed hash of the user id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErasureReceipt {
    pub user_key: UserKey,
    /// When the erasure was first asked for.
    pub requested_at: Timestamp,
    /// When the last item went.
    pub erased_at: Timestamp,
    /// The API request that asked for it first.
    pub request_id: String,
    pub erased: ErasedCounts,
}

/// One item of `ErasureTable`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Erasure {
    /// Under way: the marker that fences the account. Commands fail; the projector writes nothing
    /// that stays; the erasure resumes from here when asked again.
    Erasing { user_key: UserKey, requested_at: Timestamp, request_id: String, erased: ErasedCounts },
    /// Done; the receipt.
    Erased(ErasureReceipt),
}

impl Erasure {
    pub fn user_key(&self) -> &UserKey {
        match self {
            Self::Erasing { user_key, .. } => user_key,
            Self::Erased(receipt) => &receipt.user_key,
        }
    }

    pub fn requested_at(&self) -> Timestamp {
        match self {
            Self::Erasing { requested_at, .. } => *requested_at,
            Self::Erased(receipt) => receipt.requested_at,
        }
    }

    pub fn erased(&self) -> ErasedCounts {
        match self {
            Self::Erasing { erased, .. } => *erased,
            Self::Erased(receipt) => receipt.erased,
        }
    }
}

/// `ErasureTable`: the markers and receipts.
#[async_trait]
pub trait ErasureLog: Send + Sync {
    /// The user's erasure, if one was ever asked for (read consistently).
    async fn erasure(&self, user: &UserKey) -> Result<Option<Erasure>, StoreError>;

    /// Marks the user as being erased, unless an erasure is recorded already; returns what is
    /// stored either way (the first request's time and id stay).
    async fn begin_erasure(
        &self,
        user: &UserKey,
        requested_at: Timestamp,
        request_id: &str,
    ) -> Result<Erasure, StoreError>;

    /// Stores the erasure's progress, or its receipt. A receipt is never replaced by progress.
    async fn record_erasure(&self, erasure: &Erasure) -> Result<(), StoreError>;

    /// Which of `users` have an erasure recorded (the projector's check after each batch). The
    /// default reads them one by one; an adapter may read them in one request.
    async fn erased_among(&self, users: &[UserKey]) -> Result<Vec<UserKey>, StoreError> {
        let mut erased = Vec::new();
        for user in users {
            if self.erasure(user).await?.is_some() {
                erased.push(user.clone());
            }
        }
        Ok(erased)
    }

    /// Every erasure, a page at a time (`todo-audit erasures`), in the store's order (key order, but
    /// for DynamoDB's Scan: the order of the keys' hashes).
    async fn erasures(&self, limit: usize, after: Option<UserKey>) -> Result<Page<Erasure, UserKey>, StoreError>;
}

/// A store that holds something of users, deleting it a page at a time.
#[async_trait]
pub trait UserEraser: Send + Sync {
    /// Deletes up to about `limit` items of `what` of the user; how many went. `Ok(0)`: nothing
    /// of that kind is left (or the store holds none).
    async fn erase_some(&self, user: &UserId, what: UserData, limit: usize) -> Result<usize, StoreError>;
}

/// The commands' check of the marker before they append: answers [`StoreError::AccountErased`]
/// for an account being erased or erased.
///
/// A "not erased" answer is kept for `remember` per user: a user's commands in quick succession
/// read the marker once. The erasure waits out that time (plus the longest a command can take)
/// before its last sweep of the events: see `account::SETTLE`.
pub struct ErasureFence {
    log: std::sync::Arc<dyn ErasureLog>,
    key: ErasureKey,
    remember: Duration,
    checked: Mutex<HashMap<UserId, Instant>>,
}

/// Users whose "not erased" answers a fence keeps at most (a command function serves few).
const FENCE_MEMORY: usize = 10_000;

impl ErasureFence {
    pub fn new(log: std::sync::Arc<dyn ErasureLog>, key: ErasureKey, remember: Duration) -> Self {
        Self { log, key, remember, checked: Mutex::new(HashMap::new()) }
    }

    /// `Ok` while the user may still write.
    pub async fn check(&self, user: &UserId) -> Result<(), StoreError> {
        let fresh = |at: &Instant| at.elapsed() < self.remember;
        if self.remember > Duration::ZERO && self.checked().get(user).is_some_and(fresh) {
            return Ok(());
        }
        if self.log.erasure(&self.key.user_key(user)).await?.is_some() {
            return Err(StoreError::AccountErased);
        }
        if self.remember > Duration::ZERO {
            let mut checked = self.checked();
            if checked.len() >= FENCE_MEMORY {
                checked.retain(|_, at| fresh(at));
                if checked.len() >= FENCE_MEMORY {
                    checked.clear();
                }
            }
            checked.insert(user.clone(), Instant::now());
        }
        Ok(())
    }

    fn checked(&self) -> std::sync::MutexGuard<'_, HashMap<UserId, Instant>> {
        self.checked.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl fmt::Debug for ErasureFence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ErasureFence").field("remember", &self.remember).finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_a_reference_implementation() {
        // RFC 4231 has no 32-byte key case; the expected value is Python's
        // `hmac.new(bytes(range(32)), b"what do ya want for nothing?", hashlib.sha256).hexdigest()`.
        let key = ErasureKey::from_bytes(std::array::from_fn(|i| i as u8));
        let mac = hex(&key.mac(b"what do ya want for nothing?"));
        assert_eq!(mac, HMAC_0_TO_31);
    }

    const HMAC_0_TO_31: &str = "099805f4ac310786968565c098db515cc50862b420ae31e20238312344bed36a";

    #[test]
    fn a_key_round_trips_through_hex_and_hashes_users_apart() {
        let key = ErasureKey::generate();
        assert_eq!(ErasureKey::from_hex(&key.to_hex()), Ok(key.clone()));
        assert!(ErasureKey::from_hex("00").is_err());
        assert!(ErasureKey::from_hex(&"zz".repeat(32)).is_err());
        let (ann, bob) = (UserId::parse("ann").unwrap(), UserId::parse("bob").unwrap());
        assert_ne!(key.user_key(&ann), key.user_key(&bob));
        assert_eq!(key.user_key(&ann), key.user_key(&ann));
        assert_ne!(key.user_key(&ann), ErasureKey::generate().user_key(&ann), "another stack, another key");
        assert!(UserKey::parse(key.user_key(&ann).as_str()).is_some());
        assert!(!key.user_key(&ann).as_str().contains("ann"));
    }
}
