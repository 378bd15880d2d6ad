//! The database: the only module that knows SQL backends. One schema and one
//! `DbConnection` over SQLite and PostgreSQL, chosen at run time from the URL
//! scheme; the pool; migrations per backend; and the queries the rest of the
//! program calls. Diesel is synchronous, so handlers reach it only through
//! [`run`], which moves the work onto actix's blocking thread pool, or, when
//! filing, through the filing writer's own threads ([`writer`]).

/// Rows per INSERT statement: well under PostgreSQL's 65,535 bind parameters
/// for the widest table.
const BATCH_ROWS: usize = 500;

/// Multi-row INSERT does not compile through the multi-backend connection,
/// so it is dispatched to the concrete connection here. A single row goes
/// through the single-row INSERT, whose prepared statement is cached (a
/// multi-row one is prepared anew each time, as its length varies).
macro_rules! insert_batches {
    ($conn:expr, $table:expr, $rows:expr) => {{
        let mut inserted = 0;
        for chunk in $rows.chunks($crate::db::BATCH_ROWS) {
            inserted += match (chunk, &mut *$conn) {
                ([row], conn) => diesel::insert_into($table).values(row).execute(conn)?,
                (_, $crate::db::DbConnection::Sqlite(c)) => {
                    diesel::insert_into($table).values(chunk).execute(c)?
                }
                (_, $crate::db::DbConnection::Postgres(c)) => {
                    diesel::insert_into($table).values(chunk).execute(c)?
                }
            };
        }
        inserted
    }};
}

/// `INSERT … ON CONFLICT DO NOTHING` of one row, on either backend (the
/// clause does not compile through the multi-backend connection); the
/// number of rows inserted, 0 when the row was already there.
/// Inserts a row, or on a conflict of `key` updates the existing one with
/// `set` (the same `ON CONFLICT … DO UPDATE` on both backends, which the
/// one-connection type cannot spell once); the count of rows written.
macro_rules! upsert {
    ($conn:expr, $table:expr, $row:expr, $key:expr, $set:expr) => {
        match &mut *$conn {
            $crate::db::DbConnection::Postgres(c) => diesel::insert_into($table)
                .values($row)
                .on_conflict($key)
                .do_update()
                .set($set)
                .execute(c)?,
            $crate::db::DbConnection::Sqlite(c) => diesel::insert_into($table)
                .values($row)
                .on_conflict($key)
                .do_update()
                .set($set)
                .execute(c)?,
        }
    };
}

macro_rules! insert_or_ignore {
    ($conn:expr, $table:expr, $row:expr) => {
        match &mut *$conn {
            $crate::db::DbConnection::Postgres(c) => diesel::insert_into($table)
                .values($row)
                .on_conflict_do_nothing()
                .execute(c)?,
            $crate::db::DbConnection::Sqlite(c) => diesel::insert_into($table)
                .values($row)
                .on_conflict_do_nothing()
                .execute(c)?,
        }
    };
}

pub mod access;
pub mod accounts;
pub mod admin;
pub mod alerts;
pub mod audit;
pub mod back_office;
pub mod canned;
pub mod catalog;
pub mod checkpoint;
pub mod evidence;
pub mod filing;
pub mod geodata;
pub mod grid;
pub mod ledger;
pub mod limits;
pub mod moderation;
pub mod open_data;
pub mod operations;
pub mod outbox;
pub mod pending;
pub mod replica;
pub mod reports;
pub mod rows;
pub mod schema;
pub mod search;
pub mod seed;
pub mod sla;
pub mod supervisor;
pub mod tallies;
pub mod updates;
pub mod workflow;

use std::path::PathBuf;
use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection, PooledConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// A connection to whichever backend the URL names.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgres(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

pub type Pool = r2d2::Pool<ConnectionManager>;
pub type PooledConn = PooledConnection<ConnectionManager>;

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database URL '{0}' has no scheme: use sqlite://PATH, postgres://… or postgresql://…")]
    NoScheme(String),
    #[error("database URL scheme '{0}' is not supported: use sqlite://PATH, postgres://… or postgresql://…")]
    UnknownScheme(String),
    #[error("cannot create the directory {path} for the SQLite database: {source}")]
    CreateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot connect to the database at {url}: {source}")]
    Connect {
        url: String,
        source: diesel::ConnectionError,
    },
    #[error("cannot prepare the SQLite connection: {0}")]
    Pragmas(#[source] diesel::result::Error),
    #[error("no database connection available: {0}")]
    Pool(#[from] r2d2::PoolError),
    #[error("migrations failed: {0}")]
    Migration(String),
    #[error(transparent)]
    Query(diesel::result::Error),
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
    #[error("the database task was cancelled")]
    Cancelled,
    #[error(
        "the SQLite database {path} is served by another process (pid in {lock}); SQLite \
             allows one Gorod process per file: stop the other one, or run several instances on \
             PostgreSQL"
    )]
    InUse { path: PathBuf, lock: PathBuf },
    #[error("cannot lock the SQLite database {path}: {source}")]
    Lock {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl From<diesel::result::Error> for DbError {
    /// A query that failed because the connection is gone is the
    /// database's absence, not a fault of the query: it is `Unavailable`,
    /// and the pool checks its connections until they answer again.
    fn from(e: diesel::result::Error) -> DbError {
        use diesel::result::{DatabaseErrorKind, Error};
        match e {
            Error::DatabaseError(
                DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
                _,
            ) => {
                health::suspect();
                DbError::Unavailable(e.to_string())
            }
            other => DbError::Query(other),
        }
    }
}

/// Whether the database was seen failing lately. While it was, pooled
/// connections are checked (a `SELECT 1`) when taken and when given back,
/// and a broken one is dropped: after an outage the pool holds only dead
/// connections, and without these checks each would fail its next request
/// until the pool's idle timeout (ten minutes). With no failure seen, no
/// check costs a round trip.
pub mod health {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::OnceLock;
    use std::time::{Duration, Instant};

    /// How long after the last failure connections are checked.
    pub const WATCH: Duration = Duration::from_secs(30);

    static SINCE: OnceLock<Instant> = OnceLock::new();
    /// Milliseconds after `SINCE` until which connections are checked.
    static UNTIL_MS: AtomicU64 = AtomicU64::new(0);

    fn now_ms() -> u64 {
        let since = SINCE.get_or_init(Instant::now);
        u64::try_from(since.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// A connection failed: watch connections for a while.
    pub fn suspect() {
        let until = now_ms().saturating_add(u64::try_from(WATCH.as_millis()).unwrap_or(0));
        UNTIL_MS.fetch_max(until, Ordering::Relaxed);
    }

    /// Whether connections are being watched.
    pub fn suspected() -> bool {
        now_ms() < UNTIL_MS.load(Ordering::Relaxed)
    }
}

/// Which backend a URL names; parsed before anything connects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Sqlite { path: PathBuf },
    Postgres { url: String },
}

impl DatabaseUrl {
    pub fn parse(url: &str) -> Result<DatabaseUrl, DbError> {
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| DbError::NoScheme(redact(url)))?;
        match scheme.to_ascii_lowercase().as_str() {
            "sqlite" => Ok(DatabaseUrl::Sqlite {
                path: PathBuf::from(rest),
            }),
            "postgres" | "postgresql" => Ok(DatabaseUrl::Postgres {
                url: url.to_string(),
            }),
            other => Err(DbError::UnknownScheme(other.to_string())),
        }
    }

    /// The URL with any password replaced, for messages and logs.
    pub fn display(&self) -> String {
        match self {
            DatabaseUrl::Sqlite { path } => format!("sqlite://{}", path.display()),
            DatabaseUrl::Postgres { url } => redact(url),
        }
    }
}

/// Hides the password in `scheme://user:password@host/...`.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    match rest.split_once('@') {
        Some((credentials, host)) if credentials.contains(':') => {
            let user = credentials.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:***@{host}")
        }
        _ => url.to_string(),
    }
}

/// Opens connections by URL scheme, so that the real connection error reaches
/// the user and an unknown scheme is refused rather than taken for a file name.
#[derive(Debug, Clone)]
pub struct ConnectionManager {
    url: DatabaseUrl,
}

impl ConnectionManager {
    pub fn new(url: &str) -> Result<ConnectionManager, DbError> {
        let url = DatabaseUrl::parse(url)?;
        if let DatabaseUrl::Sqlite { path } = &url {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|source| DbError::CreateDir {
                    path: dir.to_path_buf(),
                    source,
                })?;
            }
        }
        Ok(ConnectionManager { url })
    }

    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    fn open(&self) -> Result<DbConnection, DbError> {
        let connect_error = |source| DbError::Connect {
            url: self.url.display(),
            source,
        };
        match &self.url {
            DatabaseUrl::Postgres { url } => diesel::PgConnection::establish(url)
                .map(DbConnection::Postgres)
                .map_err(connect_error),
            DatabaseUrl::Sqlite { path } => {
                let path = path.to_string_lossy();
                let mut conn = diesel::SqliteConnection::establish(&path).map_err(connect_error)?;
                conn.batch_execute(
                    "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000; \
                     PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                     PRAGMA temp_store = MEMORY; PRAGMA journal_size_limit = 67108864;",
                )
                .map_err(DbError::Pragmas)?;
                conn.batch_execute(&format!(
                    "PRAGMA wal_autocheckpoint = {};",
                    checkpoint::AUTOCHECKPOINT_PAGES
                ))
                .map_err(DbError::Pragmas)?;
                Ok(DbConnection::Sqlite(conn))
            }
        }
    }
}

impl ManageConnection for ConnectionManager {
    type Connection = DbConnection;
    type Error = DbError;

    fn connect(&self) -> Result<DbConnection, DbError> {
        self.open().inspect_err(|_| health::suspect())
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), DbError> {
        ping(conn)
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        health::suspected() && ping(conn).is_err()
    }
}

/// SQLite files this process serves, each locked (`<file>.lock`) for as
/// long as the process lives. Instances inside one process share the file
/// safely (their writers queue on one mutex); another process is refused.
static SQLITE_CLAIMS: std::sync::Mutex<Vec<(PathBuf, std::fs::File)>> =
    std::sync::Mutex::new(Vec::new());

/// Claims the SQLite file of `url` for this process, or says which other
/// process has it. Nothing to claim on PostgreSQL, which any number of
/// instances share.
pub fn claim(url: &str) -> Result<(), DbError> {
    let DatabaseUrl::Sqlite { path } = DatabaseUrl::parse(url)? else {
        return Ok(());
    };
    // The manager creates the folder; the file itself may not exist yet.
    ConnectionManager::new(url)?;
    let lock = PathBuf::from(format!("{}.lock", path.display()));
    let lock_error = |source| DbError::Lock {
        path: path.clone(),
        source,
    };
    let mut claims = SQLITE_CLAIMS.lock().unwrap_or_else(|e| e.into_inner());
    let key = std::fs::canonicalize(
        path.parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(std::path::Path::new(".")),
    )
    .map_err(lock_error)?
    .join(path.file_name().unwrap_or_default());
    if claims.iter().any(|(held, _)| *held == key) {
        return Ok(());
    }
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(&lock)
        .map_err(lock_error)?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => return Err(DbError::InUse { path, lock }),
        Err(std::fs::TryLockError::Error(e)) => return Err(lock_error(e)),
    }
    use std::io::{Seek, Write};
    file.set_len(0).map_err(lock_error)?;
    file.seek(std::io::SeekFrom::Start(0)).map_err(lock_error)?;
    writeln!(file, "{}", std::process::id()).map_err(lock_error)?;
    claims.push((key, file));
    Ok(())
}

/// One migrated connection and no pool, for one-shot commands: a pool fills
/// itself on background threads, which must not still be connecting when
/// the process exits.
pub fn connect_and_migrate_one(url: &str) -> Result<DbConnection, DbError> {
    let mut conn = ConnectionManager::new(url)?.connect()?;
    run_migrations(&mut conn)?;
    Ok(conn)
}

/// Connects once (so a bad URL, an unreachable server, a wrong password or a
/// missing database is reported with its real reason), migrates, and builds
/// the pool.
pub fn connect_and_migrate(url: &str, pool_size: u32, timeout: Duration) -> Result<Pool, DbError> {
    let manager = ConnectionManager::new(url)?;
    let mut first = manager.connect()?;
    run_migrations(&mut first)?;
    drop(first);
    // No test query on every checkout: it would cost a round trip per
    // request; a broken connection fails its query and is replaced then.
    let pool = r2d2::Pool::builder()
        .max_size(pool_size.max(1))
        .connection_timeout(timeout)
        .test_on_check_out(false)
        .build_unchecked(manager);
    Ok(pool)
}

/// The advisory lock that makes instances starting together on one
/// PostgreSQL schema migrate (and seed) one after another: per schema, so
/// databases that share a server do not wait for each other.
pub(crate) const SETUP_LOCK: &str = "hashtext(current_schema() || ':gorod-setup')";

/// Applies pending migrations. On PostgreSQL under a session lock, so
/// that instances started at the same moment migrate once: the first
/// applies them, the others wait and find nothing left to do.
/// A pool for `url` without connecting first or migrating: a replica's,
/// which is read-only and may be down when the instance starts.
pub fn connect_pool(url: &str, pool_size: u32, timeout: Duration) -> Result<Pool, DbError> {
    let manager = ConnectionManager::new(url)?;
    Ok(r2d2::Pool::builder()
        .max_size(pool_size.max(1))
        .min_idle(Some(0))
        .connection_timeout(timeout)
        .test_on_check_out(false)
        .build_unchecked(manager))
}

pub fn run_migrations(conn: &mut DbConnection) -> Result<usize, DbError> {
    let applied = match conn {
        DbConnection::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|v| v.len()),
        DbConnection::Postgres(c) => {
            c.batch_execute(&format!("SELECT pg_advisory_lock({SETUP_LOCK})"))?;
            let applied = c
                .run_pending_migrations(POSTGRES_MIGRATIONS)
                .map(|v| v.len());
            c.batch_execute(&format!("SELECT pg_advisory_unlock({SETUP_LOCK})"))?;
            applied
        }
    };
    applied.map_err(|e| DbError::Migration(e.to_string()))
}

/// How many migrations the database still lacks (0 when ready).
pub fn pending_migrations(conn: &mut DbConnection) -> Result<usize, DbError> {
    let pending = match conn {
        DbConnection::Sqlite(c) => c.pending_migrations(SQLITE_MIGRATIONS).map(|v| v.len()),
        DbConnection::Postgres(c) => c.pending_migrations(POSTGRES_MIGRATIONS).map(|v| v.len()),
    };
    pending.map_err(|e| DbError::Migration(e.to_string()))
}

/// A round trip that proves the connection works.
fn ping(conn: &mut DbConnection) -> Result<(), DbError> {
    conn.batch_execute("SELECT 1").map_err(DbError::from)
}

/// How long a request waits for a connection while the database is
/// failing: a quick 503 beats holding the client for the pool's timeout.
const SUSPECT_CHECKOUT: Duration = Duration::from_millis(500);

/// A pooled connection. While the database has been failing, the wait is
/// short and the connection is checked first, so a request either gets a
/// working connection or a quick `Unavailable`.
pub fn checkout(pool: &Pool) -> Result<PooledConn, DbError> {
    if !health::suspected() {
        return Ok(pool.get()?);
    }
    let mut conn = pool.get_timeout(SUSPECT_CHECKOUT)?;
    // A dead one fails here; giving it back drops it (`has_broken`).
    ping(&mut conn)?;
    Ok(conn)
}

/// The page cache of a connection kept for filing, in KiB (SQLite): the
/// upper levels of the indexes a filing descends, at ten million reports.
const WRITER_CACHE_KIB: i64 = 256 * 1024;

/// SQLite's own page cache per connection, in KiB.
const DEFAULT_CACHE_KIB: i64 = 2000;

/// Readies a connection that a filing writer keeps from batch to batch:
/// on SQLite, a page cache of its own large enough for the upper pages of
/// every index a filing writes or reads (the default is 2 MiB).
pub fn keep_for_writing(conn: &mut DbConnection) -> Result<(), DbError> {
    match conn {
        DbConnection::Sqlite(c) => c
            .batch_execute(&format!("PRAGMA cache_size = -{WRITER_CACHE_KIB}"))
            .map_err(DbError::from),
        DbConnection::Postgres(_) => Ok(()),
    }
}

/// Undoes [`keep_for_writing`], before the connection goes back to the pool.
pub fn keep_for_writing_no_more(conn: &mut DbConnection) -> Result<(), DbError> {
    match conn {
        DbConnection::Sqlite(c) => c
            .batch_execute(&format!("PRAGMA cache_size = -{DEFAULT_CACHE_KIB}"))
            .map_err(DbError::from),
        DbConnection::Postgres(_) => Ok(()),
    }
}

/// Runs `work` with a pooled connection on the blocking thread pool.
pub async fn run<T, E, F>(pool: &Pool, work: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: From<DbError> + Send + 'static,
{
    let pool = pool.clone();
    actix_web::web::block(move || {
        let mut conn = checkout(&pool)?;
        work(&mut conn)
    })
    .await
    .map_err(|_| E::from(DbError::Cancelled))?
}

/// SQLite lets one connection write at a time, and one process owns the file.
/// Writers in this process queue here, in order, rather than sleeping and
/// retrying in SQLite's busy handler (which leaves the lock idle between
/// tries and gives waiters delays of up to 100 ms).
static SQLITE_WRITER: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// A transaction that reads and then writes. On SQLite it starts with
/// `BEGIN IMMEDIATE`, taking the write lock up front: a deferred transaction
/// that reads first fails with "database is locked" when another writer got
/// there in between, whatever the busy timeout. PostgreSQL uses a plain one.
/// Not re-entrant: `work` must not open another write transaction.
pub fn write_transaction<T, E, F>(conn: &mut DbConnection, work: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<DbError>,
{
    let DbConnection::Sqlite(sqlite) = conn else {
        return conn
            .transaction(|conn| work(conn).map_err(Failed::Work))
            .map_err(|failed| match failed {
                Failed::Work(e) => e,
                Failed::Db(e) => E::from(e.into()),
            });
    };
    // A writer that panicked left nothing half-done behind the lock: SQLite
    // rolls back its open transaction when the connection is dropped.
    let _writer = SQLITE_WRITER.lock().unwrap_or_else(|e| e.into_inner());
    AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN IMMEDIATE")
        .map_err(|e| E::from(e.into()))?;
    let outcome = work(conn);
    let DbConnection::Sqlite(sqlite) = conn else {
        unreachable!("the connection cannot change backend inside a transaction")
    };
    match outcome {
        Ok(value) => {
            AnsiTransactionManager::commit_transaction(sqlite).map_err(|e| E::from(e.into()))?;
            Ok(value)
        }
        Err(error) => {
            // The work's error is the one worth reporting; a failed rollback
            // leaves the connection broken, and the pool discards it.
            let _ = AnsiTransactionManager::rollback_transaction(sqlite);
            Err(error)
        }
    }
}

/// A transaction's failure: the work's own, or the database's.
enum Failed<E> {
    Work(E),
    Db(diesel::result::Error),
}

impl<E> From<diesel::result::Error> for Failed<E> {
    fn from(e: diesel::result::Error) -> Self {
        Failed::Db(e)
    }
}

/// A fresh id in the portable text form: a time-ordered UUID (version 7), so
/// rows written together land on the same B-tree pages instead of scattering
/// across the whole index.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_pick_their_backend_and_unknown_schemes_are_refused() {
        assert_eq!(
            DatabaseUrl::parse("sqlite://data/gorod.db").unwrap(),
            DatabaseUrl::Sqlite {
                path: "data/gorod.db".into()
            }
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite:///tmp/x.db").unwrap(),
            DatabaseUrl::Sqlite {
                path: "/tmp/x.db".into()
            }
        );
        assert!(matches!(
            DatabaseUrl::parse("postgresql://u@h/db").unwrap(),
            DatabaseUrl::Postgres { .. }
        ));
        let err = DatabaseUrl::parse("mysql://root@localhost/db").unwrap_err();
        assert!(
            err.to_string().contains("'mysql' is not supported"),
            "{err}"
        );
        let err = DatabaseUrl::parse("gorod.db").unwrap_err();
        assert!(err.to_string().contains("no scheme"), "{err}");
    }

    #[test]
    fn passwords_never_reach_messages() {
        let url = DatabaseUrl::parse("postgres://city:s3cret@db.example/gorod").unwrap();
        assert_eq!(url.display(), "postgres://city:***@db.example/gorod");
    }
}
