//! The log as an operator reads it: one line per request with its id (a
//! trusted proxy's, or a fresh one), the same id on the answer and in error
//! bodies, JSON lines with `log.format = "json"`, and never a secret —
//! passwords, tokens, session cookies, signed links' tokens, API keys in a
//! query.
#![allow(clippy::unwrap_used)] // test code: a panic is how it fails

mod common;

use common::instance::Instance;
use serde_json::{json, Value};

#[tokio::test]
async fn requests_are_logged_with_their_ids_as_json_and_without_secrets() {
    let config = tempfile::tempdir().unwrap();
    std::fs::copy(
        common::config_dir().join("default.toml"),
        config.path().join("default.toml"),
    )
    .unwrap();
    std::fs::write(
        config.path().join("proxied.toml"),
        "[server]\ntrusted_proxies = [\"127.0.0.1\"]\n[log]\nformat = \"json\"\n",
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("city.db").display());
    let mut server = Instance::start_in(
        config.path(),
        &url,
        &["--demo"],
        &[
            ("GOROD_ENV", "proxied".into()),
            ("GOROD__SEED__DEMO_REPORTS", "0".into()),
            ("RUST_LOG", "debug".into()),
        ],
    )
    .expect("the server starts");
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let code = {
        let now = chrono::Utc::now().timestamp();
        gorod::accounts::totp::code(
            gorod::demo::DEMO_TOTP_SECRET,
            gorod::accounts::totp::step_at(now),
        )
        .unwrap()
    };
    let login = browser
        .post(server.url("/api/v1/account/login"))
        .json(&json!({"email": "admin@demo.gorod.local", "password": gorod::demo::DEMO_PASSWORD, "totp": code}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status().as_u16(), 200);
    let cookie = login
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .split('=')
        .nth(1)
        .unwrap()
        .to_string();
    assert!(cookie.len() > 20);
    let me = browser
        .get(server.url("/api/v1/account/me"))
        .send()
        .await
        .unwrap();
    assert_eq!(me.status().as_u16(), 200);
    let client = reqwest::Client::new();
    let scan = client
        .post(server.url("/api/v1/admin/sla/scan"))
        .bearer_auth("demo-token-admin")
        .send()
        .await
        .unwrap();
    assert_eq!(scan.status().as_u16(), 200);
    let proxied = client
        .get(server.url("/open311/v2/requests.json?api_key=SECRET-KEY-IN-QUERY"))
        .header("X-Request-Id", "proxy-7f3a")
        .send()
        .await
        .unwrap();
    assert_eq!(proxied.headers()["x-request-id"], "proxy-7f3a");
    let link = client
        .get(server.url("/api/v1/unsubscribe/SECRET-LINK-TOKEN.abc"))
        .send()
        .await
        .unwrap();
    assert_eq!(link.status().as_u16(), 400);
    let id = link.headers()["x-request-id"].to_str().unwrap().to_string();
    let body: Value = link.json().await.unwrap();
    assert_eq!(body["request_id"].as_str(), Some(id.as_str()), "{body}");
    let refused = client
        .post(server.url("/api/v1/account/login"))
        .json(&json!({"email": "admin@demo.gorod.local", "password": "wrong-password-SECRET"}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status().as_u16(), 401);

    std::thread::sleep(std::time::Duration::from_millis(300));
    server.kill();
    let log = server.log();
    let lines: Vec<Value> = log
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let requests: Vec<&Value> = lines
        .iter()
        .filter(|l| l["target"] == "gorod::request")
        .collect();
    assert_eq!(requests.len(), 6, "{log}");
    assert!(
        requests.iter().all(|l| l["request_id"].is_string()),
        "{log}"
    );
    assert!(
        requests.iter().any(|l| l["request_id"] == "proxy-7f3a"
            && l["message"]
                .as_str()
                .unwrap()
                .starts_with("GET /open311/v2/{name} 200")),
        "{log}"
    );
    assert!(
        requests.iter().any(|l| l["request_id"] == id.as_str()
            && l["message"]
                .as_str()
                .unwrap()
                .contains("/api/v1/unsubscribe/{token} 400")),
        "{log}"
    );
    for secret in [
        gorod::demo::DEMO_PASSWORD,
        "wrong-password-SECRET",
        "demo-token-admin",
        "SECRET-KEY-IN-QUERY",
        "SECRET-LINK-TOKEN",
        gorod::demo::DEMO_TOTP_SECRET,
        &code,
        &cookie,
    ] {
        assert!(
            !log.contains(secret),
            "the log holds a secret ({secret}):\n{log}"
        );
    }
}
