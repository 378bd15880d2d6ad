//! What the admin API reads and writes: catalogue rows by code, staff
//! accounts, API keys.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::catalog::bump_catalog_version;
use super::rows::{
    ApiKeyRow, CalendarDayRow, CategoryGroupRow, CategoryRow, DepartmentRow, SlaPolicyRow,
};
use super::schema::{
    accounts, api_keys, calendar_days, calendars, categories, category_groups, departments,
    sla_policies, users,
};
use super::{write_transaction, DbConnection, DbError};

pub fn department(conn: &mut DbConnection, code: &str) -> Result<Option<DepartmentRow>, DbError> {
    Ok(departments::table
        .filter(departments::code.eq(code))
        .select(DepartmentRow::as_select())
        .first(conn)
        .optional()?)
}

/// Creates or replaces a department (by id).
pub fn put_department(
    conn: &mut DbConnection,
    row: &DepartmentRow,
    exists: bool,
) -> Result<(), DbError> {
    write_transaction(conn, |conn| {
        if exists {
            diesel::update(departments::table.find(&row.id))
                .set((
                    departments::name_ru.eq(&row.name_ru),
                    departments::name_en.eq(&row.name_en),
                    departments::parent_id.eq(&row.parent_id),
                    departments::email.eq(&row.email),
                    departments::calendar_id.eq(&row.calendar_id),
                ))
                .execute(conn)?;
        } else {
            diesel::insert_into(departments::table)
                .values(row)
                .execute(conn)?;
        }
        bump_catalog_version(conn)
    })
}

pub fn category_group(
    conn: &mut DbConnection,
    code: &str,
) -> Result<Option<CategoryGroupRow>, DbError> {
    Ok(category_groups::table
        .find(code)
        .select(CategoryGroupRow::as_select())
        .first(conn)
        .optional()?)
}

/// Creates or renames a group of categories.
pub fn put_category_group(conn: &mut DbConnection, row: &CategoryGroupRow) -> Result<(), DbError> {
    write_transaction(conn, |conn| {
        let updated = diesel::update(category_groups::table.find(&row.code))
            .set((
                category_groups::name_ru.eq(&row.name_ru),
                category_groups::name_en.eq(&row.name_en),
                category_groups::sort_order.eq(row.sort_order),
            ))
            .execute(conn)?;
        if updated == 0 {
            diesel::insert_into(category_groups::table)
                .values(row)
                .execute(conn)?;
        }
        bump_catalog_version(conn)
    })
}

pub fn category(conn: &mut DbConnection, code: &str) -> Result<Option<CategoryRow>, DbError> {
    Ok(categories::table
        .filter(categories::code.eq(code))
        .select(CategoryRow::as_select())
        .first(conn)
        .optional()?)
}

/// Creates or replaces a category (by id).
pub fn put_category(
    conn: &mut DbConnection,
    row: &CategoryRow,
    exists: bool,
) -> Result<(), DbError> {
    write_transaction(conn, |conn| {
        if exists {
            diesel::update(categories::table.find(&row.id))
                .set((
                    categories::group_code.eq(&row.group_code),
                    categories::name_ru.eq(&row.name_ru),
                    categories::name_en.eq(&row.name_en),
                    categories::description_ru.eq(&row.description_ru),
                    categories::description_en.eq(&row.description_en),
                    categories::attributes.eq(&row.attributes),
                    categories::default_department_id.eq(&row.default_department_id),
                    categories::sla_policy_id.eq(&row.sla_policy_id),
                    categories::duplicate_radius_m.eq(row.duplicate_radius_m),
                    categories::active.eq(row.active),
                    categories::sort_order.eq(row.sort_order),
                ))
                .execute(conn)?;
        } else {
            diesel::insert_into(categories::table)
                .values(row)
                .execute(conn)?;
        }
        bump_catalog_version(conn)
    })
}

pub fn calendar_id(conn: &mut DbConnection, code: &str) -> Result<Option<String>, DbError> {
    Ok(calendars::table
        .filter(calendars::code.eq(code))
        .select(calendars::id)
        .first(conn)
        .optional()?)
}

pub fn sla_policy(conn: &mut DbConnection, code: &str) -> Result<Option<SlaPolicyRow>, DbError> {
    Ok(sla_policies::table
        .filter(sla_policies::code.eq(code))
        .select(SlaPolicyRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn calendar_day(
    conn: &mut DbConnection,
    calendar_code: &str,
    day: chrono::NaiveDate,
) -> Result<Option<CalendarDayRow>, DbError> {
    Ok(calendar_days::table
        .inner_join(calendars::table)
        .filter(calendars::code.eq(calendar_code))
        .filter(calendar_days::day.eq(day))
        .select(CalendarDayRow::as_select())
        .first(conn)
        .optional()?)
}

/// A staff member as admins see them (their account, if they have one).
#[derive(Debug, Clone, Queryable, Selectable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = users)]
pub struct StaffRow {
    pub id: String,
    pub email: String,
    pub name: Option<String>,
    pub role: String,
    pub department_id: Option<String>,
    #[schema(value_type = Option<String>)]
    #[diesel(select_expression = accounts::totp_enrolled_at.nullable())]
    #[serde(serialize_with = "crate::clock::utc_opt")]
    pub totp_enrolled_at: Option<NaiveDateTime>,
    #[schema(value_type = Option<String>)]
    #[diesel(select_expression = accounts::disabled_at.nullable())]
    #[serde(serialize_with = "crate::clock::utc_opt")]
    pub disabled_at: Option<NaiveDateTime>,
}

/// Every user who is not a resident.
pub fn staff(conn: &mut DbConnection) -> Result<Vec<StaffRow>, DbError> {
    Ok(users::table
        .left_join(accounts::table)
        .filter(users::role.ne("resident"))
        .order(users::email)
        .select(StaffRow::as_select())
        .load(conn)?)
}

/// One staff member, or a resident with an account, as admins see them.
pub fn staff_member(conn: &mut DbConnection, user_id: &str) -> Result<Option<StaffRow>, DbError> {
    Ok(users::table
        .left_join(accounts::table)
        .filter(users::id.eq(user_id))
        .filter(
            users::role
                .ne("resident")
                .or(accounts::user_id.is_not_null()),
        )
        .select((
            users::id,
            users::email,
            users::name,
            users::role,
            users::department_id,
            accounts::totp_enrolled_at.nullable(),
            accounts::disabled_at.nullable(),
        ))
        .first(conn)
        .optional()?)
}

pub fn api_keys(conn: &mut DbConnection) -> Result<Vec<ApiKeyRow>, DbError> {
    Ok(api_keys::table
        .order(api_keys::created_at)
        .select(ApiKeyRow::as_select())
        .load(conn)?)
}

pub fn create_api_key(conn: &mut DbConnection, row: &ApiKeyRow) -> Result<(), DbError> {
    diesel::insert_into(api_keys::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// Revokes a key; the key as it was, if there is one.
pub fn revoke_api_key(
    conn: &mut DbConnection,
    id: &str,
    now: NaiveDateTime,
) -> Result<Option<ApiKeyRow>, DbError> {
    write_transaction(conn, |conn| {
        let Some(before) = api_keys::table
            .find(id)
            .select(ApiKeyRow::as_select())
            .first(conn)
            .optional()?
        else {
            return Ok(None);
        };
        diesel::update(
            api_keys::table
                .find(id)
                .filter(api_keys::revoked_at.is_null()),
        )
        .set(api_keys::revoked_at.eq(now))
        .execute(conn)?;
        Ok(Some(before))
    })
}

/// Gives a staff member another role or department; whether they exist.
pub fn set_role(
    conn: &mut DbConnection,
    user_id: &str,
    role: &str,
    department_id: Option<&str>,
) -> Result<bool, DbError> {
    Ok(diesel::update(
        users::table
            .find(user_id)
            .filter(users::role.ne("resident")),
    )
    .set((users::role.eq(role), users::department_id.eq(department_id)))
    .execute(conn)?
        == 1)
}
