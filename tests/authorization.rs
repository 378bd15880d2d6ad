//! Every route × every role, compared with the policy table: a request the
//! table allows is never refused as unauthorised or forbidden, and one it
//! does not allow always is. Callers use real cookie sessions with their
//! CSRF tokens, as a browser would.
#![allow(clippy::unwrap_used)] // test code: a panic is how it fails

mod common;

use diesel::prelude::*;
use gorod::accounts;
use gorod::db::accounts::{start_session, Limits, NewSession};
use gorod::db::schema::accounts as accounts_table;
use gorod::db::{access, DbConnection};
use gorod::policy::{self, Permission, Principal, Target};
use gorod::routing::Departments;
use gorod::workflow::Role;
use serde_json::{json, Value};
use uuid::Uuid;

/// A caller: who the policy sees, and their cookie session.
struct Caller {
    name: &'static str,
    who: Principal,
    email: Option<String>,
    cookie: Option<(String, String)>,
}

const LIMITS: Limits = Limits {
    idle: chrono::TimeDelta::hours(2),
    absolute: chrono::TimeDelta::hours(12),
};

/// Gives the user an account (verified) and a session; (cookie, CSRF token).
fn log_in(conn: &mut DbConnection, user_id: &str, now: chrono::NaiveDateTime) -> (String, String) {
    // Demo staff have accounts; the two residents are given theirs.
    let has_account: i64 = accounts_table::table
        .find(user_id)
        .count()
        .get_result(conn)
        .unwrap();
    if has_account == 0 {
        diesel::insert_into(accounts_table::table)
            .values((
                accounts_table::user_id.eq(user_id),
                accounts_table::email_verified_at.eq(now),
                accounts_table::created_at.eq(now),
                accounts_table::updated_at.eq(now),
            ))
            .execute(conn)
            .unwrap();
    }
    let secret = accounts::new_secret();
    let id_hash = accounts::secret_digest(&secret);
    let csrf_key = accounts::new_secret();
    start_session(
        conn,
        &NewSession {
            id_hash: &id_hash,
            user_id,
            stage: "full",
            csrf_key: &csrf_key,
            ip: None,
        },
        now,
        LIMITS,
    )
    .unwrap();
    (secret, accounts::csrf_token(&csrf_key, &id_hash))
}

struct Route {
    method: &'static str,
    path: String,
    body: Value,
    action: Permission,
    target: Target,
}

#[tokio::test]
async fn every_route_answers_every_role_as_the_policy_table_says() {
    let app = common::spawn_app().await;
    let now = common::start_time();
    // Report A, filed by resident R1; resident R2 filed another elsewhere.
    let mut mine = common::valid_report();
    mine["reporter"]["email"] = json!("r1@example.org");
    let (status, filed) = app.post_json("/api/v1/reports", &mine).await;
    assert_eq!(status, 201, "{filed}");
    let report = filed["id"].as_str().unwrap().to_string();
    let mut theirs = common::report_at("pothole", 55.7712, 37.6041);
    theirs["reporter"]["email"] = json!("r2@example.org");
    assert_eq!(app.post_json("/api/v1/reports", &theirs).await.0, 201);

    let (_, shown) = app.get_json(&format!("/api/v1/reports/{report}")).await;
    let department_code = shown["department"]["code"].as_str().unwrap().to_string();
    let other_code = if department_code == "parks" {
        "waste"
    } else {
        "parks"
    };

    let mut pooled = app.conn();
    let conn: &mut DbConnection = &mut pooled;
    let snapshot = gorod::db::catalog::load_snapshot(conn).unwrap();
    let tree: &Departments = snapshot.map.departments();
    let department = tree.id_of(&department_code).unwrap();
    let parent_code = tree
        .code(tree.parent(department).expect("a parent"))
        .to_string();

    let mut callers = vec![Caller {
        name: "anonymous",
        who: Principal::default(),
        email: None,
        cookie: None,
    }];
    let people = [
        ("resident", "r1@example.org".to_string()),
        ("another resident", "r2@example.org".to_string()),
        (
            "crew of the department",
            format!("crew1.{department_code}@demo.gorod.local"),
        ),
        (
            "crew of another department",
            format!("crew1.{other_code}@demo.gorod.local"),
        ),
        (
            "supervisor",
            format!("supervisor.{department_code}@demo.gorod.local"),
        ),
        (
            "supervisor of the department above",
            format!("supervisor.{parent_code}@demo.gorod.local"),
        ),
        (
            "supervisor of another department",
            format!("supervisor.{other_code}@demo.gorod.local"),
        ),
        ("admin", "admin@demo.gorod.local".to_string()),
    ];
    for (name, email) in people {
        let user_id = access::user_by_email(conn, &email).unwrap().expect(&email);
        let (role, department): (String, Option<String>) = gorod::db::schema::users::table
            .find(&user_id)
            .select((
                gorod::db::schema::users::role,
                gorod::db::schema::users::department_id,
            ))
            .first(conn)
            .unwrap();
        callers.push(Caller {
            name,
            who: Principal {
                role: Role::parse(&role),
                user_id: Some(user_id.clone()),
                department: department.and_then(|d| d.parse::<Uuid>().ok()),
            },
            email: Some(email),
            cookie: Some(log_in(conn, &user_id, now)),
        });
    }
    let is_reporter = |c: &Caller| c.name == "resident";

    let report_target = |involved: bool| Target::Report {
        department: Some(department),
        involves_caller: involved,
    };
    let plain = |method, path: &str, action| Route {
        method,
        path: path.to_string(),
        body: json!({}),
        action,
        target: Target::Nothing,
    };
    let routes = |caller: &Caller| {
        let mut filing = common::report_at("pothole", 55.7695, 37.6062);
        filing["reporter"]["email"] =
            json!(caller.email.clone().unwrap_or("walk-in@example.org".into()));
        vec![
            plain("GET", "/api/v1/reports", Permission::ReadPublic),
            plain(
                "GET",
                &format!("/api/v1/reports/{report}"),
                Permission::ReadPublic,
            ),
            Route {
                body: filing,
                ..plain("POST", "/api/v1/reports", Permission::FileReport)
            },
            // Before "me too": a follower may answer the check too.
            Route {
                body: json!({"fixed": true}),
                target: report_target(is_reporter(caller)),
                ..plain(
                    "POST",
                    &format!("/api/v1/reports/{report}/check"),
                    Permission::CheckAnswer,
                )
            },
            Route {
                body: json!({"email": caller.email.clone().unwrap_or("walk-in@example.org".into())}),
                ..plain(
                    "POST",
                    &format!("/api/v1/reports/{report}/support"),
                    Permission::FileReport,
                )
            },
            Route {
                body: json!({"action": "resume"}),
                target: report_target(false),
                ..plain(
                    "POST",
                    &format!("/api/v1/reports/{report}/actions"),
                    Permission::MoveReport,
                )
            },
            Route {
                body: json!({"note": "internal"}),
                target: report_target(false),
                ..plain(
                    "POST",
                    &format!("/api/v1/reports/{report}/notes"),
                    Permission::MoveReport,
                )
            },
            plain("GET", "/api/v1/supervisor/reports", Permission::WatchSla),
            Route {
                target: Target::Department(department),
                ..plain(
                    "GET",
                    &format!("/api/v1/supervisor/reports?department={department_code}"),
                    Permission::WatchSla,
                )
            },
            plain("GET", "/api/v1/supervisor/stats", Permission::WatchSla),
            plain("GET", "/api/v1/admin/outbox", Permission::Operate),
            plain("POST", "/api/v1/admin/sla/scan", Permission::Operate),
            plain("POST", "/api/v1/admin/mail/digest", Permission::Operate),
            plain(
                "POST",
                "/api/v1/admin/ledger/checkpoints",
                Permission::Operate,
            ),
            Route {
                body: json!({"name_ru": "Проверка", "name_en": "Check", "calendar": "moscow"}),
                ..plain(
                    "PUT",
                    "/api/v1/admin/departments/matrix",
                    Permission::ManageCatalog,
                )
            },
            Route {
                body: json!({"name_ru": "Мосты", "name_en": "Bridges"}),
                ..plain(
                    "PUT",
                    "/api/v1/admin/category-groups/bridges",
                    Permission::ManageCatalog,
                )
            },
            plain(
                "PUT",
                "/api/v1/admin/sla-policies/standard",
                Permission::ManageCatalog,
            ),
            plain("GET", "/api/v1/admin/users", Permission::ManageAccess),
            plain("GET", "/api/v1/admin/api-keys", Permission::ManageAccess),
            plain("GET", "/api/v1/admin/audit", Permission::ReadAudit),
            plain("GET", "/api/v1/account/me", Permission::ManageOwnAccount),
        ]
    };

    let mut mismatches = Vec::new();
    let mut checked = 0;
    for caller in &callers {
        for route in routes(caller) {
            let allowed = policy::allows(&caller.who, route.action, route.target, tree);
            let mut request = app
                .client
                .request(route.method.parse().unwrap(), app.url(&route.path))
                .header("Content-Type", "application/json")
                .body(route.body.to_string());
            if let Some((cookie, csrf)) = &caller.cookie {
                request = request
                    .header("Cookie", format!("gorod_session={cookie}"))
                    .header("X-CSRF-Token", csrf);
            }
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let body = response.text().await.unwrap_or_default();
            assert_ne!(
                status, 500,
                "{} {} {}: {body}",
                caller.name, route.method, route.path
            );
            let refused = matches!(status, 401 | 403);
            checked += 1;
            if refused == allowed {
                mismatches.push(format!(
                    "{} {} as {}: {status} but the policy {} it ({body})",
                    route.method,
                    route.path,
                    caller.name,
                    if allowed { "allows" } else { "refuses" }
                ));
            }
        }
    }
    assert!(checked >= 9 * 20, "{checked}");
    assert!(
        mismatches.is_empty(),
        "{} mismatches:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

/// Staff in scope see a report's internal history; residents and staff of
/// other departments see only the public one; no view carries contact data.
#[tokio::test]
async fn internal_history_is_for_the_departments_staff_only() {
    let app = common::spawn_app().await;
    let (_, filed) = app
        .post_json("/api/v1/reports", &common::valid_report())
        .await;
    let report = filed["id"].as_str().unwrap().to_string();
    let (_, shown) = app.get_json(&format!("/api/v1/reports/{report}")).await;
    let code = shown["department"]["code"].as_str().unwrap().to_string();
    let other = if code == "parks" { "waste" } else { "parks" };
    let history = |token: Option<String>| {
        let app = &app;
        let report = report.clone();
        async move {
            let mut request = app
                .client
                .get(app.url(&format!("/api/v1/reports/{report}")));
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            let view: Value = request.send().await.unwrap().json().await.unwrap();
            let text = view.to_string();
            assert!(!text.contains("anna.petrova@example.ru"), "{text}");
            view["history"].as_array().unwrap().clone()
        }
    };
    let (status, _) = app
        .post_as(
            &format!("demo-token-crew1.{code}"),
            &format!("/api/v1/reports/{report}/notes"),
            r#"{"note": "Яма глубже, чем кажется: нужен асфальтовый каток"}"#,
        )
        .await;
    assert_eq!(status, 201);
    let internal = |h: &[Value]| h.iter().filter(|e| e["internal"] == true).count();
    let public = history(None).await;
    let own = history(Some(format!("demo-token-crew1.{code}"))).await;
    let foreign = history(Some(format!("demo-token-crew1.{other}"))).await;
    let admin = history(Some("demo-token-admin".into())).await;
    assert_eq!(internal(&public), 0);
    assert_eq!(internal(&foreign), 0);
    assert!(internal(&own) > 0, "{own:?}");
    assert_eq!(internal(&own), internal(&admin));
    assert_eq!(public.len(), foreign.len());
    // Lists and exports carry neither notes nor contact data, for anyone.
    let tokens = [
        format!("demo-token-crew1.{other}"),
        format!("demo-token-crew1.{code}"),
        "demo-token-admin".to_string(),
    ];
    let paths = [
        "/api/v1/reports",
        "/api/v1/supervisor/reports",
        "/api/v1/supervisor/reports?format=csv",
        "/api/v1/map?format=geojson&zoom=17&bbox=37.5,55.7,37.7,55.8",
    ];
    for token in &tokens {
        for path in paths {
            let response = app
                .client
                .get(app.url(path))
                .bearer_auth(token)
                .send()
                .await
                .unwrap();
            let text = response.text().await.unwrap();
            assert!(
                !text.contains("асфальтовый каток") && !text.contains("anna.petrova"),
                "{path} as {token}: {text}"
            );
        }
    }
}
