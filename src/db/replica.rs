//! Public reads from a PostgreSQL streaming replica (`database.read_url`).
//! A watcher thread asks the replica, once a second, how far it is behind
//! the primary: caught up when it has replayed the primary's current WAL
//! position, else the time since the last transaction it replayed. While
//! the replica answers and lags by no more than `max_lag`, [`Reads::pool`]
//! hands out the replica's pool; otherwise the primary's, so public reads
//! go on when the replica stops or falls behind, and come back to it when
//! it recovers.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use diesel::prelude::*;
use diesel::sql_types::{Double, Text};

use super::{DbConnection, DbError, Pool};

/// What the watcher last saw of the replica.
#[derive(Debug, Clone, PartialEq)]
pub enum ReplicaState {
    /// No replica is configured.
    None,
    /// Serving reads; seconds behind the primary (0 when caught up).
    Serving { lag_secs: f64 },
    /// Answering, but too far behind: reads go to the primary.
    Lagging { lag_secs: f64 },
    /// Not answering: reads go to the primary.
    Unreachable(String),
    /// Not looked at yet.
    Unknown,
}

impl ReplicaState {
    pub fn name(&self) -> &'static str {
        match self {
            ReplicaState::None => "none",
            ReplicaState::Serving { .. } => "ok",
            ReplicaState::Lagging { .. } => "lagging",
            ReplicaState::Unreachable(_) => "unreachable",
            ReplicaState::Unknown => "unknown",
        }
    }

    /// The lag last measured, if any.
    pub fn lag_secs(&self) -> Option<f64> {
        match self {
            ReplicaState::Serving { lag_secs } | ReplicaState::Lagging { lag_secs } => {
                Some(*lag_secs)
            }
            _ => None,
        }
    }
}

/// Where reads go.
#[derive(Clone)]
pub struct Reads {
    primary: Pool,
    replica: Option<Pool>,
    state: Arc<Mutex<ReplicaState>>,
}

impl Reads {
    /// Reads from the primary only.
    pub fn primary_only(primary: Pool) -> Reads {
        Reads {
            primary,
            replica: None,
            state: Arc::new(Mutex::new(ReplicaState::None)),
        }
    }

    /// Reads from `replica` while it keeps within `max_lag`; a watcher
    /// thread keeps looking for as long as the returned value lives.
    pub fn with_replica(primary: Pool, replica: Pool, max_lag: Duration) -> Reads {
        let reads = Reads {
            primary,
            replica: Some(replica),
            state: Arc::new(Mutex::new(ReplicaState::Unknown)),
        };
        let watched = Arc::downgrade(&reads.state);
        let (primary, replica) = (reads.primary.clone(), reads.replica.clone());
        let spawned = std::thread::Builder::new()
            .name("gorod-replica-watch".into())
            .spawn(move || {
                let Some(replica) = replica else { return };
                while let Some(state) = watched.upgrade() {
                    let seen = measure_lag(&primary, &replica, max_lag);
                    *state.lock().unwrap_or_else(|e| e.into_inner()) = seen;
                    drop(state);
                    std::thread::sleep(WATCH_EVERY);
                }
            });
        if let Err(e) = spawned {
            log::error!("the replica watcher could not start: {e}");
        }
        reads
    }

    /// The pool public reads use now.
    pub fn pool(&self) -> &Pool {
        match (&self.replica, self.state()) {
            (Some(replica), ReplicaState::Serving { .. }) => replica,
            _ => &self.primary,
        }
    }

    pub fn has_replica(&self) -> bool {
        self.replica.is_some()
    }

    pub fn state(&self) -> ReplicaState {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

const WATCH_EVERY: Duration = Duration::from_secs(1);
/// How long the watcher waits for a replica connection.
const WATCH_TIMEOUT: Duration = Duration::from_secs(1);

#[derive(QueryableByName)]
struct Position {
    #[diesel(sql_type = Text)]
    lsn: String,
}

#[derive(QueryableByName)]
struct Lag {
    #[diesel(sql_type = Double)]
    lag: f64,
}

/// How far the replica is behind the primary.
fn measure_lag(primary: &Pool, replica: &Pool, max_lag: Duration) -> ReplicaState {
    let lag = || -> Result<f64, DbError> {
        let lsn = {
            let mut conn = primary.get_timeout(WATCH_TIMEOUT)?;
            current_position(&mut conn)?
        };
        let mut conn = replica.get_timeout(WATCH_TIMEOUT)?;
        behind(&mut conn, &lsn)
    };
    match lag() {
        Ok(lag_secs) if lag_secs <= max_lag.as_secs_f64() => ReplicaState::Serving { lag_secs },
        Ok(lag_secs) => ReplicaState::Lagging { lag_secs },
        Err(e) => ReplicaState::Unreachable(e.to_string()),
    }
}

fn current_position(conn: &mut DbConnection) -> Result<String, DbError> {
    Ok(
        diesel::sql_query("SELECT pg_current_wal_lsn()::text AS lsn")
            .get_result::<Position>(conn)?
            .lsn,
    )
}

/// Seconds the replica is behind `lsn` (a position of the primary's):
/// none once it has replayed that far, else the time since the last
/// transaction it replayed.
fn behind(conn: &mut DbConnection, lsn: &str) -> Result<f64, DbError> {
    Ok(diesel::sql_query(
        "SELECT (CASE \
           WHEN NOT pg_is_in_recovery() THEN 0 \
           WHEN pg_last_wal_replay_lsn() >= CAST($1 AS pg_lsn) THEN 0 \
           ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 1e9) \
         END)::float8 AS lag",
    )
    .bind::<Text, _>(lsn)
    .get_result::<Lag>(conn)?
    .lag)
}
