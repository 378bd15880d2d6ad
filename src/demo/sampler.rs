//! Sampling the demo's reports: where, what, by whom, and a history that
//! follows one of the workflow's paths.

use super::*;

pub(super) struct ReportSampler<'a> {
    pub(super) rng: StdRng,
    pub(super) now: NaiveDateTime,
    pub(super) texts: SampleTexts,
    pub(super) crews: HashMap<String, Vec<String>>,
    pub(super) residents: &'a [UserRow],
    pub(super) map: &'a CityMap,
    pub(super) categories: &'a [(CategoryRouting, Vec<Question>)],
}

/// Each status and the path a report takes to reach it.
const PATHS: &[(ReportStatus, &[ReportStatus])] = {
    use ReportStatus::*;
    &[
        (Moderation, &[]),
        (Rejected, &[Rejected]),
        (Duplicate, &[Duplicate]),
        (Assigned, &[Assigned]),
        (Returned, &[Assigned, Returned]),
        (InProgress, &[Assigned, InProgress]),
        (Paused, &[Assigned, InProgress, Paused]),
        (Resolved, &[Assigned, InProgress, Resolved]),
        (Reopened, &[Assigned, InProgress, Resolved, Reopened]),
        (Confirmed, &[Assigned, InProgress, Resolved, Confirmed]),
        (Closed, &[Assigned, InProgress, Resolved, Confirmed, Closed]),
    ]
};

impl ReportSampler<'_> {
    pub(super) fn sample(&mut self, city: &mut DemoCity) -> Result<(), DemoError> {
        let rng = &mut self.rng;
        let area = self
            .map
            .areas()
            .choose(rng)
            .ok_or_else(|| bad("service_areas.geojson", "no service areas"))?;
        let (category, questions) = self
            .categories
            .choose(rng)
            .ok_or_else(|| bad("categories.json", "no categories"))?;
        let (lat, lon) = point_inside(rng, &area.shape);
        let decision = routing::route(category, area, self.map.departments());
        let answers = sample_answers(rng, questions);
        let reporter = self
            .residents
            .choose(rng)
            .ok_or_else(|| bad("people.json", "no residents"))?;
        // Every status in turn, so the demo shows each of them.
        let (status, path) = PATHS[city.reports.len() % PATHS.len()];
        let mut at = self.now
            - TimeDelta::days(i64::from(rng.random_range(0..60u32)) + 3 * path.len() as i64)
            - TimeDelta::minutes(i64::from(rng.random_range(0..1440u32)));
        let report_id = Uuid::new_v4().to_string();
        let description = self
            .texts
            .descriptions
            .get(&category.code)
            .and_then(|d| d.choose(rng))
            .cloned()
            .unwrap_or_else(|| category.code.clone());
        let department = decision
            .department_id
            .map(|d| d.to_string())
            .unwrap_or_default();
        let crew = self
            .crews
            .get(&department)
            .and_then(|c| c.choose(rng))
            .cloned();
        let mut row = ReportRow {
            id: report_id.clone(),
            number: 0,
            category_id: category.id.to_string(),
            lat,
            lon,
            address: rng
                .random_bool(0.6)
                .then(|| format!("{}, д. {}", area.name, rng.random_range(1..60u32))),
            description,
            answers: serde_json::to_string(&answers).unwrap_or_else(|_| "{}".into()),
            source: "demo".into(),
            support_count: 1,
            status: status.as_str().into(),
            service_area_id: Some(area.id.to_string()),
            department_id: decision.department_id.map(|d| d.to_string()),
            routing_rule: decision.rule.clone(),
            assignee_id: None,
            reporter_id: Some(reporter.id.clone()),
            reporter_name_public: rng.random_bool(0.3),
            duplicate_of: None,
            created_at: at,
            updated_at: at,
            moderation_due_at: None,
            answer_due_at: None,
            resolved_at: None,
            closed_at: None,
            cycle: 0,
            cycle_started_at: Some(at),
            moderated_at: None,
            responded_at: None,
            fix_due_at: None,
            check_due_at: None,
            escalation_level: 0,
            // The SLA scanner works out the deadlines on its first pass.
            next_sla_at: Some(at),
        };
        let event = |city: &mut DemoCity,
                     at: NaiveDateTime,
                     actor: Option<&String>,
                     role: &str,
                     kind: &str,
                     from: Option<ReportStatus>,
                     to: ReportStatus,
                     note: Option<String>| {
            city.report_events.push(ReportEventRow {
                id: Uuid::new_v4().to_string(),
                report_id: report_id.clone(),
                actor_id: actor.cloned(),
                actor_role: role.into(),
                kind: kind.into(),
                from_status: from.map(|s| s.as_str().into()),
                to_status: to.as_str().into(),
                note,
                public: true,
                created_at: at,
            });
        };
        event(
            city,
            at,
            Some(&reporter.id),
            "resident",
            "filed",
            None,
            ReportStatus::Moderation,
            Some(format!("Routed: {}", decision.rule)),
        );
        let mut from = ReportStatus::Moderation;
        for &to in path {
            at += TimeDelta::minutes(i64::from(rng.random_range(30..2 * 1440u32)));
            let pick = |rng: &mut StdRng, list: &[String]| list.choose(rng).cloned();
            let (actor, role, kind, note) = match to {
                ReportStatus::Rejected => (
                    None,
                    "system",
                    "rejected",
                    pick(rng, &self.texts.rejections),
                ),
                ReportStatus::Duplicate => (
                    None,
                    "system",
                    "marked_duplicate",
                    Some("Объединено с более ранним обращением".into()),
                ),
                ReportStatus::Assigned => (None, "system", "accepted", None),
                ReportStatus::Returned => (
                    crew.as_ref(),
                    "crew",
                    "returned",
                    pick(rng, &self.texts.returns),
                ),
                ReportStatus::InProgress => (crew.as_ref(), "crew", "taken", None),
                ReportStatus::Paused => (
                    crew.as_ref(),
                    "crew",
                    "paused",
                    pick(rng, &self.texts.pauses),
                ),
                ReportStatus::Resolved => (
                    crew.as_ref(),
                    "crew",
                    "answered",
                    pick(rng, &self.texts.answers),
                ),
                ReportStatus::Reopened => (
                    Some(&reporter.id),
                    "resident",
                    "refuted",
                    pick(rng, &self.texts.refutations),
                ),
                ReportStatus::Confirmed => (Some(&reporter.id), "resident", "confirmed", None),
                _ => (None, "system", "closed", None),
            };
            let note_of_pause = note.clone();
            event(city, at, actor, role, kind, Some(from), to, note);
            match to {
                ReportStatus::Assigned => row.moderated_at = Some(at),
                ReportStatus::InProgress => {
                    row.assignee_id = crew.clone();
                    row.responded_at = Some(at);
                }
                ReportStatus::Paused => city.report_pauses.push(ReportPauseRow {
                    id: Uuid::new_v4().to_string(),
                    report_id: report_id.clone(),
                    cycle: row.cycle,
                    from_status: from.as_str().into(),
                    reason: PauseReason::ALL[rng.random_range(0..PauseReason::ALL.len())]
                        .as_str()
                        .into(),
                    note: note_of_pause.clone(),
                    resume_on: (at + TimeDelta::days(21)).date(),
                    started_at: at,
                    ended_at: None,
                    started_by: crew.clone(),
                }),
                ReportStatus::Reopened => {
                    row.cycle += 1;
                    row.cycle_started_at = Some(at);
                    row.responded_at = None;
                    row.resolved_at = None;
                }
                ReportStatus::Resolved => row.resolved_at = Some(at),
                ReportStatus::Closed | ReportStatus::Rejected => row.closed_at = Some(at),
                ReportStatus::Duplicate => row.closed_at = Some(at),
                _ => {}
            }
            from = to;
        }
        row.updated_at = at;
        city.subscriptions.push(SubscriptionRow {
            id: Uuid::new_v4().to_string(),
            report_id: report_id.clone(),
            user_id: reporter.id.clone(),
            kind: "reporter".into(),
            created_at: row.created_at,
            unsubscribed_at: None,
        });
        city.reports.push(row);
        Ok(())
    }
}

/// Answers to the required questions, as a resident would give them.
pub fn sample_answers(rng: &mut StdRng, questions: &[Question]) -> BTreeMap<String, Answer> {
    questions
        .iter()
        .filter(|q| q.required)
        .filter_map(|q| {
            let answer = match q.datatype {
                Datatype::Singlevaluelist => Answer::Text(q.values.choose(rng)?.key.clone()),
                Datatype::Multivaluelist => {
                    Answer::Choices(vec![q.values.choose(rng)?.key.clone()])
                }
                Datatype::Number => Answer::Number(f64::from(rng.random_range(1..10u32))),
                _ => Answer::Text(rng.random_range(1..6u32).to_string()),
            };
            Some((q.code.clone(), answer))
        })
        .collect()
}
