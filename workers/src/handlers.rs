//! The handlers of every job kind, registered in one place.

use jobs::noop::Noop;

use crate::runtime::{Handlers, JobCtx, JobError, RetryPolicy};

/// `noop`: nothing to do; the runtime records it processed.
async fn noop(_job: Noop, _ctx: JobCtx) -> Result<(), JobError> {
    Ok(())
}

/// Every job kind Nexus knows.
#[must_use]
pub fn all() -> Handlers {
    Handlers::default().with::<Noop, _, _>(RetryPolicy::default(), noop)
}
