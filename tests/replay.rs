//! Real data through the front door: Boston's Open311 records replayed by
//! `scripts/replay-open311.py` against the running application.
#![allow(clippy::unwrap_used)] // test code: a panic is how it fails

mod common;

use std::process::Command;

use serde_json::Value;

#[tokio::test]
async fn boston_records_are_accepted_or_refused_with_a_clear_400() {
    let app = common::spawn_app().await;
    let url = app.address.clone();
    // The first 1,000 records hold three points far from Boston.
    let output = tokio::task::spawn_blocking(move || {
        Command::new("python3")
            .arg(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/scripts/replay-open311.py"
            ))
            .args(["--url", &url, "--limit", "1000", "--summary-json"])
            .output()
            .expect("python3 runs")
    })
    .await
    .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(summary["records"], 1000);
    assert_eq!(summary["accepted"], 997, "{summary}");
    assert_eq!(summary["statuses"]["400"], 3, "{summary}");
    assert_eq!(
        summary["refused"]["400 location: the point is outside the city's service areas"], 3,
        "{summary}"
    );
    assert_eq!(app.count_rows("reports"), 997);
    // Records without a description were filed under their service's name.
    let (_, open311) = app
        .get_json("/open311/v2/requests.json?page_size=1000")
        .await;
    assert_eq!(open311.as_array().unwrap().len(), 997);
}
