//! The residents' pages: the map, filing, a report, their own reports,
//! settings, and logging in, registering and resetting a password.

use super::*;
use crate::http::html::{tone, TONES};
use crate::locale::Text;
use crate::reports::updates::Relation;

#[derive(Template)]
#[template(path = "map.html")]
pub struct MapPage {
    ctx: Ctx,
    setup: MapSetup,
    categories: Vec<CategoryItem>,
    statuses: Vec<&'static str>,
    tones: [&'static str; 6],
    labels: MapLabels,
}

/// What the map's script writes into the list and the pop-ups, in the
/// page's language: status and category names, each status's colour, the
/// city's time zone for deadlines.
#[derive(serde::Serialize)]
struct MapLabels {
    lang: &'static str,
    time_zone: String,
    statuses: std::collections::BTreeMap<&'static str, &'static str>,
    tones: std::collections::BTreeMap<&'static str, &'static str>,
    categories: std::collections::BTreeMap<String, String>,
    count: &'static str,
}

/// The map's setup and the categories, for the pages with a map.
pub(super) async fn map_and_categories(
    state: &web::Data<AppState>,
) -> Result<(MapSetup, Vec<CategoryItem>), ApiError> {
    let app = state.clone();
    db(state, move |conn| {
        let snapshot = app.catalog_snapshot(conn)?;
        Ok((map_setup(&app, &snapshot), categories(conn)?))
    })
    .await
}

pub(super) async fn map_page(state: web::Data<AppState>, request: HttpRequest) -> Page {
    let (_, ctx) = context(&state, &request).await?;
    let (setup, categories) = map_and_categories(&state).await?;
    let statuses: Vec<&'static str> = crate::reports::ReportStatus::ALL
        .iter()
        .map(|s| s.as_str())
        .collect();
    let labels = MapLabels {
        lang: ctx.t.lang,
        time_zone: ctx.time_zone.name().to_string(),
        statuses: statuses.iter().map(|s| (*s, ctx.t.status(s))).collect(),
        tones: statuses.iter().map(|s| (*s, tone(s))).collect(),
        categories: categories
            .iter()
            .map(|c| (c.code.clone(), c.name(ctx.t).to_string()))
            .collect(),
        count: ctx.t.range_of_total,
    };
    html(&MapPage {
        ctx,
        setup,
        categories,
        statuses,
        tones: TONES,
        labels,
    })
}

#[derive(Template)]
#[template(path = "file.html")]
pub struct FilePage {
    ctx: Ctx,
    setup: MapSetup,
    categories: Vec<CategoryItem>,
    groups: Vec<CategoryGroup>,
}

pub(super) async fn file_page(state: web::Data<AppState>, request: HttpRequest) -> Page {
    let (_, ctx) = context(&state, &request).await?;
    // One trip to the database: the map, the categories and their groups.
    let app = state.clone();
    let (setup, categories, named) = db(&state, move |conn| {
        let snapshot = app.catalog_snapshot(conn)?;
        Ok((
            map_setup(&app, &snapshot),
            categories(conn)?,
            crate::app::catalogue::category_groups(conn)?,
        ))
    })
    .await?;
    html(&FilePage {
        ctx,
        setup,
        groups: grouped(&categories, named),
        categories,
    })
}

#[derive(Template)]
#[template(path = "report.html")]
pub struct ReportPage {
    ctx: Ctx,
    report: ReportView,
    /// Answers held for a supervisor (for whoever may decide them).
    held: Vec<HeldItem>,
    /// The workflow moves this person may make now.
    actions: Vec<&'static str>,
    /// Whether they may add an internal note.
    may_note: bool,
    /// How they stand to it: `reporter`, `supporter`, `follower` or
    /// `stranger` (anyone not logged in too).
    relation: &'static str,
    /// Whether they may publish and hide its residents' updates.
    may_moderate: bool,
    /// The canned answers offered with its moves, filled for it.
    canned: Vec<crate::app::canned::Ready>,
    /// Its category's updates wait for a moderator.
    updates_moderated: bool,
    departments: Vec<DepartmentItem>,
    /// The answers to the category's questions: prompt and answer, as read.
    details: Vec<(String, String)>,
    pause_reasons: Vec<&'static str>,
    /// Today in the city, the earliest expected resume date.
    tomorrow: String,
    /// A small map of the place.
    place: MapSetup,
    /// Whether the page was opened right after filing: it says what
    /// happens next.
    just_filed: bool,
    /// Where the report went outside Gorod, and what came back (staff of
    /// its department).
    back_office: Option<BackOfficeBox>,
}

/// A report at its department's back office, as its staff read it.
pub struct BackOfficeBox {
    /// The system: its address, or the mailbox.
    pub system: String,
    /// Its id there, once it has one.
    pub external_id: Option<String>,
    /// `queued`, `sent` or `withdrawn`.
    pub state: &'static str,
    pub note: Option<String>,
    /// What it said: when, its status, what came of it, why (refused).
    pub updates: Vec<(chrono::NaiveDateTime, String, &'static str, Option<String>)>,
}

/// The report page's query: `?filed=1` right after filing.
#[derive(serde::Deserialize)]
pub struct ReportQuery {
    filed: Option<String>,
}

/// An answer held for a supervisor, as the report page shows it.
pub struct HeldItem {
    pub id: String,
    pub answer: Option<String>,
    /// Each photo: its full and thumbnail addresses and what was checked.
    pub photos: Vec<(String, String, crate::http::evidence::PhotoCheckView)>,
}

fn held_items(state: &AppState, held: Vec<crate::app::moves::HeldAnswer>) -> Vec<HeldItem> {
    use crate::media::store::Variant;
    let local = crate::http::evidence::local_time(state);
    let locale = crate::http::requests::language();
    held.into_iter()
        .map(|h| HeldItem {
            id: h.id,
            answer: h.answer,
            photos: h
                .checks
                .iter()
                .map(|c| {
                    (
                        state.photo_url(&c.digest, Variant::Full),
                        state.photo_url(&c.digest, Variant::Thumbnail),
                        crate::http::evidence::PhotoCheckView::of(c, locale, &local),
                    )
                })
                .collect(),
        })
        .collect()
}

impl ReportPage {
    /// The photos that came with a history event.
    pub fn photos_of(&self, event_id: &str) -> Vec<&crate::http::reports::PhotoView> {
        self.report
            .photos
            .iter()
            .filter(|p| p.event_id.as_deref() == Some(event_id))
            .collect()
    }

    /// The photos the report was filed with.
    pub fn own_photos(&self) -> Vec<&crate::http::reports::PhotoView> {
        let filed = self
            .report
            .history
            .iter()
            .find(|e| e.kind == "filed")
            .map(|e| e.id.as_str());
        self.report
            .photos
            .iter()
            .filter(|p| p.event_id.is_none() || p.event_id.as_deref() == filed)
            .collect()
    }

    pub fn offers(&self, action: &str) -> bool {
        self.actions.contains(&action)
    }

    /// The moves staff make with a form of their own (the resident's
    /// check has its own).
    pub fn staff_actions(&self) -> Vec<&'static str> {
        self.actions
            .iter()
            .copied()
            .filter(|a| !matches!(*a, "confirm" | "refute"))
            .collect()
    }

    /// The city's latest answer: the latest `answered` event (not merely
    /// the latest event while resolved: a "me too" is one of those).
    pub(crate) fn answer(&self) -> Option<&crate::http::reports::HistoryEntry> {
        self.report
            .history
            .iter()
            .rev()
            .find(|e| e.kind == "answered")
    }

    /// Why the report was rejected, while it is: the rejection's reason.
    pub(crate) fn rejection(&self) -> Option<&crate::http::reports::HistoryEntry> {
        (self.report.status == "rejected")
            .then(|| {
                self.report
                    .history
                    .iter()
                    .rev()
                    .find(|e| e.kind == "rejected")
            })
            .flatten()
    }

    /// Whether the reporter sees the button that hides their name.
    pub fn may_hide_own_name(&self) -> bool {
        self.relation == "reporter" && self.report.reporter_name.is_some()
    }

    /// The canned answers offered with a move.
    pub fn canned_for(&self, action: &str) -> Vec<&crate::app::canned::Ready> {
        self.canned.iter().filter(|c| c.action == action).collect()
    }

    /// Whether a resident may say "me too": not the reporter, not a
    /// supporter already.
    pub fn may_support(&self) -> bool {
        matches!(self.relation, "stranger" | "follower")
    }

    /// Whether the report is open for "me too".
    pub fn joinable(&self) -> bool {
        supervision::IN_HAND
            .iter()
            .any(|s| s.as_str() == self.report.status)
    }
}

pub(super) async fn report_page(
    state: web::Data<AppState>,
    request: HttpRequest,
    number: web::Path<String>,
    query: web::Query<ReportQuery>,
) -> Page {
    let (caller, ctx) = context(&state, &request).await?;
    let missing = Text::new(
        format!("нет сообщения № {number}"),
        format!("there is no report № {number}"),
    );
    let not_found = move || ApiError::NotFound(missing.clone());
    let n: i64 = number.trim().parse().map_err(|_| not_found())?;
    let id = crate::http::read(&state, &request, move |conn| {
        Ok(crate::app::reports::id_of_number(conn, n)?)
    })
    .await?
    .ok_or_else(&not_found)?;
    let (report, row, pauses) = view_and_row(&state, &request, &caller, id)
        .await?
        .ok_or_else(&not_found)?;
    let app = state.clone();
    let who = caller.clone();
    let report_code = report.category.code.clone();
    let deadline = report
        .deadline
        .as_ref()
        .and_then(|d| d.deadline)
        .map(|d| ctx.time(d));
    let (
        actions,
        relation,
        (may_note, may_moderate),
        departments,
        questions,
        today,
        canned,
        office,
        held,
    ) = db(&state, move |conn| {
        let snapshot = app.catalog_snapshot(conn)?;
        let case = crate::app::moves::case_now(&app, &snapshot, &row, &pauses)?;
        let relation = match who.who.user_id.as_deref() {
            Some(user) => crate::app::updates::relation(conn, &row.id, user)?,
            None => Relation::Stranger,
        };
        // The reporter and supporters answer the city's answer.
        let involved = matches!(relation, Relation::Reporter | Relation::Supporter);
        let questions = snapshot
            .categories
            .get(&report_code)
            .map(|c| c.questions.clone())
            .unwrap_or_default();
        let tree = snapshot.map.departments();
        let department = row.department_id.as_deref().and_then(|d| d.parse().ok());
        // A staff session still owing its second factor may do nothing yet.
        let actions = match who.role() {
            Some(role) if who.require_any(Permission::ReadPublic).is_ok() => {
                let actor = Actor {
                    role,
                    department: who.who.department,
                    is_reporter: involved,
                };
                workflow::available(&case, &actor, tree)
            }
            _ => Vec::new(),
        };
        let target = crate::policy::Target::Report {
            department,
            involves_caller: false,
        };
        let may_note = who.require(Permission::MoveReport, target, tree).is_ok();
        let may_moderate = who
            .require(Permission::ModerateContent, target, tree)
            .is_ok();
        // The departments to reassign to, only for whoever may.
        let departments = if actions.contains(&workflow::Action::Assign) {
            departments(conn)?
        } else {
            Vec::new()
        };
        let canned = if actions
            .iter()
            .any(|a| crate::workflow::canned::FOR.contains(a))
        {
            crate::app::canned::for_report(conn, &row, deadline.as_deref())?
        } else {
            Vec::new()
        };
        // Answers held because their photos were flagged, for whoever may
        // decide them.
        let held = if who
            .require(Permission::ApproveAnswers, target, tree)
            .is_ok()
        {
            crate::app::moves::held_answers(conn, Some(&row.id))?
        } else {
            Vec::new()
        };
        // Staff of the report's department see its back office.
        let office = if may_note {
            crate::app::back_office::at_back_office(conn, &row.id)?
        } else {
            None
        };
        Ok((
            actions,
            relation,
            (may_note, may_moderate),
            departments,
            questions,
            case.today,
            canned,
            office,
            held,
        ))
    })
    .await?;
    let held = held_items(&state, held);
    let details = details(&ctx, &questions, &report.answers);
    let spot = [report.lat, report.lon];
    let updates_moderated = report.category.updates_moderated;
    html(&ReportPage {
        held,
        place: MapSetup::around(&state, [spot, spot]),
        just_filed: query.filed.is_some(),
        ctx,
        report,
        actions: actions.into_iter().map(|a| a.as_str()).collect(),
        may_note,
        relation: relation.as_str(),
        may_moderate,
        canned,
        updates_moderated,
        departments,
        details,
        pause_reasons: workflow::PauseReason::ALL
            .iter()
            .map(|r| r.as_str())
            .collect(),
        tomorrow: (today + TimeDelta::days(1)).format("%Y-%m-%d").to_string(),
        back_office: office.map(|(handover, system, updates)| BackOfficeBox {
            system,
            external_id: handover.external_id.or(handover.token),
            state: match handover.state.as_str() {
                "queued" => "queued",
                "withdrawn" => "withdrawn",
                _ => "sent",
            },
            note: handover.note,
            updates: updates
                .into_iter()
                .map(|u| {
                    let outcome = match u.outcome.as_str() {
                        "applied" => "applied",
                        "refused" => "refused",
                        _ => "ignored",
                    };
                    let reason = crate::app::back_office::reason_of(&u)
                        .map(|r| r.get(crate::http::requests::language()).to_string());
                    (u.received_at, u.status, outcome, reason)
                })
                .collect(),
        }),
    })
}

/// A report's answers as people read them: each question's prompt, and
/// the chosen values' names.
fn details(
    ctx: &Ctx,
    questions: &[Question],
    answers: &serde_json::Value,
) -> Vec<(String, String)> {
    let Some(answers) = answers.as_object() else {
        return Vec::new();
    };
    answers
        .iter()
        .map(|(code, value)| {
            let question = questions.iter().find(|q| &q.code == code);
            let name = |v: &serde_json::Value| {
                let text = v.as_str().map_or_else(|| v.to_string(), str::to_string);
                question
                    .and_then(|q| q.values.iter().find(|c| c.key == text))
                    .map_or(text, |c| ctx.choice(c).to_string())
            };
            let shown = match value {
                serde_json::Value::Array(items) => {
                    items.iter().map(name).collect::<Vec<_>>().join(", ")
                }
                other => name(other),
            };
            let prompt = question.map_or(code.as_str(), |q| ctx.prompt(q));
            (prompt.to_string(), shown)
        })
        .collect()
}

#[derive(Template)]
#[template(path = "alerts.html")]
pub struct AlertsPage {
    ctx: Ctx,
    categories: Vec<CategoryItem>,
    /// District codes and names.
    areas: Vec<(String, String, String)>,
    /// The point a report's page sent, to five decimals.
    point: Option<(String, String)>,
    /// Whose address the forms start with (a logged-in resident's).
    email: String,
}

#[derive(Debug, serde::Deserialize)]
pub struct PointQuery {
    lat: Option<f64>,
    lon: Option<f64>,
}

/// Subscribing to area alerts, and the Atom feeds.
pub(super) async fn alerts_page(
    state: web::Data<AppState>,
    request: HttpRequest,
    query: web::Query<PointQuery>,
) -> Page {
    let (_, ctx) = context(&state, &request).await?;
    let (categories, areas) = categories_and_areas(&state, &request).await?;
    let point = match (query.lat, query.lon) {
        (Some(lat), Some(lon)) if lat.is_finite() && lon.is_finite() => {
            Some((ctx.coordinate(lat), ctx.coordinate(lon)))
        }
        _ => None,
    };
    let email = ctx
        .user
        .as_ref()
        .map(|u| u.email.clone())
        .unwrap_or_default();
    html(&AlertsPage {
        ctx,
        categories,
        areas,
        point,
        email,
    })
}

#[derive(Template)]
#[template(path = "my.html")]
pub struct MyPage {
    ctx: Ctx,
    rows: Vec<Row>,
}

pub(super) async fn my_page(state: web::Data<AppState>, request: HttpRequest) -> Page {
    let (caller, ctx) = context(&state, &request).await?;
    let Some(user) = caller.who.user_id.clone() else {
        return Err(PageError::LogIn(ctx.here));
    };
    let rows = db(&state, move |conn| {
        Ok(crate::app::reports::of_resident(conn, &user, 200)?)
    })
    .await?
    .into_iter()
    .map(|l| Row::new(l, None))
    .collect();
    html(&MyPage { ctx, rows })
}

#[derive(Template)]
#[template(path = "settings.html")]
pub struct SettingsPage {
    ctx: Ctx,
    settings: crate::app::accounts::MailSettings,
}

pub(super) async fn settings_page(state: web::Data<AppState>, request: HttpRequest) -> Page {
    let (caller, ctx) = context(&state, &request).await?;
    let Some(user) = caller.who.user_id.clone() else {
        return Err(PageError::LogIn(ctx.here));
    };
    let settings = db(&state, move |conn| {
        Ok(crate::app::accounts::mail_settings(conn, &user)?)
    })
    .await?
    .ok_or_else(|| {
        ApiError::NotFound(Text::new(
            "у этого пользователя нет учётной записи",
            "this user has no account",
        ))
    })?;
    html(&SettingsPage { ctx, settings })
}

/// Where to go after logging in: a path on this site only.
#[derive(Deserialize)]
pub struct Next {
    next: Option<String>,
}

#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage {
    ctx: Ctx,
    next: String,
}

pub(super) async fn login_page(
    state: web::Data<AppState>,
    request: HttpRequest,
    query: web::Query<Next>,
) -> Page {
    let (_, ctx) = context(&state, &request).await?;
    let next = local_path(query.next.clone());
    html(&LoginPage { ctx, next })
}

#[derive(Template)]
#[template(path = "register.html")]
pub struct RegisterPage {
    ctx: Ctx,
}

pub(super) async fn register_page(state: web::Data<AppState>, request: HttpRequest) -> Page {
    let (_, ctx) = context(&state, &request).await?;
    html(&RegisterPage { ctx })
}

#[derive(Template)]
#[template(path = "reset.html")]
pub struct ResetPage {
    ctx: Ctx,
}

pub(super) async fn reset_page(state: web::Data<AppState>, request: HttpRequest) -> Page {
    let (_, ctx) = context(&state, &request).await?;
    html(&ResetPage { ctx })
}
