//! Who may act: staff accounts (created with a first password), their role
//! and department, disabling and enabling accounts, and API keys (bearer
//! tokens acting as a user, Open311 keys for apps), stored as digests.

pub use crate::db::admin::StaffRow;
pub use crate::db::rows::ApiKeyRow;

use super::{Refused, Services};
use crate::db::rows::UserRow;
use crate::db::{self, admin as admin_db, DbConnection, DbError};
use crate::locale::Locale;
use crate::locale::Text;
use crate::policy::Role;
use crate::reports::{EmailAddress, ValidationError};

/// Every staff account, by email.
pub fn staff(conn: &mut DbConnection) -> Result<Vec<StaffRow>, DbError> {
    admin_db::staff(conn)
}

/// The department a staff member of `role` belongs to, by code: crew and
/// supervisors need one.
fn staff_department(
    app: &Services,
    conn: &mut DbConnection,
    role: Role,
    code: Option<&str>,
) -> Result<Option<String>, Refused> {
    let snapshot = app.catalog_snapshot(conn)?;
    match (role, code.filter(|d| !d.is_empty())) {
        (_, Some(code)) => match snapshot.map.departments().id_of(code) {
            Some(id) => Ok(Some(id.to_string())),
            None => Err(invalid(
                "department",
                Text::new(
                    format!("«{code}» — не подразделение"),
                    format!("'{code}' is not a department"),
                ),
            )),
        },
        (Role::Admin, None) => Ok(None),
        (_, None) => Err(invalid(
            "department",
            Text::new(
                "бригады и руководители относятся к подразделению",
                "crew and supervisors belong to a department",
            ),
        )),
    }
}

fn invalid(field: &str, message: Text) -> Refused {
    Refused::Invalid(ValidationError::new(field, message))
}

/// A new staff account.
pub struct NewStaff {
    pub email: EmailAddress,
    pub name: Option<String>,
    pub role: Role,
    pub department: Option<String>,
    pub locale: Locale,
    pub password_hash: String,
}

/// Creates a staff account; refused when the address has a user already.
pub fn create_staff(
    app: &Services,
    conn: &mut DbConnection,
    new: NewStaff,
) -> Result<StaffRow, Refused> {
    let department_id = staff_department(app, conn, new.role, new.department.as_deref())?;
    if db::access::user_by_email(conn, new.email.as_str())?.is_some() {
        let email = new.email.as_str();
        return Err(Refused::Conflict(Text::new(
            format!("у {email} уже есть учётная запись"),
            format!("{email} has a user already"),
        )));
    }
    let now = app.clock.now();
    let user = UserRow {
        id: db::new_id(),
        email: new.email.as_str().to_string(),
        name: new.name,
        phone: None,
        role: new.role.as_str().to_string(),
        department_id,
        locale: new.locale.code().to_string(),
        created_at: now,
    };
    db::accounts::create_staff(conn, &user, &new.password_hash, now)?;
    admin_db::staff_member(conn, &user.id)?.ok_or_else(|| {
        Refused::NotFound(Text::new(
            "новую учётную запись не удалось прочитать",
            "the new account cannot be read back",
        ))
    })
}

/// Gives a staff member another role or department; (before, after).
pub fn set_role(
    app: &Services,
    conn: &mut DbConnection,
    user_id: &str,
    role: Role,
    department: Option<&str>,
) -> Result<(StaffRow, Option<StaffRow>), Refused> {
    let department = staff_department(app, conn, role, department)?;
    let missing = || {
        Refused::NotFound(Text::new(
            format!("нет учётной записи сотрудника {user_id}"),
            format!("there is no staff account {user_id}"),
        ))
    };
    let before = admin_db::staff_member(conn, user_id)?.ok_or_else(missing)?;
    if !admin_db::set_role(conn, user_id, role.as_str(), department.as_deref())? {
        return Err(missing());
    }
    Ok((before, admin_db::staff_member(conn, user_id)?))
}

/// Disables (every session ends) or enables an account; (before, after).
pub fn set_disabled(
    app: &Services,
    conn: &mut DbConnection,
    user_id: &str,
    disabled: bool,
) -> Result<(StaffRow, Option<StaffRow>), Refused> {
    let before = admin_db::staff_member(conn, user_id)?.ok_or_else(|| {
        Refused::NotFound(Text::new(
            format!("нет учётной записи {user_id}"),
            format!("there is no account {user_id}"),
        ))
    })?;
    db::accounts::set_disabled(conn, user_id, disabled, app.clock.now())?;
    Ok((before, admin_db::staff_member(conn, user_id)?))
}

/// Every API key (never the keys themselves).
pub fn api_keys(conn: &mut DbConnection) -> Result<Vec<ApiKeyRow>, DbError> {
    admin_db::api_keys(conn)
}

/// A new API key, its secret already digested.
pub struct NewKey {
    pub name: String,
    /// api, open311 or back_office
    pub kind: String,
    /// The department a back_office key speaks for (its code).
    pub department: Option<String>,
    /// The user an api token acts as.
    pub user: Option<EmailAddress>,
    pub scopes: String,
    pub key_hash: String,
}

/// Stores a new API key; refused when its user does not exist.
pub fn create_api_key(
    app: &Services,
    conn: &mut DbConnection,
    new: NewKey,
) -> Result<ApiKeyRow, Refused> {
    let user_id = match new.user {
        None => None,
        Some(email) => Some(
            db::access::user_by_email(conn, email.as_str())?.ok_or_else(|| {
                invalid(
                    "user",
                    Text::new(
                        format!("{} — не пользователь", email.as_str()),
                        format!("{} is not a user", email.as_str()),
                    ),
                )
            })?,
        ),
    };
    // A back office's key is scoped to its department (by id).
    let scopes = match (new.kind.as_str(), new.department.as_deref()) {
        ("back_office", Some(code)) => {
            let snapshot = app.catalog_snapshot(conn)?;
            let id = snapshot.map.departments().id_of(code).ok_or_else(|| {
                crate::reports::ValidationError::unknown(
                    "department",
                    code,
                    ("подразделение", "department"),
                )
            })?;
            id.to_string()
        }
        ("back_office", None) => {
            return Err(crate::reports::ValidationError::required("department").into())
        }
        _ => new.scopes,
    };
    let row = ApiKeyRow {
        id: db::new_id(),
        key_hash: new.key_hash,
        name: new.name,
        kind: new.kind,
        user_id,
        created_at: app.clock.now(),
        revoked_at: None,
        scopes,
    };
    admin_db::create_api_key(conn, &row)?;
    Ok(row)
}

/// Revokes an API key at once; the key as it was.
pub fn revoke_api_key(
    app: &Services,
    conn: &mut DbConnection,
    id: &str,
) -> Result<ApiKeyRow, Refused> {
    admin_db::revoke_api_key(conn, id, app.clock.now())?.ok_or_else(|| {
        Refused::NotFound(Text::new(
            format!("нет ключа API {id}"),
            format!("there is no API key {id}"),
        ))
    })
}

/// The department a live back-office key (by digest) speaks for.
pub fn back_office_key(conn: &mut DbConnection, digest: &str) -> Result<Option<String>, DbError> {
    db::access::back_office_key(conn, digest)
}

/// Whether an Open311 key (by digest) is live.
pub fn open311_key_exists(conn: &mut DbConnection, digest: &str) -> Result<bool, DbError> {
    db::access::open311_key_exists(conn, digest)
}
