//! Writing the audit trail, in the platform database and in tenant databases.

use sea_orm::{ActiveModelTrait, ConnectionTrait, NotSet, Set};
use uuid::Uuid;

use crate::Result;
use crate::org::tables::audit_log as tenant_audit_log;
use crate::org::tables::platform_audit_log;

/// One audit entry; build it with [`Entry::new`] and the `with_*` methods.
#[derive(Debug, Clone, Default)]
pub struct Entry {
    /// What happened, e.g. `branch.created`.
    pub action: String,
    /// Who did it.
    pub actor_user_id: Option<Uuid>,
    /// Tenant concerned (platform log only; a tenant log is the tenant's already).
    pub tenant_id: Option<Uuid>,
    /// Kind of object acted on.
    pub target_type: Option<String>,
    /// Id of the object acted on.
    pub target_id: Option<String>,
    /// Client address.
    pub ip: Option<String>,
    /// Request id.
    pub request_id: Option<String>,
    /// Anything else worth keeping (never secrets).
    pub details: Option<serde_json::Value>,
}

impl Entry {
    /// A new entry for an action.
    #[must_use]
    pub fn new(action: &str) -> Self {
        Self {
            action: action.to_owned(),
            ..Self::default()
        }
    }

    /// Sets the actor.
    #[must_use]
    pub fn actor(mut self, user_id: Option<Uuid>) -> Self {
        self.actor_user_id = user_id;
        self
    }

    /// Sets the tenant.
    #[must_use]
    pub fn tenant(mut self, tenant_id: Uuid) -> Self {
        self.tenant_id = Some(tenant_id);
        self
    }

    /// Sets the target.
    #[must_use]
    pub fn target(mut self, kind: &str, id: impl ToString) -> Self {
        self.target_type = Some(kind.to_owned());
        self.target_id = Some(id.to_string());
        self
    }

    /// Sets the client address and request id.
    #[must_use]
    pub fn request(mut self, ip: Option<String>, request_id: Option<String>) -> Self {
        self.ip = ip;
        self.request_id = request_id;
        self
    }

    /// Adds details: an object's keys join those added before (a later key wins), anything else
    /// replaces them.
    #[must_use]
    pub fn details(mut self, details: serde_json::Value) -> Self {
        self.details = match (self.details.take(), details) {
            (Some(serde_json::Value::Object(mut before)), serde_json::Value::Object(more)) => {
                before.extend(more);
                Some(serde_json::Value::Object(before))
            }
            (_, d) => Some(d),
        };
        self
    }

    /// Writes the entry to the platform audit log.
    ///
    /// # Errors
    /// Database errors.
    pub async fn record_platform(self, db: &impl ConnectionTrait) -> Result<()> {
        platform_audit_log::ActiveModel {
            id: NotSet,
            at: Set(crate::now()),
            actor_user_id: Set(self.actor_user_id),
            tenant_id: Set(self.tenant_id),
            action: Set(self.action),
            target_type: Set(self.target_type),
            target_id: Set(self.target_id),
            ip: Set(self.ip),
            request_id: Set(self.request_id),
            details: Set(self.details),
        }
        .insert(db)
        .await?;
        Ok(())
    }

    /// Writes the entry to a tenant's audit log (inside the caller's transaction, if any).
    ///
    /// # Errors
    /// Database errors.
    pub async fn record_tenant(self, db: &impl ConnectionTrait) -> Result<()> {
        tenant_audit_log::ActiveModel {
            id: NotSet,
            at: Set(crate::now()),
            actor_user_id: Set(self.actor_user_id),
            action: Set(self.action),
            target_type: Set(self.target_type),
            target_id: Set(self.target_id),
            request_id: Set(self.request_id),
            details: Set(self.details),
        }
        .insert(db)
        .await?;
        Ok(())
    }
}
