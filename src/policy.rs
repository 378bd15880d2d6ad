//! Who may do what, in one place: a table of role × action → scope, and one
//! function, [`allows`], that every handler calls before it acts (through
//! `http::auth::Caller::require`). Public reads that take no credentials
//! (the map, the catalogue, the ledger) are `ReadPublic`, everyone's, and
//! skip the call; links from emails carry their own signed proof.
//!
//! Scopes: **own** (the caller's own account, or a report they filed or
//! follow), **department** (reports routed to the caller's department),
//! **department tree** (their department and every department below it),
//! **everything**. A role without an entry for an action may not do it.
//! The workflow's rules (which staff move may follow which status) sit on
//! top of this: a move the table allows may still be refused for the
//! report's status, never the other way round.

use uuid::Uuid;

use crate::routing::Departments;

/// What a request does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// Read what is public: reports without contact data, the map, the
    /// catalogue, public statistics, the ledger.
    ReadPublic,
    /// File a report, or join one ("me too").
    FileReport,
    /// Confirm or refute the city's answer.
    CheckAnswer,
    /// See one's own account, change its password and second factor, log
    /// out.
    ManageOwnAccount,
    /// See a report's internal history (staff notes, routing decisions).
    ReadInternal,
    /// Move a report through the workflow; add an internal note.
    MoveReport,
    /// Residents' words and photos on a report: publish or hide their
    /// updates; edit a report's description and address, hide its photos
    /// or its reporter's name (always with a reason, originals kept).
    ModerateContent,
    /// A department's canned answers (supervisors within their tree).
    ManageCannedAnswers,
    /// The SLA watch list, its statistics and CSV export.
    WatchSla,
    /// Approve or reject an answer held because its photos were flagged.
    ApproveAnswers,
    /// The catalogue: departments, categories, SLA policies, calendars,
    /// service areas.
    ManageCatalog,
    /// Staff accounts and API keys; disabling accounts.
    ManageAccess,
    /// The audit log.
    ReadAudit,
    /// Operations: the outbox, digests, SLA scans, ledger checkpoints.
    Operate,
}

impl Permission {
    pub const ALL: [Permission; 14] = [
        Permission::ReadPublic,
        Permission::FileReport,
        Permission::CheckAnswer,
        Permission::ManageOwnAccount,
        Permission::ReadInternal,
        Permission::MoveReport,
        Permission::ModerateContent,
        Permission::ManageCannedAnswers,
        Permission::WatchSla,
        Permission::ApproveAnswers,
        Permission::ManageCatalog,
        Permission::ManageAccess,
        Permission::ReadAudit,
        Permission::Operate,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Permission::ReadPublic => "read_public",
            Permission::FileReport => "file_report",
            Permission::CheckAnswer => "check_answer",
            Permission::ManageOwnAccount => "manage_own_account",
            Permission::ReadInternal => "read_internal",
            Permission::MoveReport => "move_report",
            Permission::ModerateContent => "moderate_content",
            Permission::ManageCannedAnswers => "manage_canned_answers",
            Permission::WatchSla => "watch_sla",
            Permission::ApproveAnswers => "approve_answers",
            Permission::ManageCatalog => "manage_catalog",
            Permission::ManageAccess => "manage_access",
            Permission::ReadAudit => "read_audit",
            Permission::Operate => "operate",
        }
    }
}

/// How far a permission reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Scope {
    Nothing,
    Own,
    Department,
    DepartmentTree,
    Everything,
}

use Scope::{Department as Dept, DepartmentTree as Tree, Everything as All, Nothing as No, Own};

/// A role in the city.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    Resident,
    Crew,
    Supervisor,
    Admin,
    System,
}

impl Role {
    pub fn parse(text: &str) -> Option<Role> {
        match text {
            "resident" => Some(Role::Resident),
            "crew" => Some(Role::Crew),
            "supervisor" => Some(Role::Supervisor),
            "admin" => Some(Role::Admin),
            "system" => Some(Role::System),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Resident => "resident",
            Role::Crew => "crew",
            Role::Supervisor => "supervisor",
            Role::Admin => "admin",
            Role::System => "system",
        }
    }
}

/// The table: for each action, the scope of an anonymous caller, a
/// resident, crew, a supervisor and an admin.
const TABLE: [(Permission, [Scope; 5]); 14] = [
    (Permission::ReadPublic, [All, All, All, All, All]),
    (Permission::FileReport, [All, All, All, All, All]),
    (Permission::CheckAnswer, [No, Own, No, No, No]),
    (Permission::ManageOwnAccount, [No, Own, Own, Own, Own]),
    (Permission::ReadInternal, [No, No, Dept, Tree, All]),
    (Permission::MoveReport, [No, No, Dept, Tree, All]),
    (Permission::ModerateContent, [No, No, No, Tree, All]),
    (Permission::ManageCannedAnswers, [No, No, No, Tree, All]),
    (Permission::WatchSla, [No, No, Dept, Tree, All]),
    (Permission::ApproveAnswers, [No, No, No, Tree, All]),
    (Permission::ManageCatalog, [No, No, No, No, All]),
    (Permission::ManageAccess, [No, No, No, No, All]),
    (Permission::ReadAudit, [No, No, No, No, All]),
    (Permission::Operate, [No, No, No, No, All]),
];

/// The scope of a role (`None`: anonymous) for an action. The system (the
/// scanner, the demo loader) may do everything.
pub fn scope(role: Option<Role>, action: Permission) -> Scope {
    let column = match role {
        None => 0,
        Some(Role::Resident) => 1,
        Some(Role::Crew) => 2,
        Some(Role::Supervisor) => 3,
        Some(Role::Admin) => 4,
        Some(Role::System) => return All,
    };
    TABLE
        .iter()
        .find(|(a, _)| *a == action)
        .map_or(No, |(_, scopes)| scopes[column])
}

/// The caller as the policy sees them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Principal {
    /// `None`: anonymous.
    pub role: Option<Role>,
    pub user_id: Option<String>,
    pub department: Option<Uuid>,
}

/// What an action is done to.
#[derive(Debug, Clone, Copy)]
pub enum Target {
    /// Nothing in particular (a list, a new report, the catalogue): "own"
    /// means the caller's own account.
    Nothing,
    /// A report routed to `department`; `involves_caller`: the caller filed
    /// or follows it.
    Report {
        department: Option<Uuid>,
        involves_caller: bool,
    },
    /// A department (a watch list narrowed to it).
    Department(Uuid),
}

/// Whether `who` may do `action` to `target`.
pub fn allows(
    who: &Principal,
    action: Permission,
    target: Target,
    departments: &Departments,
) -> bool {
    let scope = scope(who.role, action);
    match scope {
        No => false,
        All => true,
        Own => match target {
            Target::Nothing => who.user_id.is_some(),
            Target::Report {
                involves_caller, ..
            } => who.user_id.is_some() && involves_caller,
            Target::Department(_) => false,
        },
        Dept | Tree => {
            let department = match target {
                Target::Nothing => return who.department.is_some(),
                Target::Report { department, .. } => department,
                Target::Department(d) => Some(d),
            };
            reaches(scope, who.department, department, departments)
        }
    }
}

/// Whether a department scope rooted at `own` reaches `department`.
pub fn reaches(
    scope: Scope,
    own: Option<Uuid>,
    department: Option<Uuid>,
    departments: &Departments,
) -> bool {
    match (scope, own, department) {
        (All, _, _) => true,
        (Dept, Some(own), Some(d)) => own == d,
        (Tree, Some(own), Some(d)) => departments.depth_below(d, own).is_some(),
        _ => false,
    }
}

/// The departments whose reports `who` sees for `action`: `None` for all
/// of them, else the list (empty: none).
pub fn departments_in_scope(
    who: &Principal,
    action: Permission,
    departments: &Departments,
) -> Option<Vec<Uuid>> {
    match (scope(who.role, action), who.department) {
        (All, _) => None,
        (Dept, Some(own)) => Some(vec![own]),
        (Tree, Some(own)) => Some(departments.subtree(own)),
        _ => Some(Vec::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree() -> (Departments, Uuid, Uuid, Uuid) {
        let (roads, yard, parks) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let mut departments = Departments::default();
        departments.add(roads, "roads", None, false);
        departments.add(yard, "yard", Some(roads), false);
        departments.add(parks, "parks", None, false);
        (departments, roads, yard, parks)
    }

    fn staff(role: Role, department: Uuid) -> Principal {
        Principal {
            role: Some(role),
            user_id: Some("u".into()),
            department: Some(department),
        }
    }

    #[test]
    fn every_action_has_a_row() {
        for action in Permission::ALL {
            assert!(TABLE.iter().any(|(a, _)| *a == action), "{action:?}");
        }
    }

    #[test]
    fn department_scopes_reach_as_the_tree_says() {
        let (tree, roads, yard, parks) = tree();
        let report = |d| Target::Report {
            department: Some(d),
            involves_caller: false,
        };
        let supervisor = staff(Role::Supervisor, roads);
        let crew = staff(Role::Crew, roads);
        assert!(allows(
            &supervisor,
            Permission::MoveReport,
            report(yard),
            &tree
        ));
        assert!(!allows(
            &supervisor,
            Permission::MoveReport,
            report(parks),
            &tree
        ));
        assert!(allows(&crew, Permission::MoveReport, report(roads), &tree));
        assert!(!allows(&crew, Permission::MoveReport, report(yard), &tree));
        let resident = Principal {
            role: Some(Role::Resident),
            user_id: Some("r".into()),
            department: None,
        };
        assert!(!allows(
            &resident,
            Permission::MoveReport,
            report(roads),
            &tree
        ));
        let own = Target::Report {
            department: Some(roads),
            involves_caller: true,
        };
        assert!(allows(&resident, Permission::CheckAnswer, own, &tree));
        assert!(!allows(
            &resident,
            Permission::CheckAnswer,
            report(roads),
            &tree
        ));
        assert_eq!(
            departments_in_scope(&supervisor, Permission::WatchSla, &tree).map(|d| d.len()),
            Some(2)
        );
        assert!(!allows(
            &Principal::default(),
            Permission::ManageOwnAccount,
            Target::Nothing,
            &tree
        ));
    }
}
