//! The demo city: a small Moscow loaded into an empty database on first start
//! when `seed.demo` is on. Departments, categories, service areas, the
//! production calendar and SLA policies come from the files under
//! `config/demo/` (compiled in, so the binary works from any directory);
//! staff accounts, residents and sample reports (what each resident filed
//! and the moves made on it since) are made here from a fixed random seed,
//! so every fresh demo looks the same. `app::demo` loads it: the rows, then
//! each report filed and moved through the workflow.
//!
//! Staff: for each department one supervisor `supervisor.<dept>@demo.gorod.local`
//! and two crew members `crew1.<dept>@…`, `crew2.<dept>@…`; one admin
//! `admin@demo.gorod.local`. Each staff member has the API token
//! `demo-token-<the part of their email before @>`, e.g. `demo-token-admin`,
//! `demo-token-crew1.roads`. The Open311 API key `demo-open311-key` exists only
//! in the demo.
//!
//! Everyone (staff and the residents `resident<n>@demo.gorod.local`) logs in
//! with the password [`DEMO_PASSWORD`]; staff give a code of the TOTP secret
//! [`DEMO_TOTP_SECRET`] too (e.g. `oathtool --totp -b <secret>`). Public
//! knowledge, like the tokens: a demo only.

use crate::geo::files::{self, Format, ObjectDraft, RowError};
use crate::geo::registry::{FieldMap, Record};
use std::collections::{BTreeMap, HashMap};

use chrono::{NaiveDate, NaiveDateTime, TimeDelta};
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use serde::Deserialize;
use uuid::Uuid;

use crate::access::api_key_digest;
use crate::db::rows::*;
use crate::db::seed::CityRows;
use crate::locale::Locale;
use crate::reports::questions::{check_questions, Answer, Datatype, Question, RawAnswer};
use crate::reports::{Description, EmailAddress, Location, NewReport, Reporter};
use crate::routing::{
    self, AreaRoute, AreaShape, CategoryRouting, CityMap, Departments, ServiceArea,
};
use crate::sla::DayKind;
use crate::workflow::{Action, Command, PauseReason};

mod sampler;
use sampler::ReportSampler;
pub use sampler::*;

pub const DEMO_OPEN311_KEY: &str = "demo-open311-key";
pub const DEMO_EMAIL_DOMAIN: &str = "demo.gorod.local";

const CALENDAR: &str = include_str!("../../config/demo/calendar.json");
const SLA_POLICIES: &str = include_str!("../../config/demo/sla_policies.json");
const DEPARTMENTS: &str = include_str!("../../config/demo/departments.json");
const CATEGORIES: &str = include_str!("../../config/demo/categories.json");
const GROUPS: &str = include_str!("../../config/demo/groups.json");
const SERVICE_AREAS: &str = include_str!("../../config/demo/service_areas.geojson");
const PEOPLE: &str = include_str!("../../config/demo/people.json");
const SAMPLE_TEXTS: &str = include_str!("../../config/demo/sample_texts.json");
const ADDRESSES: &str = include_str!("../../config/demo/addresses.geojson");
const OBJECTS: &str = include_str!("../../config/demo/objects.geojson");

/// Every demo person's password.
pub const DEMO_PASSWORD: &str = "demo-password-2026";
/// Every demo staff member's second factor (base32).
pub const DEMO_TOTP_SECRET: &str = "GORODDEMOGORODDEMOGORODDEMO23456";

/// The demo city: its catalogue and people as rows, and the sample reports
/// to file and move through the workflow.
#[derive(Debug, Default)]
pub struct DemoCity {
    pub rows: CityRows,
    /// The admin, who moderates and closes the sample reports.
    pub admin_id: String,
    /// Oldest filing first.
    pub reports: Vec<DemoReport>,
    /// The address registry of its streets, and its city objects.
    pub addresses: Vec<Result<Record, RowError>>,
    pub objects: Vec<Result<ObjectDraft, RowError>>,
}

#[derive(Debug, thiserror::Error)]
#[error("demo city file {file}: {message}")]
pub struct DemoError {
    file: &'static str,
    message: String,
}

fn bad(file: &'static str, message: impl Into<String>) -> DemoError {
    DemoError {
        file,
        message: message.into(),
    }
}

fn parse<T: for<'de> Deserialize<'de>>(file: &'static str, text: &str) -> Result<T, DemoError> {
    serde_json::from_str(text).map_err(|e| bad(file, e.to_string()))
}

#[derive(Deserialize)]
struct CalendarFile {
    code: String,
    name: String,
    time_zone: String,
    weekly_days_off: String,
    work_starts: String,
    work_ends: String,
    days: Vec<(NaiveDate, DayKind, String)>,
}

#[derive(Deserialize)]
struct PolicyFile {
    code: String,
    name: String,
    moderation_days: i32,
    answer_days: i32,
    fix_days: Option<i32>,
    resident_check_days: i32,
    warn_percents: String,
}

#[derive(Deserialize)]
struct DepartmentFile {
    code: String,
    name_ru: String,
    name_en: String,
    parent: Option<String>,
    email: Option<String>,
    #[serde(default)]
    triage: bool,
}

#[derive(Deserialize)]
struct GroupFile {
    code: String,
    name_ru: String,
    name_en: String,
}

#[derive(Deserialize)]
struct CategoryFile {
    code: String,
    group: String,
    name_ru: String,
    name_en: String,
    department: Option<String>,
    sla: String,
    radius_m: f64,
    /// Residents' updates wait for a moderator.
    #[serde(default)]
    updates_moderated: bool,
    #[serde(default)]
    attributes: Vec<Question>,
    /// The city object types its reports may name.
    #[serde(default)]
    object_types: Vec<String>,
    /// `flag` (default) or `hold`: what an answer with flagged photos does.
    #[serde(default = "flag")]
    evidence_policy: String,
}

fn flag() -> String {
    "flag".into()
}

#[derive(Deserialize)]
struct PeopleFile {
    first_names: Vec<String>,
    last_names: Vec<String>,
    residents: usize,
}

#[derive(Deserialize)]
struct SampleTexts {
    descriptions: HashMap<String, Vec<String>>,
    answers: Vec<String>,
    rejections: Vec<String>,
    pauses: Vec<String>,
    returns: Vec<String>,
    refutations: Vec<String>,
}

/// Builds the demo city as of `now`, with `report_count` sample reports.
pub fn build(now: NaiveDateTime, report_count: u32) -> Result<DemoCity, DemoError> {
    let mut city = CityRows::default();
    let calendar: CalendarFile = parse("calendar.json", CALENDAR)?;
    let calendar_id = Uuid::new_v4().to_string();
    city.calendar_days = calendar
        .days
        .into_iter()
        .map(|(day, kind, note)| CalendarDayRow {
            calendar_id: calendar_id.clone(),
            day,
            kind: kind.as_str().into(),
            note,
        })
        .collect();
    city.calendars.push(CalendarRow {
        id: calendar_id.clone(),
        code: calendar.code,
        name: calendar.name,
        time_zone: calendar.time_zone,
        weekly_days_off: calendar.weekly_days_off,
        work_starts: calendar.work_starts,
        work_ends: calendar.work_ends,
    });

    let policies: Vec<PolicyFile> = parse("sla_policies.json", SLA_POLICIES)?;
    let mut policy_ids = HashMap::new();
    for p in policies {
        let id = Uuid::new_v4().to_string();
        policy_ids.insert(p.code.clone(), id.clone());
        city.sla_policies.push(SlaPolicyRow {
            id,
            code: p.code,
            name: p.name,
            calendar_id: calendar_id.clone(),
            moderation_days: p.moderation_days,
            answer_days: p.answer_days,
            fix_days: p.fix_days,
            resident_check_days: p.resident_check_days,
            warn_percents: p.warn_percents,
            moderation_unit: "working_days".into(),
            answer_unit: "working_days".into(),
            fix_unit: "working_days".into(),
            escalation_percents: "100,150".into(),
        });
    }

    let departments: Vec<DepartmentFile> = parse("departments.json", DEPARTMENTS)?;
    let department_ids: HashMap<String, Uuid> = departments
        .iter()
        .map(|d| (d.code.clone(), Uuid::new_v4()))
        .collect();
    let department_id = |file: &'static str, code: &str| {
        department_ids
            .get(code)
            .copied()
            .ok_or_else(|| bad(file, format!("unknown department '{code}'")))
    };
    let mut tree = Departments::default();
    for d in &departments {
        tree.add(
            department_id("departments.json", &d.code)?,
            &d.code,
            match &d.parent {
                Some(parent) => Some(department_id("departments.json", parent)?),
                None => None,
            },
            d.triage,
        );
        city.departments.push(DepartmentRow {
            id: department_id("departments.json", &d.code)?.to_string(),
            code: d.code.clone(),
            name_ru: d.name_ru.clone(),
            name_en: d.name_en.clone(),
            parent_id: match &d.parent {
                Some(parent) => Some(department_id("departments.json", parent)?.to_string()),
                None => None,
            },
            email: d.email.clone(),
            calendar_id: calendar_id.clone(),
            is_triage: d.triage,
            created_at: now,
        });
    }

    let groups: Vec<GroupFile> = parse("groups.json", GROUPS)?;
    for (order, g) in groups.into_iter().enumerate() {
        city.category_groups.push(CategoryGroupRow {
            code: g.code,
            name_ru: g.name_ru,
            name_en: g.name_en,
            sort_order: i32::try_from(order).unwrap_or(i32::MAX),
        });
    }
    let categories: Vec<CategoryFile> = parse("categories.json", CATEGORIES)?;
    let mut routings = Vec::new();
    for (order, c) in categories.iter().enumerate() {
        let id = Uuid::new_v4();
        let department = match &c.department {
            Some(code) => Some(department_id("categories.json", code)?),
            None => None,
        };
        check_questions(&c.attributes)
            .map_err(|e| bad("categories.json", format!("category '{}': {e}", c.code)))?;
        routings.push((
            CategoryRouting {
                id,
                code: c.code.clone(),
                default_department_id: department,
            },
            c.attributes.clone(),
        ));
        city.categories.push(CategoryRow {
            id: id.to_string(),
            code: c.code.clone(),
            group_code: c.group.clone(),
            name_ru: c.name_ru.clone(),
            name_en: c.name_en.clone(),
            description_ru: String::new(),
            description_en: String::new(),
            attributes: serde_json::to_string(&c.attributes)
                .map_err(|e| bad("categories.json", e.to_string()))?,
            default_department_id: department.map(|d| d.to_string()),
            sla_policy_id: policy_ids
                .get(&c.sla)
                .cloned()
                .ok_or_else(|| bad("categories.json", format!("unknown SLA policy '{}'", c.sla)))?,
            duplicate_radius_m: c.radius_m,
            active: true,
            sort_order: i32::try_from(order).unwrap_or(i32::MAX),
            updates_moderated: c.updates_moderated,
            object_types: c.object_types.join(","),
            evidence_policy: c.evidence_policy.clone(),
        });
    }
    let category_id = |code: &str| {
        routings
            .iter()
            .find(|(r, _)| r.code == code)
            .map(|(r, _)| r.id)
            .ok_or_else(|| {
                bad(
                    "service_areas.geojson",
                    format!("unknown category '{code}'"),
                )
            })
    };

    let (areas, names_en) = demo_areas(&department_id, &category_id)?;
    let map = CityMap::new(areas.clone(), tree);
    for area in &areas {
        let (min_lat, min_lon, max_lat, max_lon) = area.shape.bounding_box();
        city.service_areas.push(ServiceAreaRow {
            id: area.id.to_string(),
            code: area.code.clone(),
            name: area.name.clone(),
            name_en: names_en.get(&area.code).cloned(),
            geometry: area.shape.to_geojson(),
            min_lat,
            min_lon,
            max_lat,
            max_lon,
        });
        for route in &area.routes {
            city.service_area_routes.push(ServiceAreaRouteRow {
                id: Uuid::new_v4().to_string(),
                service_area_id: area.id.to_string(),
                category_id: route.category_id.map(|c| c.to_string()),
                department_id: route.department_id.to_string(),
            });
        }
    }

    let people: PeopleFile = parse("people.json", PEOPLE)?;
    let mut rng = StdRng::seed_from_u64(2026);
    let person = |rng: &mut StdRng| {
        let first = people.first_names.choose(rng).cloned().unwrap_or_default();
        let last = people.last_names.choose(rng).cloned().unwrap_or_default();
        format!("{first} {last}")
    };
    let user = |email: String, name: String, role: &str, department: Option<&Uuid>| UserRow {
        id: Uuid::new_v4().to_string(),
        email,
        name: Some(name),
        phone: None,
        role: role.into(),
        department_id: department.map(Uuid::to_string),
        locale: "ru".into(),
        created_at: now,
    };
    let admin = user(
        format!("admin@{DEMO_EMAIL_DOMAIN}"),
        person(&mut rng),
        "admin",
        None,
    );
    let admin_id = admin.id.clone();
    city.users.push(admin);
    let mut crews: HashMap<Uuid, Vec<String>> = HashMap::new();
    for d in &departments {
        let id = department_ids.get(&d.code);
        city.users.push(user(
            format!("supervisor.{}@{DEMO_EMAIL_DOMAIN}", d.code),
            person(&mut rng),
            "supervisor",
            id,
        ));
        for n in 1..=2 {
            let crew = user(
                format!("crew{n}.{}@{DEMO_EMAIL_DOMAIN}", d.code),
                person(&mut rng),
                "crew",
                id,
            );
            if let Some(&department) = id {
                crews.entry(department).or_default().push(crew.id.clone());
            }
            city.users.push(crew);
        }
    }
    let residents: Vec<UserRow> = (1..=people.residents)
        .map(|n| {
            user(
                format!("resident{n}@{DEMO_EMAIL_DOMAIN}"),
                person(&mut rng),
                "resident",
                None,
            )
        })
        .collect();
    for staff in &city.users {
        let local = staff.email.split('@').next().unwrap_or_default();
        city.api_keys.push(ApiKeyRow {
            id: Uuid::new_v4().to_string(),
            key_hash: api_key_digest(&format!("demo-token-{local}")),
            name: format!("Demo token of {}", staff.email),
            kind: "api".into(),
            user_id: Some(staff.id.clone()),
            created_at: now,
            revoked_at: None,
            scopes: "*".into(),
        });
    }
    city.api_keys.push(ApiKeyRow {
        id: Uuid::new_v4().to_string(),
        key_hash: api_key_digest(DEMO_OPEN311_KEY),
        name: "Demo Open311 client".into(),
        kind: "open311".into(),
        user_id: None,
        created_at: now,
        revoked_at: None,
        scopes: "*".into(),
    });

    let texts: SampleTexts = parse("sample_texts.json", SAMPLE_TEXTS)?;
    let mut sampler = ReportSampler {
        rng,
        now,
        texts,
        crews,
        residents: &residents,
        map: &map,
        categories: &routings,
    };
    let mut reports = (0..report_count as usize)
        .map(|n| sampler.sample(n))
        .collect::<Result<Vec<_>, _>>()?;
    reports.sort_by_key(|r| r.filed_at);
    city.users.extend(residents);
    city.accounts = demo_accounts(&city.users, now);
    let addresses = files::addresses(ADDRESSES, Format::GeoJson, &FieldMap::default())
        .map_err(|e| bad("addresses.geojson", e.problem.en()))?;
    let objects = files::objects(OBJECTS).map_err(|e| bad("objects.geojson", e.problem.en()))?;
    Ok(DemoCity {
        rows: city,
        admin_id,
        reports,
        addresses,
        objects,
    })
}

/// Logins for every demo person: one password, and for staff one enrolled
/// second factor.
fn demo_accounts(users: &[UserRow], now: NaiveDateTime) -> Vec<AccountRow> {
    let hash = crate::accounts::NewPassword::parse(DEMO_PASSWORD, "")
        .map(|p| p.hash())
        .ok();
    users
        .iter()
        .map(|u| {
            let staff = u.role != "resident";
            AccountRow {
                user_id: u.id.clone(),
                password_hash: hash.clone(),
                email_verified_at: Some(now),
                totp_secret: staff.then(|| DEMO_TOTP_SECRET.to_string()),
                totp_enrolled_at: staff.then_some(now),
                totp_last_step: None,
                disabled_at: None,
                created_at: now,
                updated_at: now,
            }
        })
        .collect()
}

/// The demo's service areas, read by the same parser as an admin's import,
/// and their English names by code.
fn demo_areas(
    department_id: &dyn Fn(&'static str, &str) -> Result<Uuid, DemoError>,
    category_id: &dyn Fn(&str) -> Result<Uuid, DemoError>,
) -> Result<(Vec<ServiceArea>, HashMap<String, String>), DemoError> {
    const FILE: &str = "service_areas.geojson";
    let drafts = routing::parse_areas(SERVICE_AREAS).map_err(|e| bad(FILE, e.to_string()))?;
    let names_en = drafts
        .iter()
        .filter_map(|d| Some((d.code.clone(), d.name_en.clone()?)))
        .collect();
    let areas = drafts
        .into_iter()
        .map(|draft| {
            let mut routes = Vec::new();
            for department in &draft.serves {
                routes.push(AreaRoute {
                    category_id: None,
                    department_id: department_id(FILE, department)?,
                });
            }
            for (category, department) in &draft.overrides {
                routes.push(AreaRoute {
                    category_id: Some(category_id(category)?),
                    department_id: department_id(FILE, department)?,
                });
            }
            Ok(ServiceArea {
                id: Uuid::new_v4(),
                code: draft.code,
                name: draft.name,
                shape: draft.shape,
                routes,
            })
        })
        .collect::<Result<Vec<_>, DemoError>>()?;
    Ok((areas, names_en))
}

/// A random point inside the shape (rejection sampling over its bounding box).
fn point_inside(rng: &mut StdRng, shape: &AreaShape) -> (f64, f64) {
    let (min_lat, min_lon, max_lat, max_lon) = shape.bounding_box();
    let centre = ((min_lat + max_lat) / 2.0, (min_lon + max_lon) / 2.0);
    for _ in 0..1000 {
        let lat = rng.random_range(min_lat..=max_lat);
        let lon = rng.random_range(min_lon..=max_lon);
        if shape.contains(lat, lon) {
            return (lat, lon);
        }
    }
    centre
}

/// The photo of the work every sample answer carries: a plain JPEG drawn
/// here (a wall of the city's grey with a road-sign yellow band), cleaned
/// and stored like any upload.
pub fn answer_photo() -> Result<Vec<u8>, DemoError> {
    let picture = image::RgbImage::from_fn(640, 480, |_, y| {
        if (200..280).contains(&y) {
            image::Rgb([240, 190, 40])
        } else {
            image::Rgb([120, 124, 130])
        }
    });
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 85)
        .encode_image(&picture)
        .map_err(|e| bad("answer photo", e.to_string()))?;
    Ok(jpeg)
}
