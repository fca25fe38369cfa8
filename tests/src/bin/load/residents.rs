//! `--mode residents`: the residents' site under load (issue 23). Residents registered
//! with mobile numbers sign in with a one-time code, as on a phone: ask for a code, read
//! it from the loopback SMS provider stand-in (`linli_tests::sms`), send it back; and
//! signed-in residents read their home page (`GET /r/`: their centre's notices and this
//! week's activities).
//!
//! The site limits codes per client address (the gateway's peer), so each sign-in comes
//! from an address of its own on loopback (127.a.b.c: Linux routes all of 127/8 to `lo`),
//! as residents' phones would. A number gets 5 codes an hour, so the residents registered
//! (`--residents`) bound the sign-ins of the whole run at 5 each.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures::future::join_all;
use linli_tests::TestPlatform;
use linli_tests::sms::SmsProvider;
use serde_json::{Value, json};

use crate::{Args, Sample, record};

/// The number of the `n`th resident registered for the run.
fn phone_of(n: usize) -> String {
    format!("138{:08}", n)
}

/// A distinct loopback address for the `n`th sign-in.
fn address_of(n: u64) -> IpAddr {
    let n = n as u32;
    IpAddr::V4(Ipv4Addr::new(
        127,
        (1 + n / 62_500 % 254) as u8,
        (1 + n / 250 % 250) as u8,
        (1 + n % 250) as u8,
    ))
}

pub async fn run(platform: &TestPlatform, sms: &SmsProvider, args: &Args) -> anyhow::Result<()> {
    let centre = platform.bookable_centre("Asia/Shanghai").await;
    let token = platform.token(&[linli_platform::auth::Role::CentreManager], &[centre]);
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()?;
    let base = format!("{}/v1/centres/{centre}", platform.gateway);
    let post = |path: &str, body: Value| {
        http.post(format!("{base}{path}"))
            .bearer_auth(&token)
            .json(&body)
            .send()
    };

    println!(
        "preparing: {} residents with mobile numbers",
        args.residents
    );
    let started = Instant::now();
    let next = AtomicU64::new(0);
    let registered: Vec<Vec<uuid::Uuid>> = join_all((0..32).map(|_| async {
        let mut mine = Vec::new();
        loop {
            let n = next.fetch_add(1, Ordering::Relaxed) as usize;
            if n >= args.residents {
                break mine;
            }
            let response = post(
                "/residents",
                json!({ "name": "测试居民", "gender": "female", "date_of_birth": "1950-01-01",
                        "phone": phone_of(n), "confirm_not_duplicate": true }),
            )
            .await
            .expect("the gateway answers");
            let body: Value = response.json().await.expect("a resident");
            mine.push(
                body["id"]
                    .as_str()
                    .expect("resident id")
                    .parse()
                    .expect("uuid"),
            );
        }
    }))
    .await;
    let residents: Vec<uuid::Uuid> = registered.into_iter().flatten().collect();
    platform.wait_for_residents_in_bookings(&residents).await;
    platform
        .wait_in_directory("evaluation", "residents", &residents)
        .await;
    // What home shows: notices, and this week's sessions of an offering.
    for n in 0..5 {
        post(
            "/notices",
            json!({ "title": format!("社区通知 {n}"), "body": "本周六上午在社区广场举办义诊活动，欢迎居民参加。", "kind": "notice" }),
        )
        .await?;
    }
    let offering: Value = post(
        "/offerings",
        json!({ "category": "culture_education", "kind": "event", "name": "太极拳晨练", "capacity": 100 }),
    )
    .await?
    .json()
    .await?;
    let day = (chrono::Utc::now() + chrono::Duration::days(1)).date_naive();
    for hour in 0..4 {
        post(
            "/sessions",
            json!({ "offering_id": offering["id"], "starts_at": format!("{day}T0{hour}:00:00Z"),
                    "ends_at": format!("{day}T0{hour}:45:00Z") }),
        )
        .await?;
    }
    println!("prepared in {:.1} s\n", started.elapsed().as_secs_f64());

    let site = Site {
        gateway: &platform.gateway,
        sms,
        residents: residents.len(),
        counter: AtomicU64::new(0),
    };
    for &clients in &args.clients {
        let window = Duration::from_secs(args.seconds);
        println!("clients {clients}, {} s each", args.seconds);
        let (sign_ins, codes) = site.sign_ins(clients, window).await;
        println!("  {}", sign_ins.line("sign-ins (code + verify)", window).1);
        println!("  {}", codes.line("  of which code to SMS", window).1);
        // One signed-in resident a client, each reading their home page.
        let mut cookies = Vec::new();
        for _ in 0..clients {
            let n = site.counter.fetch_add(1, Ordering::Relaxed);
            if let Some(cookie) = site.sign_in(n).await.0 {
                cookies.push(cookie);
            }
        }
        anyhow::ensure!(cookies.len() == clients, "signing in the readers failed");
        let reads = site.home_reads(&cookies, window).await;
        println!("  {}", reads.line("home page reads (GET /r/)", window).1);
        println!();
    }
    Ok(())
}

struct Site<'a> {
    gateway: &'a str,
    sms: &'a SmsProvider,
    residents: usize,
    counter: AtomicU64,
}

impl Site<'_> {
    /// The `n`th sign-in of the run, from an address of its own: the resident's cookie
    /// (None if refused), and how long the code took from asking to arriving.
    async fn sign_in(&self, n: u64) -> (Option<String>, Option<Duration>) {
        let Ok(http) = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .local_address(address_of(n))
            .build()
        else {
            return (None, None);
        };
        let phone = phone_of(n as usize % self.residents);
        let before = self.sms.sent_to(&phone).len();
        let asked = Instant::now();
        let Ok(response) = http
            .post(format!("{}/r/sign-in/code", self.gateway))
            .form(&[("phone", phone.as_str())])
            .send()
            .await
        else {
            return (None, None);
        };
        if !response.status().is_success() {
            return (None, None);
        }
        // The code is sent after the answer: wait for it to come, a few seconds at most.
        let code = loop {
            let sent = self.sms.sent_to(&phone);
            if sent.len() > before {
                let code: String = sent[sent.len() - 1]
                    .split("验证码 ")
                    .nth(1)
                    .unwrap_or_default()
                    .chars()
                    .take_while(char::is_ascii_digit)
                    .collect();
                break code;
            }
            if asked.elapsed() > Duration::from_secs(5) {
                return (None, None);
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        };
        let arrived = asked.elapsed();
        let Ok(response) = http
            .post(format!("{}/r/sign-in", self.gateway))
            .form(&[("phone", phone.as_str()), ("code", code.as_str())])
            .send()
            .await
        else {
            return (None, Some(arrived));
        };
        if response.status() != reqwest::StatusCode::SEE_OTHER {
            return (None, Some(arrived));
        }
        let cookie = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("linli_resident="))
            .and_then(|v| v.split(';').next())
            .map(str::to_owned);
        (cookie, Some(arrived))
    }

    /// `clients` residents' phones signing in for `window`, each sign-in a new number
    /// (round the registered ones) from a new address.
    async fn sign_ins(&self, clients: usize, window: Duration) -> (Sample, Sample) {
        let deadline = Instant::now() + window;
        let per_client = join_all((0..clients).map(|_| async move {
            let (mut whole, mut codes) = (Sample::default(), Sample::default());
            while Instant::now() < deadline {
                let n = self.counter.fetch_add(1, Ordering::Relaxed);
                let began = Instant::now();
                let (cookie, arrived) = self.sign_in(n).await;
                record(&mut whole, cookie.is_some(), began.elapsed());
                if let Some(arrived) = arrived {
                    record(&mut codes, true, arrived);
                }
            }
            (whole, codes)
        }))
        .await;
        let (whole, codes): (Vec<Sample>, Vec<Sample>) = per_client.into_iter().unzip();
        (Sample::merge(whole), Sample::merge(codes))
    }

    /// Each cookie's resident reading their home page over and over for `window`.
    async fn home_reads(&self, cookies: &[String], window: Duration) -> Sample {
        let deadline = Instant::now() + window;
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .pool_max_idle_per_host(256)
            .build()
            .expect("a client");
        let per_client = join_all(cookies.iter().map(|cookie| {
            let http = http.clone();
            async move {
                let mut sample = Sample::default();
                while Instant::now() < deadline {
                    let began = Instant::now();
                    let ok = match http
                        .get(format!("{}/r/", self.gateway))
                        .header("cookie", cookie)
                        .send()
                        .await
                    {
                        Ok(r) if r.status().is_success() => {
                            r.text().await.is_ok_and(|page| page.contains("社区通知"))
                        }
                        _ => false,
                    };
                    record(&mut sample, ok, began.elapsed());
                }
                sample
            }
        }))
        .await;
        Sample::merge(per_client)
    }
}
