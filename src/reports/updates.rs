//! What residents add to a report after filing, and following one.
//!
//! The reporter and the report's followers (those who supported it and
//! those who only follow it) may add updates — words and photos — to an
//! open report. An update is published at once, or, in a category whose
//! updates are moderated, once a moderator publishes it; staff may hide
//! one with a stated reason, and it then leaves the public history.
//!
//! Following is not supporting: a follower hears of every change, and a
//! "me too" is a support and a follow, but only supports count. Pure: no
//! database, no web.

use super::{ReportStatus, ValidationError, MAX_DESCRIPTION_CHARS};
use crate::locale::Text;

/// How a person stands to a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    Reporter,
    /// Said "me too": counts as support, and follows.
    Supporter,
    /// Follows without supporting.
    Follower,
    /// None of these (or unfollowed).
    Stranger,
}

impl Relation {
    pub fn as_str(self) -> &'static str {
        match self {
            Relation::Reporter => "reporter",
            Relation::Supporter => "supporter",
            Relation::Follower => "follower",
            Relation::Stranger => "stranger",
        }
    }

    /// From a subscription's kind (`reporter`, `follower` — a supporter's
    /// — or `watcher`); `None` is no subscription.
    pub fn of_subscription(kind: Option<&str>) -> Relation {
        match kind {
            Some("reporter") => Relation::Reporter,
            Some("follower") => Relation::Supporter,
            Some("watcher") => Relation::Follower,
            _ => Relation::Stranger,
        }
    }
}

/// Where an update stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateState {
    /// Waits for a moderator.
    Waiting,
    Published,
    /// Hidden by staff, with a reason.
    Hidden,
}

impl UpdateState {
    pub fn as_str(self) -> &'static str {
        match self {
            UpdateState::Waiting => "waiting",
            UpdateState::Published => "published",
            UpdateState::Hidden => "hidden",
        }
    }

    pub fn parse(text: &str) -> Option<UpdateState> {
        match text {
            "waiting" => Some(UpdateState::Waiting),
            "published" => Some(UpdateState::Published),
            "hidden" => Some(UpdateState::Hidden),
            _ => None,
        }
    }

    /// A new update's state under its category's rule.
    pub fn on_arrival(moderated: bool) -> UpdateState {
        if moderated {
            UpdateState::Waiting
        } else {
            UpdateState::Published
        }
    }

    /// Whether the public sees it.
    pub fn is_public(self) -> bool {
        self == UpdateState::Published
    }
}

/// What a moderator decides about an update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Publish,
    Hide,
}

impl Decision {
    pub fn state(self) -> UpdateState {
        match self {
            Decision::Publish => UpdateState::Published,
            Decision::Hide => UpdateState::Hidden,
        }
    }
}

/// Why an update (or a follow) is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The report is no longer open.
    #[error("the report is {0}")]
    Closed(ReportStatus),
    /// Only the reporter and followers add updates.
    #[error("{0}")]
    NotFollowing(Text),
}

/// Whether someone may add an update to a report in `status`.
pub fn may_add(status: ReportStatus, relation: Relation) -> Result<(), Refusal> {
    if !status.is_open() {
        return Err(Refusal::Closed(status));
    }
    if relation == Relation::Stranger {
        return Err(Refusal::NotFollowing(Text::new(
            "добавлять новости к обращению могут заявитель и те, кто за ним следит: сначала подпишитесь на обращение",
            "only the reporter and the report's followers add updates: follow the report first",
        )));
    }
    Ok(())
}

/// Whether someone may start following a report in `status`.
pub fn may_follow(status: ReportStatus) -> Result<(), Refusal> {
    if status.is_open() {
        Ok(())
    } else {
        Err(Refusal::Closed(status))
    }
}

/// What a resident writes in an update: not blank, at most 4,000
/// characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateText(String);

impl UpdateText {
    pub fn parse(field: &str, text: &str) -> Result<UpdateText, ValidationError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(ValidationError::coded(
                field,
                "required",
                Text::new(
                    "обязательное поле: напишите, что изменилось",
                    "is required: say what has changed",
                ),
            ));
        }
        if text.chars().count() > MAX_DESCRIPTION_CHARS {
            return Err(ValidationError::too_long(field, MAX_DESCRIPTION_CHARS));
        }
        Ok(UpdateText(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The reason staff give for hiding or editing something: required, at
/// most 1,000 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffReason(String);

impl StaffReason {
    pub const MAX_CHARS: usize = 1000;

    pub fn parse(field: &str, text: Option<&str>) -> Result<StaffReason, ValidationError> {
        let text = text.unwrap_or_default().trim();
        if text.is_empty() {
            return Err(ValidationError::coded(
                field,
                "required",
                Text::new(
                    "обязательное поле: укажите причину",
                    "is required: give the reason",
                ),
            ));
        }
        if text.chars().count() > Self::MAX_CHARS {
            return Err(ValidationError::too_long(field, Self::MAX_CHARS));
        }
        Ok(StaffReason(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_reporter_and_followers_add_to_an_open_report() {
        for relation in [Relation::Reporter, Relation::Supporter, Relation::Follower] {
            assert_eq!(may_add(ReportStatus::InProgress, relation), Ok(()));
        }
        assert!(matches!(
            may_add(ReportStatus::InProgress, Relation::Stranger),
            Err(Refusal::NotFollowing(_))
        ));
        assert_eq!(
            may_add(ReportStatus::Closed, Relation::Reporter),
            Err(Refusal::Closed(ReportStatus::Closed))
        );
    }

    #[test]
    fn a_subscription_says_how_someone_stands() {
        assert_eq!(
            Relation::of_subscription(Some("follower")),
            Relation::Supporter
        );
        assert_eq!(
            Relation::of_subscription(Some("watcher")),
            Relation::Follower
        );
        assert_eq!(Relation::of_subscription(Some("staff")), Relation::Stranger);
        assert_eq!(Relation::of_subscription(None), Relation::Stranger);
    }

    #[test]
    fn moderated_categories_hold_updates_and_only_published_ones_are_public() {
        assert_eq!(UpdateState::on_arrival(true), UpdateState::Waiting);
        assert!(UpdateState::on_arrival(false).is_public());
        assert!(!UpdateState::Hidden.is_public());
        for s in [
            UpdateState::Waiting,
            UpdateState::Published,
            UpdateState::Hidden,
        ] {
            assert_eq!(UpdateState::parse(s.as_str()), Some(s));
        }
    }

    #[test]
    fn blank_words_and_reasons_are_refused_naming_the_field() {
        assert_eq!(UpdateText::parse("text", "  ").unwrap_err().field, "text");
        assert_eq!(
            UpdateText::parse("text", &"я".repeat(4001))
                .unwrap_err()
                .code,
            "too_long"
        );
        assert_eq!(
            StaffReason::parse("reason", None).unwrap_err().code,
            "required"
        );
        assert_eq!(
            UpdateText::parse("text", " стало хуже ").map(|t| t.as_str().to_string()),
            Ok("стало хуже".to_string())
        );
    }
}
