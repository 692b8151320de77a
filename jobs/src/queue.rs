//! The queues: one worker pool each.

/// The worker pools of Nexus; each queue has its own pool and concurrency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Queue {
    /// CFDI stamping, cancellation, payment complements, global invoices.
    Cfdi,
    /// Image resize, thumbnails, WebP.
    Images,
    /// Search index sync of the catalog.
    Search,
    /// E-mail, WhatsApp, push and in-app notifications.
    Notify,
    /// WhatsApp inbound messages and AI replies.
    Chat,
    /// ERP, BNPL and marketplace sync.
    Integrations,
    /// Price propagation across branches and channels.
    Pricing,
    /// Nightly maintenance.
    Maintenance,
}

impl Queue {
    /// Every queue.
    pub const ALL: [Queue; 8] = [
        Queue::Cfdi,
        Queue::Images,
        Queue::Search,
        Queue::Notify,
        Queue::Chat,
        Queue::Integrations,
        Queue::Pricing,
        Queue::Maintenance,
    ];

    /// The queue's position in [`Queue::ALL`], for per-queue arrays.
    #[must_use]
    pub const fn index(self) -> usize {
        self as usize
    }

    /// The queue's stable name, used in backends, metrics and the CLI.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Queue::Cfdi => "cfdi",
            Queue::Images => "images",
            Queue::Search => "search",
            Queue::Notify => "notify",
            Queue::Chat => "chat",
            Queue::Integrations => "integrations",
            Queue::Pricing => "pricing",
            Queue::Maintenance => "maintenance",
        }
    }

    /// The queue of a name.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|q| q.name() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_queue_is_found_by_its_name() {
        for q in Queue::ALL {
            assert_eq!(Queue::from_name(q.name()), Some(q));
        }
        assert_eq!(Queue::from_name("celery"), None);
    }

    #[test]
    fn a_queue_index_is_its_position_in_all() {
        for (i, q) in Queue::ALL.into_iter().enumerate() {
            assert_eq!(q.index(), i);
        }
    }
}
