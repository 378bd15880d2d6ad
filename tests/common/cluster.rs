//! PostgreSQL clusters of a test's own, made with the server's `initdb` and
//! `pg_ctl` on free loopback ports, so a test can stop its database, start it
//! again, or stream it to a replica (`pg_basebackup -R`) without touching
//! anyone else's server. Run as the `postgres` user when the tests run as
//! root (PostgreSQL refuses to run as root). Removed when dropped.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub struct Cluster {
    pub port: u16,
    dir: tempfile::TempDir,
    bin: PathBuf,
}

/// The newest installed server's programs.
fn server_bin() -> Option<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

fn is_root() -> bool {
    std::env::var("USER").is_ok_and(|u| u == "root")
        || Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| o.stdout.starts_with(b"0\n"))
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Cluster {
    /// A fresh cluster, started; `None` when no PostgreSQL server is
    /// installed here.
    pub fn start() -> Option<Cluster> {
        let bin = server_bin()?;
        let cluster = Cluster::empty(bin);
        cluster.run(
            "initdb",
            &[
                "-D",
                &cluster.data(),
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
            ],
        );
        std::fs::write(
            cluster.dir.path().join("data/postgresql.auto.conf"),
            "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n",
        )
        .unwrap();
        cluster.start_again();
        Some(cluster)
    }

    fn empty(bin: PathBuf) -> Cluster {
        let dir = tempfile::tempdir().unwrap();
        if is_root() {
            let owner = Command::new("chown")
                .args(["postgres:postgres", dir.path().to_str().unwrap()])
                .status()
                .unwrap();
            assert!(owner.success());
        }
        Cluster {
            port: free_port(),
            dir,
            bin,
        }
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    /// One of the server's programs, to run as `postgres` when root.
    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&path);
            c
        } else {
            Command::new(&path)
        }
    }

    /// Runs one of the server's programs.
    fn run(&self, program: &str, args: &[&str]) {
        let output = self
            .command(program)
            .args(args)
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{program} {args:?}: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// Starts the server (again), waiting until it accepts connections.
    pub fn start_again(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c max_connections=200",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("server.log").display().to_string();
        self.run(
            "pg_ctl",
            &[
                "-D",
                &self.data(),
                "-o",
                &options,
                "-l",
                &log,
                "-w",
                "-t",
                "60",
                "start",
            ],
        );
    }

    /// Stops the server: `fast` ends sessions cleanly, `immediate` as a
    /// crash would.
    pub fn stop(&self, mode: &str) {
        self.run(
            "pg_ctl",
            &["-D", &self.data(), "-m", mode, "-w", "-t", "60", "stop"],
        );
    }

    pub fn url(&self) -> String {
        format!(
            "postgres://postgres@127.0.0.1:{}/postgres?sslmode=disable",
            self.port
        )
    }

    /// The client options that reach this cluster as `postgres`.
    fn connection(&self) -> Vec<String> {
        [
            "-h",
            "127.0.0.1",
            "-p",
            &self.port.to_string(),
            "-U",
            "postgres",
        ]
        .map(String::from)
        .to_vec()
    }

    /// A streaming replica of this cluster (`pg_basebackup -R`), started.
    pub fn replica(&self) -> Cluster {
        let replica = Cluster::empty(self.bin.clone());
        let mut args = self.connection();
        args.extend(["-D", &replica.data(), "-R", "-X", "stream", "-c", "fast"].map(String::from));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.run("pg_basebackup", &args);
        replica.start_again();
        replica
    }

    /// The first column of the first row `sql` gives.
    pub fn query(&self, sql: &str) -> String {
        let output = Command::new("psql")
            .args(self.connection())
            .args(["-d", "postgres", "-At", "-c", sql])
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{sql}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).trim().to_string()
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let data = self.data();
        let _ = self
            .command("pg_ctl")
            .args(["-D", &data, "-m", "immediate", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}
