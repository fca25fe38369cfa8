//! The residents' sign-in limits at the gateway, in front of the registry's own.
//!
//! The registry keeps the lasting ones, the same across every gateway replica and by blind
//! index: 5 codes an hour per number, 20 an hour per client address, 5 wrong tries per
//! code (so at most 25 tries an hour at one number). Here, in memory, per client address:
//! 30 sign-in posts at once, one back every 2 s (30 a minute), asking for codes and trying
//! them alike. It answers a flood at once, without a database transaction per post, and
//! holds the tries from one address across many numbers, which the registry does not
//! count. Each is answered 429 with `Retry-After` on the sign-in page, in Chinese.
//!
//! An address is the gateway's TCP peer (behind a proxy, the proxy's: every client behind
//! it shares one allowance until the gateway is taught to trust a forwarded address).

use std::time::Duration;

use linli_platform::rate::{Limiters, Rate};

/// Sign-in posts per client address: 30 at once, one back every 2 s.
pub fn per_client() -> Rate {
    Rate::every(Duration::from_secs(2), 30)
}

#[derive(Clone, Default)]
pub struct SignInLimits {
    limiters: Limiters<String>,
}

impl SignInLimits {
    /// Takes one sign-in post from `client`, or says how long until one would pass.
    pub fn admit(&self, client: &str) -> Result<(), Duration> {
        self.limiters.check(&client.to_owned(), per_client())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thirty_posts_per_address_then_a_wait() {
        let limits = SignInLimits::default();
        for n in 0..30 {
            assert!(limits.admit("10.0.0.1").is_ok(), "{n}");
        }
        let wait = limits.admit("10.0.0.1").expect_err("a 31st post");
        assert!(wait <= Duration::from_secs(2), "{wait:?}");
        assert!(limits.admit("10.0.0.2").is_ok(), "another address");
    }
}
