//! A real S3-compatible object store for the media tests: moto's server
//! (from PyPI, installed by `scripts/test` into `target/tools/moto`, or the
//! command `GOROD_TEST_S3_SERVER` names) on a free loopback port, with a
//! bucket of its own. Stopped when dropped.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct S3Server {
    pub port: u16,
    pub bucket: String,
    child: Child,
}

fn command() -> PathBuf {
    std::env::var_os("GOROD_TEST_S3_SERVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/tools/moto/bin/moto_server")
        })
}

impl S3Server {
    pub fn start() -> S3Server {
        let command = command();
        assert!(
            command.exists(),
            "no S3-compatible test server at {}: scripts/test installs it",
            command.display()
        );
        // The credentials the store reads from the environment; moto takes
        // any.
        std::env::set_var("AWS_ACCESS_KEY_ID", "gorod-test");
        std::env::set_var("AWS_SECRET_ACCESS_KEY", "gorod-test-secret");
        let port = super::cluster::free_port();
        let child = Command::new(&command)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the S3 test server starts");
        let server = S3Server {
            port,
            bucket: format!("gorod-{}", uuid::Uuid::new_v4().simple()),
            child,
        };
        let started = Instant::now();
        while !server.create_bucket() {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "the S3 test server did not answer"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        server
    }

    /// Tries once to create the bucket; whether it exists now.
    fn create_bucket(&self) -> bool {
        let request = format!(
            "PUT /{} HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n",
            self.bucket
        );
        http(&request, self.port).is_some_and(|answer| {
            answer.starts_with("HTTP/1.0 200") || answer.starts_with("HTTP/1.1 200")
        })
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Settings that keep photos in this server's bucket.
    pub fn configure(&self, settings: &mut gorod::config::Settings) {
        settings.media.store = "s3".into();
        settings.media.s3.endpoint = self.endpoint();
        settings.media.s3.bucket = self.bucket.clone();
        settings.media.s3.path_style = true;
    }

    /// The names of the objects in the bucket.
    pub fn objects(&self) -> Vec<String> {
        let listing = http(
            &format!(
                "GET /{}?list-type=2 HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n",
                self.bucket
            ),
            self.port,
        )
        .unwrap_or_default();
        listing
            .split("<Key>")
            .skip(1)
            .filter_map(|rest| rest.split("</Key>").next())
            .map(str::to_string)
            .collect()
    }
}

/// One plain HTTP/1.0 exchange on loopback; the whole answer.
fn http(request: &str, port: u16) -> Option<String> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.write_all(request.as_bytes()).ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    Some(answer)
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
