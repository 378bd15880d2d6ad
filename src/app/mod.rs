//! Use cases: one module per thing a person or a job does. Each takes typed
//! input, asks the domain what follows and has `db/` persist it, deciding
//! which transaction holds what. Plain functions over the application's
//! services; callers (the HTTP handlers, the command line, background jobs)
//! parse and authorise before they call.

pub mod access;
pub mod accounts;
pub mod alerts;
pub mod audit;
pub mod back_office;
pub mod canned;
pub mod catalogue;
pub mod clocks;
pub mod deliver;
pub mod demo;
pub mod dispatch;
pub mod evidence;
pub mod feeds;
pub mod filing;
pub mod geodata;
pub mod health;
pub mod idempotency;
pub mod jobs;
pub mod ledger;
pub mod limits;
pub mod mail;
pub mod moderation;
pub mod moves;
pub mod open_data;
pub mod operators;
pub mod reports;
pub mod search;
pub mod signing_key;
pub mod statistics;
pub mod supervision;
pub mod updates;
pub mod writer;

use std::sync::Arc;

/// A database connection as callers see it: something to hand to the use
/// cases, which decide what it reads and writes.
pub use crate::db::DbConnection as Connection;
pub use crate::db::DbError;

use crate::cache::Versioned;
use crate::clock::Clock;
use crate::db::catalog::CatalogSnapshot;
use crate::db::Pool;
use crate::media::{MediaStore, PhotoLimits, Variant};

/// Why a use case refused, for its caller to put in its client's terms.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    /// A field is wrong (named); nothing changed.
    #[error(transparent)]
    Invalid(#[from] crate::reports::ValidationError),
    /// What was asked about does not exist.
    #[error("{0}")]
    NotFound(crate::locale::Text),
    /// Not possible as things stand.
    #[error("{0}")]
    Conflict(crate::locale::Text),
    /// Not the caller's to do.
    #[error("{0}")]
    Forbidden(crate::locale::Text),
    #[error(transparent)]
    Db(#[from] DbError),
}

/// How stale another instance's catalogue change may look here.
pub const CATALOG_MAX_AGE: std::time::Duration = std::time::Duration::from_secs(1);

/// The application's services and the settings its use cases follow,
/// built once by `startup` and shared by the handlers and the background
/// jobs.
pub struct Services {
    pub pool: Pool,
    /// Where public reads go (a replica when one serves).
    pub reads: crate::db::replica::Reads,
    pub clock: Arc<dyn Clock>,
    /// Base of the links in answers and emails.
    pub public_url: String,
    /// Signs and checks the links in messages.
    pub signer: crate::notify::links::Signer,
    /// Sends what the outbox holds (`None` when `mail.poll_ms` is 0, and
    /// until the demo city, if any, is loaded); held for its threads.
    pub dispatcher: Option<dispatch::Dispatcher>,
    /// How long before the resident-check window closes reporters are
    /// reminded, and the local hour of the supervisors' digest.
    pub check_reminder: chrono::TimeDelta,
    pub digest_hour: u32,
    /// The catalogue as filing needs it, rebuilt when it changes.
    pub catalog: Versioned<CatalogSnapshot>,
    /// The address registry in memory, rebuilt when an import moves it.
    pub geodata: Versioned<crate::geo::index::Index>,
    /// SQLite's log checkpoints, kept off the writer (`None` on PostgreSQL).
    pub _checkpointer: Option<crate::db::checkpoint::Checkpointer>,
    /// The city's time zone (Open311 times are given in it).
    pub time_zone: chrono_tz::Tz,
    pub city_name: String,
    pub contact: String,
    pub media: MediaStore,
    pub photo_limits: PhotoLimits,
    /// Memory and concurrency for cleaning photos.
    pub decode_budget: crate::media::DecodeBudget,
    pub max_photos: usize,
    /// How many answers a reporter may refute.
    pub refutation_limit: i32,
    /// Hours a webhook's old secret signs beside a new one.
    pub rotation_overlap_hours: i64,
    /// Signs ledger checkpoints; the keys whose checkpoints count.
    pub ledger_keys: crate::ledger::LedgerKeys,
    /// Every earlier answer's photo prints (`evidence`).
    pub answer_prints: evidence::PrintIndex,
    /// Metres from the report within which an answer's photo counts as
    /// taken at the problem.
    pub evidence_distance_m: f64,
    /// The ledger's name in its C2SP checkpoints.
    pub ledger_origin: String,
    /// The witnesses whose cosignatures are taken.
    pub ledger_witnesses: Vec<crate::ledger::note::VerifierKey>,
    /// How often the scanner signs a checkpoint of a grown ledger.
    pub checkpoint_interval: chrono::TimeDelta,
    /// How long an anonymous filing waits for its emailed confirmation
    /// (`None`: anonymous filings need none).
    pub confirm_anonymous: Option<chrono::TimeDelta>,
    /// How long an emailed confirmation link works (`accounts.confirm_within_hours`).
    pub confirm_within: chrono::TimeDelta,
    pub limits: crate::config::LimitSettings,
}

impl Services {
    /// The catalogue as filing and the map need it (see `cache`).
    pub fn catalog_snapshot(
        &self,
        conn: &mut crate::db::DbConnection,
    ) -> Result<Arc<CatalogSnapshot>, crate::db::DbError> {
        use crate::db::catalog::{catalog_version, load_snapshot};
        self.catalog
            .get(CATALOG_MAX_AGE, conn, catalog_version, load_snapshot)
    }

    /// The public URL of a stored photo.
    pub fn photo_url(&self, hash: &str, variant: Variant) -> String {
        match variant {
            Variant::Full => format!("{}/media/{hash}.jpg", self.public_url),
            Variant::Thumbnail => format!("{}/media/{hash}.thumb.jpg", self.public_url),
        }
    }
}

/// Runs blocking use-case work on a connection from `pool`, on the blocking
/// thread pool (the async runtime's threads never wait on the database).
pub async fn run<T, E, F>(pool: &Pool, work: F) -> Result<T, E>
where
    F: FnOnce(&mut Connection) -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: From<DbError> + Send + 'static,
{
    crate::db::run(pool, work).await
}
