//! The admins' pages: the audit log, and the city's catalogue as it stands
//! (departments, category groups and categories, districts). Changes go
//! through the admin API; these pages let an admin see what is there and
//! who changed what.

use super::*;
use crate::app::audit::{self as audit_log, AuditFilter, AuditRow};

/// How many audit entries a page shows.
const AUDIT_PER_PAGE: i64 = 50;

/// The audit page's filters, as its form sends them.
#[derive(Deserialize, Default)]
pub struct AuditQuery {
    action: Option<String>,
    object_type: Option<String>,
    page: Option<String>,
}

/// One line of the log as the page shows it.
pub struct AuditLine {
    pub at: NaiveDateTime,
    /// The actor's email (their role when the account is gone or it was
    /// the system).
    pub who: String,
    pub action: String,
    pub object: String,
    pub before: String,
    pub after: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
pub struct AuditPage {
    ctx: Ctx,
    action: String,
    object_type: String,
    lines: Vec<AuditLine>,
    /// "1–50 of 230", in the page's language.
    count: String,
    previous: Option<String>,
    next: Option<String>,
}

pub(super) async fn audit_page(
    state: web::Data<AppState>,
    request: HttpRequest,
    query: web::Query<AuditQuery>,
) -> Page {
    let (caller, ctx) = context(&state, &request).await?;
    staff_only(&ctx)?;
    caller.require_any(Permission::ReadAudit)?;
    let query = query.into_inner();
    let page = crate::http::filters::parse_count("page", query.page, 1, i64::MAX / AUDIT_PER_PAGE)?;
    let action = query.action.unwrap_or_default().trim().to_string();
    let object_type = query.object_type.unwrap_or_default().trim().to_string();
    let filter = AuditFilter {
        actor_id: None,
        object_type: Some(object_type.clone()).filter(|t| !t.is_empty()),
        object_id: None,
        action: Some(action.clone()).filter(|a| !a.is_empty()),
    };
    let (total, rows, emails) = db(&state, move |conn| {
        let (total, rows) = audit_log::list(conn, &filter, page, AUDIT_PER_PAGE)?;
        let mut emails = BTreeMap::new();
        for id in rows.iter().filter_map(|r| r.actor_id.clone()) {
            if let std::collections::btree_map::Entry::Vacant(slot) = emails.entry(id) {
                let login = crate::app::accounts::by_id(conn, slot.key())?;
                slot.insert(login.map(|l| l.email));
            }
        }
        Ok((total, rows, emails))
    })
    .await?;
    let lines = rows
        .into_iter()
        .map(|r| line(r, &emails))
        .collect::<Vec<_>>();
    let first = if total == 0 {
        0
    } else {
        (page - 1) * AUDIT_PER_PAGE + 1
    };
    let last = (page * AUDIT_PER_PAGE).min(total);
    let link = |to: i64| {
        format!(
            "/admin/audit?{}",
            serde_urlencoded::to_string([
                ("action", action.as_str()),
                ("object_type", object_type.as_str()),
                ("page", &to.to_string()),
            ])
            .unwrap_or_default()
        )
    };
    let page_view = AuditPage {
        count: ctx
            .t
            .range_of_total
            .replace("{from}", &first.to_string())
            .replace("{to}", &last.to_string())
            .replace("{total}", &total.to_string()),
        previous: (page > 1).then(|| link(page - 1)),
        next: (last < total).then(|| link(page + 1)),
        ctx,
        action: action.clone(),
        object_type: object_type.clone(),
        lines,
    };
    html(&page_view)
}

/// A log row in words: who by email, the object as `type id`, the change
/// as compact JSON.
fn line(r: AuditRow, emails: &BTreeMap<String, Option<String>>) -> AuditLine {
    let who = r
        .actor_id
        .as_ref()
        .and_then(|id| emails.get(id).cloned().flatten())
        .unwrap_or_else(|| r.actor_role.clone());
    AuditLine {
        at: r.at,
        who,
        object: match r.object_id {
            Some(id) => format!("{} {id}", r.object_type),
            None => r.object_type,
        },
        action: r.action,
        before: r.before.unwrap_or_default(),
        after: r.after.unwrap_or_default(),
    }
}

/// A category as the catalogue page lists it.
pub struct CatalogueCategory {
    pub code: String,
    pub name_ru: String,
    pub name_en: String,
    pub group: String,
    pub department: String,
    pub sla: String,
    pub radius_m: f64,
}

/// A district as the catalogue page lists it.
pub struct CatalogueArea {
    pub code: String,
    pub name: String,
    pub name_en: String,
    /// The departments that serve it (or take some of its categories).
    pub routes: usize,
}

#[derive(Template)]
#[template(path = "catalogue.html")]
pub struct CataloguePage {
    ctx: Ctx,
    departments: Vec<crate::app::catalogue::DepartmentRow>,
    /// Department codes by id, for the parent column.
    parents: BTreeMap<String, String>,
    groups: Vec<crate::app::catalogue::CategoryGroupRow>,
    categories: Vec<CatalogueCategory>,
    areas: Vec<CatalogueArea>,
}

impl CataloguePage {
    pub fn parent(&self, id: &Option<String>) -> String {
        id.as_ref()
            .and_then(|id| self.parents.get(id).cloned())
            .unwrap_or_else(|| "—".into())
    }
}

pub(super) async fn catalogue_page(state: web::Data<AppState>, request: HttpRequest) -> Page {
    let (caller, ctx) = context(&state, &request).await?;
    staff_only(&ctx)?;
    caller.require_any(Permission::ManageCatalog)?;
    let app = state.clone();
    let (departments, groups, listed, areas) = db(&state, move |conn| {
        let snapshot = app.catalog_snapshot(conn)?;
        let areas = snapshot
            .map
            .areas()
            .iter()
            .map(|a| CatalogueArea {
                code: a.code.clone(),
                name: a.name.clone(),
                name_en: area_name_en(&snapshot, &a.code),
                routes: a.routes.len(),
            })
            .collect::<Vec<_>>();
        Ok((
            crate::app::catalogue::departments(conn)?,
            crate::app::catalogue::category_groups(conn)?,
            crate::app::catalogue::categories(conn)?,
            areas,
        ))
    })
    .await?;
    let parents = departments
        .iter()
        .map(|d| (d.id.clone(), d.code.clone()))
        .collect();
    let categories = listed
        .into_iter()
        .map(|l| CatalogueCategory {
            code: l.category.code,
            name_ru: l.category.name_ru,
            name_en: l.category.name_en,
            group: l.category.group_code,
            department: l.department_code.unwrap_or_else(|| "—".into()),
            sla: l.sla_code,
            radius_m: l.category.duplicate_radius_m,
        })
        .collect();
    html(&CataloguePage {
        ctx,
        departments,
        parents,
        groups,
        categories,
        areas,
    })
}

/// A canned answer as its page shows it.
pub struct CannedLine {
    pub id: String,
    /// The department's code (empty: every department's).
    pub department: String,
    pub title: String,
    pub body: String,
    pub actions: Vec<String>,
}

#[derive(Template)]
#[template(path = "canned.html")]
pub struct CannedPage {
    ctx: Ctx,
    lines: Vec<CannedLine>,
    /// The departments whose canned answers the caller keeps.
    departments: Vec<DepartmentItem>,
    /// Whether they keep the city-wide ones too (admins).
    city_wide: bool,
}

/// Supervisors' and admins' page of canned answers: those they keep, a
/// form for each and one for a new one (the forms use the API).
pub(super) async fn canned_page(state: web::Data<AppState>, request: HttpRequest) -> Page {
    let (caller, ctx) = context(&state, &request).await?;
    staff_only(&ctx)?;
    caller.require_any(Permission::ManageCannedAnswers)?;
    let city_wide = crate::policy::scope(caller.role(), Permission::ManageCannedAnswers)
        == crate::policy::Scope::Everything;
    let app = state.clone();
    let (rows, all, codes) = db(&state, move |conn| {
        let snapshot = app.catalog_snapshot(conn)?;
        let tree = snapshot.map.departments();
        let keeps = |d: Option<&str>| match d.and_then(|d| d.parse().ok()) {
            Some(d) => caller
                .require(
                    Permission::ManageCannedAnswers,
                    crate::policy::Target::Department(d),
                    tree,
                )
                .is_ok(),
            None => city_wide,
        };
        let rows = crate::app::canned::list(conn, keeps)?;
        let all = crate::app::catalogue::departments(conn)?;
        let codes: Vec<(String, String, bool)> = all
            .iter()
            .map(|d| (d.id.clone(), d.code.clone(), keeps(Some(&d.id))))
            .collect();
        Ok((rows, all, codes))
    })
    .await?;
    let code_of = |id: &Option<String>| {
        id.as_ref()
            .and_then(|id| codes.iter().find(|(i, ..)| i == id))
            .map(|(_, code, _)| code.clone())
            .unwrap_or_default()
    };
    let lines = rows
        .into_iter()
        .map(|r| CannedLine {
            department: code_of(&r.department_id),
            id: r.id,
            title: r.title,
            body: r.body,
            actions: r.actions.split(',').map(str::to_string).collect(),
        })
        .collect();
    let departments = all
        .into_iter()
        .filter(|d| codes.iter().any(|(id, _, keeps)| *keeps && *id == d.id))
        .map(|d| DepartmentItem {
            code: d.code,
            name_ru: d.name_ru,
            name_en: d.name_en,
        })
        .collect();
    html(&CannedPage {
        ctx,
        lines,
        departments,
        city_wide,
    })
}
