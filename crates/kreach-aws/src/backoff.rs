//! One backoff for every AWS call kreach tries again (a throttled or failing API call, a throttled
//! invocation): waits doubling from a first one up to a cap, with jitter so callers retrying
//! together do not wait in step, never past the deadline.

use std::time::{Duration, Instant};

/// The jitter's bound: up to this much is added to each wait.
const JITTER_MS: u64 = 97;

pub(crate) struct Backoff {
    next: Duration,
    cap: Duration,
}

impl Backoff {
    pub(crate) fn new(first: Duration, cap: Duration) -> Self {
        Backoff { next: first, cap }
    }

    /// The wait before the next try — at most what is left before `deadline` — and the one after
    /// doubled (up to the cap).
    pub(crate) fn next_wait(&mut self, deadline: Option<Instant>) -> Duration {
        // Jitter from the clock's nanoseconds: enough to spread callers, no generator to seed.
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
        let mut wait = self.next + Duration::from_millis(u64::from(nanos) % JITTER_MS);
        if let Some(deadline) = deadline {
            wait = wait.min(deadline.saturating_duration_since(Instant::now()));
        }
        self.next = (self.next * 2).min(self.cap);
        wait
    }

    /// Waits [`Self::next_wait`].
    pub(crate) async fn wait(&mut self, deadline: Option<Instant>) {
        tokio::time::sleep(self.next_wait(deadline)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_up_to_the_cap_with_bounded_jitter_and_never_pass_the_deadline() {
        let mut b = Backoff::new(Duration::from_millis(200), Duration::from_millis(700));
        let jitter = Duration::from_millis(JITTER_MS);
        for base in [200, 400, 700, 700] {
            let w = b.next_wait(None);
            let base = Duration::from_millis(base);
            assert!(w >= base && w < base + jitter, "{w:?} for {base:?}");
        }
        let soon = Instant::now() + Duration::from_millis(50);
        assert!(b.next_wait(Some(soon)) <= Duration::from_millis(50));
        assert_eq!(b.next_wait(Some(Instant::now())), Duration::ZERO, "no time left: no wait");
    }
}
