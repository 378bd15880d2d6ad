//! The city's catalogue: departments, categories and service areas, as the
//! API lists them and as routing needs them.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::NaiveTime;

use diesel::prelude::*;
use uuid::Uuid;

use super::rows::{
    CalendarDayRow, CalendarRow, CategoryGroupRow, CategoryRow, DepartmentRow, ServiceAreaRouteRow,
    ServiceAreaRow, SlaPolicyRow,
};
use super::schema::{calendar_days, calendars};
use super::schema::{
    categories, category_groups, counters, departments, service_area_routes, service_areas,
    sla_policies,
};
use super::{new_id, write_transaction, DbConnection, DbError};
use crate::reports::history::Names;
use crate::reports::questions::Question;
use crate::routing::{
    AreaDraft, AreaRoute, AreaShape, CategoryRouting, CityMap, Departments, ImportError,
    ServiceArea,
};
use crate::sla::calendar::{Target, WorkCalendar};
use crate::sla::schedule::{parse_percents, Policy};
use crate::sla::{parse_weekdays, CalendarDay, SlaPlan};

/// A category with the codes of its default department and SLA policy.
pub struct CategoryListing {
    pub category: CategoryRow,
    /// None: the category's reports go to triage.
    pub department_code: Option<String>,
    pub sla_code: String,
}

pub fn list_categories(conn: &mut DbConnection) -> Result<Vec<CategoryListing>, DbError> {
    let rows = categories::table
        .left_join(departments::table)
        .inner_join(sla_policies::table)
        .filter(categories::active.eq(true))
        .order((categories::sort_order, categories::code))
        .select((
            CategoryRow::as_select(),
            departments::code.nullable(),
            sla_policies::code,
        ))
        .load::<(CategoryRow, Option<String>, String)>(conn)?;
    Ok(rows
        .into_iter()
        .map(|(category, department_code, sla_code)| CategoryListing {
            category,
            department_code,
            sla_code,
        })
        .collect())
}

/// The named groups of categories, in their order.
pub fn list_category_groups(conn: &mut DbConnection) -> Result<Vec<CategoryGroupRow>, DbError> {
    Ok(category_groups::table
        .order((category_groups::sort_order, category_groups::code))
        .select(CategoryGroupRow::as_select())
        .load(conn)?)
}

pub fn list_departments(conn: &mut DbConnection) -> Result<Vec<DepartmentRow>, DbError> {
    Ok(departments::table
        .order(departments::code)
        .select(DepartmentRow::as_select())
        .load(conn)?)
}

/// The id of an active category by its code.
pub fn category_id(conn: &mut DbConnection, code: &str) -> Result<Option<String>, DbError> {
    Ok(categories::table
        .filter(categories::code.eq(code))
        .filter(categories::active.eq(true))
        .select(categories::id)
        .first(conn)
        .optional()?)
}

/// A category as filing needs it: its routing and its questions.
#[derive(Debug, Clone)]
pub struct FilingCategory {
    pub routing: CategoryRouting,
    pub sla: std::sync::Arc<crate::sla::SlaPlan>,
    pub questions: Vec<Question>,
    pub duplicate_radius_m: f64,
    /// The city object types a report of it may name.
    pub object_types: Vec<String>,
}

pub fn category_for_filing(
    conn: &mut DbConnection,
    code: &str,
) -> Result<Option<FilingCategory>, DbError> {
    let found = categories::table
        .filter(categories::code.eq(code))
        .filter(categories::active.eq(true))
        .select(CategoryRow::as_select())
        .first(conn)
        .optional()?;
    let plans = load_plans(conn)?;
    found.map(|c| filing_category(&c, &plans)).transpose()
}

fn filing_category(
    c: &CategoryRow,
    plans: &HashMap<String, std::sync::Arc<crate::sla::SlaPlan>>,
) -> Result<FilingCategory, DbError> {
    Ok(FilingCategory {
        sla: plans
            .get(&c.sla_policy_id)
            .cloned()
            .ok_or_else(|| DbError::Corrupt(format!("category '{}' has no SLA policy", c.code)))?,
        routing: CategoryRouting {
            id: parse_id(&c.id)?,
            code: c.code.clone(),
            default_department_id: c
                .default_department_id
                .as_deref()
                .map(parse_id)
                .transpose()?,
        },
        questions: parse_questions(c)?,
        duplicate_radius_m: c.duplicate_radius_m,
        object_types: c
            .object_types
            .split(',')
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .collect(),
    })
}

pub fn parse_questions(c: &CategoryRow) -> Result<Vec<Question>, DbError> {
    serde_json::from_str(&c.attributes)
        .map_err(|e| DbError::Corrupt(format!("category '{}' questions: {e}", c.code)))
}

pub const CATALOG_VERSION: &str = "catalog_version";

/// Changes whenever the catalogue changes; see the `catalog_version` counter.
pub fn catalog_version(conn: &mut DbConnection) -> Result<i64, DbError> {
    Ok(counters::table
        .find(CATALOG_VERSION)
        .select(counters::value)
        .first(conn)?)
}

pub(crate) fn bump_catalog_version(conn: &mut DbConnection) -> Result<(), DbError> {
    diesel::update(counters::table.find(CATALOG_VERSION))
        .set(counters::value.eq(counters::value + 1))
        .execute(conn)?;
    Ok(())
}

/// The catalogue as filing needs it: the city map and every active category,
/// at one catalogue version.
pub struct CatalogSnapshot {
    pub map: CityMap,
    pub categories: HashMap<String, FilingCategory>,
    /// Category codes by id.
    pub codes: HashMap<String, String>,
    /// Departments', areas' and categories' names by code.
    pub names: Arc<Names>,
}

pub fn load_snapshot(conn: &mut DbConnection) -> Result<CatalogSnapshot, DbError> {
    let rows = categories::table
        .filter(categories::active.eq(true))
        .select(CategoryRow::as_select())
        .load(conn)?;
    let plans = load_plans(conn)?;
    let categories = rows
        .iter()
        .map(|c| Ok((c.code.clone(), filing_category(c, &plans)?)))
        .collect::<Result<HashMap<_, _>, DbError>>()?;
    let codes = categories
        .iter()
        .map(|(code, c)| (c.routing.id.to_string(), code.clone()))
        .collect();
    let names = Names {
        departments: departments::table
            .select((
                departments::code,
                (departments::name_ru, departments::name_en),
            ))
            .load(conn)?
            .into_iter()
            .collect(),
        areas: service_areas::table
            .select((
                service_areas::code,
                service_areas::name,
                service_areas::name_en,
            ))
            .load::<(String, String, Option<String>)>(conn)?
            .into_iter()
            .map(|(code, name, en)| (code, (name, en.unwrap_or_default())))
            .collect(),
        // Every category, retired ones too: old reports name them.
        categories: categories::table
            .select((categories::code, (categories::name_ru, categories::name_en)))
            .load(conn)?
            .into_iter()
            .collect(),
    };
    Ok(CatalogSnapshot {
        map: load_city_map(conn)?,
        categories,
        codes,
        names: Arc::new(names),
    })
}

/// Every service area with its routes, and the department tree.
pub fn load_city_map(conn: &mut DbConnection) -> Result<CityMap, DbError> {
    let mut departments = Departments::default();
    for d in list_departments(conn)? {
        let parent = d.parent_id.as_deref().map(parse_id).transpose()?;
        departments.add(parse_id(&d.id)?, &d.code, parent, d.is_triage);
    }
    let areas = service_areas::table
        .select(ServiceAreaRow::as_select())
        .load(conn)?;
    let routes = service_area_routes::table
        .select(ServiceAreaRouteRow::as_select())
        .load(conn)?;
    let areas = areas
        .into_iter()
        .map(|area| {
            let shape = AreaShape::from_geojson(&area.geometry).map_err(|e| {
                DbError::Corrupt(format!(
                    "service area '{}' has bad geometry: {e}",
                    area.code
                ))
            })?;
            let routes = routes
                .iter()
                .filter(|r| r.service_area_id == area.id)
                .map(|r| {
                    Ok(AreaRoute {
                        category_id: r.category_id.as_deref().map(parse_id).transpose()?,
                        department_id: parse_id(&r.department_id)?,
                    })
                })
                .collect::<Result<Vec<_>, DbError>>()?;
            Ok(ServiceArea {
                id: parse_id(&area.id)?,
                code: area.code,
                name: area.name,
                shape,
                routes,
            })
        })
        .collect::<Result<Vec<_>, DbError>>()?;
    Ok(CityMap::new(areas, departments))
}

/// Why an import was refused.
#[derive(Debug, thiserror::Error)]
pub enum ImportFailure {
    #[error(transparent)]
    Invalid(#[from] ImportError),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for ImportFailure {
    fn from(e: diesel::result::Error) -> Self {
        ImportFailure::Db(e.into())
    }
}

/// What an import changed.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ImportSummary {
    pub created: Vec<String>,
    pub updated: Vec<String>,
}

/// Creates or replaces service areas by code (shape, name and routes), in
/// one transaction; an unknown department or category refuses the whole
/// import, naming the feature. Areas not in the import stay as they are.
pub fn import_areas(
    conn: &mut DbConnection,
    drafts: &[AreaDraft],
) -> Result<ImportSummary, ImportFailure> {
    write_transaction(conn, |conn| {
        let department_ids = codes_to_ids(
            departments::table
                .select((departments::code, departments::id))
                .load(conn)?,
        );
        let category_ids = codes_to_ids(
            categories::table
                .select((categories::code, categories::id))
                .load(conn)?,
        );
        let mut summary = ImportSummary::default();
        for (i, draft) in drafts.iter().enumerate() {
            let unknown = |(what_ru, what): (&str, &str), code: &str| ImportError {
                field: format!("features[{i}].properties"),
                message: crate::locale::Text::new(
                    format!("участок «{}»: нет {what_ru} «{code}»", draft.code),
                    format!("area '{}': there is no {what} '{code}'", draft.code),
                ),
            };
            let department = |code: &String| {
                department_ids
                    .get(code)
                    .cloned()
                    .ok_or_else(|| unknown(("подразделения", "department"), code))
            };
            let mut routes = Vec::new();
            for code in &draft.serves {
                routes.push((None, department(code)?));
            }
            for (category, code) in &draft.overrides {
                let category = category_ids
                    .get(category)
                    .cloned()
                    .ok_or_else(|| unknown(("категории", "category"), category))?;
                routes.push((Some(category), department(code)?));
            }
            let (min_lat, min_lon, max_lat, max_lon) = draft.shape.bounding_box();
            let row = ServiceAreaRow {
                id: new_id(),
                code: draft.code.clone(),
                name: draft.name.clone(),
                name_en: draft.name_en.clone(),
                geometry: draft.shape.to_geojson(),
                min_lat,
                min_lon,
                max_lat,
                max_lon,
            };
            let existing: Option<String> = service_areas::table
                .filter(service_areas::code.eq(&draft.code))
                .select(service_areas::id)
                .first(conn)
                .optional()?;
            let id = match existing {
                Some(id) => {
                    diesel::update(service_areas::table.find(&id))
                        .set((
                            service_areas::name.eq(&row.name),
                            service_areas::name_en.eq(&row.name_en),
                            service_areas::geometry.eq(&row.geometry),
                            service_areas::min_lat.eq(min_lat),
                            service_areas::min_lon.eq(min_lon),
                            service_areas::max_lat.eq(max_lat),
                            service_areas::max_lon.eq(max_lon),
                        ))
                        .execute(conn)?;
                    diesel::delete(
                        service_area_routes::table
                            .filter(service_area_routes::service_area_id.eq(&id)),
                    )
                    .execute(conn)?;
                    summary.updated.push(draft.code.clone());
                    id
                }
                None => {
                    diesel::insert_into(service_areas::table)
                        .values(&row)
                        .execute(conn)?;
                    summary.created.push(draft.code.clone());
                    row.id
                }
            };
            for (category_id, department_id) in routes {
                diesel::insert_into(service_area_routes::table)
                    .values(ServiceAreaRouteRow {
                        id: new_id(),
                        service_area_id: id.clone(),
                        category_id,
                        department_id,
                    })
                    .execute(conn)?;
            }
        }
        bump_catalog_version(conn)?;
        Ok(summary)
    })
}

fn codes_to_ids(pairs: Vec<(String, String)>) -> HashMap<String, String> {
    pairs.into_iter().collect()
}

/// Ids are written by this program, so an unparsable one is corruption.
pub(crate) fn parse_id(text: &str) -> Result<Uuid, DbError> {
    Uuid::parse_str(text)
        .map_err(|e| DbError::Corrupt(format!("stored id '{text}' is not a UUID: {e}")))
}

/// The id of a department by its code.
pub fn department_id(conn: &mut DbConnection, code: &str) -> Result<Option<String>, DbError> {
    Ok(departments::table
        .filter(departments::code.eq(code))
        .select(departments::id)
        .first(conn)
        .optional()?)
}

/// Every policy with its calendar, by policy id.
pub fn load_plans(conn: &mut DbConnection) -> Result<HashMap<String, Arc<SlaPlan>>, DbError> {
    let policies = sla_policies::table
        .select(SlaPolicyRow::as_select())
        .load(conn)?;
    let calendars: HashMap<String, CalendarRow> = calendars::table
        .select(CalendarRow::as_select())
        .load(conn)?
        .into_iter()
        .map(|c| (c.id.clone(), c))
        .collect();
    let mut days: HashMap<String, Vec<CalendarDay>> = HashMap::new();
    for d in calendar_days::table
        .select(CalendarDayRow::as_select())
        .load(conn)?
    {
        let kind = d
            .kind
            .parse()
            .map_err(|e: crate::locale::Text| DbError::Corrupt(e.into()))?;
        days.entry(d.calendar_id).or_default().push(CalendarDay {
            day: d.day,
            kind,
            note: d.note,
        });
    }
    policies
        .into_iter()
        .map(|p| {
            let calendar = calendars
                .get(&p.calendar_id)
                .ok_or_else(|| DbError::Corrupt(format!("policy '{}' has no calendar", p.code)))?;
            let plan = SlaPlan {
                policy_code: p.code.clone(),
                policy: policy(&p).map_err(|e| corrupt("policy", &p.code, e))?,
                calendar: work_calendar(calendar, days.get(&calendar.id).map_or(&[], |d| d))
                    .map_err(|e| corrupt("calendar", &calendar.code, e))?,
            };
            Ok((p.id, Arc::new(plan)))
        })
        .collect()
}

fn corrupt(what: &str, code: &str, e: String) -> DbError {
    DbError::Corrupt(format!("{what} '{code}': {e}"))
}

pub fn policy(p: &SlaPolicyRow) -> Result<Policy, String> {
    Ok(Policy {
        moderation: Target::parse(&p.moderation_unit, p.moderation_days)?,
        answer: Target::parse(&p.answer_unit, p.answer_days)?,
        fix: p
            .fix_days
            .map(|n| Target::parse(&p.fix_unit, n))
            .transpose()?,
        resident_check: Target::parse("calendar_days", p.resident_check_days)?,
        warn_percents: parse_percents(&p.warn_percents)?,
        escalation_percents: parse_percents(&p.escalation_percents)?,
    })
}

pub fn work_calendar(c: &CalendarRow, days: &[CalendarDay]) -> Result<WorkCalendar, String> {
    work_calendar_checked(c, days).map_err(|e| e.to_string())
}

/// As [`work_calendar`], saying what is wrong in each language.
pub fn work_calendar_checked(
    c: &CalendarRow,
    days: &[CalendarDay],
) -> Result<WorkCalendar, crate::locale::Text> {
    use crate::locale::Text;
    let time = |t: &str| {
        NaiveTime::parse_from_str(t, "%H:%M").map_err(|_| {
            Text::new(
                format!("«{t}» — не время (ЧЧ:ММ)"),
                format!("'{t}' is not a time (HH:MM)"),
            )
        })
    };
    let zone = c.time_zone.parse().map_err(|_| {
        Text::new(
            format!("«{}» — не часовой пояс", c.time_zone),
            format!("'{}' is not a time zone", c.time_zone),
        )
    })?;
    WorkCalendar::new(
        zone,
        parse_weekdays(&c.weekly_days_off)?,
        time(&c.work_starts)?,
        time(&c.work_ends)?,
        days,
    )
}
