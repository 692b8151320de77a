//! Who acts at the counter: the user, their role and branch scope, for limits and the audit trail.

use uuid::Uuid;

use crate::org::audit::Entry;
use crate::{Error, Result, Role};

/// Who sells, refunds or handles a drawer: the user, their role and branch scope.
#[derive(Debug, Clone)]
pub struct Seller {
    /// The user.
    pub user_id: Uuid,
    /// Their role in the tenant.
    pub role: Role,
    /// Branches they are limited to; `None` is all.
    pub branch_scope: Option<Vec<Uuid>>,
    /// The request id, for the audit trail.
    pub request_id: Option<String>,
    /// The manager who authorised this one action at the user's terminal, when one did: the
    /// role above is then the manager's, and the audit entry names both.
    pub authorized_by: Option<Uuid>,
}

impl Seller {
    /// Whether the branch is in the user's scope.
    #[must_use]
    pub fn can_see(&self, branch: Uuid) -> bool {
        self.branch_scope
            .as_ref()
            .is_none_or(|ids| ids.contains(&branch))
    }

    /// An audit entry by this user about `target` `id`.
    #[must_use]
    pub fn entry(&self, action: &str, target: &str, id: Uuid) -> Entry {
        let e = Entry::new(action)
            .actor(Some(self.user_id))
            .target(target, id)
            .request(None, self.request_id.clone());
        match self.authorized_by {
            Some(manager) => e.details(serde_json::json!({"authorized_by": manager})),
            None => e,
        }
    }

    /// Refuses roles that do not sell (mechanics, viewers).
    ///
    /// # Errors
    /// [`Error::Forbidden`].
    pub fn require_seller(&self) -> Result<()> {
        if self.role.is_manager() || self.role == Role::Cashier {
            Ok(())
        } else {
            Err(Error::Forbidden {
                code: "forbidden",
                message: format!("the {} role does not sell", self.role),
            })
        }
    }
}
