//! The OpenAPI document is generated from the handlers: every /api/v1 route
//! is in it, everything in it answers, and its example report files.
#![allow(clippy::unwrap_used)] // test code: a panic is how it fails

mod common;

use serde_json::Value;

/// Every route under /api/v1, as docs/api.md lists them.
const ROUTES: &[(&str, &str)] = &[
    ("post", "/api/v1/reports"),
    ("get", "/api/v1/reports"),
    ("get", "/api/v1/reports/nearby"),
    ("get", "/api/v1/reports/search"),
    ("get", "/api/v1/geocode"),
    ("get", "/api/v1/geocode/reverse"),
    ("get", "/api/v1/objects"),
    ("get", "/api/v1/reports/{id}"),
    ("post", "/api/v1/reports/{id}/support"),
    ("post", "/api/v1/reports/{id}/follow"),
    ("delete", "/api/v1/reports/{id}/follow"),
    ("post", "/api/v1/reports/{id}/updates"),
    ("get", "/api/v1/updates/waiting"),
    ("post", "/api/v1/updates/{id}/decision"),
    ("post", "/api/v1/reports/{id}/edits"),
    ("post", "/api/v1/reports/{id}/hide-name"),
    ("post", "/api/v1/account/delete"),
    ("get", "/api/v1/map"),
    ("get", "/api/v1/categories"),
    ("get", "/api/v1/departments"),
    ("post", "/api/v1/admin/service-areas"),
    ("post", "/api/v1/admin/sla/scan"),
    ("put", "/api/v1/admin/sla-policies/{code}"),
    ("put", "/api/v1/admin/calendars/{code}/days/{day}"),
    ("delete", "/api/v1/admin/calendars/{code}/days/{day}"),
    ("get", "/api/v1/supervisor/reports"),
    ("get", "/api/v1/supervisor/stats"),
    ("post", "/api/v1/reports/{id}/actions"),
    ("post", "/api/v1/reports/bulk-actions"),
    ("get", "/api/v1/canned-answers"),
    ("post", "/api/v1/canned-answers"),
    ("put", "/api/v1/canned-answers/{id}"),
    ("delete", "/api/v1/canned-answers/{id}"),
    ("get", "/api/v1/openapi.json"),
    ("get", "/api/v1/unsubscribe/{token}"),
    ("post", "/api/v1/unsubscribe/{token}"),
    ("get", "/api/v1/admin/outbox"),
    ("post", "/api/v1/admin/outbox/{id}/requeue"),
    ("post", "/api/v1/admin/mail/digest"),
    ("post", "/api/v1/reports/{id}/check"),
    ("get", "/api/v1/check/{token}"),
    ("post", "/api/v1/check/{token}"),
    ("get", "/api/v1/ledger/key"),
    ("get", "/api/v1/ledger/checkpoints"),
    ("get", "/api/v1/ledger/checkpoints/latest"),
    ("post", "/api/v1/admin/ledger/checkpoints"),
    ("get", "/api/v1/ledger/inclusion"),
    ("get", "/api/v1/ledger/consistency"),
    ("get", "/api/v1/ledger/verify"),
    ("get", "/api/v1/ledger/log/checkpoint"),
    ("get", "/api/v1/ledger/log/tile/{path}"),
    ("post", "/api/v1/ledger/log/cosignature"),
    ("get", "/api/v1/supervisor/held-answers"),
    ("post", "/api/v1/supervisor/held-answers/{id}/decision"),
    ("get", "/api/v1/ledger/export"),
    ("post", "/api/v1/account/register"),
    ("get", "/api/v1/account/verify_email/{token}"),
    ("post", "/api/v1/account/verify_email/{token}"),
    ("post", "/api/v1/account/login"),
    ("get", "/api/v1/account/me"),
    ("post", "/api/v1/account/logout"),
    ("post", "/api/v1/account/password"),
    ("post", "/api/v1/account/password-reset"),
    ("get", "/api/v1/account/reset_password/{token}"),
    ("post", "/api/v1/account/reset_password/{token}"),
    ("post", "/api/v1/account/totp"),
    ("post", "/api/v1/account/totp/confirm"),
    ("get", "/api/v1/account/settings"),
    ("put", "/api/v1/account/settings"),
    ("get", "/api/v1/account/confirm_report/{token}"),
    ("post", "/api/v1/account/confirm_report/{token}"),
    ("get", "/api/v1/account/confirm_support/{token}"),
    ("post", "/api/v1/account/confirm_support/{token}"),
    ("post", "/api/v1/alerts"),
    ("get", "/api/v1/account/confirm_alert/{token}"),
    ("post", "/api/v1/account/confirm_alert/{token}"),
    ("get", "/api/v1/account/alert_unsubscribe/{token}"),
    ("post", "/api/v1/account/alert_unsubscribe/{token}"),
    ("get", "/api/v1/admin/audit"),
    ("put", "/api/v1/admin/departments/{code}"),
    ("put", "/api/v1/admin/calendars/{code}"),
    ("put", "/api/v1/admin/categories/{code}"),
    ("put", "/api/v1/admin/category-groups/{code}"),
    ("get", "/api/v1/admin/users"),
    ("post", "/api/v1/admin/users"),
    ("put", "/api/v1/admin/users/{id}"),
    ("post", "/api/v1/admin/users/{id}/disable"),
    ("post", "/api/v1/admin/users/{id}/enable"),
    ("get", "/api/v1/admin/api-keys"),
    ("post", "/api/v1/admin/api-keys"),
    ("delete", "/api/v1/admin/api-keys/{id}"),
    ("post", "/api/v1/reports/{id}/notes"),
    ("put", "/api/v1/admin/departments/{code}/endpoint"),
    ("put", "/api/v1/admin/categories/{code}/endpoint"),
    ("get", "/api/v1/admin/endpoints"),
    ("delete", "/api/v1/admin/endpoints/{id}"),
    ("post", "/api/v1/admin/webhooks"),
    ("get", "/api/v1/admin/webhooks"),
    ("post", "/api/v1/admin/webhooks/{id}/rotate"),
    ("delete", "/api/v1/admin/webhooks/{id}"),
    ("get", "/api/v1/admin/deliveries"),
    ("post", "/api/v1/admin/deliveries/{id}/requeue"),
    ("get", "/api/v1/reports/{id}/back-office"),
    ("get", "/api/v1/office/{token}"),
    ("post", "/api/v1/office/{token}"),
];

#[tokio::test]
async fn every_route_is_documented_and_every_documented_route_answers() {
    let app = common::spawn_app().await;
    let (status, doc) = app.get_json("/api/v1/openapi.json").await;
    assert_eq!(status, 200);
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3."),
        "{}",
        doc["openapi"]
    );
    let paths = doc["paths"].as_object().unwrap();
    let mut documented: Vec<(String, String)> = paths
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .map(move |method| (method.clone(), path.clone()))
        })
        .collect();
    documented.sort();
    let mut expected: Vec<(String, String)> = ROUTES
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    expected.sort();
    assert_eq!(documented, expected);

    for (method, path) in &documented {
        let url = app.url(
            &path
                .replace("{id}", "00000000-0000-0000-0000-000000000000")
                .replace("{code}", "standard")
                .replace("{day}", "2026-01-01")
                .replace("{token}", "not-a-token"),
        );
        let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let response = app
            .client
            .request(method.clone(), url)
            .body("{}")
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        let unrouted = status == 404 && body["message"] == "there is nothing at this address";
        assert!(!unrouted, "{method} {path} is documented but not served");
    }
    for (_, item) in paths {
        for (method, operation) in item.as_object().unwrap() {
            assert!(
                operation["responses"]
                    .as_object()
                    .is_some_and(|r| !r.is_empty()),
                "{method}: no responses"
            );
            assert!(
                operation["summary"].is_string() || operation["description"].is_string(),
                "{method}: undocumented"
            );
        }
    }
}

#[tokio::test]
async fn the_documented_example_report_is_accepted() {
    let app = common::spawn_app().await;
    let (_, doc) = app.get_json("/api/v1/openapi.json").await;
    let example = doc["components"]["schemas"]["ReportInputDoc"]["example"].clone();
    assert!(
        example.is_object(),
        "{}",
        doc["components"]["schemas"]["ReportInputDoc"]
    );
    let (status, filed) = app.post_json("/api/v1/reports", &example).await;
    assert_eq!(status, 201, "{filed}");
    // Every documented property is one the API really takes.
    let properties = doc["components"]["schemas"]["ReportInputDoc"]["properties"]
        .as_object()
        .unwrap();
    for name in properties.keys() {
        assert!(example.get(name).is_some(), "the example leaves out {name}");
    }
}

#[tokio::test]
async fn every_operation_that_needs_a_caller_documents_the_401() {
    let app = common::spawn_app().await;
    let (_, doc) = app.get_json("/api/v1/openapi.json").await;
    let mut undocumented = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let secured = operation["security"]
                .as_array()
                .is_some_and(|s| s.iter().any(|r| !r.as_object().unwrap().is_empty()));
            if secured && operation["responses"].get("401").is_none() {
                undocumented.push(format!("{method} {path}"));
            }
        }
    }
    assert!(
        undocumented.is_empty(),
        "no 401 documented: {undocumented:#?}"
    );
}

#[tokio::test]
async fn every_parameter_is_where_the_document_says() {
    let app = common::spawn_app().await;
    let (_, doc) = app.get_json("/api/v1/openapi.json").await;
    let mut misplaced = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            for parameter in operation["parameters"].as_array().into_iter().flatten() {
                let name = parameter["name"].as_str().unwrap();
                let in_template = path.contains(&format!("{{{name}}}"));
                if in_template != (parameter["in"] == "path") {
                    misplaced.push(format!("{method} {path}: {name} in {}", parameter["in"]));
                }
            }
        }
    }
    assert!(misplaced.is_empty(), "{misplaced:#?}");
}

#[tokio::test]
async fn the_document_states_the_values_a_parameter_takes() {
    let app = common::spawn_app().await;
    let (_, doc) = app.get_json("/api/v1/openapi.json").await;
    let parameter = |path: &str, name: &str| {
        doc["paths"][path]["get"]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("{path}: no {name}"))["schema"]
            .clone()
    };
    assert_eq!(parameter("/api/v1/reports", "per_page")["maximum"], 200);
    assert_eq!(parameter("/api/v1/reports", "page")["minimum"], 1);
    assert_eq!(parameter("/api/v1/map", "zoom")["maximum"], 22);
    let statuses = parameter("/api/v1/reports", "status")["pattern"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(statuses.contains("in_progress"), "{statuses}");
    let risk = parameter("/api/v1/supervisor/reports", "risk");
    assert_eq!(risk["pattern"], "^(at_risk|breached)?$");
    let stats = &doc["paths"]["/api/v1/supervisor/stats"]["get"]["parameters"];
    assert!(
        !stats
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "risk"),
        "statistics take no risk filter"
    );
    let register = &doc["components"]["schemas"]["RegisterInput"]["properties"];
    assert_eq!(register["email"]["format"], "email");
    assert_eq!(register["password"]["minLength"], 10);
    let action = &doc["components"]["schemas"]["ActionInput"]["properties"]["action"]["enum"];
    assert!(action.as_array().unwrap().iter().any(|a| a == "take"));
    assert!(!action
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a == "auto_confirm"));
}
