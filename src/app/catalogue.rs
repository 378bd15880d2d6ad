//! Managing the city's catalogue: service areas, departments, categories,
//! SLA policies and working calendars, each created or replaced by its
//! code. A change that moves deadlines marks the open reports it touches;
//! [`recount`] works them out again. Every instance rebuilds its snapshot
//! of the catalogue when its version moves (`cache`); this one at once.

pub use crate::db::catalog::{CatalogSnapshot, CategoryListing, FilingCategory, ImportSummary};
pub use crate::db::rows::{
    CalendarDayRow, CalendarRow, CategoryGroupRow, CategoryRow, DepartmentRow, SlaPolicyRow,
};

use crate::locale::Text;
use chrono::NaiveDate;

use super::{Refused, Services};
use crate::db::catalog::{self, ImportFailure};
use crate::db::{self, admin as admin_db, DbConnection, DbError};
use crate::reports::ValidationError;
use crate::routing::AreaDraft;
use crate::sla::schedule::Policy;
use crate::sla::DayKind;

fn invalid(field: &str, message: Text) -> Refused {
    Refused::Invalid(ValidationError::new(field, message))
}

/// The active categories, in the catalogue's order.
pub fn categories(conn: &mut DbConnection) -> Result<Vec<CategoryListing>, DbError> {
    catalog::list_categories(conn)
}

/// The id of the category with a code.
pub fn category_id(conn: &mut DbConnection, code: &str) -> Result<Option<String>, DbError> {
    catalog::category_id(conn, code)
}

/// The id of the category a person named by its code; an unknown one is
/// refused naming `field`.
pub fn known_category(conn: &mut DbConnection, field: &str, code: &str) -> Result<String, Refused> {
    Ok(catalog::category_id(conn, code)?
        .ok_or_else(|| ValidationError::unknown(field, code, ("категория", "category")))?)
}

/// The id of the district (service area) a person named by its code; an
/// unknown one is refused naming `field`.
pub fn known_area(
    app: &Services,
    conn: &mut DbConnection,
    field: &str,
    code: &str,
) -> Result<String, Refused> {
    let snapshot = app.catalog_snapshot(conn)?;
    let area = snapshot.map.areas().iter().find(|a| a.code == code);
    Ok(area
        .ok_or_else(|| ValidationError::unknown(field, code, ("район", "district")))?
        .id
        .to_string())
}

/// The named groups categories are listed under, in their order.
pub fn category_groups(conn: &mut DbConnection) -> Result<Vec<CategoryGroupRow>, DbError> {
    catalog::list_category_groups(conn)
}

/// Names a group of categories (created if new).
pub fn put_category_group(
    conn: &mut DbConnection,
    row: CategoryGroupRow,
) -> Result<Put<CategoryGroupRow>, DbError> {
    let before = admin_db::category_group(conn, &row.code)?;
    admin_db::put_category_group(conn, &row)?;
    Ok(Put {
        before,
        after: Some(row),
        marked: 0,
    })
}

/// Every department.
pub fn departments(conn: &mut DbConnection) -> Result<Vec<DepartmentRow>, DbError> {
    catalog::list_departments(conn)
}

/// Creates or replaces service areas by code, all or none.
pub fn import_areas(
    app: &Services,
    conn: &mut DbConnection,
    drafts: &[AreaDraft],
) -> Result<ImportSummary, Refused> {
    let summary = catalog::import_areas(conn, drafts).map_err(|e| match e {
        ImportFailure::Invalid(e) => invalid(&e.field, e.message),
        ImportFailure::Db(e) => e.into(),
    })?;
    app.catalog.invalidate();
    Ok(summary)
}

/// After a change: this instance's snapshot is rebuilt and the deadlines
/// of the marked reports are counted again now; the marks recorded.
pub fn recount(app: &Services, conn: &mut DbConnection) -> Result<usize, DbError> {
    app.catalog.invalidate();
    let snapshot = app.catalog_snapshot(conn)?;
    Ok(super::clocks::scan(conn, &snapshot, app.clock.now())?.marks)
}

/// A policy as changed: name and calendar are needed to create one.
pub struct PolicyChange {
    pub code: String,
    pub name: Option<String>,
    pub calendar: Option<String>,
    pub policy: Policy,
}

/// What a create-or-replace did: the row before (`None`: created), after,
/// and how many open reports it marked for a recount.
pub struct Put<T> {
    pub before: Option<T>,
    pub after: Option<T>,
    pub marked: usize,
}

/// Creates an SLA policy or replaces its targets.
pub fn put_policy(
    app: &Services,
    conn: &mut DbConnection,
    change: PolicyChange,
) -> Result<Put<SlaPolicyRow>, Refused> {
    let key = &change.code;
    let before = admin_db::sla_policy(conn, key)?;
    let marked = match &before {
        Some(_) => db::sla::update_policy(conn, key, &change.policy, app.clock.now())?.unwrap_or(0),
        None => {
            check_code(key)?;
            let name = change.name.ok_or_else(|| {
                invalid(
                    "name",
                    Text::new(
                        "обязательно для нового регламента",
                        "is required to create a policy",
                    ),
                )
            })?;
            let calendar = change.calendar.ok_or_else(|| {
                invalid(
                    "calendar",
                    Text::new(
                        "обязательно для нового регламента",
                        "is required to create a policy",
                    ),
                )
            })?;
            let calendar_id = admin_db::calendar_id(conn, &calendar)?.ok_or_else(|| {
                invalid(
                    "calendar",
                    Text::new(
                        format!("«{calendar}» — не календарь"),
                        format!("'{calendar}' is not a calendar"),
                    ),
                )
            })?;
            db::sla::create_policy(conn, key, &name, &calendar_id, &change.policy)?;
            0
        }
    };
    Ok(Put {
        before,
        after: admin_db::sla_policy(conn, key)?,
        marked,
    })
}

/// A code as the catalogue spells them: 1–64 lowercase letters, digits,
/// `_` or `-`.
pub fn check_code(code: &str) -> Result<(), ValidationError> {
    let good = !code.is_empty()
        && code.len() <= 64
        && code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if good {
        Ok(())
    } else {
        Err(ValidationError::new(
            "code",
            Text::new(
                format!("«{code}» — не код: 1–64 строчные латинские буквы, цифры, _ или -"),
                format!("'{code}' is not a code: 1–64 lowercase letters, digits, _ or -"),
            ),
        ))
    }
}

/// Checks a calendar's week the way the deadlines' arithmetic reads it,
/// naming the field at fault.
pub fn check_calendar(row: &CalendarRow) -> Result<(), ValidationError> {
    if row.time_zone.parse::<chrono_tz::Tz>().is_err() {
        return Err(ValidationError::new(
            "time_zone",
            Text::new(
                format!(
                    "«{}» — не название часового пояса вроде Europe/Moscow",
                    row.time_zone
                ),
                format!(
                    "'{}' is not a time zone name like Europe/Moscow",
                    row.time_zone
                ),
            ),
        ));
    }
    crate::sla::parse_weekdays(&row.weekly_days_off)
        .map_err(|e| ValidationError::new("weekly_days_off", e))?;
    for (field, time) in [
        ("work_starts", &row.work_starts),
        ("work_ends", &row.work_ends),
    ] {
        chrono::NaiveTime::parse_from_str(time, "%H:%M").map_err(|_| {
            ValidationError::new(
                field,
                Text::new(
                    format!("«{time}» — не время (ЧЧ:ММ)"),
                    format!("'{time}' is not a time (HH:MM)"),
                ),
            )
        })?;
    }
    catalog::work_calendar_checked(row, &[]).map_err(|e| ValidationError::new("work_ends", e))?;
    Ok(())
}

/// Creates a working calendar or replaces its week (`row.id` is found).
pub fn put_calendar(
    app: &Services,
    conn: &mut DbConnection,
    mut row: CalendarRow,
) -> Result<Put<CalendarRow>, Refused> {
    check_calendar(&row)?;
    let before = db::sla::calendar(conn, &row.code)?;
    row.id = before.as_ref().map_or_else(db::new_id, |b| b.id.clone());
    let marked = db::sla::put_calendar(conn, &row, before.is_some(), app.clock.now())?;
    Ok(Put {
        before,
        after: Some(row),
        marked,
    })
}

/// Sets (or with `None` removes) a calendar's dated exception.
pub fn set_calendar_day(
    app: &Services,
    conn: &mut DbConnection,
    calendar: &str,
    day: NaiveDate,
    entry: Option<(DayKind, String)>,
) -> Result<Put<CalendarDayRow>, Refused> {
    let before = admin_db::calendar_day(conn, calendar, day)?;
    let marked = db::sla::set_calendar_day(conn, calendar, day, entry, app.clock.now())?
        .ok_or_else(|| {
            Refused::NotFound(Text::new(
                format!("нет календаря «{calendar}»"),
                format!("there is no calendar '{calendar}'"),
            ))
        })?;
    Ok(Put {
        before,
        after: admin_db::calendar_day(conn, calendar, day)?,
        marked,
    })
}

/// A department as changed, by codes.
pub struct DepartmentChange {
    pub code: String,
    pub name_ru: String,
    pub name_en: String,
    pub parent: Option<String>,
    pub email: Option<String>,
    pub calendar: String,
}

/// Creates or replaces a department; refused when its parent would put it
/// below itself.
pub fn put_department(
    app: &Services,
    conn: &mut DbConnection,
    change: DepartmentChange,
) -> Result<Put<DepartmentRow>, Refused> {
    let snapshot = app.catalog_snapshot(conn)?;
    let tree = snapshot.map.departments();
    let key = &change.code;
    let before = admin_db::department(conn, key)?;
    let parent_id = match change.parent.as_deref().filter(|p| !p.is_empty()) {
        None => None,
        Some(parent) => {
            let id = tree.id_of(parent).ok_or_else(|| {
                invalid(
                    "parent",
                    Text::new(
                        format!("«{parent}» — не подразделение"),
                        format!("'{parent}' is not a department"),
                    ),
                )
            })?;
            let own = before.as_ref().and_then(|b| b.id.parse().ok());
            if own.is_some_and(|own| tree.depth_below(id, own).is_some()) {
                return Err(invalid(
                    "parent",
                    Text::new(format!("«{parent}» — это «{key}» или ниже него: подразделения не могут образовать круг"), format!("'{parent}' is '{key}' or below it: departments cannot form a loop"),)
                ));
            }
            Some(id.to_string())
        }
    };
    let calendar_id = admin_db::calendar_id(conn, &change.calendar)?.ok_or_else(|| {
        invalid(
            "calendar",
            Text::new(
                format!("«{}» — не календарь", change.calendar),
                format!("'{}' is not a calendar", change.calendar),
            ),
        )
    })?;
    let row = DepartmentRow {
        id: before.as_ref().map_or_else(db::new_id, |b| b.id.clone()),
        code: key.clone(),
        name_ru: change.name_ru,
        name_en: change.name_en,
        parent_id,
        email: change.email,
        calendar_id,
        is_triage: before.as_ref().is_some_and(|b| b.is_triage),
        created_at: before.as_ref().map_or(app.clock.now(), |b| b.created_at),
    };
    admin_db::put_department(conn, &row, before.is_some())?;
    app.catalog.invalidate();
    Ok(Put {
        before,
        after: Some(row),
        marked: 0,
    })
}

/// A category as changed: its department and policy by code, its
/// questions checked and encoded already.
pub struct CategoryChange {
    pub code: String,
    pub group: String,
    pub name_ru: String,
    pub name_en: String,
    pub description_ru: String,
    pub description_en: String,
    pub attributes: String,
    pub default_department: Option<String>,
    pub sla_policy: String,
    pub duplicate_radius_m: f64,
    pub active: bool,
    pub sort_order: i32,
    pub updates_moderated: bool,
    /// Object type codes.
    pub object_types: Vec<String>,
    pub evidence_policy: crate::reports::evidence::Policy,
}

/// Creates or replaces a category.
pub fn put_category(
    app: &Services,
    conn: &mut DbConnection,
    change: CategoryChange,
) -> Result<Put<CategoryRow>, Refused> {
    for kind in &change.object_types {
        check_code(kind).map_err(|e| invalid("object_types", e.message))?;
    }
    let snapshot = app.catalog_snapshot(conn)?;
    let default_department_id = match change
        .default_department
        .as_deref()
        .filter(|d| !d.is_empty())
    {
        None => None,
        Some(d) => Some(
            snapshot
                .map
                .departments()
                .id_of(d)
                .ok_or_else(|| {
                    invalid(
                        "default_department",
                        Text::new(
                            format!("«{d}» — не подразделение"),
                            format!("'{d}' is not a department"),
                        ),
                    )
                })?
                .to_string(),
        ),
    };
    let policy = admin_db::sla_policy(conn, &change.sla_policy)?.ok_or_else(|| {
        invalid(
            "sla_policy",
            Text::new(
                format!("«{}» — не регламент сроков", change.sla_policy),
                format!("'{}' is not an SLA policy", change.sla_policy),
            ),
        )
    })?;
    let before = admin_db::category(conn, &change.code)?;
    let row = CategoryRow {
        id: before.as_ref().map_or_else(db::new_id, |b| b.id.clone()),
        code: change.code,
        group_code: change.group,
        name_ru: change.name_ru,
        name_en: change.name_en,
        description_ru: change.description_ru,
        description_en: change.description_en,
        attributes: change.attributes,
        default_department_id,
        sla_policy_id: policy.id,
        duplicate_radius_m: change.duplicate_radius_m,
        active: change.active,
        sort_order: change.sort_order,
        updates_moderated: change.updates_moderated,
        object_types: change.object_types.join(","),
        evidence_policy: change.evidence_policy.as_str().into(),
    };
    admin_db::put_category(conn, &row, before.is_some())?;
    app.catalog.invalidate();
    Ok(Put {
        before,
        after: Some(row),
        marked: 0,
    })
}
