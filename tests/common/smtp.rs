//! A real SMTP server process for the mail tests and the benchmark: `tests/smtp_server.py`
//! (aiosmtpd, from Debian's `python3-aiosmtpd`, which `scripts/test`
//! installs) on a free loopback port, storing what it receives. It can be
//! stopped and started again on the same port.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

/// The Python that has aiosmtpd: Debian's, unless `GOROD_TEST_PYTHON` says.
fn python() -> String {
    std::env::var("GOROD_TEST_PYTHON").unwrap_or_else(|_| "/usr/bin/python3".into())
}

pub struct SmtpServer {
    pub port: u16,
    store: tempfile::TempDir,
    hang_first: u32,
    delay_ms: u32,
    child: Option<Child>,
}

/// A message as the server received it, parsed.
#[derive(Debug, Clone)]
pub struct Received {
    pub to: Vec<String>,
    pub raw: String,
}

impl Received {
    pub fn parsed(&self) -> mail_parser::Message<'_> {
        mail_parser::MessageParser::default()
            .parse(self.raw.as_bytes())
            .expect("a parsable message")
    }

    pub fn message_id(&self) -> String {
        format!("<{}>", self.parsed().message_id().expect("a Message-ID"))
    }

    pub fn subject(&self) -> String {
        self.parsed().subject().unwrap_or_default().to_string()
    }

    pub fn text(&self) -> String {
        self.parsed()
            .body_text(0)
            .map(|t| t.into_owned())
            .unwrap_or_default()
    }

    pub fn html(&self) -> String {
        self.parsed()
            .body_html(0)
            .map(|t| t.into_owned())
            .unwrap_or_default()
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.parsed().header_raw(name).map(|v| v.trim().to_string())
    }
}

impl SmtpServer {
    pub fn start() -> SmtpServer {
        SmtpServer::start_with(0)
    }

    /// A server whose first `hang_first` connections are never answered.
    pub fn start_with(hang_first: u32) -> SmtpServer {
        SmtpServer::launched(hang_first, 0)
    }

    /// A server that takes `delay_ms` to accept each message, as a busy
    /// relay does.
    #[allow(dead_code)]
    pub fn start_slow(delay_ms: u32) -> SmtpServer {
        SmtpServer::launched(0, delay_ms)
    }

    fn launched(hang_first: u32, delay_ms: u32) -> SmtpServer {
        let mut server = SmtpServer {
            port: 0,
            store: tempfile::tempdir().expect("a store for the SMTP server"),
            hang_first,
            delay_ms,
            child: None,
        };
        server.launch();
        server
    }

    fn launch(&mut self) {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/smtp_server.py");
        let mut child = Command::new(python())
            .arg(script)
            .args(["--port", &self.port.to_string()])
            .arg("--store")
            .arg(self.store.path())
            .args(["--hang-first", &self.hang_first.to_string()])
            .args(["--delay-ms", &self.delay_ms.to_string()])
            .stdout(Stdio::piped())
            .spawn()
            .expect("the SMTP server starts (python3-aiosmtpd installed?)");
        let stdout = child.stdout.take().expect("its stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("the SMTP server says it is ready");
        self.port = line
            .trim()
            .strip_prefix("ready ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("unexpected first line from the SMTP server: {line:?}"));
        self.child = Some(child);
    }

    /// Kills the server: connections to its port are refused until
    /// [`SmtpServer::restart`].
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port, keeping what it received.
    pub fn restart(&mut self) {
        self.stop();
        self.hang_first = 0;
        self.launch();
    }

    /// How many messages it has received (without reading them).
    pub fn count(&self) -> usize {
        std::fs::read_to_string(self.store.path().join("messages.jsonl"))
            .map(|t| t.lines().filter(|l| !l.is_empty()).count())
            .unwrap_or(0)
    }

    pub fn received(&self) -> Vec<Received> {
        let path = self.store.path().join("messages.jsonl");
        let Ok(text) = std::fs::read_to_string(path) else {
            return Vec::new();
        };
        text.lines()
            .filter(|l| !l.is_empty())
            .map(|line| {
                let record: serde_json::Value =
                    serde_json::from_str(line).expect("a stored record");
                Received {
                    to: record["rcpt_tos"]
                        .as_array()
                        .map(|a| {
                            a.iter()
                                .filter_map(|v| v.as_str().map(String::from))
                                .collect()
                        })
                        .unwrap_or_default(),
                    raw: record["data"].as_str().unwrap_or_default().to_string(),
                }
            })
            .collect()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.stop();
    }
}
