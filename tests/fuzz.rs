//! Random bytes, random JSON and randomly broken valid requests sent to
//! every public endpoint: whatever arrives, the answer is never a 500 (bad
//! input is a 4xx naming what is wrong), and the service still works after.
//! The generator is seeded, so a failure names the seed that repeats it.
#![allow(clippy::unwrap_used)] // test code: a panic is how it fails

mod common;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Map, Value};

fn random_text(rng: &mut StdRng) -> String {
    const PIECES: &[&str] = &[
        "",
        "a",
        "яма",
        "0",
        "-1",
        "1e309",
        "NaN",
        "null",
        "\u{0}",
        "\u{202e}",
        "<script>",
        "'; DROP TABLE reports; --",
        "../../etc/passwd",
        "%00",
        "😀",
        "pothole",
        "55.77",
        "37.6",
        "@",
        "a@b.c",
        "true",
        " ",
    ];
    let n = rng.random_range(0..4);
    let mut text: String = (0..n)
        .map(|_| PIECES[rng.random_range(0..PIECES.len())])
        .collect();
    if rng.random_bool(0.1) {
        text.push_str(&"x".repeat(rng.random_range(0..10_000)));
    }
    text
}

fn random_json(rng: &mut StdRng, depth: u32) -> Value {
    match rng.random_range(0..if depth > 3 { 5 } else { 7 }) {
        0 => Value::Null,
        1 => json!(rng.random_bool(0.5)),
        2 => json!(rng.random_range(-1e12..1e12)),
        3 => json!(rng.random::<i64>()),
        4 => json!(random_text(rng)),
        5 => Value::Array(
            (0..rng.random_range(0..4))
                .map(|_| random_json(rng, depth + 1))
                .collect(),
        ),
        _ => {
            let mut map = Map::new();
            for _ in 0..rng.random_range(0..5) {
                map.insert(random_text(rng), random_json(rng, depth + 1));
            }
            Value::Object(map)
        }
    }
}

/// A valid value with a random part replaced, removed or added.
fn mutate(rng: &mut StdRng, value: &Value) -> Value {
    let mut value = value.clone();
    if let Value::Object(map) = &mut value {
        let keys: Vec<String> = map.keys().cloned().collect();
        match rng.random_range(0..3) {
            0 if !keys.is_empty() => {
                let key = &keys[rng.random_range(0..keys.len())];
                let inner = mutate(rng, &map[key]);
                map.insert(
                    key.clone(),
                    if rng.random_bool(0.5) {
                        inner
                    } else {
                        random_json(rng, 1)
                    },
                );
            }
            1 if !keys.is_empty() => {
                map.remove(&keys[rng.random_range(0..keys.len())]);
            }
            _ => {
                map.insert(random_text(rng), random_json(rng, 1));
            }
        }
    } else if rng.random_bool(0.5) {
        value = random_json(rng, 1);
    }
    value
}

fn random_body(rng: &mut StdRng, valid: &Value) -> Vec<u8> {
    match rng.random_range(0..4) {
        0 => (0..rng.random_range(0..300))
            .map(|_| rng.random::<u8>())
            .collect(),
        1 => random_json(rng, 0).to_string().into_bytes(),
        // Deep nesting.
        2 => format!(
            "{}{}",
            "[".repeat(rng.random_range(1..5000)),
            "]".repeat(rng.random_range(0..5000))
        )
        .into_bytes(),
        _ => mutate(rng, valid).to_string().into_bytes(),
    }
}

fn random_query(rng: &mut StdRng) -> String {
    const KEYS: &[&str] = &[
        "lat",
        "lon",
        "category",
        "status",
        "department",
        "bbox",
        "zoom",
        "page",
        "per_page",
        "from",
        "to",
        "district",
        "report",
        "seq",
        "size",
        "answer",
        "q",
    ];
    (0..rng.random_range(0..5))
        .map(|_| {
            let value: String = url_escape(&random_text(rng));
            format!("{}={value}", KEYS[rng.random_range(0..KEYS.len())])
        })
        .collect::<Vec<_>>()
        .join("&")
}

fn url_escape(text: &str) -> String {
    text.bytes()
        .take(200)
        .map(|b| format!("%{b:02X}"))
        .collect()
}

#[tokio::test]
async fn public_endpoints_never_answer_500_to_random_input() {
    let app = common::spawn_app().await;
    let (_, filed) = app
        .post_json("/api/v1/reports", &common::valid_report())
        .await;
    let report = filed["id"].as_str().unwrap().to_string();
    let valid_report = common::valid_report();
    let posts: Vec<(String, Value, &str)> = vec![
        (
            "/api/v1/reports".into(),
            valid_report.clone(),
            "application/json",
        ),
        (
            format!("/api/v1/reports/{report}/support"),
            json!({"email": "a@example.org"}),
            "application/json",
        ),
        (
            format!("/api/v1/reports/{report}/check"),
            json!({"fixed": false, "reason": "нет", "token": "x.y"}),
            "application/json",
        ),
        (
            "/api/v1/account/register".into(),
            json!({"email": "z@example.org", "password": "0123456789ab"}),
            "application/json",
        ),
        (
            "/api/v1/account/login".into(),
            json!({"email": "z@example.org", "password": "0123456789ab"}),
            "application/json",
        ),
        (
            "/api/v1/account/password-reset".into(),
            json!({"email": "z@example.org"}),
            "application/json",
        ),
        (
            "/api/v1/reports".into(),
            valid_report.clone(),
            "multipart/form-data; boundary=XyZ",
        ),
        (
            "/api/v1/check/AAAA.BBBB".into(),
            json!({}),
            "application/x-www-form-urlencoded",
        ),
        (
            "/api/v1/account/reset_password/AAAA.BBBB".into(),
            json!({"password": "0123456789ab"}),
            "application/json",
        ),
        (
            "/open311/v2/requests.json".into(),
            json!({}),
            "application/x-www-form-urlencoded",
        ),
    ];
    let gets = [
        "/api/v1/reports",
        "/api/v1/reports/nearby",
        "/api/v1/map",
        "/api/v1/ledger/inclusion",
        "/api/v1/ledger/consistency",
        "/open311/v2/requests.json",
        "/open311/v2/services.xml",
        "/open311/v2/discovery.json",
    ];
    let seed: u64 = std::env::var("FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20261123);
    let mut rng = StdRng::seed_from_u64(seed);
    let mut sent = 0;
    for round in 0..60 {
        for (path, valid, content_type) in &posts {
            let body = if content_type.starts_with("application/x-www") {
                random_query(&mut rng).into_bytes()
            } else {
                random_body(&mut rng, valid)
            };
            let response = app
                .client
                .post(app.url(path))
                .header("Content-Type", *content_type)
                .body(body.clone())
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            assert!(
                status < 500,
                "seed {seed}, round {round}: POST {path} answered {status} to {:?}",
                String::from_utf8_lossy(&body)
            );
            sent += 1;
        }
        for path in gets {
            let url = format!("{path}?{}", random_query(&mut rng));
            let status = app.get(&url).await.status().as_u16();
            assert!(status < 500, "seed {seed}: GET {url} answered {status}");
            sent += 1;
        }
    }
    assert!(sent >= 1000);
    // Still working.
    let (status, _) = app
        .post_json(
            "/api/v1/reports",
            &common::report_at("pothole", 55.7712, 37.6041),
        )
        .await;
    assert!(status == 201 || status == 429, "{status}");
    assert_eq!(
        app.get_json(&format!("/api/v1/reports/{report}")).await.0,
        200
    );
}

#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    let app = common::spawn_app().await;
    for path in [
        "/",
        "/api/v1/reports",
        "/api/v1/nowhere",
        "/api/v1/check/not-a-token",
    ] {
        let response = app.get(path).await;
        let headers = response.headers();
        let csp = headers
            .get("content-security-policy")
            .unwrap()
            .to_str()
            .unwrap();
        assert!(
            csp.contains("frame-ancestors 'none'") && csp.contains("default-src 'self'"),
            "{path}: {csp}"
        );
        assert_eq!(headers.get("x-content-type-options").unwrap(), "nosniff");
        assert_eq!(headers.get("referrer-policy").unwrap(), "no-referrer");
    }
    // JSON nested past the limit is refused by name.
    let deep = format!("{{\"a\":{}1{}}}", "[".repeat(40), "]".repeat(40));
    let (status, body) = app.post_raw("/api/v1/reports?lang=en", &deep).await;
    assert_eq!(
        (status, body["field"].as_str()),
        (400, Some("body")),
        "{body}"
    );
    assert!(body["message"].as_str().unwrap().contains("deeper"));
}

#[tokio::test]
async fn a_zero_character_anywhere_is_a_400_naming_where() {
    let app = common::spawn_app().await;
    let admin = "demo-token-admin";
    // In a query parameter, in a path, in a JSON field nested or not.
    for (path, field) in [
        ("/api/v1/admin/audit?action=%00&lang=en", "action"),
        ("/api/v1/reports?category=pot%00hole", "category"),
        ("/api/v1/reports/abc%00def", "path"),
    ] {
        let response = app
            .client
            .get(app.url(path))
            .bearer_auth(admin)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{path}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(
            (body["field"].as_str(), body["errors"][0]["code"].as_str()),
            (Some(field), Some("zero_character")),
            "{path}: {body}"
        );
    }
    let mut report = common::valid_report();
    report["description"] = json!("Яма\u{0}у перехода");
    let (status, body) = app.post_json("/api/v1/reports?lang=en", &report).await;
    assert_eq!(
        (status, body["field"].as_str()),
        (400, Some("description")),
        "{body}"
    );
    assert!(
        body["message"].as_str().unwrap().contains("zero character"),
        "{body}"
    );
    let mut report = common::valid_report();
    report["reporter"]["name"] = json!("\u{0}");
    let (status, body) = app.post_json("/api/v1/reports", &report).await;
    assert_eq!(
        (status, body["field"].as_str()),
        (400, Some("reporter.name")),
        "{body}"
    );
    // A browser following such a link gets the error page.
    let page = app
        .client
        .get(app.url("/api/v1/check/abc%00?lang=en"))
        .header("Accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 400);
    let page = page.text().await.unwrap();
    assert!(
        page.contains("<html") && page.contains("zero character"),
        "{page}"
    );
    // Nothing was filed.
    assert_eq!(app.count_rows("reports"), 0);
}
