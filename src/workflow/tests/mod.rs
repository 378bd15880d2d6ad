use std::collections::HashSet;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::*;
use crate::reports::ReportStatus::{self, *};

mod answers_and_effects;

/// city → housing → district; city → triage; roads beside housing.
struct City {
    departments: Departments,
    city: Uuid,
    triage: Uuid,
    housing: Uuid,
    district: Uuid,
    roads: Uuid,
}

fn city() -> City {
    let [city, triage, housing, district, roads] = [0; 5].map(|_| Uuid::new_v4());
    let mut departments = Departments::default();
    departments.add(city, "city", None, false);
    departments.add(triage, "triage", Some(city), true);
    departments.add(housing, "housing", Some(city), false);
    departments.add(district, "district", Some(housing), false);
    departments.add(roads, "roads", Some(city), false);
    City {
        departments,
        city,
        triage,
        housing,
        district,
        roads,
    }
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 2, 20).unwrap()
}

fn case(status: ReportStatus, department: Uuid) -> Case {
    Case {
        status,
        department: Some(department),
        paused_from: (status == Paused).then_some(InProgress),
        fix_target: false,
        today: today(),
        now: today().and_hms_opt(12, 0, 0).unwrap(),
        check_due_at: None,
        refutations: 0,
        refutation_limit: 3,
    }
}

/// Everything any action could need.
fn full_command(c: &City) -> Command {
    Command {
        reason: Some("причина".into()),
        answer: Some("Яма заделана".into()),
        photos: 1,
        pause_reason: Some(PauseReason::SeasonalWork),
        resume_on: Some(NaiveDate::from_ymd_opt(2026, 4, 1).unwrap()),
        department: Some(c.roads),
        original: Some(17),
    }
}

fn actor(role: Role, department: Option<Uuid>) -> Actor {
    Actor {
        role,
        department,
        is_reporter: false,
    }
}

/// The allowed moves, written out by hand from the lifecycle in docs/workflow.md,
/// independently of the table in `rules`.
const EDGES: &[(&str, &str, &str)] = &[
    ("moderation", "accept", "assigned"),
    ("moderation", "reject", "rejected"),
    ("moderation", "mark_duplicate", "duplicate"),
    ("assigned", "mark_duplicate", "duplicate"),
    ("returned", "mark_duplicate", "duplicate"),
    ("assigned", "assign", "assigned"),
    ("returned", "assign", "assigned"),
    ("reopened", "assign", "assigned"),
    ("assigned", "take", "in_progress"),
    ("reopened", "take", "in_progress"),
    ("assigned", "pause", "paused"),
    ("in_progress", "pause", "paused"),
    ("reopened", "pause", "paused"),
    ("paused", "resume", "*"),
    ("assigned", "answer", "resolved"),
    ("in_progress", "answer", "resolved"),
    ("reopened", "answer", "resolved"),
    ("assigned", "return", "returned"),
    ("in_progress", "return", "returned"),
    ("reopened", "return", "returned"),
    ("resolved", "confirm", "confirmed"),
    ("resolved", "refute", "reopened"),
    ("resolved", "auto_confirm", "confirmed"),
    ("confirmed", "close", "closed"),
    ("moderation", "escalate", "moderation"),
    ("assigned", "escalate", "assigned"),
    ("in_progress", "escalate", "in_progress"),
    ("paused", "escalate", "paused"),
    ("returned", "escalate", "returned"),
    ("reopened", "escalate", "reopened"),
];

fn edge(from: ReportStatus, action: Action) -> Option<&'static str> {
    EDGES
        .iter()
        .find(|(f, a, _)| *f == from.as_str() && *a == action.as_str())
        .map(|(_, _, to)| *to)
}

#[test]
fn the_table_is_in_the_order_of_the_actions_and_names_them_uniquely() {
    for (i, action) in Action::ALL.into_iter().enumerate() {
        assert_eq!(RULES[i].action, action);
        assert_eq!(Action::parse(action.as_str()), Some(action));
    }
    let names: HashSet<&str> = RULES.iter().map(|r| r.name).collect();
    assert_eq!(names.len(), RULES.len());
    assert_eq!(Action::parse("approve"), None);
}

#[test]
fn every_status_and_action_is_allowed_exactly_where_the_lifecycle_says() {
    let c = city();
    let admin = actor(Role::Admin, None);
    let system = actor(Role::System, None);
    let reporter = Actor {
        role: Role::Resident,
        department: None,
        is_reporter: true,
    };
    for status in ReportStatus::ALL {
        for action in Action::ALL {
            // Whoever the action is for: the reporter, the system or an admin.
            let who = match action {
                Action::Confirm | Action::Refute => reporter,
                Action::AutoConfirm => system,
                _ => admin,
            };
            let got = decide(
                &case(status, c.district),
                action,
                &full_command(&c),
                &who,
                &c.departments,
            );
            match (edge(status, action), got) {
                (Some("*"), Ok(t)) => assert_eq!(t.to, InProgress, "resumes where it paused"),
                (Some(to), Ok(t)) => assert_eq!(t.to.as_str(), to, "{status} {action}"),
                (None, Err(Refusal::NotNow { .. })) => {}
                (expected, got) => panic!("{status} {action}: expected {expected:?}, got {got:?}"),
            }
        }
    }
}

#[test]
fn each_role_acts_only_within_its_scope() {
    let c = city();
    // Who may do what to a report of the district department; by hand.
    let people: Vec<(&str, Actor)> = vec![
        (
            "reporter",
            Actor {
                role: Role::Resident,
                department: None,
                is_reporter: true,
            },
        ),
        ("another resident", actor(Role::Resident, None)),
        ("crew of the district", actor(Role::Crew, Some(c.district))),
        ("crew of housing", actor(Role::Crew, Some(c.housing))),
        ("crew of roads", actor(Role::Crew, Some(c.roads))),
        (
            "supervisor of the district",
            actor(Role::Supervisor, Some(c.district)),
        ),
        (
            "supervisor of housing",
            actor(Role::Supervisor, Some(c.housing)),
        ),
        (
            "supervisor of the city",
            actor(Role::Supervisor, Some(c.city)),
        ),
        (
            "supervisor of roads",
            actor(Role::Supervisor, Some(c.roads)),
        ),
        (
            "supervisor of triage",
            actor(Role::Supervisor, Some(c.triage)),
        ),
        ("admin", actor(Role::Admin, None)),
        ("system", actor(Role::System, None)),
    ];
    let staff = [
        "crew of the district",
        "supervisor of the district",
        "supervisor of housing",
        "supervisor of the city",
        "admin",
    ];
    let moderators = [
        "supervisor of the district",
        "supervisor of housing",
        "supervisor of the city",
        "admin",
    ];
    let expected = |action: Action| -> Vec<&str> {
        match action {
            Action::Accept
            | Action::Reject
            | Action::MarkDuplicate
            | Action::Assign
            | Action::Escalate => moderators.to_vec(),
            Action::Take | Action::Pause | Action::Resume | Action::Answer | Action::Return => {
                staff.to_vec()
            }
            Action::Confirm | Action::Refute => vec!["reporter"],
            Action::AutoConfirm => vec!["system"],
            Action::Close => vec![
                "supervisor of the district",
                "supervisor of housing",
                "supervisor of the city",
                "admin",
                "system",
            ],
        }
    };
    for action in Action::ALL {
        let status = EDGES
            .iter()
            .find(|(_, a, _)| *a == action.as_str())
            .and_then(|(f, _, _)| f.parse().ok())
            .unwrap();
        let allowed: Vec<&str> = people
            .iter()
            .filter(|(_, who)| {
                decide(
                    &case(status, c.district),
                    action,
                    &full_command(&c),
                    who,
                    &c.departments,
                )
                .is_ok()
            })
            .map(|(name, _)| *name)
            .collect();
        assert_eq!(allowed, expected(action), "{action}");
    }
}

#[test]
fn a_refusal_outside_ones_scope_is_the_same_whatever_the_report_state() {
    let c = city();
    let outsider = actor(Role::Crew, Some(c.roads));
    for status in ReportStatus::ALL {
        for action in Action::ALL {
            assert_eq!(
                decide(
                    &case(status, c.district),
                    action,
                    &Command::default(),
                    &outsider,
                    &c.departments
                ),
                Err(Refusal::Forbidden),
                "{status} {action}"
            );
        }
    }
}

#[test]
fn each_action_asks_for_what_it_needs_by_name() {
    let c = city();
    let admin = actor(Role::Admin, None);
    let reporter = Actor {
        role: Role::Resident,
        department: None,
        is_reporter: true,
    };
    let field = |status: ReportStatus, action: Action, command: Command, who: &Actor, fix: bool| {
        let mut case = case(status, c.district);
        case.fix_target = fix;
        match decide(&case, action, &command, who, &c.departments) {
            Err(Refusal::Missing { field, .. }) => field,
            other => panic!("{action}: {other:?}"),
        }
    };
    let none = Command::default;
    assert_eq!(
        field(Moderation, Action::Reject, none(), &admin, false),
        "reason"
    );
    let blank = Command {
        reason: Some("  ".into()),
        ..none()
    };
    assert_eq!(
        field(InProgress, Action::Return, blank, &admin, false),
        "reason"
    );
    assert_eq!(
        field(Resolved, Action::Refute, none(), &reporter, false),
        "reason"
    );
    assert_eq!(
        field(InProgress, Action::Answer, none(), &admin, false),
        "answer"
    );
    let answered = Command {
        answer: Some("Сделано".into()),
        ..none()
    };
    assert_eq!(
        field(InProgress, Action::Answer, answered.clone(), &admin, true),
        "photos"
    );
    assert!(decide(
        &case(InProgress, c.district),
        Action::Answer,
        &answered,
        &admin,
        &c.departments
    )
    .is_ok());
    assert_eq!(
        field(InProgress, Action::Pause, none(), &admin, false),
        "pause_reason"
    );
    let typed = Command {
        pause_reason: Some(PauseReason::ThirdParty),
        ..none()
    };
    assert_eq!(
        field(InProgress, Action::Pause, typed.clone(), &admin, false),
        "resume_on"
    );
    let past = Command {
        resume_on: Some(today()),
        ..typed
    };
    assert_eq!(
        field(InProgress, Action::Pause, past, &admin, false),
        "resume_on"
    );
    assert_eq!(
        field(Returned, Action::Assign, none(), &admin, false),
        "department"
    );
    let to_triage = Command {
        department: Some(c.triage),
        ..none()
    };
    assert_eq!(
        field(Returned, Action::Assign, to_triage, &admin, false),
        "department"
    );
    let unknown = Command {
        department: Some(Uuid::new_v4()),
        ..none()
    };
    assert_eq!(
        field(Returned, Action::Assign, unknown, &admin, false),
        "department"
    );
    assert_eq!(
        field(Moderation, Action::MarkDuplicate, none(), &admin, false),
        "original"
    );
    let long = Command {
        reason: Some("я".repeat(4001)),
        ..none()
    };
    assert_eq!(
        field(Moderation, Action::Reject, long, &admin, false),
        "reason"
    );
}

/// Random sequences of attempted moves by random people with random
/// inputs never reach a state the lifecycle forbids.
#[test]
fn random_sequences_of_attempts_stay_within_the_lifecycle() {
    let c = city();
    let departments = [c.city, c.triage, c.housing, c.district, c.roads];
    let roles = [
        Role::Resident,
        Role::Crew,
        Role::Supervisor,
        Role::Admin,
        Role::System,
    ];
    let terminal = [Closed, Rejected, Duplicate];
    let mut rng = StdRng::seed_from_u64(7);
    let mut accepted = 0;
    for _ in 0..2000 {
        let mut state = case(Moderation, c.district);
        for _ in 0..60 {
            let action = Action::ALL[rng.random_range(0..Action::ALL.len())];
            let who = Actor {
                role: roles[rng.random_range(0..roles.len())],
                department: rng
                    .random_bool(0.8)
                    .then(|| departments[rng.random_range(0..5)]),
                is_reporter: rng.random_bool(0.5),
            };
            let full = full_command(&c);
            let command = Command {
                reason: if rng.random_bool(0.7) {
                    full.reason
                } else {
                    None
                },
                answer: if rng.random_bool(0.7) {
                    full.answer
                } else {
                    None
                },
                photos: rng.random_range(0..2),
                pause_reason: if rng.random_bool(0.7) {
                    full.pause_reason
                } else {
                    None
                },
                resume_on: if rng.random_bool(0.7) {
                    full.resume_on
                } else {
                    Some(today())
                },
                department: rng
                    .random_bool(0.7)
                    .then(|| departments[rng.random_range(0..5)]),
                original: rng.random_bool(0.7).then_some(5),
            };
            state.fix_target = rng.random_bool(0.5);
            let before = state;
            match decide(&state, action, &command, &who, &c.departments) {
                Ok(t) => {
                    accepted += 1;
                    let to = edge(before.status, action).unwrap_or_else(|| {
                        panic!("{} {action} is not in the lifecycle", before.status)
                    });
                    if to == "*" {
                        assert_eq!(
                            Some(t.to),
                            before.paused_from,
                            "resume returns where it paused"
                        );
                    } else {
                        assert_eq!(t.to.as_str(), to);
                    }
                    assert!(!terminal.contains(&before.status), "left a terminal state");
                    if who.role != Role::Admin
                        && who.role != Role::System
                        && who.role != Role::Resident
                    {
                        assert!(in_scope(&who, before.department, &c.departments));
                    }
                    if who.role == Role::Resident {
                        assert!(who.is_reporter, "only the reporter moves a report");
                    }
                    state.paused_from = (t.to == Paused).then_some(before.status);
                    state.status = t.to;
                    match action {
                        Action::Assign => state.department = command.department,
                        Action::Return => state.department = Some(c.triage),
                        _ => {}
                    }
                }
                Err(_) => assert_eq!(state, before),
            }
        }
    }
    assert!(
        accepted > 2000,
        "the sequences moved reports ({accepted} moves)"
    );
}

#[test]
fn the_queue_offers_only_one_click_moves_the_role_may_make() {
    let crew = actor(Role::Crew, None);
    let supervisor = actor(Role::Supervisor, None);
    assert_eq!(quick_moves(Assigned, &crew), [Action::Take]);
    assert_eq!(quick_moves(Moderation, &crew), []);
    assert_eq!(quick_moves(Moderation, &supervisor), [Action::Accept]);
    assert_eq!(quick_moves(Paused, &crew), [Action::Resume]);
    assert_eq!(quick_moves(Resolved, &crew), []);
    let resident = actor(Role::Resident, None);
    assert_eq!(quick_moves(Assigned, &resident), []);
}
