//! Rate limits by caller, on the `governor` crate (GCRA): the gateway's per credential
//! (staff tokens, a kiosk's or integration's own rate from its token, residents'
//! sign-in per number and per client address) and the partner listener's per partner (its
//! agreement's rate). One keyed limiter per distinct [`Rate`] in use, each keyed by the
//! caller; every minute a check sweeps them (`retain_recent`, `shrink_to_fit`), so a key
//! whose bucket is full again is forgotten and memory stays bounded by the callers of the
//! last minute or so (plus the one map per distinct rate, a handful).

use std::collections::HashMap;
use std::hash::Hash;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

/// A rate: one request replenished every `period`, up to `burst` at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Rate {
    period: Duration,
    burst: NonZeroU32,
}

impl Rate {
    /// `per_second` on average (fractions allowed: 0.01 is one each 100 s), `burst` at once.
    pub fn per_second(per_second: f64, burst: u32) -> Rate {
        let period = Duration::from_secs_f64(1.0 / per_second.clamp(1e-6, 1e9));
        Rate::every(period, burst)
    }

    /// `per_minute` on average, `burst` at once; a burst of 0 is two seconds' worth (at
    /// least one).
    pub fn per_minute(per_minute: u32, burst: u32) -> Rate {
        let burst = if burst == 0 {
            (per_minute / 30).max(1)
        } else {
            burst
        };
        Rate::every(
            Duration::from_secs_f64(60.0 / f64::from(per_minute.max(1))),
            burst,
        )
    }

    /// One request back every `period`, `burst` at once.
    pub fn every(period: Duration, burst: u32) -> Rate {
        Rate {
            period: period.max(Duration::from_nanos(1)),
            burst: NonZeroU32::new(burst.max(1)).expect("at least one"),
        }
    }

    /// Requests allowed at once.
    pub fn burst(&self) -> u32 {
        self.burst.get()
    }

    fn quota(self) -> Quota {
        Quota::with_period(self.period)
            .expect("a period of at least a nanosecond")
            .allow_burst(self.burst)
    }
}

/// How often the limiters forget keys whose buckets are full again.
const SWEEP_EVERY: Duration = Duration::from_secs(60);

/// Keyed limiters, one per [`Rate`] in use, shared by every clone.
pub struct Limiters<K: Hash + Eq + Clone> {
    inner: Arc<Inner<K>>,
}

impl<K: Hash + Eq + Clone> Clone for Limiters<K> {
    fn clone(&self) -> Self {
        Limiters {
            inner: self.inner.clone(),
        }
    }
}

struct Inner<K: Hash + Eq + Clone> {
    by_rate: RwLock<HashMap<Rate, Arc<DefaultKeyedRateLimiter<K>>>>,
    clock: DefaultClock,
    started: Instant,
    /// Milliseconds after `started` of the last sweep.
    swept: AtomicU64,
}

impl<K: Hash + Eq + Clone> Default for Limiters<K> {
    fn default() -> Self {
        Limiters {
            inner: Arc::new(Inner {
                by_rate: RwLock::default(),
                clock: DefaultClock::default(),
                started: Instant::now(),
                swept: AtomicU64::new(0),
            }),
        }
    }
}

impl<K: Hash + Eq + Clone> Limiters<K> {
    /// Takes one request of `key` at `rate`, or says how long until one would pass.
    pub fn check(&self, key: &K, rate: Rate) -> Result<(), Duration> {
        self.sweep_now_and_then();
        let limiter = self.limiter(rate);
        limiter
            .check_key(key)
            .map_err(|not_until| not_until.wait_time_from(self.inner.clock.now()))
    }

    /// Keys tracked in all (for tests and metrics).
    pub fn tracked(&self) -> usize {
        self.read().values().map(|limiter| limiter.len()).sum()
    }

    /// Forgets every key whose bucket is full again, and gives the memory back.
    pub fn sweep(&self) {
        for limiter in self.read().values() {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }

    fn sweep_now_and_then(&self) {
        let now = self.inner.started.elapsed().as_millis() as u64;
        let last = self.inner.swept.load(Ordering::Relaxed);
        if now.saturating_sub(last) >= SWEEP_EVERY.as_millis() as u64
            && self
                .inner
                .swept
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            self.sweep();
        }
    }

    fn read(
        &self,
    ) -> std::sync::RwLockReadGuard<'_, HashMap<Rate, Arc<DefaultKeyedRateLimiter<K>>>> {
        self.inner
            .by_rate
            .read()
            .expect("limiter map lock is never poisoned: no panics under it")
    }

    fn limiter(&self, rate: Rate) -> Arc<DefaultKeyedRateLimiter<K>> {
        if let Some(limiter) = self.read().get(&rate) {
            return limiter.clone();
        }
        self.inner
            .by_rate
            .write()
            .expect("limiter map lock is never poisoned: no panics under it")
            .entry(rate)
            .or_insert_with(|| Arc::new(DefaultKeyedRateLimiter::dashmap(rate.quota())))
            .clone()
    }
}

/// Whole seconds to wait, at least one: a `Retry-After` value.
pub fn retry_after_secs(wait: Duration) -> u64 {
    wait.as_secs_f64().ceil().max(1.0) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_past_its_size_is_refused_per_key_and_rate() {
        let limiters = Limiters::<String>::default();
        let slow = Rate::per_minute(1, 3);
        for _ in 0..3 {
            assert!(limiters.check(&"a".into(), slow).is_ok());
        }
        let wait = limiters
            .check(&"a".into(), slow)
            .expect_err("past the burst");
        assert!(wait > Duration::from_secs(50) && wait <= Duration::from_secs(60));
        assert!(limiters.check(&"b".into(), slow).is_ok(), "another key");
        let more = Rate::per_minute(1, 5);
        assert!(limiters.check(&"a".into(), more).is_ok(), "its own rate");
        assert_eq!(retry_after_secs(wait), wait.as_secs() + 1);
    }

    #[test]
    fn a_sweep_forgets_keys_whose_buckets_are_full_again() {
        let limiters = Limiters::<u32>::default();
        let fast = Rate::per_second(1e9, 1);
        for key in 0..100 {
            let _ = limiters.check(&key, fast);
        }
        assert_eq!(limiters.tracked(), 100);
        std::thread::sleep(Duration::from_millis(5));
        limiters.sweep();
        assert_eq!(limiters.tracked(), 0);
    }

    #[test]
    fn an_unset_burst_is_two_seconds_worth() {
        assert_eq!(Rate::per_minute(3000, 0).burst(), 100);
        assert_eq!(Rate::per_minute(10, 0).burst(), 1);
        assert_eq!(Rate::per_second(50.0, 100), Rate::per_minute(3000, 100));
    }
}
