//! Atom feeds: what they carry (published reports only; a district's, a
//! category's, a circle's; a report's public history) and that they are
//! valid: each parses with feedparser (from PyPI) without a flagged problem
//! and validates against RFC 4287's RELAX NG schema (`tests/atom/`), with
//! residents' words that XML must escape. The pages name them.
#![allow(clippy::unwrap_used)] // test code: a panic is how it fails

mod common;

use common::TestApp;
use serde_json::json;
use std::path::PathBuf;
use std::process::Command;

/// Files a report as resident1 with these words, and publishes it unless
/// `publish` is false; its number and id.
async fn report(
    app: &TestApp,
    category: &str,
    (lat, lon): (f64, f64),
    words: &str,
    publish: bool,
) -> (i64, String) {
    let mut body = common::report_at(category, lat, lon);
    body.as_object_mut().unwrap().remove("reporter");
    body["description"] = json!(words);
    let (status, filed) = app
        .post_as("demo-token-resident1", "/api/v1/reports", &body.to_string())
        .await;
    assert_eq!(status, 201, "{filed}");
    let id = filed["id"].as_str().unwrap().to_string();
    if publish {
        let (_, shown) = app.get_json(&format!("/api/v1/reports/{id}")).await;
        let department = shown["department"]["code"].as_str().unwrap();
        let (status, moved) = app
            .act(
                &format!("demo-token-supervisor.{department}"),
                &id,
                &json!({"action": "accept"}),
            )
            .await;
        assert_eq!(status, 200, "{moved}");
    }
    (filed["number"].as_i64().unwrap(), id)
}

async fn feed(app: &TestApp, path: &str) -> String {
    let response = app.get(path).await;
    assert_eq!(response.status(), 200, "{path}");
    assert_eq!(
        response.headers()["content-type"],
        "application/atom+xml; charset=utf-8"
    );
    response.text().await.unwrap()
}

/// Runs the feed checker over the feeds; panics with what it said.
fn check(feeds: &[(&str, &str)]) {
    let checker = std::env::var("GOROD_TEST_FEED_CHECKER").unwrap_or_else(|_| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/target/tools/feeds/bin/python").to_string()
    });
    assert!(
        std::path::Path::new(&checker).exists(),
        "no feed checker at {checker}: scripts/test installs it"
    );
    let dir = tempfile::tempdir().unwrap();
    let paths: Vec<PathBuf> = feeds
        .iter()
        .enumerate()
        .map(|(i, (_, body))| {
            let path = dir.path().join(format!("feed{i}.xml"));
            std::fs::write(&path, body).unwrap();
            path
        })
        .collect();
    let out = Command::new(checker)
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/atom/check.py"))
        .args(&paths)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    let names: Vec<&str> = feeds.iter().map(|(name, _)| *name).collect();
    assert!(
        out.status.success(),
        "{names:?}\n{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(said.matches(" entries").count(), feeds.len(), "{said}");
}

const TVERSKAYA: (f64, f64) = (55.7700, 37.6050);
const BASMANNY: (f64, f64) = (55.7600, 37.6500);

#[tokio::test]
async fn feeds_carry_what_they_name_and_validate_as_atom() {
    let app = common::spawn_app().await;
    common::resident_tokens(&app, 1..=1);
    let tricky = "Яма <b>глубокая</b> & \"опасная\" — 'осторожно'\u{7}";
    let (pothole, pothole_id) = report(&app, "pothole", TVERSKAYA, tricky, true).await;
    let (graffiti, _) = report(
        &app,
        "graffiti",
        (55.7800, 37.6100),
        "Надписи на фасаде дома",
        true,
    )
    .await;
    let (far, _) = report(
        &app,
        "pothole",
        BASMANNY,
        "Яма во дворе дома номер пять",
        true,
    )
    .await;
    let (waiting, _) = report(
        &app,
        "pothole",
        TVERSKAYA,
        "Ещё не прошла модерацию, яма",
        false,
    )
    .await;
    // A move brings a report to the top of its feeds, with its history.
    app.clock.advance(chrono::TimeDelta::minutes(5));
    let (_, shown) = app.get_json(&format!("/api/v1/reports/{pothole_id}")).await;
    let department = shown["department"]["code"].as_str().unwrap();
    let (status, taken) = app
        .act(
            &format!("demo-token-crew1.{department}"),
            &pothole_id,
            &json!({"action": "take"}),
        )
        .await;
    assert_eq!(status, 200, "{taken}");

    let entry = |n: i64| format!("/reports/{n}</id>");
    let city = feed(&app, "/feeds/reports.atom").await;
    for n in [pothole, graffiti, far] {
        assert!(
            city.contains(&entry(n)),
            "№ {n} in the city's feed:\n{city}"
        );
    }
    assert!(
        !city.contains(&entry(waiting)),
        "unpublished: not in any feed"
    );
    assert!(
        city.find(&entry(pothole)) < city.find(&entry(far)),
        "the most recently changed first"
    );
    assert!(
        city.contains("&#60;b&#62;глубокая&#60;/b&#62; &#38;"),
        "escaped:\n{city}"
    );
    assert!(!city.contains('\u{7}'), "no control characters in XML");

    let district = feed(&app, "/feeds/reports.atom?area=tverskoy&lang=en").await;
    assert!(district.contains(&entry(pothole)) && district.contains(&entry(graffiti)));
    assert!(!district.contains(&entry(far)), "{district}");
    assert!(district.contains("Tverskoy District"), "{district}");
    let category = feed(&app, "/feeds/reports.atom?category=graffiti").await;
    assert!(category.contains(&entry(graffiti)) && !category.contains(&entry(pothole)));
    let around = feed(
        &app,
        "/feeds/reports.atom?lat=55.7700&lon=37.6050&radius_m=300",
    )
    .await;
    assert!(around.contains(&entry(pothole)), "{around}");
    assert!(
        !around.contains(&entry(graffiti)) && !around.contains(&entry(far)),
        "{around}"
    );
    let one = feed(&app, &format!("/reports/{pothole}/feed.atom?lang=en")).await;
    assert!(
        one.contains("<entry>") && one.contains("urn:uuid:"),
        "{one}"
    );
    let empty = feed(&app, "/feeds/reports.atom?area=arbat").await;
    assert!(!empty.contains("<entry>"));

    check(&[
        ("city", &city),
        ("district", &district),
        ("category", &category),
        ("around", &around),
        ("one report", &one),
        ("empty", &empty),
    ]);

    // A wrong filter is a 400 naming it; an unpublished report has no feed.
    for (path, field) in [
        ("/feeds/reports.atom?area=atlantis", "area"),
        ("/feeds/reports.atom?category=unicorns", "category"),
        ("/feeds/reports.atom?lat=north&lon=37.6", "lat"),
        (
            "/feeds/reports.atom?lat=55.7&lon=37.6&radius_m=99999",
            "radius_m",
        ),
    ] {
        let (status, error) = app.get_json(&format!("{path}&lang=en")).await;
        assert_eq!(
            (status, error["field"].as_str()),
            (400, Some(field)),
            "{path}: {error}"
        );
    }
    let hidden = app.get(&format!("/reports/{waiting}/feed.atom")).await;
    assert_eq!(hidden.status(), 404);

    // The pages name their feeds.
    let alternate =
        |page: &str| page.contains(r#"<link rel="alternate" type="application/atom+xml""#);
    let map = app.get("/").await.text().await.unwrap();
    assert!(alternate(&map) && map.contains("/feeds/reports.atom"));
    let page = app
        .get(&format!("/reports/{pothole}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(alternate(&page) && page.contains(&format!("/reports/{pothole}/feed.atom")));
}
