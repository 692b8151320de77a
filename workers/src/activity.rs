//! When this process last started a job of each queue: the runtime records it, the pools read
//! it to poll an idle queue less often.

use std::time::Duration;

use jobs::Queue;

/// When this process last started a job of each queue, in milliseconds since [`epoch`]: apalis's
/// poll snapshot counts an empty fetch as a successful poll, so it cannot tell an idle queue.
static ACTIVE_AT: [std::sync::atomic::AtomicU64; Queue::ALL.len()] =
    [const { std::sync::atomic::AtomicU64::new(0) }; Queue::ALL.len()];

fn epoch() -> std::time::Instant {
    static EPOCH: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    *EPOCH.get_or_init(std::time::Instant::now)
}

fn slot(queue: Queue) -> &'static std::sync::atomic::AtomicU64 {
    &ACTIVE_AT[queue.index()]
}

/// Records that a job of `queue` started in this process.
pub fn touch(queue: Queue) {
    let ms = u64::try_from(epoch().elapsed().as_millis()).unwrap_or(u64::MAX);
    slot(queue).store(ms, std::sync::atomic::Ordering::Relaxed);
}

/// How long since this process last started a job of `queue`.
pub fn idle_for(queue: Queue) -> Duration {
    let last = Duration::from_millis(slot(queue).load(std::sync::atomic::Ordering::Relaxed));
    epoch().elapsed().saturating_sub(last)
}
