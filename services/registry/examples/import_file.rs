//! Imports a CSV file of residents at a new centre, as `linli import residents` does
//! (the same `linli_registry::import::import`), and prints the rate. For measuring the
//! import alone, without building the rest of the binary:
//!
//! LINLI_DATABASE_PREFIX=scale25_ cargo run --release -p linli-registry --example import_file -- FILE
//!
//! `LINLI_DATABASE_URL` names another server (the default is the local one on 5432);
//! `STREAMED=1` sends the file through the parts a client-streaming `ImportResidentsStream`
//! call reads from ([`linli_registry::import::Incoming`], 64 KiB at a time), as the HTTP
//! route's imports arrive.

use linli_platform::crypto::{LOCAL_DATA_KEY, LOCAL_INDEX_KEY, PersonalDataArgs, Vault};
use linli_platform::db::DatabaseArgs;
use linli_registry::domain::centre::CentreDetails;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let file = std::env::args().nth(1).expect("a CSV file");
    let database = DatabaseArgs {
        database_url: std::env::var("LINLI_DATABASE_URL")
            .unwrap_or("postgres://postgres@127.0.0.1:5432/postgres".into()),
        database_prefix: std::env::var("LINLI_DATABASE_PREFIX").unwrap_or("scale25_".into()),
        database_max_connections: 4,
    };
    let vault = Vault::new(&PersonalDataArgs {
        data_key: LOCAL_DATA_KEY.into(),
        data_key_id: "local-1".into(),
        blind_index_key: LOCAL_INDEX_KEY.into(),
    })?;
    let pool = linli_platform::db::connect(
        &database,
        linli_registry::SERVICE,
        &linli_registry::MIGRATOR,
    )
    .await?;
    let centre = uuid::Uuid::new_v4();
    let code = format!("c{}", &centre.simple().to_string()[..8]);
    linli_registry::store::create_centre(
        &pool,
        centre,
        &CentreDetails {
            code,
            name: "导入测试".into(),
            address: String::new(),
            time_zone: "Asia/Shanghai".into(),
            opening_hours: String::new(),
            contact_phone: String::new(),
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let started = std::time::Instant::now();
    let mut file = std::io::BufReader::with_capacity(256 * 1024, std::fs::File::open(&file)?);
    let today = chrono::Utc::now().date_naive();
    let report = if std::env::var("STREAMED").is_ok() {
        let (sender, parts, cut_short) = linli_registry::import::Incoming::channel();
        tokio::spawn(async move {
            use std::io::Read as _;
            loop {
                let mut part = vec![0; 64 * 1024];
                let n = file.read(&mut part).expect("readable");
                part.truncate(n);
                if n == 0 || !sender.send(part).await {
                    return;
                }
            }
        });
        linli_registry::import::import_parts(
            &pool,
            &vault,
            centre,
            parts,
            Some(cut_short),
            "auto",
            &[],
            today,
        )
        .await
    } else {
        linli_registry::import::import(&pool, &vault, centre, file, "auto", &[], today).await
    }
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "{} rows: {} imported, {} already registered, {} refused ({elapsed:.1} s, {:.0} rows/s)",
        report.rows,
        report.imported,
        report.already_registered.len(),
        report.errors.len(),
        f64::from(report.rows) / elapsed
    );
    for e in report.errors.iter().take(5) {
        println!("  row {}: {}: {}", e.row, e.field, e.reason);
    }
    Ok(())
}
