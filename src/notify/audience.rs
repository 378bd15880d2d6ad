//! Who hears of an event: the staff of an audience, picked from a
//! directory of the city's staff addresses. Pure; `db::outbox` loads the
//! directory and the residents of a report.

use std::collections::HashMap;

use uuid::Uuid;

use crate::routing::Departments;
use crate::workflow::Audience;

/// A recipient: their address and the language they read.
pub type Recipient = (String, String);

/// The staff a batch of notifications may go to: department addresses,
/// every supervisor by department, and the users concerned (assignees).
#[derive(Debug, Default, Clone)]
pub struct Staff {
    /// Department id → its shared address.
    pub department_email: HashMap<String, String>,
    /// Department id → its supervisors.
    pub supervisors: HashMap<String, Vec<Recipient>>,
    /// User id → that user.
    pub users: HashMap<String, Recipient>,
}

/// Where a report stands for its notifications: the department
/// responsible and the person assigned.
#[derive(Debug, Clone, Copy)]
pub struct Placement<'a> {
    pub department: Option<&'a str>,
    pub assignee: Option<&'a str>,
}

impl Staff {
    /// The supervisors of a department: its own, or the nearest ancestor's
    /// when it has none; with `city`, those of the top of the tree.
    pub fn supervisors(
        &self,
        department: Option<&str>,
        tree: &Departments,
        city: bool,
    ) -> Vec<Recipient> {
        let mut current = department.and_then(|d| Uuid::parse_str(d).ok());
        if city {
            while let Some(parent) = current.and_then(|d| tree.parent(d)) {
                current = Some(parent);
            }
        }
        while let Some(d) = current {
            if let Some(found) = self.supervisors.get(&d.to_string()) {
                return found.clone();
            }
            current = tree.parent(d);
        }
        Vec::new()
    }

    /// The staff of an audience for a report (residents are not staff: the
    /// caller loads them).
    pub fn of(
        &self,
        report: Placement<'_>,
        audience: Audience,
        tree: &Departments,
    ) -> Vec<Recipient> {
        match audience {
            Audience::Residents => Vec::new(),
            Audience::Department => report
                .department
                .and_then(|d| self.department_email.get(d))
                .map(|email| vec![(email.clone(), "ru".to_string())])
                .unwrap_or_default(),
            Audience::Assignee => report
                .assignee
                .and_then(|u| self.users.get(u))
                .cloned()
                .into_iter()
                .collect(),
            Audience::Supervisors => self.supervisors(report.department, tree, false),
            Audience::SupervisorsAbove => {
                let department = report.department.and_then(|d| d.parse().ok());
                let above = department.and_then(|d| tree.parent(d)).or(department);
                self.supervisors(above.map(|d| d.to_string()).as_deref(), tree, false)
            }
            Audience::CitySupervisors => self.supervisors(report.department, tree, true),
        }
    }
}
