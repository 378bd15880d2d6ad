//! The `gorod` command: `serve` (the default) runs the service, `migrate`
//! brings the database schema up to date and exits, `ledger verify` checks
//! the resolution ledger and `ledger checkpoint` signs a checkpoint of it.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};

use gorod::clock::Clock;
use gorod::clock::SystemClock;
use gorod::config::Settings;
use gorod::db::{self, ledger as ledger_db};
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
    Serve,
    /// Apply pending database migrations and exit
    Migrate,
    /// The resolution ledger
    Ledger {
        #[command(subcommand)]
        action: LedgerCommand,
    },
}

#[derive(Subcommand)]
enum LedgerCommand {
    /// Walk the chain and the checkpoints; exit 0 when intact, 1 naming the
    /// first bad entry
    Verify,
    /// Sign a checkpoint of the ledger as it stands (once it verifies)
    Checkpoint,
}

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let cli = Cli::parse();
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
    match cli.command.unwrap_or(Command::Serve) {
        Command::Migrate => {
            db::connect_and_migrate_one(&settings.database.url).map_err(|e| e.to_string())?;
            println!("database is up to date");
            Ok(())
        }
        Command::Serve => serve(&settings),
        Command::Ledger { action } => ledger(&settings, action),
    }
}

fn ledger(settings: &Settings, action: LedgerCommand) -> Result<(), String> {
    let clock = SystemClock;
    let mut conn =
        db::connect_and_migrate_one(&settings.database.url).map_err(|e| e.to_string())?;
    let keys = ledger_keys(&mut conn, settings, &clock).map_err(|e| e.to_string())?;
    match action {
        LedgerCommand::Verify => {
            let intact = ledger_db::verify(&mut conn, &keys.trusted)
                .map_err(|e| e.to_string())?
                .map_err(|broken| broken.to_string())?;
            println!(
                "ledger intact: {} entries, {} checkpoints; head {}, Merkle root {}",
                intact.entries, intact.checkpoints, intact.head_hash, intact.root_hash
            );
        }
        LedgerCommand::Checkpoint => {
            let signed =
                ledger_db::sign_checkpoint(&mut conn, &keys.signing, &keys.trusted, clock.now())
                    .map_err(|e| e.to_string())?;
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
