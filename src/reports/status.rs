use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Where a report stands. The transitions between them belong to the workflow;
/// this is only the vocabulary, shared with the database's CHECK constraint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportStatus {
    Moderation,
    Assigned,
    InProgress,
    Paused,
    Resolved,
    Confirmed,
    Closed,
    Rejected,
    Duplicate,
    Returned,
    Reopened,
}

impl ReportStatus {
    pub const ALL: [ReportStatus; 11] = [
        ReportStatus::Moderation,
        ReportStatus::Assigned,
        ReportStatus::InProgress,
        ReportStatus::Paused,
        ReportStatus::Resolved,
        ReportStatus::Confirmed,
        ReportStatus::Closed,
        ReportStatus::Rejected,
        ReportStatus::Duplicate,
        ReportStatus::Returned,
        ReportStatus::Reopened,
    ];

    /// The status as people say it, in each language.
    pub fn words(self) -> crate::locale::Text {
        let (ru, en) = match self {
            ReportStatus::Moderation => ("на модерации", "in moderation"),
            ReportStatus::Assigned => ("назначено", "assigned"),
            ReportStatus::InProgress => ("в работе", "in progress"),
            ReportStatus::Paused => ("приостановлено", "paused"),
            ReportStatus::Resolved => ("решено, ждёт проверки", "answered, awaiting check"),
            ReportStatus::Confirmed => ("решение подтверждено", "fix confirmed"),
            ReportStatus::Closed => ("закрыто", "closed"),
            ReportStatus::Rejected => ("отклонено", "rejected"),
            ReportStatus::Duplicate => ("повтор", "duplicate"),
            ReportStatus::Returned => ("возвращено", "returned"),
            ReportStatus::Reopened => ("переоткрыто", "reopened"),
        };
        crate::locale::Text::new(ru, en)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ReportStatus::Moderation => "moderation",
            ReportStatus::Assigned => "assigned",
            ReportStatus::InProgress => "in_progress",
            ReportStatus::Paused => "paused",
            ReportStatus::Resolved => "resolved",
            ReportStatus::Confirmed => "confirmed",
            ReportStatus::Closed => "closed",
            ReportStatus::Rejected => "rejected",
            ReportStatus::Duplicate => "duplicate",
            ReportStatus::Returned => "returned",
            ReportStatus::Reopened => "reopened",
        }
    }

    /// The statuses in which the city owes the resident nothing more.
    pub const DONE: [ReportStatus; 4] = [
        ReportStatus::Confirmed,
        ReportStatus::Closed,
        ReportStatus::Rejected,
        ReportStatus::Duplicate,
    ];

    /// Whether the city still owes the resident something on this report.
    pub fn is_open(self) -> bool {
        !ReportStatus::DONE.contains(&self)
    }
}

impl fmt::Display for ReportStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a report status; expected one of: moderation, assigned, in_progress, paused, resolved, confirmed, closed, rejected, duplicate, returned, reopened")]
pub struct UnknownStatus(pub String);

impl UnknownStatus {
    /// Why, in each language.
    pub fn text(&self) -> crate::locale::Text {
        let all: Vec<&str> = ReportStatus::ALL.iter().map(|s| s.as_str()).collect();
        let all = all.join(", ");
        crate::locale::Text::new(
            format!("«{}» — не статус сообщения; возможны: {all}", self.0),
            format!(
                "'{}' is not a report status; expected one of: {all}",
                self.0
            ),
        )
    }
}

impl FromStr for ReportStatus {
    type Err = UnknownStatus;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ReportStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| UnknownStatus(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_round_trips_through_its_name() {
        for status in ReportStatus::ALL {
            assert_eq!(status.as_str().parse::<ReportStatus>(), Ok(status));
        }
        assert!("open".parse::<ReportStatus>().is_err());
    }
}
