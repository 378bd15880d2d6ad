//! The one date a message shows, decided by the step it tells of: the
//! deadline of the stage the report is now in, named by its stage, as the
//! report's page shows it; the end of the check window when the city has
//! answered; the date work resumes while paused; none once the report has
//! left the city's hands (rejected, merged, confirmed, closed). Pure.

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};

use crate::sla::schedule::Stage;
use crate::sla::watch::current_stage;

/// The date a message shows, with what it means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StepDate {
    /// The deadline of the current stage (of no stage named: in messages
    /// queued before stages were kept).
    Deadline {
        #[serde(default)]
        stage: Option<Stage>,
        at: NaiveDateTime,
    },
    /// The end of the time the resident has to confirm or refute.
    CheckUntil { at: NaiveDateTime },
    /// The date work is expected to resume.
    ResumeOn { on: NaiveDate },
}

/// A report's clocks after the step.
#[derive(Debug, Clone, Copy, Default)]
pub struct Clocks {
    /// The report is in moderation.
    pub moderating: bool,
    pub responded: bool,
    pub moderation_due: Option<NaiveDateTime>,
    pub answer_due: Option<NaiveDateTime>,
    pub fix_due: Option<NaiveDateTime>,
    pub check_due: Option<NaiveDateTime>,
    /// The open pause's resume date.
    pub resume_on: Option<NaiveDate>,
}

/// The date a message about `event` shows.
pub fn step_date(event: &str, clocks: &Clocks) -> Option<StepDate> {
    match event {
        "rejected" | "marked_duplicate" | "confirmed" | "auto_confirmed" | "closed" => None,
        "answered" | "check_reminder" => clocks.check_due.map(|at| StepDate::CheckUntil { at }),
        "paused" => clocks.resume_on.map(|on| StepDate::ResumeOn { on }),
        _ => {
            let status = if clocks.moderating { "moderation" } else { "" };
            current_stage(
                status,
                clocks.responded,
                clocks.moderation_due,
                clocks.fix_due,
                clocks.answer_due,
            )
            .map(|(stage, at)| StepDate::Deadline {
                stage: Some(stage),
                at,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(day: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 3, day)
            .and_then(|d| d.and_hms_opt(12, 0, 0))
            .expect("a date")
    }

    fn clocks() -> Clocks {
        Clocks {
            moderating: false,
            moderation_due: Some(at(3)),
            responded: false,
            answer_due: Some(at(10)),
            fix_due: Some(at(20)),
            check_due: Some(at(25)),
            resume_on: NaiveDate::from_ymd_opt(2026, 3, 15),
        }
    }

    #[test]
    fn each_step_shows_the_date_that_matters_then() {
        let c = clocks();
        let due = |stage, day| {
            Some(StepDate::Deadline {
                stage: Some(stage),
                at: at(day),
            })
        };
        let moderating = Clocks {
            moderating: true,
            ..c
        };
        assert_eq!(step_date("filed", &moderating), due(Stage::Moderation, 3));
        assert_eq!(step_date("filed", &c), due(Stage::Answer, 10));
        assert_eq!(step_date("accepted", &c), due(Stage::Answer, 10));
        let responded = Clocks {
            responded: true,
            ..c
        };
        assert_eq!(step_date("taken", &responded), due(Stage::Fix, 20));
        let check = Some(StepDate::CheckUntil { at: at(25) });
        assert_eq!(step_date("answered", &c), check);
        assert_eq!(step_date("check_reminder", &c), check);
        assert_eq!(
            step_date("paused", &c),
            c.resume_on.map(|on| StepDate::ResumeOn { on })
        );
        for done in [
            "rejected",
            "marked_duplicate",
            "confirmed",
            "auto_confirmed",
            "closed",
        ] {
            assert_eq!(step_date(done, &c), None, "{done}");
        }
    }

    #[test]
    fn a_step_date_travels_in_a_payload_with_its_meaning() {
        let date = StepDate::CheckUntil { at: at(25) };
        let json = serde_json::to_value(date).expect("serialises");
        assert_eq!(json["kind"], "check_until");
        assert_eq!(serde_json::from_value::<StepDate>(json).ok(), Some(date));
    }
}
