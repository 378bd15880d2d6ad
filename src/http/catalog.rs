//! The city's catalogue as the public sees it: categories and departments.

use actix_web::{get, web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use super::{db, ApiError, AppState};
use crate::app::catalogue;

#[derive(Serialize, ToSchema)]
struct CategoryView {
    code: String,
    group: String,
    name: Names,
    department: Option<String>,
    sla_policy: String,
    duplicate_radius_m: f64,
    /// The category's questions (Open311 service-definition attributes)
    #[schema(value_type = Vec<Object>)]
    attributes: serde_json::Value,
}

#[derive(Serialize, ToSchema)]
struct Names {
    ru: String,
    en: String,
}

/// The city's categories, with their department, SLA policy and questions.
#[utoipa::path(tag = "catalogue", responses((status = 200, description = "Active categories", body = Vec<CategoryView>)))]
#[get("/categories")]
pub async fn categories(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let listings = db(&state, |conn| Ok(catalogue::categories(conn)?)).await?;
    let views = listings
        .into_iter()
        .map(|l| {
            let c = l.category;
            let attributes = serde_json::from_str(&c.attributes).map_err(|e| {
                ApiError::Internal(format!("category '{}' attributes: {e}", c.code).into())
            })?;
            Ok(CategoryView {
                code: c.code,
                group: c.group_code,
                name: Names {
                    ru: c.name_ru,
                    en: c.name_en,
                },
                department: l.department_code,
                sla_policy: l.sla_code,
                duplicate_radius_m: c.duplicate_radius_m,
                attributes,
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    Ok(HttpResponse::Ok().json(views))
}

#[derive(Serialize, ToSchema)]
struct DepartmentView {
    code: String,
    name: Names,
    parent: Option<String>,
    triage: bool,
}

/// The city's departments.
#[utoipa::path(tag = "catalogue", responses((status = 200, description = "Departments", body = Vec<DepartmentView>)))]
#[get("/departments")]
pub async fn departments(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let rows = db(&state, |conn| Ok(catalogue::departments(conn)?)).await?;
    let code_of = |id: &str| rows.iter().find(|d| d.id == id).map(|d| d.code.clone());
    let views: Vec<DepartmentView> = rows
        .iter()
        .map(|d| DepartmentView {
            code: d.code.clone(),
            name: Names {
                ru: d.name_ru.clone(),
                en: d.name_en.clone(),
            },
            parent: d.parent_id.as_deref().and_then(code_of),
            triage: d.is_triage,
        })
        .collect();
    Ok(HttpResponse::Ok().json(views))
}
