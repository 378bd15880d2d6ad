//! Gorod as a real process (the built `gorod` binary), for tests that kill
//! an instance, run several at once, or measure one: `serve` with settings
//! given as `GOROD__…` variables on port 0; the port is read from its log.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

pub struct Instance {
    pub port: u16,
    child: Child,
    /// Its photos and mail files, unless `env` says otherwise.
    _files: tempfile::TempDir,
    /// What it has written to its log.
    log: Arc<Mutex<String>>,
}

impl Instance {
    /// Starts `gorod serve ARGS` on `database_url` with `env`, and waits
    /// until it listens; `Err` with what it said when it exits first.
    pub fn start(
        database_url: &str,
        args: &[&str],
        env: &[(&str, String)],
    ) -> Result<Instance, String> {
        Instance::start_in(&super::config_dir(), database_url, args, env)
    }

    /// As [`Instance::start`], with the settings files of `config_dir`.
    pub fn start_in(
        config_dir: &Path,
        database_url: &str,
        args: &[&str],
        env: &[(&str, String)],
    ) -> Result<Instance, String> {
        let files = tempfile::tempdir().map_err(|e| e.to_string())?;
        let mut child = Command::new(env!("CARGO_BIN_EXE_gorod"))
            .arg("--config-dir")
            .arg(config_dir)
            .arg("serve")
            .args(args)
            .env("GOROD__DATABASE__URL", database_url)
            .env("GOROD__SERVER__PORT", "0")
            .env("RUST_LOG", "info")
            .env("GOROD__MEDIA__DIR", files.path().join("media"))
            .env("GOROD__MAIL__DIR", files.path().join("mail"))
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| e.to_string())?;
        let stderr = child.stderr.take().ok_or("no stderr")?;
        let mut lines = BufReader::new(stderr).lines();
        let mut said = String::new();
        for line in lines.by_ref() {
            let Ok(line) = line else { break };
            said.push_str(&line);
            said.push('\n');
            if let Some(port) = line
                .split("http://127.0.0.1:")
                .nth(1)
                .filter(|_| line.contains("Gorod serves"))
                .and_then(|p| {
                    let digits: String = p.chars().take_while(char::is_ascii_digit).collect();
                    digits.parse::<u16>().ok()
                })
            {
                // Keep reading, or the process blocks on a full pipe.
                let log = Arc::new(Mutex::new(said));
                let kept = log.clone();
                std::thread::spawn(move || {
                    for line in lines.map_while(Result::ok) {
                        let mut kept = kept.lock().unwrap();
                        kept.push_str(&line);
                        kept.push('\n');
                    }
                });
                return Ok(Instance {
                    port,
                    child,
                    _files: files,
                    log,
                });
            }
        }
        let _ = child.wait();
        Err(said)
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Everything it has logged so far.
    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL: no clean-up of any kind.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.kill();
    }
}
