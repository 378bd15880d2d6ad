//! The city's geodata on both backends: a register loaded by `gorod import
//! addresses` (a bad row named, the others loaded), every way of writing
//! an address finding its house, a slip of one letter too, a pin 5 m from
//! a house naming it and one in a field naming nothing; city objects
//! loaded by `gorod import objects`, offered near the pin, stored with the
//! report, routing it to their department and listed on their page.
#![allow(clippy::unwrap_used)] // test code: a panic is how it fails

mod common;

use std::io::Write;
use std::process::{Command, Output};

use common::TestApp;
use serde_json::{json, Value};

/// Runs `gorod import <what> <file>` against the app's database.
fn import(app: &TestApp, what: &str, name: &str, text: &str) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::File::create(&path)
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    Command::new(env!("CARGO_BIN_EXE_gorod"))
        .arg("--config-dir")
        .arg(common::config_dir())
        .args(["import", what])
        .arg(&path)
        .env("GOROD__DATABASE__URL", &app.db.url)
        .env("RUST_LOG", "warn")
        .output()
        .expect("the gorod command runs")
}

/// (created, updated, refused) from the command's summary line.
fn counts(text: &str) -> (u32, u32, u32) {
    let line = text
        .lines()
        .find(|l| l.contains(" created, "))
        .unwrap_or_default();
    let numbers: Vec<u32> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse().ok())
        .collect();
    (numbers[0], numbers[1], numbers[2])
}

fn said(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn house(street: &str, en: &str, house: &str, lat: f64, lon: f64) -> Value {
    json!({"type": "Feature",
           "properties": {"addr:street": street, "addr:street:en": en, "addr:housenumber": house},
           "geometry": {"type": "Point", "coordinates": [lon, lat]}})
}

/// A register with a bad third row.
fn register() -> String {
    json!({"type": "FeatureCollection", "features": [
        house("Тверская улица", "Tverskaya Street", "12", 55.76510, 37.60620),
        house("Тверская улица", "Tverskaya Street", "12к2", 55.76530, 37.60600),
        {"type": "Feature", "properties": {"addr:street": "Тверская улица"},
         "geometry": {"type": "Point", "coordinates": [37.6055, 55.7656]}},
        house("Тверская улица", "Tverskaya Street", "7с1", 55.76470, 37.60750),
        house("Зелёная улица", "Zelyonaya Street", "3", 55.77100, 37.60000),
        house("улица Арбат", "Arbat Street", "24а", 55.74950, 37.59200),
        house("улица Арбат", "Arbat Street", "24", 55.74960, 37.59250),
    ]})
    .to_string()
}

/// The app, with the register loaded by the command (and seen: the
/// registry is rebuilt within a second of another process's import).
async fn with_register() -> TestApp {
    let app = common::spawn_app().await;
    let output = import(&app, "addresses", "register.geojson", &register());
    let text = said(&output);
    assert!(output.status.success(), "{text}");
    assert!(
        text.contains("feature 3: the house number is missing"),
        "{text}"
    );
    // Rows the demo registry holds already are updated.
    let (created, updated, refused) = counts(&text);
    assert_eq!((created + updated, refused), (6, 1), "{text}");
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    app
}

async fn first_label(app: &TestApp, typed: &str) -> String {
    let query = serde_urlencoded::to_string([("q", typed), ("limit", "3")]).unwrap();
    let (status, found) = app.get_json(&format!("/api/v1/geocode?{query}")).await;
    assert_eq!(status, 200, "{found}");
    found[0]["label"].as_str().unwrap_or_default().to_string()
}

#[tokio::test]
async fn every_way_of_writing_an_address_finds_its_house() {
    let app = with_register().await;
    for typed in [
        "ул. Тверская, д. 12к2",
        "Тверская 12 корп. 2",
        "Тверская улица, дом 12, корпус 2",
        "12к2 Тверская",
        "Tverskaya St 12 bldg 2",
        "Тверкая 12к2",
        "Тверская 12 к2",
    ] {
        assert_eq!(
            first_label(&app, typed).await,
            "Тверская улица, 12к2",
            "{typed}"
        );
    }
    assert_eq!(
        first_label(&app, "Тверская 7 стр. 1").await,
        "Тверская улица, 7с1"
    );
    assert_eq!(first_label(&app, "ул Зеленая 3").await, "Зелёная улица, 3");
    assert_eq!(first_label(&app, "Арбат 24а").await, "улица Арбат, 24а");
    assert_eq!(first_label(&app, "Арабт 24").await, "улица Арбат, 24");
    assert_eq!(first_label(&app, "Nowhere Street 1").await, "");
    // Bad input is named.
    let (status, error) = app.get_json("/api/v1/geocode?q=").await;
    assert_eq!(
        (status, error["field"].as_str()),
        (400, Some("q")),
        "{error}"
    );
}

#[tokio::test]
async fn a_pin_names_the_house_beside_it_and_a_field_nothing() {
    let app = with_register().await;
    // About 5 m north of Тверская 12.
    let (status, near) = app
        .get_json("/api/v1/geocode/reverse?lat=55.765145&lon=37.6062")
        .await;
    assert_eq!(status, 200, "{near}");
    assert_eq!(near["label"], "Тверская улица, 12");
    assert!(near["distance_m"].as_f64().unwrap() < 7.0, "{near}");
    let (status, none) = app
        .get_json("/api/v1/geocode/reverse?lat=55.7300&lon=37.6500")
        .await;
    assert_eq!(status, 404, "{none}");
    // A report filed there takes the registry's address, not the typed one.
    let mut body = common::report_at("pothole", 55.765145, 37.6062);
    body["address"] = json!("тверская двенадцать");
    let (status, filed) = app.post_json("/api/v1/reports", &body).await;
    assert_eq!(status, 201, "{filed}");
    let (_, report) = app
        .get_json(&format!(
            "/api/v1/reports/{}",
            filed["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(report["address"], "Тверская улица, 12");
    // Far from any house the resident's words stay.
    let mut body = common::report_at("pothole", 55.7700, 37.6050);
    body["address"] = json!("во дворе за школой");
    let (_, filed) = app.post_json("/api/v1/reports", &body).await;
    let (_, report) = app
        .get_json(&format!(
            "/api/v1/reports/{}",
            filed["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(report["address"], "во дворе за школой");
}

#[tokio::test]
async fn a_csv_register_loads_through_its_columns() {
    let app = common::spawn_app().await;
    let csv = "Улица,Дом,Корпус,Широта,Долгота\n\
               Новая улица,5,1,\"55,7710\",37.6010\n\
               Новая улица,6,,север,37.6012\n\
               Новая улица,7,,55.7714,37.6014\n";
    let output = import(&app, "addresses", "register.csv", csv);
    let text = said(&output);
    assert!(output.status.success(), "{text}");
    assert!(
        text.contains("line 3: latitude: 'север' is not a number"),
        "{text}"
    );
    assert_eq!(counts(&text), (2, 0, 1), "{text}");
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(first_label(&app, "Новая 5 к 1").await, "Новая улица, 5к1");
}

fn object(kind: &str, id: &str, name: &str, owner: Option<&str>, lat: f64, lon: f64) -> Value {
    let mut properties =
        json!({"type": kind, "id": id, "name": name, "name_en": format!("{id} (en)")});
    if let Some(owner) = owner {
        properties["department"] = json!(owner);
    }
    json!({"type": "Feature", "properties": properties,
           "geometry": {"type": "Point", "coordinates": [lon, lat]}})
}

#[tokio::test]
async fn a_picked_object_routes_the_report_and_keeps_its_history() {
    let app = common::spawn_app().await;
    // A yard lamp the district's housing service looks after, a street
    // lamp of the lighting service, a bench; and a row with no id.
    let objects = json!({"type": "FeatureCollection", "features": [
        object("lamp_post", "YARD-7", "Опора во дворе № 7", Some("zhilishnik-tverskoy"), 55.77010, 37.60500),
        object("lamp_post", "LP-9", "Опора освещения № 9", Some("lighting"), 55.77020, 37.60530),
        object("bench", "B-1", "Скамейка № 1", None, 55.77005, 37.60505),
        {"type": "Feature", "properties": {"type": "lamp_post"},
         "geometry": {"type": "Point", "coordinates": [37.6, 55.77]}},
        object("lamp_post", "LP-X", "Опора", Some("no-such-department"), 55.7701, 37.6050),
    ]})
    .to_string();
    let output = import(&app, "objects", "objects.geojson", &objects);
    let text = said(&output);
    assert!(
        text.contains("feature 4: the object's id is missing"),
        "{text}"
    );
    assert!(
        text.contains("feature 5: 'no-such-department' is not a department"),
        "{text}"
    );
    let (created, updated, refused) = counts(&text);
    assert_eq!((created + updated, refused), (3, 2), "{text}");

    // Offered near the pin, nearest first, of the category's types only.
    let (status, near) = app
        .get_json("/api/v1/objects?lat=55.77000&lon=37.60500&category=street_light")
        .await;
    assert_eq!(status, 200, "{near}");
    let codes: Vec<&str> = near
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["code"].as_str().unwrap())
        .collect();
    assert!(codes.starts_with(&["YARD-7", "LP-9"]), "{near}");
    assert!(!codes.contains(&"B-1"), "{near}");
    let yard = near[0]["id"].as_str().unwrap().to_string();
    let bench = {
        let (_, benches) = app
            .get_json("/api/v1/objects?lat=55.77000&lon=37.60500&category=bench")
            .await;
        benches[0]["id"].as_str().unwrap().to_string()
    };

    // Picked: the object's department gets it, not the category's.
    let mut body = common::report_at("street_light", 55.77000, 37.60500);
    body["object"] = json!(yard);
    let (status, filed) = app.post_json("/api/v1/reports", &body).await;
    assert_eq!(status, 201, "{filed}");
    let id = filed["id"].as_str().unwrap().to_string();
    let (_, report) = app.get_json(&format!("/api/v1/reports/{id}")).await;
    assert_eq!(
        report["department"]["code"], "zhilishnik-tverskoy",
        "{report}"
    );
    assert_eq!(report["object"]["code"], "YARD-7", "{report}");
    assert!(
        report["history"][0]["text"]["en"]
            .as_str()
            .unwrap()
            .contains("Опора во дворе № 7"),
        "{report}"
    );
    // Without an object the category's department does.
    let plain = common::report_at("street_light", 55.77000, 37.60500);
    let (_, filed_plain) = app.post_json("/api/v1/reports", &plain).await;
    let (_, report_plain) = app
        .get_json(&format!(
            "/api/v1/reports/{}",
            filed_plain["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(report_plain["department"]["code"], "lighting");

    // The wrong type, an unknown object and one far away are refused by
    // name, and nothing is filed.
    let before = app.count_rows("reports");
    for (object, words) in [
        (bench.as_str(), "не относится к этой категории"),
        ("no-such-object", "no-such-object"),
    ] {
        let mut body = common::report_at("street_light", 55.77000, 37.60500);
        body["object"] = json!(object);
        let (status, error) = app.post_json("/api/v1/reports", &body).await;
        assert_eq!(status, 400, "{error}");
        assert_eq!(error["field"], "object", "{error}");
        assert!(
            error["message"].as_str().unwrap().contains(words),
            "{error}"
        );
    }
    let mut far = common::report_at("street_light", 55.7600, 37.6100);
    far["object"] = json!(yard);
    let (status, error) = app.post_json("/api/v1/reports", &far).await;
    assert_eq!(
        (status, error["field"].as_str()),
        (400, Some("object")),
        "{error}"
    );
    assert_eq!(app.count_rows("reports"), before);

    // Open311 carries it as an attribute, and takes it as one.
    let (_, requests) = app
        .get_json(&format!(
            "/open311/v2/requests/{}.json?extensions=true",
            filed["number"]
        ))
        .await;
    let attributes = requests[0]["attributes"].as_array().unwrap();
    assert!(
        attributes
            .iter()
            .any(|a| a["code"] == "object_code" && a["value"] == "YARD-7"),
        "{requests}"
    );
    // The object's page lists its report.
    let page = app.get(&format!("/objects/{yard}")).await;
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(page.contains("Опора во дворе № 7"), "{page}");
    assert!(page.contains("Жилищник Тверского района"), "{page}");
    assert_eq!(app.get("/objects/none").await.status(), 404);
}
