//! A report as its readers see it: names in both languages, deadlines, pauses, photos, the residents' check and the ledger entries, built from what the use case read.

use super::*;
use crate::locale::Locale;
use crate::reports::history;

impl Names {
    /// The English name for `en` (when there is one), else the Russian.
    pub fn pick(&self, lang: &str) -> &str {
        crate::locale::pick(lang, &self.ru, &self.en)
    }
}

#[derive(Serialize, ToSchema)]
pub(crate) struct Names {
    pub(crate) ru: String,
    pub(crate) en: String,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct DepartmentRef {
    pub(crate) code: String,
    pub(crate) name: Names,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct CategoryRef {
    pub(crate) code: String,
    pub(crate) name: Names,
    /// Residents' updates wait for a moderator before they are published
    pub(crate) updates_moderated: bool,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct HistoryEntry {
    /// The event's id (photos attached to it name it)
    pub(crate) id: String,
    #[serde(serialize_with = "crate::clock::utc")]
    pub(crate) at: NaiveDateTime,
    pub(crate) kind: String,
    pub(crate) actor_role: String,
    pub(crate) from_status: Option<String>,
    pub(crate) to_status: String,
    /// What happened, in words, in both languages
    pub(crate) text: Names,
    /// What the person wrote (a reason, an answer)
    pub(crate) note: Option<String>,
    /// Staff-only history (shown to staff whose scope holds the report)
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub(crate) internal: bool,
    /// A resident's update: where it stands (`published`; staff also see
    /// `waiting` and `hidden`, with the reason)
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) update: Option<UpdateStanding>,
}

/// Where a resident's update stands.
#[derive(Serialize, ToSchema)]
pub(crate) struct UpdateStanding {
    pub(crate) state: String,
    /// Why staff hid it
    pub(crate) reason: Option<String>,
}

/// The residents' check of the city's answer.
#[derive(Serialize, ToSchema)]
pub struct CheckView {
    /// Until when the reporter may confirm or refute the current answer
    #[serde(serialize_with = "crate::clock::utc_opt")]
    pub(crate) window_closes_at: Option<NaiveDateTime>,
    /// Answers refuted so far, and how many may be
    pub(crate) refutations: i32,
    pub(crate) refutation_limit: i32,
    /// Followers' answers to the current answer
    pub(crate) followers_fixed: i64,
    pub(crate) followers_not_fixed: i64,
}

/// A city object named by a report.
#[derive(Serialize, ToSchema)]
pub(crate) struct ObjectRef {
    pub(crate) id: String,
    /// Its type: `lamp_post`, `bench`…
    #[serde(rename = "type")]
    pub(crate) kind: String,
    /// The register's own id for it
    pub(crate) code: String,
    pub(crate) name: Names,
    /// Its page, with its reports
    pub(crate) url: String,
}

impl ObjectRef {
    pub(crate) fn new(public_url: &str, o: crate::app::geodata::CityObjectRow) -> ObjectRef {
        ObjectRef {
            url: format!("{public_url}/objects/{}", o.id),
            id: o.id,
            kind: o.kind,
            code: o.code,
            name: Names {
                en: o.name_en.unwrap_or_else(|| o.name.clone()),
                ru: o.name,
            },
        }
    }
}

/// The public face of one report.
#[derive(Serialize, ToSchema)]
pub(crate) struct ReportView {
    pub(crate) id: String,
    pub(crate) number: i64,
    pub(crate) status: String,
    pub(crate) category: CategoryRef,
    pub(crate) lat: f64,
    pub(crate) lon: f64,
    pub(crate) address: Option<String>,
    pub(crate) description: String,
    /// The district, in the city's language
    pub(crate) service_area: Option<String>,
    /// The district in English, when the city named it so
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) service_area_en: Option<String>,
    pub(crate) department: Option<DepartmentRef>,
    /// The city object the report is about, when the resident picked one
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) object: Option<ObjectRef>,
    pub(crate) reporter_name: Option<String>,
    #[schema(value_type = Object)]
    pub(crate) answers: serde_json::Value,
    pub(crate) photos: Vec<PhotoView>,
    pub(crate) support_count: i32,
    pub(crate) duplicate_of: Option<String>,
    #[serde(serialize_with = "crate::clock::utc")]
    pub(crate) created_at: NaiveDateTime,
    #[serde(serialize_with = "crate::clock::utc")]
    pub(crate) updated_at: NaiveDateTime,
    #[serde(serialize_with = "crate::clock::utc_opt")]
    pub(crate) moderation_due_at: Option<NaiveDateTime>,
    #[serde(serialize_with = "crate::clock::utc_opt")]
    pub(crate) answer_due_at: Option<NaiveDateTime>,
    #[serde(serialize_with = "crate::clock::utc_opt")]
    pub(crate) resolved_at: Option<NaiveDateTime>,
    #[serde(serialize_with = "crate::clock::utc_opt")]
    pub(crate) closed_at: Option<NaiveDateTime>,
    /// The current stage and its deadline; null once no clock runs.
    pub(crate) deadline: Option<DeadlineView>,
    /// Every pause, with its reason.
    pub(crate) pauses: Vec<PauseView>,
    pub(crate) history: Vec<HistoryEntry>,
    pub(crate) check: CheckView,
    /// The report's entries in the resolution ledger
    pub(crate) ledger: Vec<crate::http::ledger::EntryView>,
    /// Moderators' edits with what each replaced (staff only)
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(value_type = Vec<Object>)]
    pub(crate) edits: Vec<crate::app::moderation::Edit>,
}

/// Where a report stands against its deadline. Deadlines are counted as the
/// docs/deadlines.md says.
#[derive(Serialize, ToSchema)]
pub struct DeadlineView {
    /// moderation, answer, fix or resident_check
    pub(crate) stage: &'static str,
    /// e.g. {"unit": "working_days", "value": 8}
    #[schema(value_type = Object)]
    pub(crate) target: crate::sla::calendar::Target,
    #[serde(serialize_with = "crate::clock::utc")]
    pub(crate) started_at: NaiveDateTime,
    /// null while the report is paused
    #[serde(serialize_with = "crate::clock::utc_opt")]
    pub(crate) deadline: Option<NaiveDateTime>,
    /// Working days (calendar days for the resident check) used so far
    pub(crate) days_used: u32,
    /// Working days (calendar days for the resident check) left; while
    /// paused, those that will be left when work resumes
    pub(crate) days_left: u32,
    pub(crate) breached: bool,
    pub(crate) paused: bool,
    /// While paused: the date work is expected to resume
    pub(crate) resume_on: Option<chrono::NaiveDate>,
    /// 0 from filing; one more after each refuted answer
    pub(crate) cycle: i32,
    /// 0: the crew; 1: the department's supervisors; 2: the city's
    /// Staff only (null for the public): 0 the crew; 1 the department's
    /// supervisors; 2 the city's
    pub(crate) escalation_level: Option<i32>,
}

#[derive(Serialize, ToSchema)]
pub struct PauseView {
    /// waiting_for_resident, seasonal_work, third_party or procurement
    pub(crate) reason: String,
    pub(crate) note: Option<String>,
    /// The date work is expected to resume
    pub(crate) resume_on: chrono::NaiveDate,
    #[serde(serialize_with = "crate::clock::utc")]
    pub(crate) started_at: NaiveDateTime,
    /// null while paused
    #[serde(serialize_with = "crate::clock::utc_opt")]
    pub(crate) ended_at: Option<NaiveDateTime>,
}

#[derive(Serialize, ToSchema)]
pub struct PhotoView {
    /// Its id (a moderator hides a photo by it)
    pub id: String,
    pub url: String,
    /// The history event the photo came with (an answer, a refutation);
    /// null for the report's own photos
    pub event_id: Option<String>,
    pub thumbnail_url: String,
    pub width: i32,
    pub height: i32,
    /// Hidden from the public by a moderator (staff see it)
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub hidden: bool,
    /// What was checked of an answer's or a refutation's photo
    #[serde(skip_serializing_if = "Option::is_none")]
    pub check: Option<crate::http::evidence::PhotoCheckView>,
}

impl PhotoView {
    pub fn new(state: &AppState, photo: &AttachmentRow) -> PhotoView {
        PhotoView {
            check: None,
            id: photo.id.clone(),
            hidden: photo.hidden_at.is_some(),
            url: state.photo_url(&photo.content_hash, Variant::Full),
            event_id: photo.event_id.clone(),
            thumbnail_url: state.photo_url(&photo.content_hash, Variant::Thumbnail),
            width: photo.width,
            height: photo.height,
        }
    }
}

/// What a report's view is built with beside the report: the catalogue's
/// names, residents' updates, moderators' edits, the photos' checks.
pub(crate) type Beside<'a> = (
    &'a history::Names,
    &'a [crate::app::updates::Update],
    Vec<crate::app::moderation::Edit>,
    &'a [(String, crate::reports::evidence::PhotoCheck)],
);

impl ReportView {
    pub(crate) fn new(
        state: &AppState,
        d: ReportDetail,
        photos: Vec<AttachmentRow>,
        clocks: Clocks,
        (names, updates, edits, photo_checks): Beside<'_>,
    ) -> Result<ReportView, ApiError> {
        let shown = history::Shown {
            names,
            time_zone: state.time_zone,
        };
        let r = d.report;
        let open_pause = clocks.pauses.iter().find(|p| p.ended_at.is_none());
        let paused = open_pause.is_some();
        let resume_on = open_pause.map(|p| p.resume_on);
        let deadline = clocks.standing.map(|s| DeadlineView {
            stage: s.stage,
            target: s.target,
            started_at: s.started_at,
            deadline: s.deadline,
            days_used: s.days_used,
            days_left: s.days_left,
            breached: s.breached,
            paused,
            resume_on,
            cycle: r.cycle,
            escalation_level: clocks.internal_history.then_some(r.escalation_level),
        });
        let pauses = clocks
            .pauses
            .into_iter()
            .map(|p| PauseView {
                reason: p.reason,
                note: p.note,
                resume_on: p.resume_on,
                started_at: p.started_at,
                ended_at: p.ended_at,
            })
            .collect();
        let check = CheckView {
            window_closes_at: r.check_due_at,
            refutations: r.cycle,
            refutation_limit: state.refutation_limit,
            followers_fixed: clocks.checks.0,
            followers_not_fixed: clocks.checks.1,
        };
        let local = crate::http::evidence::local_time(state);
        let answers = serde_json::from_str(&r.answers)
            .map_err(|e| ApiError::Internal(format!("report {} answers: {e}", r.number).into()))?;
        Ok(ReportView {
            id: r.id,
            number: r.number,
            status: r.status,
            category: CategoryRef {
                updates_moderated: d.category.updates_moderated,
                code: d.category.code,
                name: Names {
                    ru: d.category.name_ru,
                    en: d.category.name_en,
                },
            },
            lat: r.lat,
            lon: r.lon,
            address: r.address,
            description: r.description,
            service_area: d.service_area,
            service_area_en: d.service_area_en,
            department: d.department.map(|dep| DepartmentRef {
                code: dep.code,
                name: Names {
                    ru: dep.name_ru,
                    en: dep.name_en,
                },
            }),
            object: d
                .object
                .map(|o| ObjectRef::new(&state.services.public_url, o)),
            reporter_name: d.reporter_name,
            answers,
            photos: photos
                .iter()
                .map(|p| {
                    let mut view = PhotoView::new(state, p);
                    view.check = photo_checks
                        .iter()
                        .find(|(event, check)| {
                            Some(event) == p.event_id.as_ref() && check.digest == p.content_hash
                        })
                        .map(|(_, check)| {
                            crate::http::evidence::PhotoCheckView::of(
                                check,
                                crate::http::requests::language(),
                                &local,
                            )
                        });
                    view
                })
                .collect(),
            support_count: r.support_count,
            duplicate_of: r.duplicate_of,
            created_at: r.created_at,
            updated_at: r.updated_at,
            moderation_due_at: r.moderation_due_at,
            answer_due_at: r.answer_due_at,
            resolved_at: r.resolved_at,
            closed_at: r.closed_at,
            deadline,
            pauses,
            history: d
                .events
                .into_iter()
                .filter(|e| e.public || clocks.internal_history)
                .map(|e| HistoryEntry {
                    text: {
                        let detail = history::Detail::from_json(e.details.as_deref());
                        let event = history::Event {
                            kind: &e.kind,
                            detail: detail.as_ref(),
                        };
                        Names {
                            ru: history::describe(&event, shown, Locale::Ru),
                            en: history::describe(&event, shown, Locale::En),
                        }
                    },
                    update: updates
                        .iter()
                        .find(|u| u.event_id == e.id)
                        .map(|u| UpdateStanding {
                            state: u.state.clone(),
                            reason: u.reason.clone(),
                        }),
                    id: e.id,
                    internal: !e.public,
                    at: e.created_at,
                    kind: e.kind,
                    actor_role: e.actor_role,
                    from_status: e.from_status,
                    to_status: e.to_status,
                    note: e.note,
                })
                .collect(),
            check,
            ledger: clocks.ledger.into_iter().map(Into::into).collect(),
            edits,
        })
    }
}
