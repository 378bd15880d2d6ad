//! Evidence-checked answers, end to end on both backends: photos stamped by
//! exiftool (the real metadata writer) as a phone would, sent with a crew's
//! answer. The report's own photo, a re-encoded and cropped copy of it, a
//! photo dated before the filing and one taken 5 km away are each flagged
//! with their reason; a fresh photo taken on the spot passes; a photo an
//! earlier answer used is found anywhere in the city. Flagged answers follow
//! their category's policy (published with the flag, or held for a
//! supervisor); the public page says what was checked; the ledger entry
//! carries the checks; statistics count flagged answers per department; and
//! no stored or served photo carries metadata.
#![allow(clippy::unwrap_used)] // test code: a panic is how it fails

mod common;

use std::process::Command;

use image::{DynamicImage, ImageBuffer, Rgb, RgbImage};
use rand::{Rng, SeedableRng};
use reqwest::multipart::{Form, Part};
use serde_json::{json, Value};

const LAT: f64 = 55.7700;
const LON: f64 = 37.6050;

/// A street-like picture, different for each seed.
fn scene(seed: u64) -> RgbImage {
    let (width, height) = (400u32, 300u32);
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let sky = [rng.random_range(100..200u8), 150, 230];
    let horizon = rng.random_range(height / 4..height / 2);
    let mut picture: RgbImage = ImageBuffer::from_fn(width, height, |_, y| {
        Rgb(if y < horizon { sky } else { [90, 90, 95] })
    });
    for _ in 0..14 {
        let (cx, cy) = (rng.random_range(0..width), rng.random_range(0..height));
        let r = rng.random_range(width / 20..width / 5);
        let colour = Rgb([rng.random(), rng.random(), rng.random()]);
        for y in cy.saturating_sub(r)..(cy + r).min(height) {
            for x in cx.saturating_sub(r)..(cx + r).min(width) {
                let (dx, dy) = (x as i64 - cx as i64, y as i64 - cy as i64);
                if dx * dx + dy * dy <= (r * r) as i64 {
                    picture.put_pixel(x, y, colour);
                }
            }
        }
    }
    picture
}

fn encode(picture: &DynamicImage, quality: u8) -> Vec<u8> {
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, quality)
        .encode_image(picture)
        .unwrap();
    jpeg
}

/// A copy as a crew might make one: 5% cropped off each side, scaled down,
/// saved again at a low quality.
fn cropped_copy(picture: &RgbImage) -> Vec<u8> {
    let (w, h) = picture.dimensions();
    let cropped =
        image::imageops::crop_imm(picture, w / 20, h / 20, w - w / 10, h - h / 10).to_image();
    let smaller = DynamicImage::ImageRgb8(cropped).resize(
        w * 3 / 4,
        h * 3 / 4,
        image::imageops::FilterType::Triangle,
    );
    encode(&smaller, 55)
}

/// Stamps a JPEG as a phone would: capture time (city time, +03:00) and GPS.
fn stamped(jpeg: &[u8], taken: Option<&str>, position: Option<(f64, f64)>) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("photo.jpg");
    std::fs::write(&path, jpeg).unwrap();
    let mut args = vec![
        "-q".to_string(),
        "-overwrite_original".into(),
        "-Make=PhoneMaker".into(),
    ];
    if let Some(taken) = taken {
        args.push(format!("-DateTimeOriginal={taken}"));
        args.push("-OffsetTimeOriginal=+03:00".into());
    }
    if let Some((lat, lon)) = position {
        args.extend([
            format!("-GPSLatitude={lat}"),
            "-GPSLatitudeRef=N".into(),
            format!("-GPSLongitude={lon}"),
            "-GPSLongitudeRef=E".into(),
        ]);
    }
    let status = Command::new("exiftool")
        .args(&args)
        .arg(&path)
        .status()
        .expect("exiftool runs (scripts/test installs libimage-exiftool-perl)");
    assert!(status.success());
    std::fs::read(&path).unwrap()
}

/// What exiftool finds in bytes.
fn metadata(bytes: &[u8]) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("served.jpg");
    std::fs::write(&path, bytes).unwrap();
    let output = Command::new("exiftool")
        .args(["-j", "-a", "-G1", "-n"])
        .arg(&path)
        .output()
        .unwrap();
    let all: Value = serde_json::from_slice(&output.stdout).unwrap();
    all[0].clone()
}

/// Files a report in `category` with a photo; its id, number, department.
async fn file(app: &common::TestApp, category: &str, photo: Vec<u8>) -> (String, i64, String) {
    let mut report = common::valid_report();
    if category != "pothole" {
        report["category"] = json!(category);
        report.as_object_mut().unwrap().remove("answers");
    }
    let form = Form::new()
        .part(
            "report",
            Part::text(report.to_string())
                .mime_str("application/json")
                .unwrap(),
        )
        .part(
            "photos",
            Part::bytes(photo)
                .file_name("before.jpg")
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
    let filed: Value = response.json().await.unwrap();
    let id = filed["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{filed}"))
        .to_string();
    let (_, view) = app.get_json(&format!("/api/v1/reports/{id}")).await;
    let dept = view["department"]["code"].as_str().unwrap().to_string();
    (id, filed["number"].as_i64().unwrap(), dept)
}

async fn act(app: &common::TestApp, token: &str, id: &str, body: Value) {
    let (status, moved) = app
        .post_as(
            token,
            &format!("/api/v1/reports/{id}/actions"),
            &body.to_string(),
        )
        .await;
    assert_eq!(status, 200, "{moved}");
}

/// Files, accepts and takes a report: ready for the crew's answer.
async fn taken(app: &common::TestApp, category: &str, photo: Vec<u8>) -> (String, i64, String) {
    let (id, number, dept) = file(app, category, photo).await;
    act(
        app,
        &format!("demo-token-supervisor.{dept}"),
        &id,
        json!({"action": "accept"}),
    )
    .await;
    act(
        app,
        &format!("demo-token-crew1.{dept}"),
        &id,
        json!({"action": "take"}),
    )
    .await;
    (id, number, dept)
}

/// The crew answers with one photo: the status and the body.
async fn answer(app: &common::TestApp, id: &str, dept: &str, photo: Vec<u8>) -> (u16, Value) {
    let form = Form::new()
        .part(
            "action",
            Part::text(r#"{"action": "answer", "answer": "Яма заделана."}"#)
                .mime_str("application/json")
                .unwrap(),
        )
        .part(
            "photos",
            Part::bytes(photo)
                .file_name("after.jpg")
                .mime_str("image/jpeg")
                .unwrap(),
        );
    let response = app
        .client
        .post(app.url(&format!("/api/v1/reports/{id}/actions?lang=en")))
        .bearer_auth(format!("demo-token-crew1.{dept}"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

/// The check of the answer's photo, as the public report shows it.
async fn answer_check(app: &common::TestApp, id: &str) -> Value {
    let (_, report) = app.get_json(&format!("/api/v1/reports/{id}?lang=en")).await;
    report["photos"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| !p["check"].is_null())
        .map(|p| p["check"].clone())
        .unwrap_or_else(|| panic!("no answer photo: {report}"))
}

/// In the city's time, after the test clock's filing at 09:00 UTC.
const AFTER: &str = "2026:03:02 14:30:00";

#[tokio::test]
async fn each_reused_or_contradicting_photo_is_flagged_with_its_reason() {
    let app = common::spawn_app().await;
    let before = scene(1);
    let before_jpeg = stamped(
        &encode(&DynamicImage::ImageRgb8(before.clone()), 90),
        None,
        None,
    );
    let cases: Vec<(&str, Vec<u8>, Vec<&str>)> = vec![
        (
            "the report's own photo",
            before_jpeg.clone(),
            vec!["copy_of_report_photo"],
        ),
        (
            "a re-encoded, cropped copy of it",
            cropped_copy(&before),
            vec!["copy_of_report_photo"],
        ),
        (
            "a photo from 2015",
            stamped(
                &encode(&DynamicImage::ImageRgb8(scene(2)), 85),
                Some("2015:06:01 12:00:00"),
                Some((LAT, LON)),
            ),
            vec!["taken_before"],
        ),
        (
            "a photo taken 5 km away",
            stamped(
                &encode(&DynamicImage::ImageRgb8(scene(3)), 85),
                Some(AFTER),
                Some((LAT + 0.045, LON)),
            ),
            vec!["far_away"],
        ),
        (
            "a fresh photo taken on the spot",
            stamped(
                &encode(&DynamicImage::ImageRgb8(scene(4)), 85),
                Some(AFTER),
                Some((LAT + 0.0002, LON)),
            ),
            vec![],
        ),
    ];
    let mut fresh = None;
    let mut first = None;
    for (what, photo, reasons) in cases {
        let (id, number, dept) = taken(&app, "pothole", before_jpeg.clone()).await;
        assert_eq!(dept, "roads");
        first.get_or_insert(number);
        let (status, body) = answer(&app, &id, &dept, photo).await;
        // Potholes publish flagged answers with their flag.
        assert_eq!(status, 200, "{what}: {body}");
        let check = answer_check(&app, &id).await;
        assert_eq!(check["reasons"], json!(reasons), "{what}: {check}");
        assert_eq!(check["flagged"], json!(!reasons.is_empty()), "{what}");
        if reasons.is_empty() {
            assert_eq!(check["taken"], "after", "{check}");
            assert_eq!(check["place"], "near", "{check}");
            let words = check["words"].to_string();
            assert!(
                words.contains("taken after the report was filed (02.03.2026 14:30)"),
                "{words}"
            );
            assert!(words.contains("taken 22 m from the problem"), "{words}");
            assert!(words.contains("a new photo"), "{words}");
            fresh = Some((id, check["photo"].as_str().unwrap().to_string()));
        }
    }

    // A later answer anywhere in the city reusing the fresh photo (cropped
    // and re-encoded) is found.
    let (fresh_id, fresh_digest) = fresh.unwrap();
    let (_, fresh_report) = app.get_json(&format!("/api/v1/reports/{fresh_id}")).await;
    let fresh_number = fresh_report["number"].as_i64().unwrap();
    let (id, _, dept) = taken(
        &app,
        "pothole",
        encode(&DynamicImage::ImageRgb8(scene(9)), 90),
    )
    .await;
    let (status, _) = answer(&app, &id, &dept, cropped_copy(&scene(4))).await;
    assert_eq!(status, 200);
    let check = answer_check(&app, &id).await;
    assert_eq!(
        check["reasons"],
        json!(["copy_of_earlier_answer"]),
        "{check}"
    );
    assert_eq!(check["copy_of"], fresh_digest.as_str());
    assert_eq!(check["copy_of_report"], fresh_number);

    // What is stored and served carries no metadata, though the checks read
    // it.
    let served = app
        .client
        .get(app.url(&format!("/media/{fresh_digest}.jpg")))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let tags = metadata(&served);
    for tag in ["GPS:GPSLatitude", "ExifIFD:DateTimeOriginal", "IFD0:Make"] {
        assert!(tags.get(tag).is_none(), "{tag} served: {tags}");
    }

    // The ledger entry of an answer carries its checks, and the ledger
    // verifies (by the service and by the standard-library verifier).
    let (_, report) = app.get_json(&format!("/api/v1/reports/{fresh_id}")).await;
    let number = report["number"].as_i64().unwrap();
    let export = app.get("/api/v1/ledger/export").await.text().await.unwrap();
    let entry: Value = export
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|e| e["report_number"] == number && e["kind"] == "resolved")
        .unwrap();
    assert_eq!(
        entry["evidence"],
        format!("{fresh_digest}:taken=after,place=near,copy=new"),
        "{entry}"
    );
    let (status, verified) = app.get_json("/api/v1/ledger/verify").await;
    assert_eq!(status, 200, "{verified}");
    let (status, _) = app
        .post_as("demo-token-admin", "/api/v1/admin/ledger/checkpoints", "")
        .await;
    assert_eq!(status, 200);
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/verify-ledger.py");
    let (address, report_arg) = (app.address.clone(), number.to_string());
    let output = tokio::task::spawn_blocking(move || {
        Command::new("python3")
            .args([script, "--url", &address, "--report", &report_arg])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(output.status.success(), "{output:?}");

    // Statistics count the flagged answers per department.
    let (_, stats) = common::get_as(
        &app,
        "demo-token-supervisor.roads",
        "/api/v1/supervisor/stats",
    )
    .await;
    let roads = &stats["photo_checks"]["roads"];
    assert_eq!(roads["answers_checked"], 6, "{stats}");
    assert_eq!(roads["answers_flagged"], 5, "{stats}");
    // The public page says it in words, in both languages.
    for (lang, words) in [
        ("ru", "копия фото, приложенного к самому сообщению"),
        ("en", "a copy of the report&#39;s own photo"),
    ] {
        let page = app
            .client
            .get(app.url(&format!("/reports/{}?lang={lang}", first.unwrap())))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains(words), "{lang}: {page}");
    }
}

#[tokio::test]
async fn a_category_that_holds_flagged_answers_waits_for_a_supervisor() {
    let app = common::spawn_app().await;
    let before = scene(5);
    let before_jpeg = encode(&DynamicImage::ImageRgb8(before.clone()), 90);
    // Graffiti holds answers whose photos are flagged.
    let (id, number, dept) = taken(&app, "graffiti", before_jpeg.clone()).await;
    let (status, held) = answer(&app, &id, &dept, cropped_copy(&before)).await;
    assert_eq!(status, 202, "{held}");
    assert_eq!(held["number"], number);
    assert_eq!(held["status"], "in_progress");
    assert_eq!(
        held["checks"][0]["reasons"],
        json!(["copy_of_report_photo"])
    );
    let (_, report) = app.get_json(&format!("/api/v1/reports/{id}")).await;
    assert_eq!(report["status"], "in_progress", "nothing moved: {report}");
    let supervisor = format!("demo-token-supervisor.{dept}");
    let (status, waiting) =
        common::get_as(&app, &supervisor, "/api/v1/supervisor/held-answers").await;
    assert_eq!(status, 200, "{waiting}");
    let held_id = held["held"].as_str().unwrap();
    assert!(waiting.to_string().contains(held_id), "{waiting}");
    // A crew member cannot decide; a reason is needed to reject.
    let decision = format!("/api/v1/supervisor/held-answers/{held_id}/decision");
    let (status, _) = app
        .post_as(
            &format!("demo-token-crew1.{dept}"),
            &decision,
            r#"{"decision": "approve"}"#,
        )
        .await;
    assert_eq!(status, 403);
    let (status, body) = app
        .post_as(&supervisor, &decision, r#"{"decision": "reject"}"#)
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["field"], "reason");
    // Approved: the answer goes out with its flag.
    let (status, decided) = app
        .post_as(&supervisor, &decision, r#"{"decision": "approve"}"#)
        .await;
    assert_eq!(status, 200, "{decided}");
    assert_eq!(decided["status"], "resolved", "{decided}");
    let check = answer_check(&app, &id).await;
    assert_eq!(check["reasons"], json!(["copy_of_report_photo"]));
    let (status, _) = app
        .post_as(&supervisor, &decision, r#"{"decision": "approve"}"#)
        .await;
    assert_eq!(status, 409, "decided once");

    // Another held answer, rejected: the report stays with the crew.
    let (id, _, dept) = taken(&app, "graffiti", before_jpeg.clone()).await;
    let (status, held) = answer(&app, &id, &dept, before_jpeg.clone()).await;
    assert_eq!(status, 202);
    let decision = format!(
        "/api/v1/supervisor/held-answers/{}/decision",
        held["held"].as_str().unwrap()
    );
    let (status, decided) = app
        .post_as(
            &supervisor,
            &decision,
            r#"{"decision": "reject", "reason": "Фото из сообщения"}"#,
        )
        .await;
    assert_eq!(status, 200, "{decided}");
    let (_, report) = common::get_as(&app, &supervisor, &format!("/api/v1/reports/{id}")).await;
    assert_eq!(report["status"], "in_progress");
    assert!(report.to_string().contains("Фото из сообщения"), "{report}");
    // A fresh photo in the same category goes out at once.
    let fresh = stamped(
        &encode(&DynamicImage::ImageRgb8(scene(6)), 85),
        Some(AFTER),
        Some((LAT, LON)),
    );
    let (status, body) = answer(&app, &id, &dept, fresh).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "resolved");
}
