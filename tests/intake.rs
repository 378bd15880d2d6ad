//! Complete intake: questions, photos, routing, duplicates and "me too".
#![allow(clippy::unwrap_used)] // test code: a panic is how it fails

mod common;

use std::process::Command;

use common::{jpeg, spawn_app, valid_report, TestApp};
use diesel::prelude::*;
use gorod::db::DbConnection;
use image::{DynamicImage, ImageFormat};
use reqwest::multipart::{Form, Part};
use serde_json::{json, Value};

fn png(width: u32, height: u32) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    DynamicImage::new_rgb8(width, height)
        .write_to(&mut out, ImageFormat::Png)
        .unwrap();
    out.into_inner()
}

/// Runs exiftool, the real metadata reader, and returns what it found.
fn exiftool(args: &[&str], file: &std::path::Path) -> Value {
    let output = Command::new("exiftool")
        .args(["-j", "-a", "-G1", "-n"])
        .args(args)
        .arg(file)
        .output()
        .expect("exiftool runs (scripts/test installs libimage-exiftool-perl)");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let all: Value = serde_json::from_slice(&output.stdout).unwrap();
    all[0].clone()
}

/// A JPEG carrying GPS, an orientation tag, a comment and XMP, like a phone's.
fn phone_photo(dir: &std::path::Path) -> Vec<u8> {
    let path = dir.join("phone.jpg");
    std::fs::write(&path, jpeg(40, 20)).unwrap();
    let status = Command::new("exiftool")
        .args([
            "-q",
            "-overwrite_original",
            "-GPSLatitude=55.7558",
            "-GPSLatitudeRef=N",
            "-GPSLongitude=37.6173",
            "-GPSLongitudeRef=E",
            "-Orientation#=6",
            "-Comment=home of Anna Petrova",
            "-XMP-dc:Creator=Anna Petrova",
            "-Make=PhoneMaker",
        ])
        .arg(&path)
        .status()
        .expect("exiftool runs");
    assert!(status.success());
    let tags = exiftool(&[], &path);
    assert!(
        tags.get("GPS:GPSLatitude").is_some(),
        "the test photo carries GPS: {tags}"
    );
    std::fs::read(&path).unwrap()
}

fn form_with(report: &Value, photos: Vec<(Vec<u8>, &'static str)>) -> Form {
    let mut form = Form::new().part(
        "report",
        Part::text(report.to_string())
            .mime_str("application/json")
            .unwrap(),
    );
    for (i, (bytes, mime)) in photos.into_iter().enumerate() {
        form = form.part(
            "photos",
            Part::bytes(bytes)
                .file_name(format!("photo{i}"))
                .mime_str(mime)
                .unwrap(),
        );
    }
    form
}

async fn post_form(app: &TestApp, form: Form) -> (u16, Value) {
    let response = app
        .client
        .post(app.url("/api/v1/reports?lang=en"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn a_report_with_two_photos_and_answers_is_filed_routed_and_its_photos_carry_no_metadata() {
    let app = spawn_app().await;
    let scratch = tempfile::tempdir().unwrap();
    let mut report = valid_report();
    report["category"] = json!("pothole");
    report["answers"] = json!({"size": "large", "depth_cm": "12,5"});
    let form = form_with(
        &report,
        vec![
            (phone_photo(scratch.path()), "image/jpeg"),
            (png(64, 48), "image/png"),
        ],
    );
    let (status, filed) = post_form(&app, form).await;
    assert_eq!(status, 201, "{filed}");

    let (_, shown) = app
        .get_json(&format!(
            "/api/v1/reports/{}",
            filed["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(shown["department"]["code"], "roads");
    assert_eq!(shown["answers"], json!({"size": "large", "depth_cm": 12.5}));
    let photos = shown["photos"].as_array().unwrap();
    assert_eq!(photos.len(), 2);
    // Turned upright by its orientation tag: 40 × 20 became 20 × 40.
    assert_eq!(
        (photos[0]["width"].as_i64(), photos[0]["height"].as_i64()),
        (Some(20), Some(40))
    );
    assert_eq!(
        (photos[1]["width"].as_i64(), photos[1]["height"].as_i64()),
        (Some(64), Some(48))
    );

    for photo in photos {
        for key in ["url", "thumbnail_url"] {
            let response = app
                .client
                .get(photo[key].as_str().unwrap())
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200);
            assert_eq!(response.headers()["content-type"], "image/jpeg");
            let bytes = response.bytes().await.unwrap();
            let path = scratch.path().join("served.jpg");
            std::fs::write(&path, &bytes).unwrap();
            let tags = exiftool(&[], &path);
            let groups: Vec<&String> = tags
                .as_object()
                .unwrap()
                .keys()
                .filter(|k| {
                    !k.starts_with("System:")
                        && !k.starts_with("ExifTool:")
                        && !k.starts_with("File:")
                        && !k.starts_with("Composite:")
                        && !k.starts_with("JFIF:")
                        && k.as_str() != "SourceFile"
                })
                .collect();
            assert!(
                groups.is_empty(),
                "metadata survived in {key}: {groups:?} in {tags}"
            );
            let text = tags.to_string();
            assert!(
                !text.contains("Anna") && !text.contains("PhoneMaker") && !text.contains("55.75"),
                "{text}"
            );
        }
    }
    // The pixels were turned, not just the tag dropped: the red half is now on top.
    let upright = image::load_from_memory(
        &app.client
            .get(photos[0]["url"].as_str().unwrap())
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap(),
    )
    .unwrap()
    .to_rgb8();
    assert!(upright.get_pixel(10, 5)[0] > 150 && upright.get_pixel(10, 35)[2] > 150);
}

#[tokio::test]
async fn bad_photos_are_refused_by_position_and_nothing_is_written() {
    let app = spawn_app().await;
    let media_files = || walk(app.media_dir.path());
    let mut bomb = png(1, 1);
    bomb[16..20].copy_from_slice(&70000u32.to_be_bytes());
    bomb[20..24].copy_from_slice(&70000u32.to_be_bytes());
    let crc = crc32fast::hash(&bomb[12..29]);
    bomb[29..33].copy_from_slice(&crc.to_be_bytes());
    type Photos = Vec<(Vec<u8>, &'static str)>;
    let cases: Vec<(Photos, &str, &str)> = vec![
        (
            vec![(b"%PDF-1.4 a tax form".to_vec(), "image/jpeg")],
            "photos[0]",
            "not a JPEG, PNG or WebP",
        ),
        (
            vec![(jpeg(8, 8), "image/jpeg"), (png(8, 8), "image/jpeg")],
            "photos[1]",
            "says it is image/jpeg but is image/png",
        ),
        (vec![(bomb, "image/png")], "photos[0]", "pixels"),
        (
            vec![(b"GIF89a".to_vec(), "image/gif")],
            "photos[0]",
            "not a JPEG",
        ),
        (
            (0..7).map(|_| (jpeg(4, 4), "image/jpeg")).collect(),
            "photos[6]",
            "at most 6 photos",
        ),
    ];
    for (photos, field, words) in cases {
        let (status, error) = post_form(&app, form_with(&valid_report(), photos)).await;
        assert_eq!(status, 400, "{error}");
        assert_eq!(error["field"], field, "{error}");
        assert!(
            error["message"].as_str().unwrap().contains(words),
            "{error}"
        );
    }
    // A good photo with a bad report is refused before anything is stored.
    let mut unknown = valid_report();
    unknown["category"] = json!("ufo");
    let (status, error) =
        post_form(&app, form_with(&unknown, vec![(jpeg(8, 8), "image/jpeg")])).await;
    assert_eq!((status, error["field"].as_str()), (400, Some("category")));
    let form = Form::new().part(
        "photos",
        Part::bytes(jpeg(8, 8)).mime_str("image/jpeg").unwrap(),
    );
    let (status, error) = post_form(&app, form).await;
    assert_eq!(
        (status, error["field"].as_str()),
        (400, Some("report")),
        "{error}"
    );
    assert_eq!(app.count_rows("reports"), 0);
    assert_eq!(app.count_rows("attachments"), 0);
    assert!(media_files().is_empty(), "{:?}", media_files());
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

#[tokio::test]
async fn answers_are_checked_against_the_categorys_questions() {
    let app = spawn_app().await;
    let with = |category: &str, answers: Value| {
        let mut body = valid_report();
        body["category"] = json!(category);
        body["answers"] = answers;
        body
    };
    let cases = [
        (with("pothole", json!({})), "answers.size", "required"),
        (
            with("pothole", json!({"size": "enormous"})),
            "answers.size",
            "not one of the choices",
        ),
        (
            with("pothole", json!({"size": "small", "depth_cm": "deep"})),
            "answers.depth_cm",
            "not a number",
        ),
        (
            with("pothole", json!({"size": "small", "colour": "grey"})),
            "answers.colour",
            "not a question",
        ),
        (
            with("elevator", json!({"stuck_people": "no"})),
            "answers.entrance",
            "required",
        ),
        (
            with(
                "overflowing_bins",
                json!({"waste_types": ["bulky", "fridges"]}),
            ),
            "answers.waste_types",
            "'fridges'",
        ),
        (
            with("water_leak", json!({"noticed_at": "yesterday"})),
            "answers.noticed_at",
            "date and time",
        ),
    ];
    for (body, field, words) in cases {
        let (status, error) = app.post_json("/api/v1/reports?lang=en", &body).await;
        assert_eq!(status, 400, "{error}");
        assert_eq!(error["field"], field, "{error}");
        assert!(
            error["message"].as_str().unwrap().contains(words),
            "{error}"
        );
    }
    assert_eq!(app.count_rows("reports"), 0);
    let (status, filed) = app
        .post_json(
            "/api/v1/reports",
            &with(
                "overflowing_bins",
                json!({"waste_types": ["bulky", "household"]}),
            ),
        )
        .await;
    assert_eq!(status, 201, "{filed}");
    let (_, shown) = app
        .get_json(&format!(
            "/api/v1/reports/{}",
            filed["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(
        shown["answers"],
        json!({"waste_types": ["bulky", "household"]})
    );
}

#[tokio::test]
async fn routing_follows_branches_overrides_and_triage() {
    let app = spawn_app().await;
    let department_of = |category: &'static str, lat: f64, lon: f64| {
        let mut body = valid_report();
        body["category"] = json!(category);
        body["answers"] = json!({});
        body["lat"] = json!(lat);
        body["lon"] = json!(lon);
        let app = &app;
        async move {
            let (status, filed) = app.post_json("/api/v1/reports", &body).await;
            assert_eq!(status, 201, "{filed}");
            let (_, shown) = app
                .get_json(&format!(
                    "/api/v1/reports/{}",
                    filed["id"].as_str().unwrap()
                ))
                .await;
            (
                shown["department"]["code"]
                    .as_str()
                    .unwrap_or("none")
                    .to_string(),
                shown["history"][0]["text"]["en"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            )
        }
    };
    let tverskoy = (55.7700, 37.6050);
    let khamovniki = (55.7300, 37.5700);
    let (department, _) = department_of("leaking_roof", tverskoy.0, tverskoy.1).await;
    assert_eq!(department, "zhilishnik-tverskoy");
    let (department, _) = department_of("leaking_roof", khamovniki.0, khamovniki.1).await;
    assert_eq!(department, "zhilishnik-khamovniki");
    let (department, note) = department_of("fallen_tree", khamovniki.0, khamovniki.1).await;
    assert_eq!(department, "zhilishnik-khamovniki");
    assert!(
        note.contains("in Khamovniki District")
            && note.contains(", Fallen or dangerous tree reports go to this department"),
        "{note}"
    );
    let (department, _) = department_of("fallen_tree", tverskoy.0, tverskoy.1).await;
    assert_eq!(department, "parks");
    let (department, note) = department_of("other", tverskoy.0, tverskoy.1).await;
    assert_eq!(department, "triage");
    assert!(
        note.contains("no department is set for Other problem reports, so this service decides"),
        "{note}"
    );
}

#[tokio::test]
async fn nearby_open_reports_of_the_same_category_are_duplicate_candidates() {
    let app = spawn_app().await;
    let (_, first) = app.post_json("/api/v1/reports", &valid_report()).await;
    // About 11 m north: within the pothole radius of 30 m.
    let mut close = valid_report();
    close["lat"] = json!(55.7701);
    close["reporter"]["email"] = json!("boris@example.ru");
    let (status, second) = app.post_json("/api/v1/reports", &close).await;
    assert_eq!(status, 201);
    let candidates = second["duplicate_candidates"].as_array().unwrap();
    assert_eq!(candidates.len(), 1, "{second}");
    assert_eq!(candidates[0]["id"], first["id"]);
    let distance = candidates[0]["distance_m"].as_f64().unwrap();
    assert!((10.0..12.5).contains(&distance), "{distance}");
    assert!(!second.to_string().contains("anna.petrova"));

    let (status, nearby) = app
        .get_json("/api/v1/reports/nearby?lat=55.77005&lon=37.6050&category=pothole")
        .await;
    assert_eq!(status, 200);
    assert_eq!(nearby.as_array().unwrap().len(), 2);
    // Another category, or further than the radius, is not a duplicate.
    let (_, other) = app
        .get_json("/api/v1/reports/nearby?lat=55.7700&lon=37.6050&category=graffiti")
        .await;
    assert_eq!(other, json!([]));
    let (_, far) = app
        .get_json("/api/v1/reports/nearby?lat=55.7703&lon=37.6050&category=pothole")
        .await;
    assert_eq!(
        far.as_array().unwrap().len(),
        1,
        "only the second is within 30 m of 55.7703: {far}"
    );
    assert_eq!(far[0]["id"], second["id"]);
    // Closed reports are not candidates.
    {
        use gorod::db::schema::reports;
        let mut pooled = app.conn();
        let conn: &mut DbConnection = &mut pooled;
        diesel::update(reports::table)
            .set(reports::status.eq("closed"))
            .execute(conn)
            .unwrap();
    }
    let (_, none) = app
        .get_json("/api/v1/reports/nearby?lat=55.7700&lon=37.6050&category=pothole")
        .await;
    assert_eq!(none, json!([]));
    for (query, field) in [
        ("lat=95&lon=37&category=pothole", "lat"),
        ("lon=37&category=pothole", "lat"),
        ("lat=55&lon=37", "category"),
        ("lat=55&lon=37&category=ufo", "category"),
    ] {
        let (status, error) = app
            .get_json(&format!("/api/v1/reports/nearby?{query}"))
            .await;
        assert_eq!(
            (status, error["field"].as_str()),
            (400, Some(field)),
            "{query}: {error}"
        );
    }
}

#[tokio::test]
async fn me_too_counts_each_resident_once() {
    let app = spawn_app().await;
    let (_, filed) = app.post_json("/api/v1/reports", &valid_report()).await;
    let path = format!("/api/v1/reports/{}/support", filed["id"].as_str().unwrap());
    let (status, joined) = app
        .post_json(
            &path,
            &json!({"email": "boris@example.ru", "name": "Борис"}),
        )
        .await;
    assert_eq!(status, 201, "{joined}");
    assert_eq!(joined, json!({"joined": true, "support_count": 2}));
    let (status, again) = app
        .post_json(&path, &json!({"email": "Boris@EXAMPLE.ru"}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(again, json!({"joined": false, "support_count": 2}));
    // The reporter already follows their own report.
    let (_, own) = app
        .post_json(&path, &json!({"email": "anna.petrova@example.ru"}))
        .await;
    assert_eq!(own["joined"], false);
    let (_, shown) = app
        .get_json(&format!(
            "/api/v1/reports/{}",
            filed["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(shown["support_count"], 2);
    assert!(shown["history"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["kind"] == "supported"));
    assert!(!shown.to_string().contains("boris"));
    assert_eq!(app.count_rows("subscriptions"), 2);

    let (status, error) = app.post_json(&path, &json!({"email": "nobody"})).await;
    assert_eq!((status, error["field"].as_str()), (400, Some("email")));
    let (status, _) = app
        .post_json(
            "/api/v1/reports/00000000-0000-0000-0000-000000000000/support",
            &json!({"email": "x@example.ru"}),
        )
        .await;
    assert_eq!(status, 404);
    {
        use gorod::db::schema::reports;
        let mut pooled = app.conn();
        let conn: &mut DbConnection = &mut pooled;
        diesel::update(reports::table)
            .set(reports::status.eq("closed"))
            .execute(conn)
            .unwrap();
    }
    let (status, error) = app
        .post_json(&path, &json!({"email": "vera@example.ru"}))
        .await;
    assert_eq!((status, error["code"].as_str()), (409, Some("conflict")));
}

const KITAY_GOROD: &str = r#"{"type":"FeatureCollection","features":[{"type":"Feature",
  "properties":{"code":"kitay-gorod","name":"Китай-город","serves":["zhilishnik-basmanny"],"overrides":{"graffiti":"parks"}},
  "geometry":{"type":"Polygon","coordinates":[[[37.625,55.750],[37.637,55.750],[37.637,55.7565],[37.625,55.7565],[37.625,55.750]]]}}]}"#;

#[tokio::test]
async fn an_admin_imports_service_areas_and_routing_uses_them_at_once() {
    let app = spawn_app().await;
    let path = "/api/v1/admin/service-areas?lang=en";
    let mut report = valid_report();
    report["category"] = json!("leaking_roof");
    report["answers"] = json!({});
    report["lat"] = json!(55.7530);
    report["lon"] = json!(37.6300);
    let (status, error) = app.post_json("/api/v1/reports", &report).await;
    assert_eq!(
        (status, error["field"].as_str()),
        (400, Some("location")),
        "outside before the import"
    );

    let response = app
        .client
        .post(app.url(path))
        .body(KITAY_GOROD)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(response.headers()["www-authenticate"], "Bearer");
    let (status, _) = app.post_as("not-a-token", path, KITAY_GOROD).await;
    assert_eq!(status, 401);
    let (status, error) = app
        .post_as("demo-token-crew1.roads", path, KITAY_GOROD)
        .await;
    assert_eq!((status, error["code"].as_str()), (403, Some("forbidden")));

    let (status, summary) = app.post_as("demo-token-admin", path, KITAY_GOROD).await;
    assert_eq!(status, 200, "{summary}");
    assert_eq!(summary["created"], json!(["kitay-gorod"]));
    let (status, filed) = app.post_json("/api/v1/reports", &report).await;
    assert_eq!(status, 201, "{filed}");
    let (_, shown) = app
        .get_json(&format!(
            "/api/v1/reports/{}",
            filed["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(shown["department"]["code"], "zhilishnik-basmanny");
    assert_eq!(shown["service_area"], "Китай-город");

    // Bad imports name the feature and change nothing.
    let areas = app.count_rows("service_areas");
    let bow_tie = KITAY_GOROD.replace(
        "[[[37.625,55.750],[37.637,55.750],[37.637,55.7565],[37.625,55.7565],[37.625,55.750]]]",
        "[[[37.625,55.750],[37.637,55.7565],[37.637,55.750],[37.625,55.7565],[37.625,55.750]]]",
    );
    let unknown_department = KITAY_GOROD.replace("zhilishnik-basmanny", "zhilishnik-mars");
    let unknown_category = KITAY_GOROD.replace("\"graffiti\"", "\"teleport\"");
    let cases = [
        (
            bow_tie.as_str(),
            "features[0].geometry",
            "not a valid polygon",
        ),
        (
            unknown_department.as_str(),
            "features[0].properties",
            "no department 'zhilishnik-mars'",
        ),
        (
            unknown_category.as_str(),
            "features[0].properties",
            "no category 'teleport'",
        ),
        (
            "{\"type\":\"Point\",\"coordinates\":[37,55]}",
            "body",
            "FeatureCollection",
        ),
        ("not json", "body", "GeoJSON"),
    ];
    for (body, field, words) in cases {
        let (status, error) = app.post_as("demo-token-admin", path, body).await;
        assert_eq!(status, 400, "{error}");
        assert_eq!(error["field"], field, "{error}");
        assert!(
            error["message"].as_str().unwrap().contains(words),
            "{error}"
        );
    }
    assert_eq!(app.count_rows("service_areas"), areas);

    // Importing again replaces the area: moved away, the point is outside.
    let moved = KITAY_GOROD
        .replace("37.625", "37.725")
        .replace("37.637", "37.737");
    let (status, summary) = app.post_as("demo-token-admin", path, &moved).await;
    assert_eq!(status, 200);
    assert_eq!(summary["updated"], json!(["kitay-gorod"]));
    let (status, error) = app.post_json("/api/v1/reports", &report).await;
    assert_eq!((status, error["field"].as_str()), (400, Some("location")));
}
