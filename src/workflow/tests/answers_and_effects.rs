//! The residents' answers to the city's answer, resolution moves' ledger entries, the moves offered, and what each move changes.

use super::*;
use crate::reports::history::Detail;

fn reporter() -> Actor {
    Actor {
        role: Role::Resident,
        department: None,
        is_reporter: true,
    }
}

#[test]
fn residents_answer_only_while_the_check_window_is_open() {
    let c = city();
    let mut answered = case(Resolved, c.district);
    answered.check_due_at = Some(answered.now + chrono::TimeDelta::hours(1));
    let refute = Command {
        reason: Some("Яма на месте".into()),
        ..Command::default()
    };
    assert!(decide(
        &answered,
        Action::Refute,
        &refute,
        &reporter(),
        &c.departments
    )
    .is_ok());
    answered.check_due_at = Some(answered.now - chrono::TimeDelta::seconds(1));
    for action in [Action::Confirm, Action::Refute] {
        let refusal = decide(&answered, action, &refute, &reporter(), &c.departments).unwrap_err();
        assert!(
            matches!(&refusal, Refusal::Closed(m) if m.en().contains("ended")),
            "{refusal:?}"
        );
    }
    // The scanner still confirms it.
    let system = Actor {
        role: Role::System,
        department: None,
        is_reporter: false,
    };
    assert!(decide(
        &answered,
        Action::AutoConfirm,
        &Command::default(),
        &system,
        &c.departments
    )
    .is_ok());
}

#[test]
fn the_refutation_that_reaches_the_limit_hands_the_report_to_a_supervisor() {
    let c = city();
    let refute = Command {
        reason: Some("Не сделано".into()),
        ..Command::default()
    };
    let mut answered = case(Resolved, c.district);
    answered.refutations = 1;
    let second = decide(
        &answered,
        Action::Refute,
        &refute,
        &reporter(),
        &c.departments,
    )
    .unwrap();
    assert!(!second.to_supervisor);
    answered.refutations = 2;
    let third = decide(
        &answered,
        Action::Refute,
        &refute,
        &reporter(),
        &c.departments,
    )
    .unwrap();
    assert!(third.to_supervisor);
    assert_eq!(third.to, Reopened);

    // Refuted three times: the crew may work on it, only a supervisor answers.
    let mut reopened = case(Reopened, c.district);
    reopened.refutations = 3;
    let crew = Actor {
        role: Role::Crew,
        department: Some(c.district),
        is_reporter: false,
    };
    let supervisor = Actor {
        role: Role::Supervisor,
        department: Some(c.housing),
        is_reporter: false,
    };
    let answer = full_command(&c);
    assert!(decide(&reopened, Action::Take, &answer, &crew, &c.departments).is_ok());
    assert!(matches!(
        decide(&reopened, Action::Answer, &answer, &crew, &c.departments),
        Err(Refusal::Closed(_))
    ));
    assert!(decide(
        &reopened,
        Action::Answer,
        &answer,
        &supervisor,
        &c.departments
    )
    .is_ok());
    // And the reporter can no longer refute; confirming is still theirs.
    answered.refutations = 3;
    assert!(matches!(
        decide(
            &answered,
            Action::Refute,
            &refute,
            &reporter(),
            &c.departments
        ),
        Err(Refusal::Closed(_))
    ));
    assert!(decide(
        &answered,
        Action::Confirm,
        &Command::default(),
        &reporter(),
        &c.departments
    )
    .is_ok());
}

#[test]
fn resolution_moves_name_their_ledger_entries() {
    use crate::ledger::Kind;
    let kinds = |a: Action| rules::rule(a).ledger.to_vec();
    assert_eq!(kinds(Action::Answer), [Kind::Resolved]);
    assert_eq!(kinds(Action::Refute), [Kind::Refuted, Kind::Reopened]);
    assert_eq!(kinds(Action::Confirm), [Kind::Confirmed]);
    assert_eq!(kinds(Action::AutoConfirm), [Kind::AutoConfirmed]);
    assert_eq!(kinds(Action::Close), [Kind::Closed]);
    assert!(kinds(Action::Take).is_empty() && kinds(Action::Pause).is_empty());
}

/// The buttons a page offers are exactly the moves `decide` allows with
/// everything filled in, for every status and actor.
#[test]
fn available_moves_are_the_ones_decide_allows() {
    let c = city();
    let command = full_command(&c);
    let mut reporter = actor(Role::Resident, None);
    reporter.is_reporter = true;
    let actors = [
        actor(Role::Crew, Some(c.roads)),
        actor(Role::Crew, Some(c.housing)),
        actor(Role::Supervisor, Some(c.city)),
        actor(Role::Supervisor, Some(c.housing)),
        actor(Role::Admin, None),
        actor(Role::Resident, None),
        reporter,
    ];
    for status in ReportStatus::ALL {
        for a in &actors {
            let mut case = case(status, c.roads);
            case.check_due_at = Some(case.now + chrono::TimeDelta::days(3));
            let offered = available(&case, a, &c.departments);
            let allowed: Vec<Action> = Action::ALL
                .into_iter()
                .filter(|&action| action != Action::AutoConfirm)
                .filter(|&action| decide(&case, action, &command, a, &c.departments).is_ok())
                .collect();
            assert_eq!(offered, allowed, "{status:?} for {a:?}");
        }
    }
    // A crew member of the department is offered the crew's moves.
    let assigned = case(Assigned, c.roads);
    let crew = available(&assigned, &actors[0], &c.departments);
    assert_eq!(
        crew,
        vec![Action::Take, Action::Pause, Action::Answer, Action::Return]
    );
    assert!(available(&assigned, &actors[1], &c.departments).is_empty());
}

fn effects_of(case: &Case, action: Action, command: &Command, actor: &Actor, c: &City) -> Effects {
    let transition = decide(case, action, command, actor, &c.departments).unwrap();
    effects::effects(&transition, case, command, &c.departments)
}

use effects::{Assignee, Department, Effects};

#[test]
fn each_move_says_what_it_changes_and_the_note_it_leaves() {
    let c = city();
    let admin = actor(Role::Admin, None);
    let command = full_command(&c);

    let assign = effects_of(
        &case(Assigned, c.housing),
        Action::Assign,
        &command,
        &admin,
        &c,
    );
    assert_eq!(assign.department, Department::Set(Some(c.roads)));
    assert_eq!(assign.assignee, Assignee::Clear);
    assert_eq!(
        assign.detail,
        Some(Detail::Assigned {
            department: "roads".into()
        })
    );
    assert!(!assign.closes);

    let back = effects_of(
        &case(InProgress, c.housing),
        Action::Return,
        &command,
        &admin,
        &c,
    );
    assert_eq!(back.department, Department::Set(Some(c.triage)));

    let take = effects_of(
        &case(Assigned, c.housing),
        Action::Take,
        &command,
        &admin,
        &c,
    );
    assert_eq!(take.assignee, Assignee::Actor);
    assert!(take.responded);

    let pause = effects_of(
        &case(InProgress, c.housing),
        Action::Pause,
        &command,
        &admin,
        &c,
    );
    let opened = pause.opens_pause.expect("a pause opens");
    assert_eq!(opened.reason, PauseReason::SeasonalWork);
    assert_eq!(pause.note.as_deref(), Some("причина"));
    assert_eq!(
        pause.detail,
        Some(Detail::Paused {
            reason: "seasonal_work".into(),
            resume_on: opened.resume_on
        })
    );

    let resume = effects_of(
        &case(Paused, c.housing),
        Action::Resume,
        &command,
        &admin,
        &c,
    );
    assert!(resume.ends_pause);

    let duplicate = effects_of(
        &case(Moderation, c.triage),
        Action::MarkDuplicate,
        &command,
        &admin,
        &c,
    );
    assert_eq!(duplicate.duplicate_of, Some(17));
    assert_eq!(duplicate.note.as_deref(), Some("причина"));
    assert_eq!(duplicate.detail, Some(Detail::Duplicate { of: 17 }));

    let reject = effects_of(
        &case(Moderation, c.triage),
        Action::Reject,
        &command,
        &admin,
        &c,
    );
    assert!(
        reject.closes,
        "a rejection takes the report out of the city's hands"
    );
    assert_eq!(reject.note.as_deref(), Some("причина"));
}

#[test]
fn the_last_refutation_clears_the_assignee_and_says_a_supervisor_answers() {
    let c = city();
    let reporter = Actor {
        role: Role::Resident,
        department: None,
        is_reporter: true,
    };
    let command = Command {
        reason: Some("не сделано".into()),
        ..Command::default()
    };
    let mut resolved = case(Resolved, c.housing);
    let first = effects_of(&resolved, Action::Refute, &command, &reporter, &c);
    assert!(first.new_cycle && first.escalate);
    assert_eq!(first.assignee, Assignee::Keep);
    assert_eq!(first.note.as_deref(), Some("не сделано"));

    resolved.refutations = 2;
    let last = effects_of(&resolved, Action::Refute, &command, &reporter, &c);
    assert_eq!(last.assignee, Assignee::Clear);
    assert_eq!(last.note.as_deref(), Some("не сделано"));
    assert_eq!(last.detail, Some(Detail::ToSupervisor { refutations: 3 }));
}
