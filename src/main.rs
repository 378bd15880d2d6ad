//! The `gorod` command: `serve` (the default) runs the service (`--demo`
//! loads the demo city into an empty database), `migrate` brings the
//! database schema up to date and exits, `admin` is for the people who run
//! an installation (first administrator, accounts, secrets, the demo's
//! credentials), `media copy-to-store` moves photos between stores, and
//! `ledger verify` / `ledger checkpoint` check and sign the resolution
//! ledger, and `import addresses` / `import objects` load the city's
//! geodata.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};

use gorod::app::ledger as ledger_log;
use gorod::clock::Clock;
use gorod::clock::SystemClock;
use gorod::config::Settings;
use gorod::db;
use gorod::startup::{ledger_keys, Application};

#[derive(Parser)]
#[command(
    name = "gorod",
    version,
    about = "Civic issue reporting and resolution tracker"
)]
struct Cli {
    /// Folder holding default.toml and $GOROD_ENV.toml
    #[arg(long, default_value = "config", global = true)]
    config_dir: PathBuf,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the city (the default)
    Serve {
        /// Load the demo city (published accounts, passwords and keys) into
        /// an empty database; for trying Gorod out, never for a real city
        #[arg(long)]
        demo: bool,
    },
    /// Apply pending database migrations and exit
    Migrate,
    /// The resolution ledger
    Ledger {
        #[command(subcommand)]
        action: LedgerCommand,
    },
    /// Photos: `copy-to-store` copies a local photo directory into the
    /// configured store (media.store), e.g. when moving to object storage
    Media {
        #[command(subcommand)]
        action: MediaCommand,
    },
    /// Running an installation: administrators, accounts, secrets
    Admin {
        #[command(subcommand)]
        action: AdminCommand,
    },
    /// Witness another (or this) Gorod's ledger from outside: check each
    /// checkpoint extends the last one seen, cosign it and post the
    /// cosignature back. Needs no configuration or database
    Witness {
        #[command(subcommand)]
        action: WitnessCommand,
    },
    /// The city's geodata: the address registry and city objects
    Import {
        #[command(subcommand)]
        what: ImportCommand,
    },
}

#[derive(Subcommand)]
enum ImportCommand {
    /// Load an address register (GeoJSON points, or CSV with coordinate
    /// columns; `.csv` by its name). Addresses are created or replaced by
    /// street and house; a bad row is named and the others load
    Addresses {
        file: PathBuf,
        /// Property or column names, as `part=name1,name2` (parts: street,
        /// street_en, house, building, structure, full, lat, lon); tried
        /// before the usual names
        #[arg(long = "field")]
        fields: Vec<String>,
    },
    /// Load city objects: GeoJSON points whose properties give `type`, `id`,
    /// `name` (and `name_en`, `department` for the owner); created or
    /// replaced by type and id
    Objects { file: PathBuf },
}

#[derive(Subcommand)]
enum MediaCommand {
    /// Copy every photo of a local directory (default: media.dir) into the
    /// store media.store names; photos already there are left alone
    CopyToStore {
        #[arg(long)]
        from: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create an administrator. The password comes from
    /// GOROD_ADMIN_PASSWORD, or is asked for; the second factor's secret is
    /// shown once
    CreateAdmin {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: Option<String>,
    },
    /// List the accounts that can log in
    List,
    /// Disable an account: its sessions end and its API tokens stop
    Disable {
        #[arg(long)]
        email: String,
    },
    /// Enable a disabled account again
    Enable {
        #[arg(long)]
        email: String,
    },
    /// Rotate a secret: sessions, links (emailed links' key) or ledger (the
    /// checkpoint signing key); the old one is accepted for the grace period
    RotateSecret {
        secret: String,
        /// Hours the old secret is still accepted
        #[arg(long, default_value_t = 24)]
        grace_hours: i64,
    },
    /// Disable the demo city's published accounts and revoke its keys (its
    /// catalogue and reports stay)
    RemoveDemo,
}

#[derive(Subcommand)]
enum LedgerCommand {
    /// Walk the chain and the checkpoints; exit 0 when intact, 1 naming the
    /// first bad entry
    Verify,
    /// Sign a checkpoint of the ledger as it stands (once it verifies)
    Checkpoint,
}

#[derive(Subcommand)]
enum WitnessCommand {
    /// Make the witness's key (when its file does not exist) and print its
    /// verifier key, for the ledger's `ledger.witnesses`
    Init {
        /// The witness's name, a schema-less URL (e.g. news.example/witness)
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "witness.key")]
        key_file: PathBuf,
    },
    /// Follow a ledger: a round every --interval seconds (or one with
    /// --once). Exits 3 when the ledger's history was rewritten
    Watch {
        /// The Gorod instance's address, e.g. https://gorod.example.org
        #[arg(long)]
        log: String,
        /// The ledger's verifier key (`note_key` at /api/v1/ledger/key),
        /// needed on the first round
        #[arg(long)]
        log_key: Option<String>,
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "witness.key")]
        key_file: PathBuf,
        /// Where the witness remembers the last checkpoint it cosigned
        #[arg(long, default_value = "witness.state")]
        state: PathBuf,
        #[arg(long, default_value_t = 60)]
        interval: u64,
        #[arg(long)]
        once: bool,
    },
}

/// `gorod witness`: exit 0 while the ledger is consistent, 3 once a
/// rewritten history is seen, 1 on any other failure (with --once).
fn witness(action: WitnessCommand) -> ExitCode {
    use gorod::witness::{init, Round, Witness};
    let fail = |message: String| {
        eprintln!("gorod witness: {message}");
        ExitCode::FAILURE
    };
    match action {
        WitnessCommand::Init { name, key_file } => match init(&name, &key_file) {
            Ok((_, vkey)) => {
                println!("{vkey}");
                ExitCode::SUCCESS
            }
            Err(e) => fail(e),
        },
        WitnessCommand::Watch {
            log,
            log_key,
            name,
            key_file,
            state,
            interval,
            once,
        } => {
            let key = match init(&name, &key_file) {
                Ok((key, _)) => key,
                Err(e) => return fail(e),
            };
            let witness = Witness {
                name,
                key,
                log_url: log,
                state_file: state,
            };
            let mut state = match witness.state(log_key.as_deref()) {
                Ok(state) => state,
                Err(e) => return fail(e),
            };
            loop {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs());
                match witness.round(&mut state, now) {
                    Ok(Round::Cosigned { size }) => {
                        println!("cosigned the checkpoint of {size} entries")
                    }
                    Ok(Round::Unchanged { size }) => {
                        println!("the ledger still holds {size} entries; cosigned again")
                    }
                    Ok(Round::Rewritten(why)) => {
                        eprintln!("gorod witness: THE LEDGER'S HISTORY WAS REWRITTEN: {why}");
                        if once {
                            return ExitCode::from(3);
                        }
                    }
                    Err(e) if once => return fail(e),
                    Err(e) => eprintln!("gorod witness: {e}"),
                }
                if once {
                    return ExitCode::SUCCESS;
                }
                std::thread::sleep(std::time::Duration::from_secs(interval.max(1)));
            }
        }
    }
}

fn main() -> ExitCode {
    let mut cli = Cli::parse();
    if let Some(Command::Witness { .. }) = &cli.command {
        if let Some(Command::Witness { action }) = cli.command.take() {
            return witness(action);
        }
    }
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("gorod: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<(), String> {
    let settings = Settings::load(&cli.config_dir).map_err(|e| e.to_string())?;
    gorod::logging::init(&settings.log.format)?;
    match cli.command.unwrap_or(Command::Serve { demo: false }) {
        Command::Migrate => {
            db::connect_and_migrate_one(&settings.database.url).map_err(|e| e.to_string())?;
            println!("database is up to date");
            Ok(())
        }
        Command::Serve { demo } => {
            let mut settings = settings;
            settings.seed.demo |= demo;
            serve(&settings)
        }
        Command::Ledger { action } => ledger(&settings, action),
        Command::Witness { .. } => Err("gorod witness runs on its own".into()),
        Command::Admin { action } => admin(&settings, action),
        Command::Import { what } => import(&settings, what),
        Command::Media {
            action: MediaCommand::CopyToStore { from },
        } => {
            use gorod::media::MediaStore;
            let from = from.unwrap_or_else(|| settings.media.dir.clone());
            if !from.is_dir() {
                return Err(format!("{} is not a directory of photos", from.display()));
            }
            let source = MediaStore::directory(&from).map_err(|e| e.to_string())?;
            let location = settings.media.location().map_err(|e| e.to_string())?;
            let target = MediaStore::open(&location).map_err(|e| e.to_string())?;
            let (copied, present) = source.copy_to(&target).map_err(|e| e.to_string())?;
            println!(
                "copied {copied} photo files from {} to the {}; {present} were there already",
                from.display(),
                target.describe()
            );
            Ok(())
        }
    }
}

fn admin(settings: &Settings, action: AdminCommand) -> Result<(), String> {
    use gorod::app::operators::{self, Secret};
    let now = SystemClock.now();
    let mut conn =
        db::connect_and_migrate_one(&settings.database.url).map_err(|e| e.to_string())?;
    let conn = &mut conn;
    match action {
        AdminCommand::CreateAdmin { email, name } => {
            let password = match std::env::var("GOROD_ADMIN_PASSWORD") {
                Ok(p) if !p.is_empty() => p,
                _ => ask_password()?,
            };
            let admin = operators::create_admin(
                conn,
                &email,
                name.as_deref(),
                &password,
                &settings.city.name,
                now,
            )
            .map_err(|e| e.to_string())?;
            println!("administrator {} created.", admin.email);
            println!("Their second factor, shown this once: add it to an authenticator app now.");
            println!("  secret: {}", admin.totp_secret);
            println!("  {}", admin.totp_uri);
        }
        AdminCommand::List => {
            for a in operators::list_accounts(conn).map_err(|e| e.to_string())? {
                println!(
                    "{:<40} {:<10} {:<8} {:<13} {}",
                    a.email,
                    a.role,
                    if a.disabled { "disabled" } else { "enabled" },
                    if a.second_factor {
                        "second factor"
                    } else {
                        "-"
                    },
                    a.created_at.format("%Y-%m-%d %H:%M")
                );
            }
        }
        AdminCommand::Disable { email } => {
            operators::set_disabled(conn, &email, true, now).map_err(|e| e.to_string())?;
            println!("{email} is disabled: their sessions ended and their tokens stopped");
        }
        AdminCommand::Enable { email } => {
            operators::set_disabled(conn, &email, false, now).map_err(|e| e.to_string())?;
            println!("{email} is enabled");
        }
        AdminCommand::RotateSecret {
            secret,
            grace_hours,
        } => {
            let secret = Secret::parse(&secret).map_err(|e| e.to_string())?;
            let grace = chrono::TimeDelta::hours(grace_hours.max(0));
            let ledger = (
                settings.ledger.signing_key.as_str(),
                settings.ledger.key_file.as_path(),
            );
            let done =
                operators::rotate(conn, secret, grace, ledger, now).map_err(|e| e.to_string())?;
            let until = done.accepted_until.format("%Y-%m-%d %H:%M UTC");
            match secret {
                Secret::Sessions => println!(
                    "{} open sessions end by {until}; everyone logs in again after that",
                    done.sessions
                ),
                Secret::Links => println!(
                    "emailed links get a new key; links signed with the old one work until \
                     {until}. Restart every instance to sign with the new key"
                ),
                Secret::Ledger => {
                    if let Some((old, new)) = &done.ledger_keys {
                        println!("ledger signing key {old} replaced by {new}");
                    }
                    if let Some(size) = done.handover_checkpoint {
                        println!("the old key signed the checkpoint at {size} entries");
                    }
                    println!(
                        "the old key's checkpoints stay trusted; restart every instance by \
                         {until} to sign with the new key"
                    );
                }
            }
        }
        AdminCommand::RemoveDemo => {
            let removed = operators::remove_demo(conn, now).map_err(|e| e.to_string())?;
            println!(
                "disabled {} demo accounts and revoked {} demo keys",
                removed.accounts, removed.keys
            );
        }
    }
    Ok(())
}

/// A progress line on the terminal: rows done of all, refused so far.
fn progress(total: usize) -> impl FnMut(usize) {
    use std::io::Write;
    let started = std::time::Instant::now();
    move |done: usize| {
        let width = 30;
        let filled = (done * width).checked_div(total).unwrap_or(width);
        let bar: String = "#".repeat(filled) + &"-".repeat(width - filled);
        eprint!(
            "\r[{bar}] {done}/{total} rows, {:.1} s",
            started.elapsed().as_secs_f64()
        );
        let _ = std::io::stderr().flush();
        if done == total {
            eprintln!();
        }
    }
}

fn import(settings: &Settings, what: ImportCommand) -> Result<(), String> {
    use gorod::app::geodata;
    use gorod::geo::files::{self, Format};
    let read = |file: &PathBuf| {
        std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))
    };
    let mut conn =
        db::connect_and_migrate_one(&settings.database.url).map_err(|e| e.to_string())?;
    let now = SystemClock.now();
    let (imported, what) = match what {
        ImportCommand::Addresses { file, fields } => {
            let map = field_map(&fields)?;
            let format = Format::of_name(&file.to_string_lossy());
            let rows = files::addresses(&read(&file)?, format, &map)
                .map_err(|e| format!("{}: {}", file.display(), e.problem.en()))?;
            let total = rows.len();
            let done = geodata::import_addresses(&mut conn, rows, now, progress(total));
            (done.map_err(|e| e.to_string())?, "addresses")
        }
        ImportCommand::Objects { file } => {
            let rows = files::objects(&read(&file)?)
                .map_err(|e| format!("{}: {}", file.display(), e.problem.en()))?;
            let total = rows.len();
            let done = geodata::import_objects(&mut conn, rows, now, progress(total));
            (done.map_err(|e| e.to_string())?, "objects")
        }
    };
    for refused in &imported.refused {
        eprintln!("{}: {}", refused.row, refused.problem.en());
    }
    println!(
        "{what}: {} created, {} updated, {} rows refused",
        imported.created,
        imported.updated,
        imported.refused.len()
    );
    Ok(())
}

/// The usual field names, with `part=name,…` tried first.
fn field_map(fields: &[String]) -> Result<gorod::geo::registry::FieldMap, String> {
    let mut map = gorod::geo::registry::FieldMap::default();
    for field in fields {
        let (part, names) = field
            .split_once('=')
            .ok_or_else(|| format!("--field {field}: write it as part=name"))?;
        let list = match part.trim() {
            "street" => &mut map.street,
            "street_en" => &mut map.street_en,
            "house" => &mut map.house,
            "building" => &mut map.building,
            "structure" => &mut map.structure,
            "full" => &mut map.full,
            "lat" => &mut map.lat,
            "lon" => &mut map.lon,
            other => return Err(format!("--field: '{other}' is not a part of an address")),
        };
        for (i, name) in names
            .split(',')
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .enumerate()
        {
            list.insert(i, name.to_string());
        }
    }
    Ok(map)
}

/// Reads a password from the terminal twice, without echo.
fn ask_password() -> Result<String, String> {
    let first = rpassword::prompt_password("password for the new administrator: ")
        .map_err(|e| format!("no password: set GOROD_ADMIN_PASSWORD or run in a terminal ({e})"))?;
    let again =
        rpassword::prompt_password("the same password again: ").map_err(|e| e.to_string())?;
    if first != again {
        return Err("the two passwords differ".into());
    }
    Ok(first)
}

fn ledger(settings: &Settings, action: LedgerCommand) -> Result<(), String> {
    let clock = SystemClock;
    let mut conn =
        db::connect_and_migrate_one(&settings.database.url).map_err(|e| e.to_string())?;
    let keys = ledger_keys(&mut conn, settings, &clock).map_err(|e| e.to_string())?;
    match action {
        LedgerCommand::Verify => {
            let intact = ledger_log::verify_with(&mut conn, &keys)
                .map_err(|e| e.to_string())?
                .map_err(|broken| broken.to_string())?;
            println!(
                "ledger intact: {} entries, {} checkpoints; head {}, Merkle root {}",
                intact.entries, intact.checkpoints, intact.head_hash, intact.root_hash
            );
        }
        LedgerCommand::Checkpoint => {
            let signed =
                ledger_log::sign_now(&mut conn, &keys, clock.now()).map_err(|e| e.to_string())?;
            println!(
                "checkpoint of {} entries: root {}, signed by {}",
                signed.size, signed.root_hash, signed.public_key
            );
        }
    }
    Ok(())
}

#[actix_web::main]
async fn serve(settings: &Settings) -> Result<(), String> {
    let app = Application::build(settings, Arc::new(SystemClock)).map_err(|e| e.to_string())?;
    log::info!(
        "Gorod serves {} at http://{}:{}",
        gorod::db::DatabaseUrl::parse(&settings.database.url)
            .map(|u| u.display())
            .unwrap_or_default(),
        settings.server.host,
        app.port()
    );
    app.run_until_stopped().await.map_err(|e| e.to_string())
}
