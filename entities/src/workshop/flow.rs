//! The service order's state machine: which action leads from which state to which, as a pure
//! table the routes, the kanban and the tests read. A forbidden move is refused with
//! `invalid_transition` before anything is written.

use crate::workshop::tables::service_order::Status;
use crate::{Error, Result};

/// What someone does to a service order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Start finding what is wrong.
    Diagnose,
    /// Send the budget (or a supplement) to the customer.
    Submit,
    /// The customer said yes.
    Approve,
    /// The customer said no.
    Decline,
    /// Every part is held: start the repair.
    Repair,
    /// Repaired: check it.
    Check,
    /// The check failed: back to the repair.
    Rework,
    /// Checked: the parts used leave the stock, the rest goes back.
    Ready,
    /// Charged and handed over.
    Deliver,
    /// Called off.
    Cancel,
}

impl Action {
    /// The action's name in messages and the history.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Diagnose => "diagnose",
            Self::Submit => "submit",
            Self::Approve => "approve",
            Self::Decline => "decline",
            Self::Repair => "repair",
            Self::Check => "check",
            Self::Rework => "rework",
            Self::Ready => "ready",
            Self::Deliver => "deliver",
            Self::Cancel => "cancel",
        }
    }
}

/// The states an order is worked in after its budget was approved: a line added then is a
/// supplement.
#[must_use]
pub const fn is_approved_work(s: Status) -> bool {
    matches!(
        s,
        Status::WaitingParts | Status::InRepair | Status::QualityCheck
    )
}

/// Whether the order is finished (nothing more happens to it).
#[must_use]
pub const fn is_final(s: Status) -> bool {
    matches!(s, Status::Delivered | Status::Cancelled)
}

/// The state `action` leads to from `from`, or `None` when it is not allowed from there.
/// `Approve` and `Decline` answer the state they lead to when nothing else decides it: an
/// approval goes to `waiting_parts` or `in_repair` depending on the stock, and a declined
/// supplement goes back to the state the order was in (see [`crate::workshop::orders`]).
#[must_use]
pub const fn next(from: Status, action: Action) -> Option<Status> {
    use Status as S;
    Some(match (from, action) {
        (S::Received, Action::Diagnose) => S::Diagnosing,
        (S::Diagnosing | S::WaitingParts | S::InRepair | S::QualityCheck, Action::Submit) => {
            S::AwaitingApproval
        }
        (S::AwaitingApproval, Action::Approve) => S::InRepair,
        (S::AwaitingApproval, Action::Decline) => S::Declined,
        (S::WaitingParts, Action::Repair) => S::InRepair,
        (S::InRepair, Action::Check) => S::QualityCheck,
        (S::QualityCheck, Action::Rework) => S::InRepair,
        (S::QualityCheck, Action::Ready) => S::Ready,
        (S::Ready | S::Declined, Action::Deliver) => S::Delivered,
        (
            S::Received
            | S::Diagnosing
            | S::AwaitingApproval
            | S::WaitingParts
            | S::InRepair
            | S::QualityCheck,
            Action::Cancel,
        ) => S::Cancelled,
        _ => return None,
    })
}

/// [`next`], or the `invalid_transition` conflict that names the state and the action.
///
/// # Errors
/// [`Error::Conflict`] `invalid_transition`.
pub fn check(from: Status, action: Action) -> Result<Status> {
    next(from, action).ok_or_else(|| {
        Error::conflict(
            "invalid_transition",
            format!("a service order that is {from} cannot {}", action.as_str()),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL_ACTIONS: [Action; 10] = [
        Action::Diagnose,
        Action::Submit,
        Action::Approve,
        Action::Decline,
        Action::Repair,
        Action::Check,
        Action::Rework,
        Action::Ready,
        Action::Deliver,
        Action::Cancel,
    ];

    #[test]
    fn the_seed_path_runs_from_reception_to_delivery() {
        let mut s = Status::Received;
        for a in [
            Action::Diagnose,
            Action::Submit,
            Action::Approve,
            Action::Check,
            Action::Ready,
            Action::Deliver,
        ] {
            s = check(s, a).unwrap();
        }
        assert_eq!(s, Status::Delivered);
    }

    #[test]
    fn nothing_leaves_a_delivered_or_cancelled_order() {
        for s in [Status::Delivered, Status::Cancelled] {
            for a in ALL_ACTIONS {
                assert!(next(s, a).is_none(), "{s} {a:?}");
            }
        }
    }

    #[test]
    fn a_ready_order_can_no_longer_be_cancelled_and_a_declined_one_is_only_handed_back() {
        assert!(next(Status::Ready, Action::Cancel).is_none());
        let from_declined: Vec<Action> = ALL_ACTIONS
            .into_iter()
            .filter(|a| next(Status::Declined, *a).is_some())
            .collect();
        assert_eq!(from_declined, vec![Action::Deliver]);
    }

    #[test]
    fn a_forbidden_move_names_the_state_and_the_action() {
        match check(Status::Received, Action::Ready) {
            Err(Error::Conflict { code, message }) => {
                assert_eq!(code, "invalid_transition");
                assert!(message.contains("received") && message.contains("ready"));
            }
            other => panic!("{other:?}"),
        }
    }
}
