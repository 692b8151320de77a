//! Roles a user holds in a tenant.

use std::fmt;
use std::str::FromStr;

/// A user's role in one tenant, from most to least powerful.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Owns the business: everything, including billing and ownership changes.
    Owner,
    /// Runs the system: users, branches, configuration.
    Admin,
    /// Runs a branch: adjustments, returns, discounts beyond a cashier's limit.
    Manager,
    /// Sells at the counter.
    Cashier,
    /// Works service orders in the workshop.
    Mechanic,
    /// Reads only.
    Viewer,
}

impl Role {
    /// Every role, most powerful first.
    pub const ALL: [Role; 6] = [
        Role::Owner,
        Role::Admin,
        Role::Manager,
        Role::Cashier,
        Role::Mechanic,
        Role::Viewer,
    ];

    /// The stored and serialised name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Manager => "manager",
            Role::Cashier => "cashier",
            Role::Mechanic => "mechanic",
            Role::Viewer => "viewer",
        }
    }

    /// Whether the role administers the tenant (owner or admin).
    #[must_use]
    pub const fn is_admin(self) -> bool {
        matches!(self, Role::Owner | Role::Admin)
    }

    /// Whether the role runs a branch or more (owner, admin, manager).
    #[must_use]
    pub const fn is_manager(self) -> bool {
        matches!(self, Role::Owner | Role::Admin | Role::Manager)
    }

    /// The largest discount the role may give on a line, in basis points: a cashier 10 %, a
    /// manager 30 %, owners and admins anything; mechanics and viewers do not sell.
    #[must_use]
    pub const fn max_discount_bp(self) -> i32 {
        match self {
            Role::Owner | Role::Admin => 10_000,
            Role::Manager => 3_000,
            Role::Cashier => 1_000,
            Role::Mechanic | Role::Viewer => 0,
        }
    }

    /// Whether the role records day-to-day work (every role but viewer): a cashier at the
    /// counter and a mechanic in the workshop both register customers' vehicles.
    #[must_use]
    pub const fn can_record(self) -> bool {
        !matches!(self, Role::Viewer)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = crate::Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                crate::Error::validation(
                    "role",
                    "role must be one of owner, admin, manager, cashier, mechanic, viewer",
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_round_trips_through_its_name() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>().unwrap(), r);
        }
    }

    #[test]
    fn only_viewers_cannot_record_and_managers_and_up_manage() {
        for r in Role::ALL {
            assert_eq!(r.can_record(), r != Role::Viewer, "{r}");
        }
        assert!(Role::Manager.is_manager());
        assert!(!Role::Cashier.is_manager());
        assert!(!Role::Mechanic.is_manager());
    }

    #[test]
    fn an_unknown_role_name_is_a_validation_error() {
        assert!(matches!(
            "root".parse::<Role>(),
            Err(crate::Error::Validation { .. })
        ));
    }
}
