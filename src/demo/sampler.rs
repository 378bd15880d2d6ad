//! Sampling the demo's reports: where, what, by whom, and the moves made
//! on it since. The moves are the workflow's own actions, replayed through
//! it when the demo is loaded (`app::demo`), so each report ends in the
//! status the workflow gives it and its history, deadlines, marks and
//! ledger entries are what a real one's would be.

use super::*;

pub(super) struct ReportSampler<'a> {
    pub(super) rng: StdRng,
    pub(super) now: NaiveDateTime,
    pub(super) texts: SampleTexts,
    pub(super) crews: HashMap<Uuid, Vec<String>>,
    pub(super) residents: &'a [UserRow],
    pub(super) map: &'a CityMap,
    pub(super) categories: &'a [(CategoryRouting, Vec<Question>)],
}

/// A sample report: what its resident filed and when, and what was done.
#[derive(Debug, Clone)]
pub struct DemoReport {
    pub filed_at: NaiveDateTime,
    pub report: NewReport,
    /// The resident who filed it (they confirm or refute the answer).
    pub reporter_id: String,
    /// The crew member who works on it, with their department, when the
    /// department it is routed to has crews.
    pub crew: Option<(String, Uuid)>,
    /// Oldest first.
    pub moves: Vec<DemoMove>,
}

/// A move made on a sample report. Who made it follows from the action:
/// the reporter answers the city's answer, the crew works, the admin
/// moderates and closes. A duplicate's original is the latest report of
/// its category filed before it.
#[derive(Debug, Clone)]
pub struct DemoMove {
    pub at: NaiveDateTime,
    pub action: Action,
    pub command: Command,
}

/// The ways a sample report goes, one for each status it can end in, in
/// turn (so the demo shows every status).
const PATHS: &[&[Action]] = {
    use Action::*;
    &[
        &[],
        &[Reject],
        &[MarkDuplicate],
        &[Accept],
        &[Accept, Return],
        &[Accept, Take],
        &[Accept, Take, Pause],
        &[Accept, Take, Answer],
        &[Accept, Take, Answer, Refute],
        &[Accept, Take, Answer, Confirm],
        &[Accept, Take, Answer, Confirm, Close],
    ]
};

impl ReportSampler<'_> {
    pub(super) fn sample(&mut self, count: usize) -> Result<DemoReport, DemoError> {
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
        let answers = sample_answers(rng, questions)
            .into_iter()
            .map(|(code, answer)| (code, raw(answer)))
            .collect();
        let reporter = self
            .residents
            .choose(rng)
            .ok_or_else(|| bad("people.json", "no residents"))?;
        let path = PATHS[count % PATHS.len()];
        // A report left answered is recent, so its residents' check is
        // still open; the others spread over the last two months.
        let last_answered = path.last() == Some(&Action::Answer);
        let (days_back, gap_minutes) = if last_answered {
            (path.len() as i64, 30..720u32)
        } else {
            (
                i64::from(rng.random_range(0..60u32)) + 3 * path.len() as i64,
                30..2 * 1440u32,
            )
        };
        let filed_at = self.now
            - TimeDelta::days(days_back)
            - TimeDelta::minutes(i64::from(rng.random_range(0..1440u32)));
        let description = self
            .texts
            .descriptions
            .get(&category.code)
            .and_then(|d| d.choose(rng))
            .cloned()
            .unwrap_or_else(|| category.code.clone());
        let crew = decision.department_id.and_then(|department| {
            let crew = self.crews.get(&department)?.choose(rng)?;
            Some((crew.clone(), department))
        });
        let report = NewReport {
            category_code: category.code.clone(),
            location: Location::parse(lat, lon)
                .map_err(|e| bad("service_areas.geojson", e.message.en()))?,
            description: Description::parse(&description)
                .map_err(|e| bad("sample_texts.json", e.message.en()))?,
            address: rng
                .random_bool(0.6)
                .then(|| format!("{}, д. {}", area.name, rng.random_range(1..60u32))),
            raw_answers: answers,
            reporter: Some(Reporter {
                email: EmailAddress::parse("email", &reporter.email)
                    .map_err(|e| bad("people.json", e.message.en()))?,
                name: reporter.name.clone(),
                phone: None,
                show_name: rng.random_bool(0.3),
                locale: Some(Locale::Ru),
            }),
            object: None,
            media_urls: Vec::new(),
        };
        let mut at = filed_at;
        let mut moves = Vec::new();
        for &action in path {
            at += TimeDelta::minutes(i64::from(rng.random_range(gap_minutes.clone())));
            let pick = |rng: &mut StdRng, list: &[String]| list.choose(rng).cloned();
            let command = match action {
                Action::Reject => Command {
                    reason: pick(rng, &self.texts.rejections),
                    ..Command::default()
                },
                Action::Return => Command {
                    reason: pick(rng, &self.texts.returns),
                    ..Command::default()
                },
                Action::Pause => Command {
                    reason: pick(rng, &self.texts.pauses),
                    pause_reason: PauseReason::ALL.choose(rng).copied(),
                    resume_on: Some((at + TimeDelta::days(21)).date()),
                    ..Command::default()
                },
                Action::Answer => Command {
                    answer: pick(rng, &self.texts.answers),
                    ..Command::default()
                },
                Action::Refute => Command {
                    reason: pick(rng, &self.texts.refutations),
                    ..Command::default()
                },
                _ => Command::default(),
            };
            moves.push(DemoMove {
                at,
                action,
                command,
            });
        }
        Ok(DemoReport {
            filed_at,
            report,
            reporter_id: reporter.id.clone(),
            crew,
            moves,
        })
    }
}

/// An answer as a resident sends it.
fn raw(answer: Answer) -> RawAnswer {
    match answer {
        Answer::Number(n) => RawAnswer::Number(n),
        Answer::Text(t) => RawAnswer::Text(t),
        Answer::Choices(list) => RawAnswer::List(list),
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
