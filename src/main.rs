//! `linli`: one binary, every role. This file only reads the command line and hands off.

use anyhow::Context as _;
use chrono::Duration;
use clap::{Parser, Subcommand};
use linli::{Role, ServeArgs};
use linli_platform::CancellationToken;
use linli_platform::auth::{AuthArgs, RateClaim, Role as AccessRole, TokenKeys};
use linli_platform::bus::BusArgs;
use linli_platform::crypto::PersonalDataArgs;
use linli_platform::db::DatabaseArgs;
use linli_platform::telemetry::TelemetryArgs;
use uuid::Uuid;

#[derive(Parser)]
#[command(
    name = "linli",
    version,
    about = "Linli: the community service centres of a district"
)]
struct Cli {
    #[command(flatten)]
    telemetry: TelemetryArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs one role, or `all` of them in this process.
    Serve {
        #[arg(value_enum)]
        role: Role,
        #[command(flatten)]
        args: Box<ServeArgs>,
    },
    /// Applies database migrations (every role's, or one role's) and declares the queues.
    Migrate {
        #[arg(value_enum, default_value = "all")]
        role: Role,
        #[command(flatten)]
        database: DatabaseArgs,
        #[command(flatten)]
        bus: BusArgs,
    },
    /// Loads demo data.
    Seed {
        #[command(subcommand)]
        what: Seed,
    },
    /// Imports data from the spreadsheets centres keep.
    Import {
        #[command(subcommand)]
        what: Import,
    },
    /// Certificates for the partner gRPC port (mutual TLS), for local use.
    Partner {
        #[command(subcommand)]
        what: PartnerCommand,
    },
    /// Prints a signed bearer token for local use.
    Token {
        /// district_admin, centre_manager, front_desk, coordinator, finance_officer, auditor, partner.
        #[arg(long = "role", required = true, value_parser = parse_role)]
        roles: Vec<AccessRole>,
        /// A centre the token covers; repeat for several. Leave out for district_admin.
        #[arg(long = "centre")]
        centres: Vec<Uuid>,
        /// How long the token is valid: e.g. 30m, 8h, 7d.
        #[arg(long, default_value = "8h", value_parser = parse_ttl)]
        ttl: Duration,
        #[arg(long, default_value = "local-user")]
        subject: String,
        /// The credential's own rate at the gateway, requests per minute (a kiosk's or an
        /// integration's, above or below the default LINLI_RATE_LIMIT).
        #[arg(long)]
        rate_per_minute: Option<u32>,
        /// Requests at once above that rate (default: two seconds' worth).
        #[arg(long, default_value_t = 0, requires = "rate_per_minute")]
        burst: u32,
        #[command(flatten)]
        auth: AuthArgs,
    },
}

#[derive(Subcommand)]
enum Seed {
    /// A demo district: three centres and a few hundred residents.
    Demo {
        #[command(flatten)]
        database: DatabaseArgs,
        #[command(flatten)]
        bus: BusArgs,
        #[command(flatten)]
        data: PersonalDataArgs,
    },
    /// A district for measuring Linli at scale: --centres N with --residents M each
    /// (N × M in all), households, a year of bookings and check-ins, volunteers with
    /// hours and a year of books, through the services' own code; the same --seed makes
    /// the same district, and a rerun adds nothing.
    /// Each database is migrated as the seeding reaches it; the broker is not needed.
    District {
        #[command(flatten)]
        district: linli::district::District,
        #[command(flatten)]
        database: DatabaseArgs,
        #[command(flatten)]
        data: PersonalDataArgs,
    },
}

#[derive(Subcommand)]
enum PartnerCommand {
    /// Makes a partner CA and the listener's certificate in DIR: ca.pem, ca.key,
    /// server.pem, server.key. Serve with LINLI_PARTNER_TLS_CERT=DIR/server.pem,
    /// LINLI_PARTNER_TLS_KEY=DIR/server.key, LINLI_PARTNER_CLIENT_CA=DIR/ca.pem.
    InitCa {
        dir: std::path::PathBuf,
        /// Host names and addresses the listener answers on.
        #[arg(long = "host", default_values_t = ["localhost".to_owned(), "127.0.0.1".to_owned()])]
        hosts: Vec<String>,
    },
    /// Issues a partner's client certificate from the CA in DIR: NAME.pem and NAME.key.
    /// Register NAME.pem for the partner (POST /v1/partners/{id}/credentials).
    IssueCert {
        dir: std::path::PathBuf,
        /// The certificate's common name, e.g. the partner's system.
        #[arg(long)]
        name: String,
        /// Days the certificate is valid.
        #[arg(long, default_value_t = 365)]
        days: i64,
    },
}

#[derive(Subcommand)]
enum Import {
    /// Registers the residents of a CSV file (UTF-8 or GBK) at one centre, printing every
    /// refused row; rows already registered are skipped, so a rerun adds nothing.
    Residents {
        file: std::path::PathBuf,
        #[arg(long)]
        centre: Uuid,
        /// utf-8, gbk or auto.
        #[arg(long, default_value = "auto")]
        encoding: String,
        /// A column heading for a field, e.g. --map name=居民; repeatable.
        #[arg(long = "map", value_parser = parse_mapping)]
        mapping: Vec<(String, String)>,
        #[command(flatten)]
        database: DatabaseArgs,
        #[command(flatten)]
        data: PersonalDataArgs,
    },
}

fn parse_mapping(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .map(|(field, heading)| (field.trim().to_owned(), heading.trim().to_owned()))
        .ok_or_else(|| format!("`{text}` is not field=heading"))
}

fn parse_role(text: &str) -> Result<AccessRole, String> {
    AccessRole::parse(text).ok_or_else(|| {
        let known: Vec<&str> = AccessRole::ALL.iter().map(|r| r.as_str()).collect();
        format!("unknown role `{text}`; one of {}", known.join(", "))
    })
}

fn parse_ttl(text: &str) -> Result<Duration, String> {
    let (number, unit) = text.split_at(
        text.find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len()),
    );
    let n: i64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not like 30m, 8h or 7d"))?;
    match unit {
        "s" => Ok(Duration::seconds(n)),
        "m" => Ok(Duration::minutes(n)),
        "h" | "" => Ok(Duration::hours(n)),
        "d" => Ok(Duration::days(n)),
        _ => Err(format!("`{text}`: the unit must be s, m, h or d")),
    }
}

/// mimalloc rather than glibc's malloc: a request allocates and frees in many small pieces
/// on whichever worker thread polls it (docs/performance.md, issue 25's request cost).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Token {
            roles,
            centres,
            ttl,
            subject,
            rate_per_minute,
            burst,
            auth,
        } => {
            if centres.is_empty() && !roles.contains(&AccessRole::DistrictAdmin) {
                anyhow::bail!("--centre is required unless the token is for district_admin");
            }
            let keys = TokenKeys::new(&auth);
            let token = match rate_per_minute {
                Some(per_minute) => keys.issue_with_rate(
                    &subject,
                    &roles,
                    &centres,
                    ttl,
                    RateClaim { per_minute, burst },
                ),
                None => keys.issue(&subject, &roles, &centres, ttl),
            };
            println!("{token}");
            Ok(())
        }
        Command::Partner { what } => partner(what),
        Command::Serve { role, args } => {
            let _telemetry = linli_platform::telemetry::init(&cli.telemetry)?;
            let shutdown = CancellationToken::new();
            tokio::spawn(stop_on_signal(shutdown.clone()));
            linli::start(role, *args, shutdown).await?.wait().await
        }
        Command::Migrate {
            role,
            database,
            bus,
        } => {
            let _telemetry = linli_platform::telemetry::init(&cli.telemetry)?;
            linli::migrate(role, &database, &bus).await
        }
        Command::Import {
            what:
                Import::Residents {
                    file,
                    centre,
                    encoding,
                    mapping,
                    database,
                    data,
                },
        } => {
            let _telemetry = linli_platform::telemetry::init(&cli.telemetry)?;
            linli::import::residents(&file, centre, &encoding, &mapping, &database, &data).await
        }
        Command::Seed {
            what:
                Seed::Demo {
                    database,
                    bus,
                    data,
                },
        } => {
            let _telemetry = linli_platform::telemetry::init(&cli.telemetry)?;
            linli::seed::demo(&database, &bus, &data).await
        }
        Command::Seed {
            what:
                Seed::District {
                    district,
                    database,
                    data,
                },
        } => {
            let _telemetry = linli_platform::telemetry::init(&cli.telemetry)?;
            let started = std::time::Instant::now();
            linli::district::seed(&database, &data, &district, linli::district::today()).await?;
            println!("seeded in {:.1} s", started.elapsed().as_secs_f64());
            Ok(())
        }
    }
}

fn partner(what: PartnerCommand) -> anyhow::Result<()> {
    use linli_platform::partner::PartnerCa;
    let write = |path: std::path::PathBuf, text: &str| {
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))
    };
    match what {
        PartnerCommand::InitCa { dir, hosts } => {
            std::fs::create_dir_all(&dir)?;
            let (ca, key) = PartnerCa::generate("Linli partner CA")?;
            let server = ca.issue_server(&hosts)?;
            write(dir.join("ca.pem"), &ca.certificate_pem)?;
            write(dir.join("ca.key"), &key)?;
            write(dir.join("server.pem"), &server.certificate_pem)?;
            write(dir.join("server.key"), &server.key_pem)?;
            println!(
                "partner CA and listener certificate written to {}",
                dir.display()
            );
        }
        PartnerCommand::IssueCert { dir, name, days } => {
            anyhow::ensure!(days > 0, "--days must be positive");
            anyhow::ensure!(
                !name.is_empty()
                    && name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
                "--name must be letters, digits, dashes or underscores"
            );
            let read = |file: &str| {
                std::fs::read_to_string(dir.join(file))
                    .with_context(|| format!("reading {}", dir.join(file).display()))
            };
            let ca = PartnerCa::load(&read("ca.pem")?, &read("ca.key")?)?;
            let issued = ca.issue_client(&name, days)?;
            write(dir.join(format!("{name}.pem")), &issued.certificate_pem)?;
            write(dir.join(format!("{name}.key")), &issued.key_pem)?;
            let facts = linli_platform::partner::read_certificate(&issued.certificate_pem)
                .map_err(|e| anyhow::anyhow!("the new certificate {e}"))?;
            println!("{}", dir.join(format!("{name}.pem")).display());
            println!("fingerprint (SHA-256): {}", facts.fingerprint);
        }
    }
    Ok(())
}

/// Cancels `shutdown` on Ctrl-C or SIGTERM (what Kubernetes sends).
async fn stop_on_signal(shutdown: CancellationToken) {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate => {}
    }
    tracing::info!("stopping: draining requests, stopping consumers, flushing the outbox");
    shutdown.cancel();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_is_well_formed() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn ttl_takes_seconds_minutes_hours_and_days() {
        assert_eq!(parse_ttl("30m"), Ok(Duration::minutes(30)));
        assert_eq!(parse_ttl("8h"), Ok(Duration::hours(8)));
        assert_eq!(parse_ttl("7d"), Ok(Duration::days(7)));
        assert!(parse_ttl("soon").is_err());
        assert!(parse_ttl("5y").is_err());
    }
}
