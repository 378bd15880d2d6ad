//! Builds the running application from `Settings`: connects to the database
//! the URL names, migrates it, loads the demo city into an empty database when
//! asked, and binds its own listener (port 0 picks a free port, as tests do).

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpServer};

use utoipa::OpenApi;
use utoipa_actix_web::AppExt;

use crate::app::dispatch::{Dispatcher, Pace, Sender};
use crate::app::writer::FilingWriter;
use crate::clock::Clock;
use crate::config::Settings;
use crate::db::checkpoint::Checkpointer;
use crate::db::{self, DatabaseUrl, DbError, Pool};
use crate::demo::{self, DemoError};
use crate::http::{self, AppState, Metrics};
use crate::ledger::LedgerKeys;
use crate::media::{MediaStore, PhotoLimits};
use crate::notify::links::Signer;
use crate::notify::transport::{Mailer, MailerError, MemoryBox};
use lettre::message::Mailbox;

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Database(#[from] DbError),
    #[error(transparent)]
    Demo(#[from] DemoError),
    #[error("city.time_zone: '{0}' is not a time zone name like Europe/Moscow")]
    TimeZone(String),
    #[error(transparent)]
    LedgerKey(#[from] crate::app::signing_key::KeyError),
    #[error("{field}: {message}")]
    Setting {
        field: &'static str,
        message: String,
    },
    #[error("cannot start the filing writer: {0}")]
    Writer(#[source] std::io::Error),
    #[error(transparent)]
    Mail(#[from] MailerError),
    #[error(transparent)]
    Media(#[from] crate::media::StoreError),
    #[error("cannot start the mail dispatcher: {0}")]
    Dispatcher(#[source] std::io::Error),
    #[error(
        "the database holds the demo city's published credentials ({} accounts, {} API keys) \
         and the server would listen on {host}, beyond this machine: anyone could log in with \
         them. Run `gorod admin remove-demo` to disable them (the demo's catalogue and reports \
         stay), or serve on 127.0.0.1",
        found.accounts,
        found.keys
    )]
    DemoOnPublicAddress {
        host: String,
        found: crate::db::operations::DemoCredentials,
    },
    #[error("cannot listen on {address}: {source}")]
    Bind {
        address: String,
        source: std::io::Error,
    },
}

pub struct Application {
    port: u16,
    pool: Pool,
    server: Server,
    mailbox: Option<MemoryBox>,
    services: std::sync::Arc<crate::app::Services>,
}

fn session_rules(
    accounts: &crate::config::AccountSettings,
    public_url: &str,
) -> Result<http::SessionRules, StartupError> {
    let secure_cookies = match accounts.secure_cookies.as_str() {
        "auto" => public_url.starts_with("https://"),
        "always" => true,
        "never" => false,
        other => {
            return Err(StartupError::Setting {
                field: "accounts.secure_cookies",
                message: format!("'{other}' is not auto, always or never"),
            })
        }
    };
    Ok(http::SessionRules {
        limits: crate::db::accounts::Limits {
            idle: chrono::TimeDelta::minutes(accounts.session_idle_minutes.max(1)),
            absolute: chrono::TimeDelta::hours(accounts.session_absolute_hours.max(1)),
        },
        secure_cookies,
    })
}

fn trusted_proxies(list: &[String]) -> Result<Vec<std::net::IpAddr>, StartupError> {
    list.iter()
        .map(|a| {
            a.trim().parse().map_err(|_| StartupError::Setting {
                field: "server.trusted_proxies",
                message: format!("'{a}' is not an IP address"),
            })
        })
        .collect()
}

impl Application {
    pub fn build(settings: &Settings, clock: Arc<dyn Clock>) -> Result<Application, StartupError> {
        let time_zone: chrono_tz::Tz = settings
            .city
            .time_zone
            .parse()
            .map_err(|_| StartupError::TimeZone(settings.city.time_zone.clone()))?;
        let pool = prepare_database(settings)?;
        crate::app::ledger::catch_up_tiles(&mut *pool.get().map_err(DbError::from)?)?;
        let address = format!("{}:{}", settings.server.host, settings.server.port);
        let listener = TcpListener::bind(&address).map_err(|source| StartupError::Bind {
            address: address.clone(),
            source,
        })?;
        let port = listener
            .local_addr()
            .map_err(|source| StartupError::Bind { address, source })?
            .port();
        let public_url = match settings.server.public_url.trim_end_matches('/') {
            "" => format!("http://{}:{port}", settings.server.host),
            configured => configured.to_string(),
        };
        let sessions = session_rules(&settings.accounts, &public_url)?;
        let mail = &settings.mail;
        let mailer = Mailer::from_settings(mail)?;
        let from: Mailbox = mail
            .from
            .parse()
            .map_err(|_| MailerError::From(mail.from.clone()))?;
        let signer = link_signer(&pool, &clock)?;
        let ledger_origin = ledger_origin(&settings.ledger.origin, &public_url);
        let ledger_keys = ledger_keys(
            &mut *pool.get().map_err(DbError::from)?,
            settings,
            clock.as_ref(),
        )?;
        let sender = Sender {
            mailer: mailer.clone(),
            from,
            signer: signer.clone(),
            public_url: public_url.clone(),
            time_zone,
        };
        let reads = public_reads(&settings.database, &pool)?;
        let confirm_within =
            chrono::TimeDelta::hours(settings.accounts.confirm_within_hours.max(1));
        let mut services = crate::app::Services {
            pool: pool.clone(),
            reads,
            clock,
            public_url,
            signer,
            dispatcher: None,
            check_reminder: chrono::TimeDelta::hours(mail.check_reminder_hours.max(0)),
            digest_hour: mail.digest_hour,
            catalog: Default::default(),
            geodata: Default::default(),
            _checkpointer: Checkpointer::start(&pool)?,
            time_zone,
            city_name: settings.city.name.clone(),
            contact: settings.city.contact.clone(),
            media: MediaStore::open(&settings.media.location()?)?,
            photo_limits: PhotoLimits {
                max_bytes: settings.media.max_photo_bytes,
                max_width: settings.media.max_width,
                max_height: settings.media.max_height,
                max_pixels: settings.media.max_pixels,
            },
            decode_budget: decode_budget(&settings.media)?,
            max_photos: settings.media.max_photos,
            refutation_limit: settings.workflow.refutation_limit,
            rotation_overlap_hours: settings.back_office.rotation_overlap_hours,
            ledger_keys,
            answer_prints: Default::default(),
            evidence_distance_m: settings.workflow.evidence_distance_m.max(1.0),
            ledger_origin,
            ledger_witnesses: ledger_witnesses(&settings.ledger.witnesses)?,
            checkpoint_interval: chrono::TimeDelta::seconds(
                i64::try_from(settings.ledger.checkpoint_interval_secs).unwrap_or(i64::MAX),
            ),
            confirm_anonymous: settings
                .accounts
                .confirm_anonymous_reports
                .then_some(confirm_within),
            confirm_within,
            limits: settings.limits.clone(),
        };
        if settings.seed.demo {
            load_demo(&services, settings.seed.demo_reports)?;
        }
        refuse_demo_beyond_loopback(&pool, &settings.server.host)?;
        // Started once the demo is loaded: its replayed history's messages
        // are dropped, never sent.
        if mail.poll_ms > 0 {
            let pace = Pace::from_settings(mail);
            services.dispatcher = Some(
                Dispatcher::start(pool.clone(), sender, pace).map_err(StartupError::Dispatcher)?,
            );
        }
        let state = web::Data::new(AppState {
            services: std::sync::Arc::new(services),
            writer: FilingWriter::start(pool.clone(), filing_writers(&settings.database))
                .map_err(StartupError::Writer)?,
            open311_posts: Default::default(),
            sessions,
            trusted_proxies: trusted_proxies(&settings.server.trusted_proxies)?,
            web: settings.web.clone(),
            map: settings.map.clone(),
        });
        crate::app::jobs::start_scanner(
            Arc::downgrade(&state.clone().into_inner()),
            settings.sla.scan_interval_secs,
        );
        crate::app::jobs::start_indexer(
            Arc::downgrade(&state.clone().into_inner()),
            settings.search.index_ms,
        );
        if settings.back_office.poll_ms > 0 {
            crate::app::deliver::start(
                Arc::downgrade(&state.clone().into_inner()),
                crate::app::deliver::Courier::from_settings(&settings.back_office),
            )
            .map_err(StartupError::Dispatcher)?;
        }
        let metrics = web::Data::new(Metrics::new());
        let services = state.services.clone();
        let server = HttpServer::new(move || {
            let (app, api) = App::new()
                .wrap(http::security_headers())
                .wrap(from_fn(http::metrics::track))
                .wrap(from_fn(http::mark_writers))
                .wrap(from_fn(http::body::refuse_zero_characters))
                .wrap(from_fn(http::requests::identify))
                .app_data(state.clone())
                .app_data(metrics.clone())
                .app_data(http::body::query_config())
                .app_data(http::body::path_config())
                .into_utoipa_app()
                .openapi(http::ApiDoc::openapi())
                .service(utoipa_actix_web::scope("/api/v1").configure(http::api_v1))
                .split_for_parts();
            app.app_data(web::Data::new(api)).configure(http::routes)
        })
        .listen(listener)
        .map_err(|source| StartupError::Bind {
            address: format!("port {port}"),
            source,
        })?
        .run();
        Ok(Application {
            port,
            pool,
            server,
            mailbox: mailer.kept(),
            services,
        })
    }

    /// What the `memory` mail transport has sent (`None` with the others).
    pub fn mailbox(&self) -> Option<MemoryBox> {
        self.mailbox.clone()
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The application's services (what its use cases take).
    pub fn services(&self) -> std::sync::Arc<crate::app::Services> {
        self.services.clone()
    }

    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// Connects and migrates.
pub fn prepare_database(settings: &Settings) -> Result<Pool, StartupError> {
    db::claim(&settings.database.url)?;
    Ok(db::connect_and_migrate(
        &settings.database.url,
        settings.database.pool_size,
        Duration::from_secs(settings.database.connect_timeout_secs.max(1)),
    )?)
}

/// With an empty database, loads the demo city (`app::demo`).
fn load_demo(services: &crate::app::Services, reports: u32) -> Result<(), StartupError> {
    let mut conn = services.pool.get().map_err(DbError::from)?;
    if !db::seed::is_empty(&mut conn)? {
        return Ok(());
    }
    let city = demo::build(services.clock.now(), reports)?;
    if let Some(loaded) = crate::app::demo::load_if_empty(services, &mut conn, &city)? {
        log::info!(
            "loaded the demo city: {} departments, {} categories, {} reports ({} moves refused)",
            city.rows.departments.len(),
            city.rows.categories.len(),
            loaded.reports,
            loaded.refused
        );
    }
    Ok(())
}

/// Whether `host` is this machine only.
fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_matches(|c| c == '[' || c == ']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// A server reachable beyond this machine never runs with the demo's
/// published accounts, passwords and keys in its database.
fn refuse_demo_beyond_loopback(pool: &Pool, host: &str) -> Result<(), StartupError> {
    if is_loopback(host) {
        return Ok(());
    }
    let mut conn = pool.get().map_err(DbError::from)?;
    let found = crate::app::operators::demo_credentials(&mut conn)?;
    if found.any() {
        return Err(StartupError::DemoOnPublicAddress {
            host: host.to_string(),
            found,
        });
    }
    Ok(())
}

/// The signer of emailed links: the key this installation stored (shared
/// by all its instances; a fresh random one on first start), and the keys
/// rotated out whose grace period has not ended.
fn link_signer(pool: &Pool, clock: &Arc<dyn Clock>) -> Result<Signer, StartupError> {
    use crate::app::operators::LINK_SECRET;
    let fresh = crate::ledger::SigningKeys::fresh_seed();
    let mut conn = pool.get().map_err(DbError::from)?;
    let key = db::outbox::secret(&mut conn, LINK_SECRET, fresh, clock.now())?;
    let earlier = db::operations::retired(&mut conn, LINK_SECRET)?
        .into_iter()
        .map(|old| (old.value.into_bytes(), old.accepted_until))
        .collect();
    Ok(Signer::with_earlier(key.as_bytes(), earlier, clock.clone()))
}

/// The key that signs ledger checkpoints (from the environment or the key
/// file, never the database: `app::signing_key`) and the keys whose
/// checkpoints count.
pub fn ledger_keys(
    conn: &mut db::DbConnection,
    settings: &Settings,
    _clock: &dyn Clock,
) -> Result<LedgerKeys, StartupError> {
    crate::app::signing_key::load(
        conn,
        &settings.ledger.signing_key,
        &settings.ledger.key_file,
        &settings.ledger.trusted_public_keys,
    )
    .map_err(StartupError::from)
}

/// The ledger's C2SP origin: configured, or the public address's host and
/// path followed by `/ledger`.
fn ledger_origin(configured: &str, public_url: &str) -> String {
    match configured.trim() {
        "" => {
            let place = public_url
                .split_once("://")
                .map_or(public_url, |(_, rest)| rest)
                .trim_end_matches('/');
            format!("{place}/ledger")
        }
        origin => origin.to_string(),
    }
}

/// The witnesses' verifier keys, each a cosigner's.
fn ledger_witnesses(
    keys: &[String],
) -> Result<Vec<crate::ledger::note::VerifierKey>, StartupError> {
    keys.iter()
        .map(|text| {
            crate::ledger::note::VerifierKey::parse(text)
                .and_then(|key| {
                    key.is_cosigner()
                        .then_some(key)
                        .ok_or_else(|| "it is not a cosigner's key (type 4)".to_string())
                })
                .map_err(|message| StartupError::Setting {
                    field: "ledger.witnesses",
                    message: format!("'{text}': {message}"),
                })
        })
        .collect()
}

/// The memory photo cleaning may use: enough for at least one photo of the
/// largest size allowed.
fn decode_budget(
    media: &crate::config::MediaSettings,
) -> Result<crate::media::DecodeBudget, StartupError> {
    let bytes = media.decode_budget_mb.saturating_mul(1 << 20);
    let largest = media
        .max_pixels
        .saturating_mul(crate::media::BYTES_PER_PIXEL_CLEANING)
        .saturating_add(media.max_photo_bytes as u64);
    if bytes < largest {
        return Err(StartupError::Setting {
            field: "media.decode_budget_mb",
            message: format!(
                "{} MiB cannot clean one photo of media.max_pixels ({}), which takes {} MiB",
                media.decode_budget_mb,
                media.max_pixels,
                largest.div_ceil(1 << 20)
            ),
        });
    }
    Ok(crate::media::DecodeBudget::new(bytes, media.decode_at_once))
}

/// Where public reads go: the replica `database.read_url` names (PostgreSQL
/// only), or the primary.
fn public_reads(
    database: &crate::config::DatabaseSettings,
    primary: &Pool,
) -> Result<db::replica::Reads, StartupError> {
    let url = database.read_url.trim();
    if url.is_empty() {
        return Ok(db::replica::Reads::primary_only(primary.clone()));
    }
    let postgres = |u: &str| matches!(DatabaseUrl::parse(u), Ok(DatabaseUrl::Postgres { .. }));
    if !postgres(url) || !postgres(&database.url) {
        return Err(StartupError::Setting {
            field: "database.read_url",
            message: "a read replica is for PostgreSQL: both URLs must be postgres://".into(),
        });
    }
    let replica = db::connect_pool(
        url,
        database.pool_size,
        Duration::from_secs(database.connect_timeout_secs.max(1)),
    )?;
    Ok(db::replica::Reads::with_replica(
        primary.clone(),
        replica,
        Duration::from_secs(database.max_replica_lag_secs),
    ))
}

/// SQLite has one writer at a time; PostgreSQL takes as many as configured.
fn filing_writers(database: &crate::config::DatabaseSettings) -> usize {
    match DatabaseUrl::parse(&database.url) {
        Ok(DatabaseUrl::Postgres { .. }) => database.filing_writers,
        _ => 1,
    }
}
