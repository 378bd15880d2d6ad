//! Photos in an S3-compatible object store (a real one, moto's server):
//! a photo filed through one instance is served by another with neither
//! keeping it on disk; a failed upload fails the filing and writes nothing;
//! `gorod media copy-to-store` moves an existing local store.
#![allow(clippy::unwrap_used)] // test code: a panic is how it fails

mod common;

use common::s3::S3Server;
use image::{DynamicImage, ImageFormat, Rgb, RgbImage};
use reqwest::multipart::{Form, Part};
use serde_json::Value;

fn jpeg(width: u32, height: u32) -> Vec<u8> {
    let picture = RgbImage::from_fn(width, height, |x, y| {
        Rgb([(x % 256) as u8, (y % 256) as u8, 90])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    DynamicImage::ImageRgb8(picture)
        .write_to(&mut out, ImageFormat::Jpeg)
        .unwrap();
    out.into_inner()
}

async fn file_with_photo(app: &common::TestApp) -> (u16, Value) {
    let form = Form::new()
        .part(
            "report",
            Part::text(common::valid_report().to_string())
                .mime_str("application/json")
                .unwrap(),
        )
        .part(
            "photos",
            Part::bytes(jpeg(64, 48))
                .file_name("pothole.jpg")
                .mime_str("image/jpeg")
                .unwrap(),
        );
    let response = app
        .client
        .post(app.url("/api/v1/reports"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

/// Every file under `dir`.
fn files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                found.extend(files(&path));
            } else {
                found.push(path);
            }
        }
    }
    found
}

/// The photo URLs of a report, as its public view gives them.
async fn photo_urls(app: &common::TestApp, id: &str) -> Vec<String> {
    let (status, report) = app.get_json(&format!("/api/v1/reports/{id}")).await;
    assert_eq!(status, 200, "{report}");
    report["photos"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| [p["url"].as_str(), p["thumbnail_url"].as_str()])
        .flatten()
        .map(str::to_string)
        .collect()
}

#[tokio::test]
async fn a_photo_filed_through_one_instance_is_served_by_another_from_the_object_store() {
    let s3 = S3Server::start();
    let a = common::spawn_app_with(|s| s3.configure(s)).await;
    let b = common::spawn_app_on(a.db.shared(), |s| s3.configure(s)).await;
    let (status, filed) = file_with_photo(&a).await;
    assert_eq!(status, 201, "{filed}");
    let urls = photo_urls(&a, filed["id"].as_str().unwrap()).await;
    assert_eq!(urls.len(), 2, "the photo and its thumbnail: {urls:?}");
    for url in &urls {
        let path = url
            .split_once("/media/")
            .map(|(_, name)| format!("/media/{name}"))
            .unwrap();
        let from_a = a.get(&path).await;
        assert_eq!(from_a.status().as_u16(), 200, "{path}");
        let from_a = from_a.bytes().await.unwrap();
        let from_b = b.get(&path).await;
        assert_eq!(from_b.status().as_u16(), 200, "instance B serves {path}");
        assert_eq!(
            from_b.headers()["content-type"].to_str().unwrap(),
            "image/jpeg"
        );
        assert_eq!(from_b.bytes().await.unwrap(), from_a);
    }
    let objects = s3.objects();
    assert_eq!(objects.len(), 2, "{objects:?}");
    assert!(objects.iter().any(|o| o.ends_with(".thumb.jpg")));
    assert!(
        files(a.media_dir.path()).is_empty(),
        "instance A's disk holds no photo"
    );
    assert!(
        files(b.media_dir.path()).is_empty(),
        "instance B's disk holds no photo"
    );
    let missing = b.get(&format!("/media/{}.jpg", "0".repeat(64))).await;
    assert_eq!(missing.status().as_u16(), 404);
}

#[tokio::test]
async fn a_failed_upload_fails_the_filing_and_writes_nothing() {
    let s3 = S3Server::start();
    let app = common::spawn_app_with(|s| s3.configure(s)).await;
    drop(s3); // the store goes away
    let (status, error) = file_with_photo(&app).await;
    assert_eq!(
        (status, error["code"].as_str()),
        (503, Some("unavailable")),
        "{error}"
    );
    for table in ["reports", "report_events", "attachments", "outbox"] {
        assert_eq!(app.count_rows(table), 0, "{table}");
    }
}

#[tokio::test]
async fn copy_to_store_moves_a_local_store_into_the_bucket() {
    let local = common::spawn_app().await;
    let (status, filed) = file_with_photo(&local).await;
    assert_eq!(status, 201, "{filed}");
    let on_disk = files(local.media_dir.path()).len();
    assert_eq!(on_disk, 2);

    let s3 = S3Server::start();
    let copy = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_gorod"))
            .arg("--config-dir")
            .arg(common::config_dir())
            .args(["media", "copy-to-store", "--from"])
            .arg(local.media_dir.path())
            .env("GOROD__DATABASE__URL", &local.db.url)
            .env("GOROD__MEDIA__STORE", "s3")
            .env("GOROD__MEDIA__S3__ENDPOINT", s3.endpoint())
            .env("GOROD__MEDIA__S3__BUCKET", &s3.bucket)
            .output()
            .unwrap()
    };
    let first = copy();
    let said = String::from_utf8_lossy(&first.stdout).to_string();
    assert!(
        first.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(said.contains("copied 2 photo files"), "{said}");
    let again = copy();
    let said = String::from_utf8_lossy(&again.stdout).to_string();
    assert!(
        said.contains("copied 0 photo files") && said.contains("2 were there already"),
        "{said}"
    );

    let moved = common::spawn_app_on(local.db.shared(), |s| s3.configure(s)).await;
    for url in photo_urls(&moved, filed["id"].as_str().unwrap()).await {
        let path = url
            .split_once("/media/")
            .map(|(_, name)| format!("/media/{name}"))
            .unwrap();
        assert_eq!(moved.get(&path).await.status().as_u16(), 200, "{path}");
    }
}

/// The same photo filed twice, on each store: stored once (two files, the
/// photo and its thumbnail), served as JPEG at its URL, and gone nowhere
/// else.
#[tokio::test]
async fn each_store_keeps_a_photo_once_and_serves_it() {
    let s3 = S3Server::start();
    for store in ["local", "s3"] {
        let app = common::spawn_app_with(|s| {
            if store == "s3" {
                s3.configure(s)
            }
        })
        .await;
        let (_, first) = file_with_photo(&app).await;
        let (status, second) = file_with_photo(&app).await;
        assert_eq!(status, 201, "{store}: {second}");
        let urls = photo_urls(&app, first["id"].as_str().unwrap()).await;
        assert_eq!(urls, photo_urls(&app, second["id"].as_str().unwrap()).await);
        let stored = match store {
            "local" => files(app.media_dir.path()).len(),
            _ => s3.objects().len(),
        };
        assert_eq!(stored, 2, "{store}: one photo and its thumbnail");
        // The photo, and its thumbnail (at most 320 pixels wide).
        for (url, width) in urls.iter().zip([64, 320]) {
            let path = url
                .split_once("/media/")
                .map(|(_, n)| format!("/media/{n}"))
                .unwrap();
            let served = app.get(&path).await;
            assert_eq!(served.status().as_u16(), 200, "{store}: {path}");
            assert_eq!(served.headers()["content-type"], "image/jpeg");
            let picture = image::load_from_memory(&served.bytes().await.unwrap()).unwrap();
            assert_eq!(picture.width(), width, "{store}: {path}");
        }
    }
}

/// A crew's answer with a photo while the store is away: 503, and the
/// report is where it was (the photo is stored before the move's
/// transaction, so nothing of the move is written).
#[tokio::test]
async fn an_answer_whose_photo_cannot_be_stored_moves_nothing() {
    let s3 = S3Server::start();
    let app = common::spawn_app_with(|s| s3.configure(s)).await;
    let (status, filed) = app
        .post_json("/api/v1/reports", &common::valid_report())
        .await;
    assert_eq!(status, 201, "{filed}");
    let id = filed["id"].as_str().unwrap();
    let (_, report) = app.get_json(&format!("/api/v1/reports/{id}")).await;
    let dept = report["department"]["code"].as_str().unwrap().to_string();
    for (who, action) in [("supervisor", "accept"), ("crew1", "take")] {
        let (status, moved) = app
            .act(
                &format!("demo-token-{who}.{dept}"),
                id,
                &serde_json::json!({"action": action}),
            )
            .await;
        assert_eq!(status, 200, "{moved}");
    }
    let events = app.count_rows("report_events");
    drop(s3);
    let form = Form::new()
        .part(
            "action",
            Part::text(r#"{"action": "answer", "answer": "Яма заделана."}"#)
                .mime_str("application/json")
                .unwrap(),
        )
        .part(
            "photos",
            Part::bytes(jpeg(64, 48))
                .file_name("after.jpg")
                .mime_str("image/jpeg")
                .unwrap(),
        );
    let response = app
        .client
        .post(app.url(&format!("/api/v1/reports/{id}/actions")))
        .bearer_auth(format!("demo-token-crew1.{dept}"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 503);
    let (_, report) = app.get_json(&format!("/api/v1/reports/{id}")).await;
    assert_eq!(report["status"], "in_progress", "{report}");
    assert_eq!(app.count_rows("report_events"), events);
    assert_eq!(app.count_rows("attachments"), 0);
}
