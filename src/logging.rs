//! The log: `env_logger` filtered by `RUST_LOG` (default `info`), one line
//! per record, as text for people or (`log.format = "json"`) as JSON lines
//! for a log collector. A line written while a request is handled carries
//! the request's id.

use std::io::Write;

/// Starts logging in `format` (`text` or `json`); an unknown format is an
/// error naming the setting.
pub fn init(format: &str) -> Result<(), String> {
    let json = match format {
        "text" => false,
        "json" => true,
        other => return Err(format!("log.format: '{other}' is not text or json")),
    };
    let mut builder =
        env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info"));
    builder.format(move |buf, record| {
        let request = crate::http::requests::current();
        let at = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ");
        if json {
            let line = serde_json::json!({
                "ts": at.to_string(),
                "level": record.level().as_str().to_ascii_lowercase(),
                "target": record.target(),
                "message": record.args().to_string(),
                "request_id": request,
            });
            writeln!(buf, "{line}")
        } else {
            match request {
                Some(id) => writeln!(
                    buf,
                    "{at} {:<5} {} [{id}] {}",
                    record.level(),
                    record.target(),
                    record.args()
                ),
                None => writeln!(
                    buf,
                    "{at} {:<5} {} {}",
                    record.level(),
                    record.target(),
                    record.args()
                ),
            }
        }
    });
    builder.try_init().map_err(|e| e.to_string())
}
