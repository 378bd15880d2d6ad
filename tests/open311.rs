//! Open311 GeoReport v2: every resource in JSON (checked against the official
//! schemas, with format checks on) and in XML (read back with an XML parser).
#![allow(clippy::unwrap_used)] // test code: a panic is how it fails

mod common;

use common::{spawn_app, valid_report, TestApp};
use serde_json::{json, Value};

const KEY: &str = "demo-open311-key";

fn schema(name: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/open311_schemas")
        .join(name);
    let mut schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    // The list schemas refer to the item schema by file name: put it inline.
    if let Some(reference) = schema["items"]["$ref"].as_str().map(str::to_string) {
        schema["items"] = self::schema(&reference);
    }
    schema
}

fn assert_valid(schema_name: &str, instance: &Value) {
    let validator = jsonschema::draft4::options()
        .should_validate_formats(true)
        .build(&schema(schema_name))
        .unwrap();
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{schema_name}: {errors:?}\n{instance}");
}

async fn get(app: &TestApp, path: &str) -> (u16, String, String) {
    let response = app.get(&format!("/open311/v2/{path}")).await;
    let status = response.status().as_u16();
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_string();
    (status, content_type, response.text().await.unwrap())
}

async fn get_json(app: &TestApp, path: &str) -> (u16, Value) {
    let (status, content_type, body) = get(app, path).await;
    assert_eq!(
        content_type.split(';').next(),
        Some("application/json"),
        "{path}"
    );
    (
        status,
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}: {body}")),
    )
}

async fn get_xml(app: &TestApp, path: &str) -> (u16, String) {
    let (status, content_type, body) = get(app, path).await;
    assert_eq!(content_type.split(';').next(), Some("text/xml"), "{path}");
    assert!(
        body.starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?>"),
        "{body}"
    );
    roxmltree::Document::parse(&body).unwrap_or_else(|e| panic!("{path}: not XML: {e}"));
    (status, body)
}

async fn post(app: &TestApp, path: &str, form: &[(&str, &str)]) -> (u16, String) {
    let response = app
        .client
        .post(app.url(&format!("/open311/v2/{path}")))
        .header(
            "Content-Type",
            "application/x-www-form-urlencoded; charset=utf-8",
        )
        .body(serde_urlencoded::to_string(form).unwrap())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

fn pothole_form<'a>(extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut form = vec![
        ("api_key", KEY),
        ("service_code", "pothole"),
        ("lat", "55.7700"),
        ("long", "37.6050"),
        ("description", "Яма на Тверской"),
        ("address_string", "ул. Тверская, 12"),
        ("email", "ivan@example.ru"),
        ("first_name", "Иван"),
        ("last_name", "Смирнов"),
        ("phone", "+7 495 000-00-00"),
        ("attribute[size]", "large"),
        ("attribute[uprn]", "10001"),
    ];
    form.extend_from_slice(extra);
    form
}

/// The elements named `name` anywhere in the document.
fn elements<'a>(doc: &'a roxmltree::Document, name: &str) -> Vec<roxmltree::Node<'a, 'a>> {
    doc.descendants().filter(|n| n.has_tag_name(name)).collect()
}

#[tokio::test]
async fn services_and_definitions_in_json_and_xml() {
    let app = spawn_app().await;
    let (status, services) = get_json(&app, "services.json").await;
    assert_eq!(status, 200);
    assert_valid("services.json", &services);
    let pothole = services
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["service_code"] == "pothole")
        .unwrap();
    assert_eq!(pothole["metadata"], true);
    assert_eq!(pothole["type"], "realtime");

    let (_, xml) = get_xml(&app, "services.xml").await;
    let doc = roxmltree::Document::parse(&xml).unwrap();
    assert_eq!(doc.root_element().tag_name().name(), "services");
    assert_eq!(
        elements(&doc, "service").len(),
        services.as_array().unwrap().len()
    );

    let (status, definition) = get_json(&app, "services/pothole.json").await;
    assert_eq!(status, 200);
    assert_valid("service-definition.json", &definition);
    assert_eq!(definition["attributes"][0]["code"], "size");
    assert_eq!(definition["attributes"][0]["values"][2]["key"], "large");
    let (_, xml) = get_xml(&app, "services/pothole.xml").await;
    let doc = roxmltree::Document::parse(&xml).unwrap();
    assert_eq!(doc.root_element().tag_name().name(), "service_definition");
    assert_eq!(elements(&doc, "attribute").len(), 2);
    assert_eq!(elements(&doc, "value").len(), 3);

    let (status, error) = get_json(&app, "services/teleport.json").await;
    assert_eq!(status, 404);
    assert_eq!(error[0]["code"], 404);
    let (status, xml) = get_xml(&app, "services/teleport.xml").await;
    assert_eq!(status, 404);
    assert!(xml.contains("<errors><error><code>404</code>"), "{xml}");
    let (status, _, _) = get(&app, "services.html").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn discovery_lists_two_endpoints_in_both_formats() {
    let app = spawn_app().await;
    let (status, content_type, body) = get(&app, "discovery.json").await;
    assert_eq!((status, content_type.as_str()), (200, "application/json"));
    let discovery: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(discovery["endpoints"].as_array().unwrap().len(), 2);
    assert_eq!(
        discovery["endpoints"][0]["formats"],
        json!(["text/xml", "application/json"])
    );
    assert!(chrono::DateTime::parse_from_rfc3339(discovery["changeset"].as_str().unwrap()).is_ok());
    let (_, content_type, body) = get(&app, "discovery.xml").await;
    assert_eq!(content_type, "text/xml");
    let doc = roxmltree::Document::parse(&body).unwrap();
    assert_eq!(elements(&doc, "endpoint").len(), 2);
    assert_eq!(elements(&doc, "format").len(), 4);
}

#[tokio::test]
async fn a_request_posted_by_form_comes_back_in_every_shape() {
    let app = spawn_app().await;
    let (status, body) = post(&app, "requests.json", &pothole_form(&[])).await;
    assert_eq!(status, 200, "{body}");
    let posted: Value = serde_json::from_str(&body).unwrap();
    let id = posted[0]["service_request_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(id, "1");
    assert!(posted[0]
        .as_object()
        .unwrap()
        .contains_key("service_notice"));
    // And one with a photo through the JSON API, so media_url has a value.
    let form = reqwest::multipart::Form::new()
        .part(
            "report",
            reqwest::multipart::Part::text(valid_report().to_string())
                .mime_str("application/json")
                .unwrap(),
        )
        .part(
            "photos",
            reqwest::multipart::Part::bytes(tiny_jpeg())
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
    assert_eq!(response.status(), 201);

    let (status, one) = get_json(&app, &format!("requests/{id}.json")).await;
    assert_eq!(status, 200);
    assert_valid("requests.json", &one);
    let request = &one[0];
    assert_eq!(request["status"], "open");
    assert_eq!(request["service_code"], "pothole");
    assert_eq!(request["agency_responsible"], "ГБУ «Автомобильные дороги»");
    assert_eq!(request["address"], "ул. Тверская, 12");
    assert_eq!(request["requested_datetime"], "2026-03-02T12:00:00+03:00");
    assert!(request["lat"].is_f64() && request["long"].is_f64());
    for key in [
        "status_notes",
        "service_notice",
        "expected_datetime",
        "address_id",
        "zipcode",
        "media_url",
        "updated_datetime",
        "description",
    ] {
        assert!(
            request.as_object().unwrap().contains_key(key),
            "{key} missing"
        );
    }
    assert!(!one.to_string().contains("ivan@example.ru") && !one.to_string().contains("Смирнов"));

    let (_, all) = get_json(&app, "requests.json?extensions=true").await;
    assert_valid("requests.json", &all);
    assert_eq!(all.as_array().unwrap().len(), 2);
    let with_photo = &all[0];
    let media_url = with_photo["media_url"].as_str().unwrap();
    assert!(
        media_url.starts_with(&app.address) && media_url.ends_with(".jpg"),
        "{media_url}"
    );
    assert_eq!(
        app.client.get(media_url).send().await.unwrap().status(),
        200
    );
    let posted = &all[1];
    assert_eq!(posted["attributes"][0]["code"], "size");
    assert_eq!(posted["attributes"][0]["value"], "large");
    assert_eq!(
        posted["attributes"].as_array().unwrap().len(),
        1,
        "the unknown uprn attribute is dropped"
    );
    assert_eq!(posted["extended_attributes"]["status"], "for_triage");
    assert_eq!(posted["notes"][0]["type"], "opened");

    let (_, xml) = get_xml(&app, "requests.xml?extensions=true").await;
    let doc = roxmltree::Document::parse(&xml).unwrap();
    assert_eq!(doc.root_element().tag_name().name(), "service_requests");
    let requests = elements(&doc, "request");
    assert_eq!(requests.len(), 2);
    let text = |node: roxmltree::Node, name: &str| {
        node.children()
            .find(|c| c.has_tag_name(name))
            .and_then(|c| c.text())
            .map(str::to_string)
    };
    assert_eq!(
        text(requests[1], "service_request_id").as_deref(),
        Some("1")
    );
    assert_eq!(
        text(requests[1], "media_url"),
        None,
        "an absent value is an empty element"
    );
    assert_eq!(elements(&doc, "note").len(), 2);

    let (_, xml) = get_xml(&app, &format!("requests/{id}.xml")).await;
    assert!(
        xml.contains("<service_requests><request><service_request_id>1</service_request_id>"),
        "{xml}"
    );

    // A token is the report's id.
    let (_, listed) = app.get_json("/api/v1/reports?per_page=1&page=2").await;
    let token = listed["reports"][0]["id"].as_str().unwrap().to_string();
    let (status, tokens) = get_json(&app, &format!("tokens/{token}.json")).await;
    assert_eq!(status, 200);
    assert_eq!(tokens, json!([{"service_request_id": "1", "token": token}]));
    let (status, _) = get_xml(&app, &format!("tokens/{token}.xml")).await;
    assert_eq!(status, 200);
    for missing in [
        "tokens/00000000-0000-0000-0000-000000000000.json",
        "tokens/nope.json",
        "requests/999.json",
        "requests/abc.json",
    ] {
        let (status, error) = get_json(&app, missing).await;
        assert_eq!(status, 404, "{missing}");
        assert_eq!(error[0]["code"], 404);
    }
}

fn tiny_jpeg() -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::new_rgb8(8, 8)
        .write_to(&mut out, image::ImageFormat::Jpeg)
        .unwrap();
    out.into_inner()
}

#[tokio::test]
async fn bad_posts_get_403_404_or_400_and_write_nothing() {
    let app = spawn_app().await;
    let without = |key: &str| {
        pothole_form(&[])
            .into_iter()
            .filter(|(k, _)| *k != key)
            .collect::<Vec<_>>()
    };
    let replace = |key: &'static str, value: &'static str| {
        pothole_form(&[])
            .into_iter()
            .map(|(k, v)| if k == key { (k, value) } else { (k, v) })
            .collect::<Vec<_>>()
    };
    let long = "я".repeat(4001);
    let mut too_long = pothole_form(&[]);
    too_long.retain(|(k, _)| *k != "description");
    too_long.push(("description", &long));
    type Form<'a> = Vec<(&'a str, &'a str)>;
    let cases: Vec<(Form, u16, &str)> = vec![
        (without("api_key"), 403, "api_key"),
        (replace("api_key", "stolen"), 403, "api_key"),
        (replace("service_code", "teleport"), 404, "service_code"),
        (without("service_code"), 400, "service_code"),
        (without("lat"), 400, "lat"),
        (replace("lat", "95"), 400, "lat"),
        (replace("long", "east"), 400, "long"),
        (
            replace("lat", "42.36"),
            400,
            "outside the city's service areas",
        ),
        (too_long, 400, "description"),
        (without("attribute[size]"), 400, "attribute[size]"),
        (
            replace("attribute[size]", "gigantic"),
            400,
            "attribute[size]",
        ),
        (replace("email", "not-an-email"), 400, "email"),
    ];
    for (form, status, words) in cases {
        for format in ["json", "xml"] {
            let (got, body) = post(&app, &format!("requests.{format}"), &form).await;
            assert_eq!(got, status, "{words}: {body}");
            assert!(body.contains(words), "{words}: {body}");
            if format == "json" {
                let errors: Value = serde_json::from_str(&body).unwrap();
                assert_eq!(errors[0]["code"], status);
            } else {
                assert!(
                    body.contains(&format!("<errors><error><code>{status}</code>")),
                    "{body}"
                );
            }
        }
    }
    assert_eq!(app.count_rows("reports"), 0);
    // Without an email the report is anonymous, and still filed.
    let (status, body) = post(&app, "requests.json", &without("email")).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn the_request_list_filters_like_the_spec_and_its_extensions() {
    let app = spawn_app().await;
    let places = [
        ("pothole", "55.7700", "37.6050"),
        ("graffiti", "55.7300", "37.5700"),
        ("pothole", "55.7600", "37.6600"),
    ];
    for (code, lat, long) in places {
        let mut form = pothole_form(&[]);
        form.retain(|(k, _)| !["service_code", "lat", "long"].contains(k));
        form.extend([("service_code", code), ("lat", lat), ("long", long)]);
        let (status, body) = post(&app, "requests.json", &form).await;
        assert_eq!(status, 200, "{body}");
        app.clock.advance(chrono::TimeDelta::days(1));
    }
    let ids = |v: &Value| {
        v.as_array()
            .unwrap()
            .iter()
            .map(|r| r["service_request_id"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    let check = |path: &'static str, expected: Vec<&'static str>| {
        let app = &app;
        async move {
            let (status, list) = get_json(app, path).await;
            assert_eq!(status, 200, "{path}: {list}");
            assert_valid("requests.json", &list);
            assert_eq!(ids(&list), expected, "{path}");
        }
    };
    check("requests.json", vec!["3", "2", "1"]).await;
    check("requests.json?service_code=pothole", vec!["3", "1"]).await;
    check(
        "requests.json?service_code=graffiti,pothole&status=open",
        vec!["3", "2", "1"],
    )
    .await;
    check("requests.json?status=closed", vec![]).await;
    check("requests.json?status=", vec!["3", "2", "1"]).await;
    check(
        "requests.json?service_request_id=1,3&service_code=graffiti",
        vec!["3", "1"],
    )
    .await;
    check(
        "requests.json?start_date=2026-03-03T12:00:00%2B03:00",
        vec!["3", "2"],
    )
    .await;
    check("requests.json?start_date=2026-03-02%2012:00:00.000001%2B03:00&end_date=2026-03-03T23:59:59.999999Z", vec!["2"]).await;
    check(
        "requests.json?updated_before=2026-03-03T09:00:00Z",
        vec!["1"],
    )
    .await;
    check(
        "requests.json?updated_after=2026-03-04T09:00:00Z",
        vec!["3"],
    )
    .await;
    check(
        "requests.json?lat_ne=55.78&long_ne=37.61&lat_sw=55.76&long_sw=37.60",
        vec!["1"],
    )
    .await;
    check(
        "requests.json?lat=55.7601&long=37.6601&radius=200",
        vec!["3"],
    )
    .await;
    check("requests.json?page_size=2", vec!["3", "2"]).await;
    check("requests.json?page_size=2&page=2", vec!["1"]).await;
    check("requests.json?page_size=2&page=3", vec![]).await;
    check(
        "requests.json?jurisdiction_id=gorod.local&unknown_parameter=1",
        vec!["3", "2", "1"],
    )
    .await;

    for (query, words) in [
        (
            "start_date=2026-01-01T00:00:00Z&end_date=2026-06-01T00:00:00Z",
            "90 days",
        ),
        ("start_date=2026-03-02T09:00:00", "start_date"),
        ("status=pending", "status"),
        ("service_code=teleport", "service_code"),
        ("lat_ne=55.78&long_ne=37.61", "go together"),
        ("lat=55.7", "go together"),
        ("lat=55.7&long=37.6&radius=-5", "radius"),
        ("page_size=5000", "page_size"),
        ("page=0", "page"),
    ] {
        let (status, error) = get_json(&app, &format!("requests.json?{query}")).await;
        assert_eq!(status, 400, "{query}: {error}");
        assert!(
            error[0]["description"].as_str().unwrap().contains(words),
            "{query}: {error}"
        );
    }
}

#[tokio::test]
async fn service_request_updates_carry_extended_statuses() {
    let app = spawn_app().await;
    let (status, body) = post(&app, "requests.json", &pothole_form(&[])).await;
    assert_eq!(status, 200, "{body}");
    let (status, updates) = get_json(
        &app,
        "servicerequestupdates.json?start_date=2026-03-01T00:00:00Z&end_date=2026-03-03T00:00:00Z",
    )
    .await;
    assert_eq!(status, 200);
    let update = &updates[0];
    assert_eq!(update["service_request_id"], "1");
    assert_eq!(update["status"], "for_triage");
    assert_eq!(update["updated_datetime"], "2026-03-02T12:00:00+03:00");
    assert!(update["update_id"].is_string());
    let (_, xml) = get_xml(
        &app,
        "servicerequestupdates.xml?start_date=2026-03-01T00:00:00Z&end_date=2026-03-03T00:00:00Z",
    )
    .await;
    assert!(
        xml.contains("<service_request_updates><request_update><update_id>"),
        "{xml}"
    );
    let (_, none) = get_json(
        &app,
        "servicerequestupdates.json?start_date=2026-02-01T00:00:00Z&end_date=2026-02-03T00:00:00Z",
    )
    .await;
    assert_eq!(none, json!([]));
}

/// A request's `status_notes` is the note of its latest public change of
/// status — not of a later event that kept the status — with or without the
/// history (`extensions`), and nothing while it waits for a moderator.
#[tokio::test]
async fn status_notes_are_the_latest_change_of_status() {
    async fn notes(app: &TestApp, number: i64) -> [Value; 2] {
        let mut both = [Value::Null, Value::Null];
        for (extensions, note) in [false, true].into_iter().zip(&mut both) {
            let path = format!("requests/{number}.json?extensions={extensions}");
            let (status, body) = get_json(app, &path).await;
            assert_eq!(status, 200, "{body}");
            assert_valid("requests.json", &body);
            *note = body[0]["status_notes"].clone();
        }
        both
    }
    async fn act(app: &TestApp, id: &str, token: &str, body: Value) {
        let (status, answer) = app.act(token, id, &body).await;
        assert_eq!(status, 200, "{answer}");
    }
    const SUPERVISOR: &str = "demo-token-supervisor.roads";
    let app = spawn_app().await;
    let (status, filed) = app.post_json("/api/v1/reports", &valid_report()).await;
    assert_eq!(status, 201, "{filed}");
    let id = filed["id"].as_str().unwrap();
    let number = filed["number"].as_i64().unwrap();
    assert_eq!(notes(&app, number).await, [Value::Null, Value::Null]);

    act(&app, id, SUPERVISOR, json!({"action": "accept"})).await;
    let pause = json!({"action": "pause", "pause_reason": "seasonal_work",
        "resume_on": "2026-04-01", "reason": "Ждём тепла."});
    act(&app, id, SUPERVISOR, pause).await;
    assert_eq!(
        notes(&app, number).await,
        [json!("Ждём тепла."), json!("Ждём тепла.")]
    );
    act(
        &app,
        id,
        SUPERVISOR,
        json!({"action": "resume", "reason": "Потеплело."}),
    )
    .await;
    // Reassigned within the same status: its reason is not a status note.
    let assign = json!({"action": "assign", "department": "roads", "reason": "Другой бригаде."});
    act(&app, id, SUPERVISOR, assign).await;
    assert_eq!(
        notes(&app, number).await,
        [json!("Потеплело."), json!("Потеплело.")]
    );
    let answer = json!({"action": "answer", "answer": "Заделали."});
    act(&app, id, "demo-token-crew1.roads", answer).await;
    assert_eq!(
        notes(&app, number).await,
        [json!("Заделали."), json!("Заделали.")]
    );
    let (_, list) = get_json(&app, "requests.json").await;
    assert_eq!(list[0]["status_notes"], "Заделали.", "{list}");
}
