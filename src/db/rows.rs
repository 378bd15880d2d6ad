//! Row types, one per table, used both to insert and to load. Ids are UUIDs
//! in their hyphenated text form (the portable representation); conversion
//! to `uuid::Uuid` happens where rows become domain values. The rows that
//! filing writes also serialise to JSON, the form in which PostgreSQL takes a
//! whole batch of them as one parameter (`pg_filing`).

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;

use super::schema::*;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = calendars)]
pub struct CalendarRow {
    pub id: String,
    pub code: String,
    pub name: String,
    pub time_zone: String,
    pub weekly_days_off: String,
    pub work_starts: String,
    pub work_ends: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = calendar_days)]
pub struct CalendarDayRow {
    pub calendar_id: String,
    pub day: NaiveDate,
    pub kind: String,
    pub note: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = sla_policies)]
pub struct SlaPolicyRow {
    pub id: String,
    pub code: String,
    pub name: String,
    pub calendar_id: String,
    pub moderation_days: i32,
    pub answer_days: i32,
    pub fix_days: Option<i32>,
    pub resident_check_days: i32,
    pub warn_percents: String,
    pub moderation_unit: String,
    pub answer_unit: String,
    pub fix_unit: String,
    pub escalation_percents: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = departments)]
pub struct DepartmentRow {
    pub id: String,
    pub code: String,
    pub name_ru: String,
    pub name_en: String,
    pub parent_id: Option<String>,
    pub email: Option<String>,
    pub calendar_id: String,
    pub is_triage: bool,
    #[serde(serialize_with = "crate::clock::utc")]
    pub created_at: NaiveDateTime,
}

/// The name of a group categories are listed under.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, PartialEq)]
#[diesel(table_name = category_groups)]
pub struct CategoryGroupRow {
    pub code: String,
    pub name_ru: String,
    pub name_en: String,
    pub sort_order: i32,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = categories)]
pub struct CategoryRow {
    pub id: String,
    pub code: String,
    pub group_code: String,
    pub name_ru: String,
    pub name_en: String,
    pub description_ru: String,
    pub description_en: String,
    pub attributes: String,
    pub default_department_id: Option<String>,
    pub sla_policy_id: String,
    pub duplicate_radius_m: f64,
    pub active: bool,
    pub sort_order: i32,
    /// Residents' updates wait for a moderator before they are published.
    pub updates_moderated: bool,
    /// The object types (codes, comma-separated) a report of it may name.
    pub object_types: String,
    /// What happens to an answer whose photos are flagged: `flag` (published
    /// with the flag) or `hold` (held for a supervisor).
    pub evidence_policy: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = service_areas)]
pub struct ServiceAreaRow {
    pub id: String,
    pub code: String,
    pub name: String,
    pub geometry: String,
    pub min_lat: f64,
    pub min_lon: f64,
    pub max_lat: f64,
    pub max_lon: f64,
    /// The name in English, when the city gave one.
    pub name_en: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = service_area_routes)]
pub struct ServiceAreaRouteRow {
    pub id: String,
    pub service_area_id: String,
    pub category_id: Option<String>,
    pub department_id: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = users)]
pub struct UserRow {
    pub id: String,
    pub email: String,
    pub name: Option<String>,
    pub phone: Option<String>,
    pub role: String,
    pub department_id: Option<String>,
    pub locale: String,
    #[serde(serialize_with = "crate::clock::utc")]
    pub created_at: NaiveDateTime,
}

/// What lets a user log in.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = accounts)]
pub struct AccountRow {
    pub user_id: String,
    pub password_hash: Option<String>,
    pub email_verified_at: Option<NaiveDateTime>,
    pub totp_secret: Option<String>,
    pub totp_enrolled_at: Option<NaiveDateTime>,
    pub totp_last_step: Option<i64>,
    pub disabled_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = api_keys)]
pub struct ApiKeyRow {
    pub id: String,
    #[serde(skip)]
    pub key_hash: String,
    pub name: String,
    pub kind: String,
    pub user_id: Option<String>,
    #[serde(serialize_with = "crate::clock::utc")]
    pub created_at: NaiveDateTime,
    #[serde(serialize_with = "crate::clock::utc_opt")]
    pub revoked_at: Option<NaiveDateTime>,
    /// What the token may do: `*`, or actions separated by spaces.
    pub scopes: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = counters)]
pub struct CounterRow {
    pub name: String,
    pub value: i64,
}

/// A filing's idempotency key, written with the report.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = idempotency_keys)]
pub struct IdempotencyRow {
    pub key_hash: String,
    pub request_hash: String,
    pub report_id: Option<String>,
    pub status: Option<i32>,
    pub response: Option<String>,
    #[serde(serialize_with = "crate::clock::utc")]
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = reports)]
pub struct ReportRow {
    pub id: String,
    pub number: i64,
    pub category_id: String,
    pub lat: f64,
    pub lon: f64,
    pub address: Option<String>,
    pub description: String,
    pub answers: String,
    pub source: String,
    pub support_count: i32,
    pub status: String,
    pub service_area_id: Option<String>,
    pub department_id: Option<String>,
    pub routing_rule: String,
    pub assignee_id: Option<String>,
    pub reporter_id: Option<String>,
    pub reporter_name_public: bool,
    pub duplicate_of: Option<String>,
    #[serde(serialize_with = "crate::clock::utc")]
    pub created_at: NaiveDateTime,
    #[serde(serialize_with = "crate::clock::utc")]
    pub updated_at: NaiveDateTime,
    #[serde(serialize_with = "crate::clock::utc_opt")]
    pub moderation_due_at: Option<NaiveDateTime>,
    #[serde(serialize_with = "crate::clock::utc_opt")]
    pub answer_due_at: Option<NaiveDateTime>,
    #[serde(serialize_with = "crate::clock::utc_opt")]
    pub resolved_at: Option<NaiveDateTime>,
    #[serde(serialize_with = "crate::clock::utc_opt")]
    pub closed_at: Option<NaiveDateTime>,
    /// 0 from filing; one more at each reopening.
    pub cycle: i32,
    /// When the current cycle began (filing or the last reopening).
    #[serde(serialize_with = "crate::clock::utc_opt")]
    pub cycle_started_at: Option<NaiveDateTime>,
    #[serde(serialize_with = "crate::clock::utc_opt")]
    pub moderated_at: Option<NaiveDateTime>,
    #[serde(serialize_with = "crate::clock::utc_opt")]
    pub responded_at: Option<NaiveDateTime>,
    #[serde(serialize_with = "crate::clock::utc_opt")]
    pub fix_due_at: Option<NaiveDateTime>,
    #[serde(serialize_with = "crate::clock::utc_opt")]
    pub check_due_at: Option<NaiveDateTime>,
    pub escalation_level: i32,
    #[serde(serialize_with = "crate::clock::utc_opt")]
    pub next_sla_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = report_pauses)]
pub struct ReportPauseRow {
    pub id: String,
    pub report_id: String,
    pub cycle: i32,
    pub from_status: String,
    pub reason: String,
    pub note: Option<String>,
    pub resume_on: chrono::NaiveDate,
    pub started_at: NaiveDateTime,
    pub ended_at: Option<NaiveDateTime>,
    pub started_by: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = sla_marks)]
pub struct SlaMarkRow {
    pub report_id: String,
    pub cycle: i32,
    pub stage: String,
    pub mark: String,
    pub due_at: NaiveDateTime,
    pub recorded_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = report_events)]
pub struct ReportEventRow {
    pub id: String,
    pub report_id: String,
    pub actor_id: Option<String>,
    pub actor_role: String,
    pub kind: String,
    pub from_status: Option<String>,
    pub to_status: String,
    pub note: Option<String>,
    pub public: bool,
    #[serde(serialize_with = "crate::clock::utc")]
    pub created_at: NaiveDateTime,
    /// What the event says besides a person's words (`reports::history::Detail`, JSON).
    pub details: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = attachments)]
pub struct AttachmentRow {
    pub id: String,
    pub report_id: String,
    pub event_id: Option<String>,
    pub position: i32,
    pub content_hash: String,
    pub mime: String,
    pub width: i32,
    pub height: i32,
    pub bytes: i64,
    #[serde(serialize_with = "crate::clock::utc")]
    pub created_at: NaiveDateTime,
    /// Hidden by a moderator: served to staff only.
    #[serde(serialize_with = "crate::clock::utc_opt")]
    pub hidden_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = subscriptions)]
pub struct SubscriptionRow {
    pub id: String,
    pub report_id: String,
    pub user_id: String,
    pub kind: String,
    #[serde(serialize_with = "crate::clock::utc")]
    pub created_at: NaiveDateTime,
    #[serde(serialize_with = "crate::clock::utc_opt")]
    pub unsubscribed_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = outbox)]
pub struct OutboxRow {
    pub id: String,
    pub event_id: Option<String>,
    pub recipient: String,
    pub template: String,
    pub locale: String,
    pub payload: String,
    pub message_id: String,
    pub status: String,
    pub attempts: i32,
    #[serde(serialize_with = "crate::clock::utc")]
    pub next_attempt_at: NaiveDateTime,
    #[serde(serialize_with = "crate::clock::utc_opt")]
    pub lease_until: Option<NaiveDateTime>,
    pub last_error: Option<String>,
    #[serde(serialize_with = "crate::clock::utc")]
    pub created_at: NaiveDateTime,
    #[serde(serialize_with = "crate::clock::utc_opt")]
    pub sent_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = ledger_entries)]
pub struct LedgerEntryRow {
    pub seq: i64,
    pub report_id: String,
    pub report_number: i64,
    pub kind: String,
    pub actor: String,
    pub recorded_at: NaiveDateTime,
    pub answer_digest: Option<String>,
    pub photo_digests: String,
    pub prev_hash: String,
    pub hash: String,
    pub evidence: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = ledger_checkpoints)]
pub struct LedgerCheckpointRow {
    pub size: i64,
    pub head_hash: String,
    pub root_hash: String,
    pub signed_at: NaiveDateTime,
    pub public_key: String,
    pub signature: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = report_checks)]
pub struct ReportCheckRow {
    pub report_id: String,
    pub cycle: i32,
    pub user_id: String,
    pub fixed: bool,
    pub reason: Option<String>,
    pub created_at: NaiveDateTime,
}

/// A house of the address registry.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = addresses)]
pub struct AddressRow {
    /// The street folded (lower case, ё as е) and the house: `тверская улица|12к2`.
    pub key: String,
    pub street: String,
    pub street_en: Option<String>,
    /// The house in the registry's form: `12к2`.
    pub house: String,
    pub lat: f64,
    pub lon: f64,
    pub imported_at: NaiveDateTime,
}

/// A city object (asset): a lamp post, a bench, a stop.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = city_objects)]
pub struct CityObjectRow {
    pub id: String,
    /// Its type: `lamp_post`, `bench`.
    pub kind: String,
    /// The register's own id for it.
    pub code: String,
    pub name: String,
    pub name_en: Option<String>,
    pub lat: f64,
    pub lon: f64,
    /// The register's other properties, a JSON object.
    pub properties: String,
    /// The department that owns it (routes its reports), if any.
    pub department_id: Option<String>,
    #[serde(serialize_with = "crate::clock::utc")]
    pub imported_at: NaiveDateTime,
}

/// A report's search term and its weight.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = search_terms)]
pub struct SearchTermRow {
    pub term: String,
    pub report_id: String,
    pub weight: i32,
}

/// The city object a report is about.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = report_objects)]
pub struct ReportObjectRow {
    pub report_id: String,
    pub object_id: String,
    #[serde(serialize_with = "crate::clock::utc")]
    pub created_at: NaiveDateTime,
}

/// A report whose words wait for the search indexer.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = search_pending)]
pub struct SearchPendingRow {
    pub report_id: String,
}

/// An indexed report's terms, space-separated.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = search_docs)]
pub struct SearchDocRow {
    pub report_id: String,
    pub terms: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset, Serialize)]
#[diesel(table_name = endpoints, treat_none_as_null = true)]
pub struct EndpointRow {
    pub id: String,
    pub department_id: Option<String>,
    pub category_id: Option<String>,
    pub url: String,
    #[serde(skip)]
    pub api_key: String,
    pub jurisdiction: Option<String>,
    /// JSON: category code to service code.
    pub services: String,
    /// JSON: question code to attribute code.
    pub attributes: String,
    /// JSON: the endpoint's status to a move.
    pub statuses: String,
    /// `requests`, `updates` or `none`.
    pub pull: String,
    pub withdraw: bool,
    #[serde(serialize_with = "crate::clock::utc_opt")]
    pub pulled_at: Option<NaiveDateTime>,
    #[serde(serialize_with = "crate::clock::utc")]
    pub created_at: NaiveDateTime,
    #[serde(serialize_with = "crate::clock::utc")]
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = handovers)]
pub struct HandoverRow {
    pub report_id: String,
    pub endpoint_id: String,
    pub external_id: Option<String>,
    pub token: Option<String>,
    /// `queued`, `sent` or `withdrawn`.
    pub state: String,
    pub note: Option<String>,
    #[serde(serialize_with = "crate::clock::utc")]
    pub created_at: NaiveDateTime,
    #[serde(serialize_with = "crate::clock::utc_opt")]
    pub sent_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = deliveries)]
pub struct DeliveryRow {
    pub id: String,
    /// `open311`, `withdraw` or `webhook`.
    pub kind: String,
    /// The endpoint's or the webhook's id.
    pub target_id: String,
    pub report_id: String,
    #[serde(skip)]
    pub dedupe: String,
    pub event_type: String,
    #[serde(skip)]
    pub payload: String,
    pub status: String,
    pub attempts: i32,
    #[serde(serialize_with = "crate::clock::utc")]
    pub next_attempt_at: NaiveDateTime,
    #[serde(skip)]
    pub lease_until: Option<NaiveDateTime>,
    pub last_error: Option<String>,
    #[serde(serialize_with = "crate::clock::utc")]
    pub created_at: NaiveDateTime,
    #[serde(serialize_with = "crate::clock::utc_opt")]
    pub sent_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = webhooks)]
pub struct WebhookRow {
    pub id: String,
    pub url: String,
    /// Short event names, comma-separated.
    pub events: String,
    pub category_id: Option<String>,
    pub department_id: Option<String>,
    pub secret: String,
    pub previous_secret: Option<String>,
    pub previous_until: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub deleted_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = back_office_updates)]
pub struct BackOfficeUpdateRow {
    /// `endpoint:ID` (pulled), `department:ID` (pushed) or `mail:ID`.
    pub scope: String,
    pub update_id: String,
    pub report_id: Option<String>,
    /// `pull`, `push` or `mail`.
    pub source: String,
    pub status: String,
    pub notes: Option<String>,
    /// `applied`, `refused` or `ignored`.
    pub outcome: String,
    pub reason: Option<String>,
    pub event_id: Option<String>,
    #[serde(serialize_with = "crate::clock::utc")]
    pub received_at: NaiveDateTime,
}

/// A photo a report came with as an address (Open311 `media_url`).
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = report_media_links)]
pub struct ReportMediaLinkRow {
    pub report_id: String,
    pub position: i32,
    pub url: String,
}
