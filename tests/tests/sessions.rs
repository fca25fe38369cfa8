//! A console session's token dies with the session. The console's cookie carries a JWT
//! that the JSON API takes as a bearer token; once its user signs out, or their account is
//! disabled, the gateway refuses it at once and every service refuses it when reached
//! directly, as soon as the registry's `registry.session.ended` has reached it, and still
//! after a restart. Bookings and finance also run here a second time as roles of their own
//! (as each does in Kubernetes): with keys and memory of their own, they can only learn of
//! the end through the bus and their own databases.

use std::net::SocketAddr;
use std::time::Duration;

use linli::Role as ServiceRole;
use linli_platform::CancellationToken;
use linli_platform::auth::Role;
use linli_proto::bookings::v1 as bookings;
use linli_proto::bookings::v1::bookings_client::BookingsClient;
use linli_proto::evaluation::v1 as evaluation;
use linli_proto::evaluation::v1::evaluation_client::EvaluationClient;
use linli_proto::finance::v1 as finance;
use linli_proto::finance::v1::finance_client::FinanceClient;
use linli_proto::registry::v1 as registry;
use linli_proto::registry::v1::registry_client::RegistryClient;
use linli_proto::volunteers::v1 as volunteers;
use linli_proto::volunteers::v1::volunteers_client::VolunteersClient;
use linli_tests::{TestPlatform, poll};
use reqwest::StatusCode;
use reqwest::header::{COOKIE, SET_COOKIE};
use tonic::Code;
use uuid::Uuid;

const PASSWORD: &str = "correct-horse-battery";
/// How long a session's end may take to reach every service: the event's delivery.
const DELIVERY: Duration = Duration::from_secs(20);
const SERVICES: [&str; 5] = [
    "registry",
    "bookings",
    "volunteers",
    "finance",
    "evaluation",
];

/// Adds a console account straight into the registry's store, as the seed does; its id.
async fn account(platform: &TestPlatform, username: &str, role: &str, centre: Uuid) -> Uuid {
    let pool = platform.pool("registry").await;
    let new = linli_registry::domain::staff::NewAccount::parse(
        username,
        username,
        PASSWORD,
        &[role.to_owned()],
        &[centre.to_string()],
    )
    .expect("a valid account");
    let hash = linli_registry::domain::staff::hash_password(PASSWORD);
    let row = linli_registry::store::create_staff_account(&pool, &new, &hash, "test")
        .await
        .expect("account stored")
        .expect("a new username");
    pool.close().await;
    row.id
}

/// A browser-less console user: cookies kept by hand, redirects not followed.
struct Console {
    http: reqwest::Client,
    gateway: String,
    cookies: Vec<(String, String)>,
}

fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .map(|i| i + marker.len())
        .unwrap_or_else(|| panic!("no {name} field in {html}"));
    html[start..]
        .split('"')
        .next()
        .unwrap_or_default()
        .to_owned()
}

impl Console {
    fn new(platform: &TestPlatform) -> Console {
        Console {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("a client"),
            gateway: platform.gateway.clone(),
            cookies: Vec::new(),
        }
    }

    fn keep(&mut self, response: &reqwest::Response) {
        for value in response.headers().get_all(SET_COOKIE) {
            let text = value.to_str().unwrap_or_default();
            let pair = text.split(';').next().unwrap_or_default();
            if let Some((name, value)) = pair.split_once('=') {
                self.cookies.retain(|(n, _)| n != name);
                if !text.contains("Max-Age=0") {
                    self.cookies.push((name.to_owned(), value.to_owned()));
                }
            }
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn get(&mut self, path: &str) -> (StatusCode, String) {
        let response = self
            .http
            .get(format!("{}{path}", self.gateway))
            .header(COOKIE, self.cookie_header())
            .send()
            .await
            .expect("the gateway answers");
        self.keep(&response);
        let status = response.status();
        (status, response.text().await.unwrap_or_default())
    }

    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> StatusCode {
        let response = self
            .http
            .post(format!("{}{path}", self.gateway))
            .header(COOKIE, self.cookie_header())
            .form(form)
            .send()
            .await
            .expect("the gateway answers");
        self.keep(&response);
        response.status()
    }

    async fn sign_in(&mut self, username: &str) -> StatusCode {
        let (_, page) = self.get("/sign-in").await;
        let csrf = hidden(&page, "csrf");
        self.post(
            "/sign-in",
            &[
                ("csrf", &csrf),
                ("next", "/dashboard"),
                ("username", username),
                ("password", PASSWORD),
            ],
        )
        .await
    }

    /// The JWT half of the session cookie (`<session id>.<JWT>`).
    fn token(&self) -> String {
        let (_, value) = self
            .cookies
            .iter()
            .find(|(name, _)| name == "linli_session")
            .expect("signed in: a session cookie");
        let (session, token) = value.split_once('.').expect("<session id>.<JWT>");
        Uuid::parse_str(session).expect("the cookie starts with the session id");
        token.to_owned()
    }

    /// POSTs a console form with the session's CSRF token, read from `page`.
    async fn submit(&mut self, page: &str, path: &str, form: &[(&str, &str)]) -> StatusCode {
        let (status, html) = self.get(page).await;
        assert_eq!(status, StatusCode::OK, "{page}: {html}");
        let csrf = hidden(&html, "csrf");
        let mut fields = vec![("csrf", csrf.as_str())];
        fields.extend_from_slice(form);
        self.post(path, &fields).await
    }
}

/// What the gateway answers `GET route` with `token` as the bearer.
async fn api(platform: &TestPlatform, token: &str, route: &str) -> StatusCode {
    platform
        .http
        .get(format!("{}{route}", platform.gateway))
        .bearer_auth(token)
        .send()
        .await
        .expect("the gateway answers")
        .status()
}

fn call<T>(token: &str, message: T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request.set_timeout(Duration::from_secs(10));
    request.metadata_mut().insert(
        "authorization",
        format!("Bearer {token}").parse().expect("ascii"),
    );
    request
}

/// What `service` at `address` answers a read of `centre` made directly over gRPC with
/// `token` in the `authorization` metadata, as the gateway forwards it.
async fn direct(service: &str, address: SocketAddr, centre: Uuid, token: &str) -> Code {
    let endpoint = format!("http://{address}");
    let centre_id = centre.to_string();
    let answer = match service {
        "registry" => match RegistryClient::connect(endpoint).await {
            Ok(mut client) => client
                .list_residents(call(
                    token,
                    registry::ListResidentsRequest {
                        centre_id,
                        ..Default::default()
                    },
                ))
                .await
                .map(drop),
            Err(_) => return Code::Unavailable,
        },
        "bookings" => match BookingsClient::connect(endpoint).await {
            Ok(mut client) => client
                .list_offerings(call(
                    token,
                    bookings::ListOfferingsRequest {
                        centre_id,
                        ..Default::default()
                    },
                ))
                .await
                .map(drop),
            Err(_) => return Code::Unavailable,
        },
        "volunteers" => match VolunteersClient::connect(endpoint).await {
            Ok(mut client) => client
                .list_opportunities(call(
                    token,
                    volunteers::ListOpportunitiesRequest {
                        centre_id,
                        ..Default::default()
                    },
                ))
                .await
                .map(drop),
            Err(_) => return Code::Unavailable,
        },
        "finance" => match FinanceClient::connect(endpoint).await {
            Ok(mut client) => client
                .list_entries(call(
                    token,
                    finance::ListEntriesRequest {
                        centre_id,
                        ..Default::default()
                    },
                ))
                .await
                .map(drop),
            Err(_) => return Code::Unavailable,
        },
        "evaluation" => match EvaluationClient::connect(endpoint).await {
            Ok(mut client) => client
                .list_suggestions(call(
                    token,
                    evaluation::ListSuggestionsRequest {
                        centre_id,
                        ..Default::default()
                    },
                ))
                .await
                .map(drop),
            Err(_) => return Code::Unavailable,
        },
        other => unreachable!("no service {other}"),
    };
    match answer {
        Ok(()) => Code::Ok,
        Err(status) => status.code(),
    }
}

/// Bookings and finance, each started again as a role of its own on the platform's
/// databases and bus names (two, not four: each role holds database connections, and the
/// suite's tests run side by side).
struct Alone {
    services: Vec<(&'static str, SocketAddr)>,
    shutdown: CancellationToken,
    running: Vec<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl Alone {
    async fn start(platform: &TestPlatform) -> Alone {
        let shutdown = CancellationToken::new();
        let mut services = Vec::new();
        let mut running = Vec::new();
        for (name, role) in [
            ("bookings", ServiceRole::Bookings),
            ("finance", ServiceRole::Finance),
        ] {
            let started = linli::start(role, platform.args.clone(), shutdown.clone())
                .await
                .unwrap_or_else(|error| panic!("{name} starts alone: {error:#}"));
            let address = match role {
                ServiceRole::Bookings => started.bookings,
                _ => started.finance,
            };
            services.push((name, address.expect("the role's own port")));
            running.push(tokio::spawn(started.wait()));
        }
        Alone {
            services,
            shutdown,
            running,
        }
    }

    async fn stop(self) {
        self.shutdown.cancel();
        for running in self.running {
            running
                .await
                .expect("the role's task")
                .expect("the role stops cleanly");
        }
    }
}

/// Every service's answer to `token`: the platform's five, then the two run alone.
async fn answers(
    platform: &TestPlatform,
    alone: &Alone,
    centre: Uuid,
    token: &str,
) -> Vec<(String, Code)> {
    let platform_services = [
        ("registry", platform.registry),
        ("bookings", platform.bookings),
        ("volunteers", platform.volunteers),
        ("finance", platform.finance),
        ("evaluation", platform.evaluation),
    ];
    let mut answers = Vec::new();
    for (name, address) in platform_services {
        answers.push((name.to_owned(), direct(name, address, centre, token).await));
    }
    for (name, address) in &alone.services {
        answers.push((
            format!("{name} alone"),
            direct(name, *address, centre, token).await,
        ));
    }
    answers
}

/// Waits until every service answers `token` as `wanted` says, for `what`.
async fn until_every_service(
    platform: &TestPlatform,
    alone: &Alone,
    centre: Uuid,
    token: &str,
    what: &str,
    wanted: impl Fn(Code) -> bool,
) {
    poll(what, DELIVERY, || async {
        let answers = answers(platform, alone, centre, token).await;
        answers.iter().all(|(_, code)| wanted(*code)).then_some(())
    })
    .await;
}

/// How many of the services' own databases record `session` as ended.
async fn recorded_in(platform: &TestPlatform, session: Uuid) -> Vec<&'static str> {
    let mut found = Vec::new();
    for service in SERVICES {
        let pool = platform.pool(service).await;
        let count: i64 =
            sqlx::query_scalar("SELECT count(*) FROM revoked_sessions WHERE session_id = $1")
                .bind(session)
                .fetch_one(&pool)
                .await
                .expect("the platform's table is in every service's database");
        pool.close().await;
        if count == 1 {
            found.push(service);
        }
    }
    found
}

async fn session_of(platform: &TestPlatform, username: &str) -> Uuid {
    let pool = platform.pool("registry").await;
    let session = sqlx::query_scalar(
        "SELECT s.id FROM staff_sessions s JOIN staff_accounts a ON a.id = s.account_id
          WHERE a.username = $1 ORDER BY s.started_at DESC LIMIT 1",
    )
    .bind(username)
    .fetch_one(&pool)
    .await
    .expect("a session");
    pool.close().await;
    session
}

#[tokio::test]
async fn a_signed_out_console_token_is_refused_by_the_gateway_at_once_and_by_every_service_even_after_a_restart()
 {
    let platform = TestPlatform::start().await;
    let centre = platform.bookable_centre("Asia/Shanghai").await;
    account(&platform, "manager-a", "centre_manager", centre).await;
    let alone = Alone::start(&platform).await;
    let route = format!("/v1/centres/{centre}/offerings");

    let mut console = Console::new(&platform);
    assert_eq!(console.sign_in("manager-a").await, StatusCode::SEE_OTHER);
    let token = console.token();
    let session = session_of(&platform, "manager-a").await;
    assert_eq!(api(&platform, &token, &route).await, StatusCode::OK);
    until_every_service(
        &platform,
        &alone,
        centre,
        &token,
        "every service to take the live session's token",
        |code| code == Code::Ok,
    )
    .await;
    // A token issued without a session (`linli token`) only expires.
    let plain = platform.token(&[Role::CentreManager], &[centre]);

    assert_eq!(
        console
            .submit(&format!("/c/{centre}/dashboard"), "/sign-out", &[])
            .await,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        api(&platform, &token, &route).await,
        StatusCode::UNAUTHORIZED,
        "the gateway refuses the token as soon as the session has ended"
    );
    until_every_service(
        &platform,
        &alone,
        centre,
        &token,
        "every service to refuse the ended session's token",
        |code| code == Code::Unauthenticated,
    )
    .await;
    assert_eq!(
        recorded_in(&platform, session).await,
        SERVICES,
        "each service keeps the end in its own database"
    );
    assert_eq!(api(&platform, &plain, &route).await, StatusCode::OK);
    for (service, code) in answers(&platform, &alone, centre, &plain).await {
        assert_eq!(code, Code::Ok, "{service} takes a token without a session");
    }

    // Restarted, every role reads the ends from its database before it serves.
    alone.stop().await;
    let platform = platform.restart().await;
    let alone = Alone::start(&platform).await;
    assert_eq!(
        api(&platform, &token, &route).await,
        StatusCode::UNAUTHORIZED
    );
    for (service, code) in answers(&platform, &alone, centre, &token).await {
        assert_eq!(
            code,
            Code::Unauthenticated,
            "{service} refuses the ended session's token after a restart"
        );
    }
    for (service, code) in answers(&platform, &alone, centre, &plain).await {
        assert_eq!(code, Code::Ok, "{service} takes a token without a session");
    }
    alone.stop().await;
    platform.stop().await;
}

#[tokio::test]
async fn disabling_an_account_refuses_its_live_session_token_at_the_gateway_at_once_and_at_every_service()
 {
    let platform = TestPlatform::start().await;
    let centre = platform.bookable_centre("Asia/Shanghai").await;
    let other = platform.bookable_centre("Asia/Shanghai").await;
    account(&platform, "manager-a", "centre_manager", centre).await;
    account(&platform, "manager-b", "centre_manager", other).await;
    let desk_id = account(&platform, "desk-a", "front_desk", centre).await;
    let alone = Alone::start(&platform).await;
    let route = format!("/v1/centres/{centre}/offerings");

    let mut desk = Console::new(&platform);
    assert_eq!(desk.sign_in("desk-a").await, StatusCode::SEE_OTHER);
    let token = desk.token();
    assert_eq!(api(&platform, &token, &route).await, StatusCode::OK);
    until_every_service(
        &platform,
        &alone,
        centre,
        &token,
        "every service to admit the live session's token",
        |code| code != Code::Unauthenticated && code != Code::Unavailable,
    )
    .await;

    let disable = format!("/accounts/{desk_id}/active");
    let off = [("active", "false")];
    // Only who may create the account may disable it: not its peers, not another
    // centre's manager, and nobody their own.
    let mut peer = Console::new(&platform);
    account(&platform, "desk-b", "front_desk", centre).await;
    assert_eq!(peer.sign_in("desk-b").await, StatusCode::SEE_OTHER);
    assert_eq!(
        peer.submit(&format!("/c/{centre}/dashboard"), &disable, &off)
            .await,
        StatusCode::FORBIDDEN
    );
    let mut stranger = Console::new(&platform);
    assert_eq!(stranger.sign_in("manager-b").await, StatusCode::SEE_OTHER);
    assert_eq!(
        stranger.submit("/accounts", &disable, &off).await,
        StatusCode::FORBIDDEN
    );
    let mut manager = Console::new(&platform);
    assert_eq!(manager.sign_in("manager-a").await, StatusCode::SEE_OTHER);
    let manager_id: Uuid = {
        let pool = platform.pool("registry").await;
        let id = sqlx::query_scalar("SELECT id FROM staff_accounts WHERE username = 'manager-a'")
            .fetch_one(&pool)
            .await
            .expect("the manager's account");
        pool.close().await;
        id
    };
    assert_eq!(
        manager
            .submit("/accounts", &format!("/accounts/{manager_id}/active"), &off)
            .await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        api(&platform, &token, &route).await,
        StatusCode::OK,
        "refused attempts change nothing"
    );

    assert_eq!(
        manager.submit("/accounts", &disable, &off).await,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        api(&platform, &token, &route).await,
        StatusCode::UNAUTHORIZED,
        "the gateway refuses the disabled account's token at once"
    );
    let (status, _) = desk.get(&format!("/c/{centre}/dashboard")).await;
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "the console sends it to sign in"
    );
    until_every_service(
        &platform,
        &alone,
        centre,
        &token,
        "every service to refuse the disabled account's token",
        |code| code == Code::Unauthenticated,
    )
    .await;
    assert_eq!(
        Console::new(&platform).sign_in("desk-a").await,
        StatusCode::UNAUTHORIZED,
        "a disabled account cannot sign in"
    );
    let peer_token = peer.token();
    assert_eq!(
        api(&platform, &peer_token, &route).await,
        StatusCode::OK,
        "other accounts' sessions go on"
    );

    // Enabled again, the account signs in anew; the old session stays ended.
    assert_eq!(
        manager
            .submit("/accounts", &disable, &[("active", "true")])
            .await,
        StatusCode::SEE_OTHER
    );
    let mut again = Console::new(&platform);
    assert_eq!(again.sign_in("desk-a").await, StatusCode::SEE_OTHER);
    assert_eq!(api(&platform, &again.token(), &route).await, StatusCode::OK);
    assert_eq!(
        api(&platform, &token, &route).await,
        StatusCode::UNAUTHORIZED
    );
    alone.stop().await;
    platform.stop().await;
}
