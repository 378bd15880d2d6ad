//! Settings, loaded in layers: `config/default.toml` (or the copy compiled
//! into the binary when the file is absent) → `config/$GOROD_ENV.toml` →
//! `GOROD__SECTION__KEY` environment variables. `DATABASE_URL` is honoured when
//! `GOROD__DATABASE__URL` is not set. Nothing here is global: the loaded
//! `Settings` value is passed to `Application::build`.

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;

const EMBEDDED_DEFAULTS: &str = include_str!("../config/default.toml");

#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    pub server: ServerSettings,
    pub city: CitySettings,
    pub database: DatabaseSettings,
    pub media: MediaSettings,
    pub seed: SeedSettings,
    pub sla: SlaSettings,
    pub search: SearchSettings,
    pub mail: MailSettings,
    pub back_office: BackOfficeSettings,
    pub workflow: WorkflowSettings,
    pub ledger: LedgerSettings,
    pub accounts: AccountSettings,
    pub limits: LimitSettings,
    pub web: WebSettings,
    pub map: MapSettings,
    pub log: LogSettings,
}

/// The log.
#[derive(Debug, Clone, Deserialize)]
pub struct LogSettings {
    /// `text` (for people) or `json` (one JSON object a line, for a log
    /// collector). What is logged is chosen by `RUST_LOG`.
    pub format: String,
}

/// The maps of the web pages.
#[derive(Debug, Clone, Deserialize)]
pub struct MapSettings {
    /// The tile layer (`{z}`, `{x}`, `{y}`, optional `{s}`): a city's own
    /// tile server, or OpenStreetMap's. Empty: no tiles; the maps show the
    /// reports (and take pins) on a blank background.
    pub tile_url: String,
    /// The tiles' attribution, shown on every map (HTML is not allowed).
    pub attribution: String,
    /// The deepest zoom the tile server draws.
    pub max_zoom: u8,
}

/// The web pages.
#[derive(Debug, Clone, Deserialize)]
pub struct WebSettings {
    /// Where `scripts/build-web` puts the front-end libraries (Leaflet,
    /// its clustering plugin, Chart.js), served at `/vendor/`.
    pub vendor_dir: std::path::PathBuf,
}

#[derive(Debug, Clone, Deserialize)]
pub struct AccountSettings {
    /// A session ends after this many minutes without a request …
    pub session_idle_minutes: i64,
    /// … and this many hours after login in any case.
    pub session_absolute_hours: i64,
    /// `auto` (Secure when `server.public_url` is https), `always` or
    /// `never` (plain-HTTP development).
    pub secure_cookies: String,
    /// Reports filed without an account or API token wait until their
    /// filer confirms them by the emailed link.
    pub confirm_anonymous_reports: bool,
    /// Hours a report awaiting confirmation is kept.
    pub confirm_within_hours: i64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct LimitSettings {
    /// Reports one resident may file in a day (the city's local day).
    pub reports_per_day: i64,
    /// Updates one resident may add to reports in a day (the city's local day).
    pub updates_per_day: i64,
    /// Confirmation emails one address gets in a day (the city's local day).
    pub confirmations_per_address_per_day: i64,
    /// Failed logins, per account and per client address, in a window of
    /// `login_window_minutes`; then logins wait until the window ends.
    pub login_failures_per_account: i64,
    pub login_failures_per_ip: i64,
    pub login_window_minutes: i64,
    /// Open311 POSTs per API key per minute.
    pub open311_posts_per_minute: i64,
    /// Registrations and password-reset requests per client address per hour.
    pub account_requests_per_ip_hour: i64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct WorkflowSettings {
    /// How many answers a reporter may refute; the refutation that reaches
    /// it hands the report to a supervisor.
    pub refutation_limit: i32,
    /// Metres from the report within which an answer's photo (by its GPS
    /// position) counts as taken at the problem.
    pub evidence_distance_m: f64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct LedgerSettings {
    /// The Ed25519 secret key (32-byte seed, hex) that signs checkpoints,
    /// from the environment; empty: the key in `key_file`.
    pub signing_key: String,
    /// The file holding the signing key (written on the first start of an
    /// empty ledger, and by `gorod admin rotate-secret ledger`).
    pub key_file: std::path::PathBuf,
    /// The log's name in its C2SP checkpoints (a schema-less URL); empty:
    /// `server.public_url`'s host and path, then `/ledger`.
    pub origin: String,
    /// Witnesses whose cosignatures are taken and published: C2SP
    /// verifier keys of type 0x04 (`name+keyid+base64`), as `gorod witness
    /// --init` prints them.
    pub witnesses: Vec<String>,
    /// Public keys (hex) of earlier signing keys whose checkpoints still
    /// count, after the key was changed.
    pub trusted_public_keys: Vec<String>,
    /// Seconds between checkpoints the scanner signs (when the ledger grew).
    pub checkpoint_interval_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct MailSettings {
    /// `file`, `smtp` or `memory`.
    pub transport: String,
    pub from: String,
    /// Where the `file` transport writes.
    pub dir: std::path::PathBuf,
    /// Messages leased at a time, and how many are sent at once.
    pub batch: usize,
    pub workers: usize,
    pub lease_secs: u64,
    /// Milliseconds between looks at the outbox when nothing was due; 0
    /// turns the dispatcher off.
    pub poll_ms: u64,
    pub max_attempts: i32,
    pub backoff_base_secs: u64,
    pub backoff_max_secs: u64,
    pub check_reminder_hours: i64,
    pub digest_hour: u32,
    pub smtp: SmtpSettings,
}

/// The courier: webhooks and back offices (`app::deliver`).
#[derive(Debug, Clone, Deserialize)]
pub struct BackOfficeSettings {
    /// Milliseconds between rounds when nothing was due; 0: no courier.
    pub poll_ms: u64,
    pub batch: usize,
    pub workers: usize,
    pub lease_secs: u64,
    pub timeout_secs: u64,
    pub max_attempts: i32,
    pub backoff_base_secs: u64,
    pub backoff_max_secs: u64,
    pub pull_secs: u64,
    pub rotation_overlap_hours: i64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    /// `none`, `starttls` or `tls`.
    pub tls: String,
    pub timeout_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SlaSettings {
    pub scan_interval_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SearchSettings {
    /// Milliseconds between the search indexer's looks at its queue; 0
    /// turns it off.
    pub index_ms: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct MediaSettings {
    /// `local` (photos under `dir`) or `s3` (the bucket in `s3`).
    pub store: String,
    pub dir: std::path::PathBuf,
    pub s3: S3Settings,
    pub max_photo_bytes: usize,
    pub max_photos: usize,
    pub max_width: u32,
    pub max_height: u32,
    pub max_pixels: u64,
    /// Memory (MiB) that photos being cleaned may take at once, and how
    /// many may be cleaned at once; past either a photo is refused with 503.
    pub decode_budget_mb: u64,
    pub decode_at_once: usize,
}

/// An S3-compatible bucket for photos; credentials come from the
/// environment (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`).
#[derive(Debug, Clone, Deserialize)]
pub struct S3Settings {
    /// e.g. `https://storage.example.org`; empty: Amazon S3 itself.
    pub endpoint: String,
    pub bucket: String,
    pub region: String,
    /// Address the bucket in the path (`endpoint/bucket/key`), as most
    /// S3-compatible servers want, rather than as a host name.
    pub path_style: bool,
}

impl MediaSettings {
    /// Where photos are kept, as the settings say.
    pub fn location(&self) -> Result<crate::media::store::Location, crate::media::StoreError> {
        use crate::media::store::Location;
        match self.store.as_str() {
            "local" => Ok(Location::Directory(self.dir.clone())),
            "s3" => Ok(Location::S3 {
                endpoint: self.s3.endpoint.clone(),
                bucket: self.s3.bucket.clone(),
                region: self.s3.region.clone(),
                path_style: self.s3.path_style,
            }),
            other => Err(crate::media::StoreError::Setting {
                field: "store",
                message: format!("'{other}' is not local or s3"),
            }),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct ServerSettings {
    pub host: String,
    pub port: u16,
    pub public_url: String,
    /// Addresses of reverse proxies whose `X-Forwarded-For` names the
    /// client; from anyone else the peer address is the client.
    pub trusted_proxies: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CitySettings {
    pub name: String,
    pub time_zone: String,
    pub contact: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DatabaseSettings {
    pub url: String,
    /// A streaming replica (PostgreSQL) for public reads; empty: none.
    pub read_url: String,
    /// Seconds the replica may lag before reads go back to the primary.
    pub max_replica_lag_secs: u64,
    pub pool_size: u32,
    pub connect_timeout_secs: u64,
    pub filing_writers: usize,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SeedSettings {
    pub demo: bool,
    pub demo_reports: u32,
}

#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(#[from] config::ConfigError);

impl Settings {
    /// Loads settings from `config_dir` and the process environment.
    pub fn load(config_dir: &Path) -> Result<Settings, ConfigError> {
        Settings::load_with_env(config_dir, std::env::vars().collect())
    }

    /// Loads settings from `config_dir` and the given environment, so tests
    /// can vary the environment without touching the process's own.
    pub fn load_with_env(
        config_dir: &Path,
        env: HashMap<String, String>,
    ) -> Result<Settings, ConfigError> {
        use config::{Config, Environment, File, FileFormat};

        let defaults_file = config_dir.join("default.toml");
        let mut builder = if defaults_file.exists() {
            Config::builder().add_source(File::from(defaults_file))
        } else {
            Config::builder().add_source(File::from_str(EMBEDDED_DEFAULTS, FileFormat::Toml))
        };
        if let Some(name) = env.get("GOROD_ENV").filter(|n| !n.is_empty()) {
            builder = builder.add_source(File::from(config_dir.join(format!("{name}.toml"))));
        }
        if !env.contains_key("GOROD__DATABASE__URL") {
            if let Some(url) = env.get("DATABASE_URL").filter(|u| !u.is_empty()) {
                builder = builder.set_override("database.url", url.as_str())?;
            }
        }
        let gorod_env: HashMap<String, String> = env
            .into_iter()
            .filter(|(key, _)| key.starts_with("GOROD__"))
            .collect();
        builder = builder.add_source(
            Environment::with_prefix("GOROD")
                .prefix_separator("__")
                .separator("__")
                .try_parsing(true)
                .source(Some(gorod_env)),
        );
        Ok(builder.build()?.try_deserialize()?)
    }
}
