//! Departments and categories, created or replaced by their codes.

use super::*;
use crate::locale::Text;

/// A department, created or replaced by its code.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DepartmentInput {
    #[schema(schema_with = crate::http::contract::short_text)]
    name_ru: String,
    #[schema(schema_with = crate::http::contract::short_text)]
    name_en: String,
    /// The code of the department above it
    parent: Option<String>,
    /// Where its mail goes
    email: Option<String>,
    /// The code of its working calendar
    calendar: String,
}

/// Create or replace a department (admins); routing uses it at once.
#[utoipa::path(
    tag = "admin",
    params(("code" = String, Path, description = "The department's code")),
    request_body = DepartmentInput,
    security(("token" = [])),
    responses(
        (status = 200, description = "Replaced", body = Object),
        (status = 201, description = "Created", body = Object),
        (status = 400, description = "A field is wrong (named); nothing changed", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
    )
)]
#[put("/admin/departments/{code}")]
pub async fn put_department(
    state: web::Data<AppState>,
    request: HttpRequest,
    code: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let caller = auth::authorize(&state, &request, Permission::ManageCatalog).await?;
    let code = code.into_inner();
    catalogue::check_code(&code)?;
    let input: DepartmentInput = parse_json(&read_body(payload, 16 << 10).await?)?;
    let (name_ru, name_en) = (
        name("name_ru", &input.name_ru)?,
        name("name_en", &input.name_en)?,
    );
    let email = match input
        .email
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty())
    {
        Some(e) => Some(
            crate::reports::EmailAddress::parse("email", e)?
                .as_str()
                .to_string(),
        ),
        None => None,
    };
    let change = DepartmentChange {
        code: code.clone(),
        name_ru,
        name_en,
        parent: input.parent,
        email,
        calendar: input.calendar,
    };
    let app = state.services.clone();
    let Put { before, after, .. } = db(&state, move |conn| {
        Ok(catalogue::put_department(&app, conn, change)?)
    })
    .await?;
    put_answer(
        &state,
        (&request, &caller),
        ("department", code),
        before,
        after,
    )
    .await
}

/// A category, created or replaced by its code.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CategoryInput {
    /// The group it is listed under
    #[schema(schema_with = crate::http::contract::short_text)]
    group: String,
    #[schema(schema_with = crate::http::contract::short_text)]
    name_ru: String,
    #[schema(schema_with = crate::http::contract::short_text)]
    name_en: String,
    description_ru: Option<String>,
    description_en: Option<String>,
    /// The questions residents answer (Open311 attributes), default none
    #[schema(value_type = Option<Vec<Object>>)]
    questions: Option<serde_json::Value>,
    /// The department its reports go to where no service area says otherwise
    default_department: Option<String>,
    /// The code of its SLA policy
    sla_policy: String,
    /// Metres within which open reports are offered as duplicates (1–1000, default 50)
    #[schema(minimum = 1, maximum = 1000)]
    duplicate_radius_m: Option<f64>,
    /// Whether residents can file it (default true)
    active: Option<bool>,
    sort_order: Option<i32>,
    /// Whether residents' updates wait for a moderator before they are
    /// published (default false: published at once)
    updates_moderated: Option<bool>,
    /// The types of city object a report of it may name (`lamp_post`,
    /// `bench`): filing offers the nearest of them; default none
    object_types: Option<Vec<String>>,
    /// An answer whose photos are flagged (taken before the filing or far
    /// away, or reused): `flag` publishes it with the flag (default), `hold`
    /// holds it for a supervisor
    evidence_policy: Option<String>,
}

/// Create or replace a category (admins); filing uses it at once.
#[utoipa::path(
    tag = "admin",
    params(("code" = String, Path, description = "The category's code")),
    request_body = CategoryInput,
    security(("token" = [])),
    responses(
        (status = 200, description = "Replaced", body = Object),
        (status = 201, description = "Created", body = Object),
        (status = 400, description = "A field is wrong (named); nothing changed", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
    )
)]
#[put("/admin/categories/{code}")]
pub async fn put_category(
    state: web::Data<AppState>,
    request: HttpRequest,
    code: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    use crate::reports::questions::{check_questions, Question};
    let caller = auth::authorize(&state, &request, Permission::ManageCatalog).await?;
    let code = code.into_inner();
    catalogue::check_code(&code)?;
    let input: CategoryInput = parse_json(&read_body(payload, 64 << 10).await?)?;
    let (name_ru, name_en) = (
        name("name_ru", &input.name_ru)?,
        name("name_en", &input.name_en)?,
    );
    let group = name("group", &input.group)?;
    let questions: Vec<Question> = match input.questions {
        None | Some(serde_json::Value::Null) => Vec::new(),
        Some(value) => serde_json::from_value(value).map_err(|e| {
            let (code, problem) = crate::http::body::parser_problem(&e.to_string());
            ApiError::invalid_as("questions", code, problem)
        })?,
    };
    check_questions(&questions).map_err(|e| ApiError::invalid("questions", e))?;
    let attributes =
        serde_json::to_string(&questions).map_err(|e| ApiError::Internal(Box::new(e)))?;
    let radius = input.duplicate_radius_m.unwrap_or(50.0);
    if !(1.0..=1000.0).contains(&radius) {
        return Err(ApiError::invalid_as(
            "duplicate_radius_m",
            "out_of_range",
            Text::new("должен быть от 1 до 1000", "must be from 1 to 1000"),
        ));
    }
    use crate::reports::evidence::Policy;
    let evidence_policy = match input.evidence_policy.as_deref() {
        None => Policy::Flag,
        Some(text) => Policy::parse(text).ok_or_else(|| {
            ApiError::invalid(
                "evidence_policy",
                Text::new(
                    format!("«{text}» — не правило: flag или hold"),
                    format!("'{text}' is not a policy: flag or hold"),
                ),
            )
        })?,
    };
    let change = CategoryChange {
        code: code.clone(),
        group,
        name_ru,
        name_en,
        description_ru: input.description_ru.unwrap_or_default(),
        description_en: input.description_en.unwrap_or_default(),
        attributes,
        default_department: input.default_department,
        sla_policy: input.sla_policy,
        duplicate_radius_m: radius,
        active: input.active.unwrap_or(true),
        sort_order: input.sort_order.unwrap_or(0),
        updates_moderated: input.updates_moderated.unwrap_or(false),
        object_types: input.object_types.unwrap_or_default(),
        evidence_policy,
    };
    let app = state.services.clone();
    let Put { before, after, .. } = db(&state, move |conn| {
        Ok(catalogue::put_category(&app, conn, change)?)
    })
    .await?;
    put_answer(
        &state,
        (&request, &caller),
        ("category", code),
        before,
        after,
    )
    .await
}

/// A group categories are listed under, named in both languages.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CategoryGroupInput {
    #[schema(schema_with = crate::http::contract::short_text)]
    name_ru: String,
    #[schema(schema_with = crate::http::contract::short_text)]
    name_en: String,
    /// Where it is listed among the groups (default 0; then by code)
    sort_order: Option<i32>,
}

/// Name a group of categories (admins): the filing form lists categories
/// under their group's name, and a search for it finds them.
#[utoipa::path(
    tag = "admin",
    params(("code" = String, Path, description = "The group's code, as categories give it")),
    request_body = CategoryGroupInput,
    security(("token" = [])),
    responses(
        (status = 200, description = "Renamed", body = Object),
        (status = 201, description = "Created", body = Object),
        (status = 400, description = "A field is wrong (named); nothing changed", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
    )
)]
#[put("/admin/category-groups/{code}")]
pub async fn put_category_group(
    state: web::Data<AppState>,
    request: HttpRequest,
    code: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let caller = auth::authorize(&state, &request, Permission::ManageCatalog).await?;
    let code = code.into_inner();
    catalogue::check_code(&code)?;
    let input: CategoryGroupInput = parse_json(&read_body(payload, 16 << 10).await?)?;
    let row = catalogue::CategoryGroupRow {
        code: code.clone(),
        name_ru: name("name_ru", &input.name_ru)?,
        name_en: name("name_en", &input.name_en)?,
        sort_order: input.sort_order.unwrap_or(0),
    };
    let Put { before, after, .. } = db(&state, move |conn| {
        Ok(catalogue::put_category_group(conn, row)?)
    })
    .await?;
    put_answer(
        &state,
        (&request, &caller),
        ("category_group", code),
        before,
        after,
    )
    .await
}
