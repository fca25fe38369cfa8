//! The Kubernetes manifests agree with the code: every role `linli serve` knows has a
//! Deployment that runs it, probes aim at the ports the binary listens on, every container
//! runs non-root on a read-only root filesystem within resource limits, and no Secret value
//! is committed. Renders each overlay with `kubectl kustomize` (`deploy/k8s-check.sh`, run
//! by the README's test command, provides one when the machine has none).

use std::path::{Path, PathBuf};
use std::process::Command;

use clap::ValueEnum;
use serde::Deserialize as _;
use serde_json::Value;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the workspace")
        .to_path_buf()
}

fn kubectl() -> PathBuf {
    if let Some(path) = std::env::var_os("LINLI_KUBECTL") {
        return path.into();
    }
    let local = workspace().join("target/k8s-tools/kubectl");
    if local.exists() {
        local
    } else {
        "kubectl".into()
    }
}

fn render(overlay: &str) -> Vec<Value> {
    let output = Command::new(kubectl())
        .arg("kustomize")
        .arg(workspace().join("k8s/overlays").join(overlay))
        .output()
        .expect("kubectl runs (deploy/k8s-check.sh installs one when missing)");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).expect("UTF-8 manifests");
    serde_yaml_ng::Deserializer::from_str(&text)
        .map(|document| {
            let yaml = serde_yaml_ng::Value::deserialize(document).expect("valid YAML");
            serde_json::to_value(yaml).expect("YAML maps to JSON")
        })
        .filter(|object| !object.is_null())
        .collect()
}

fn of_kind<'a>(objects: &'a [Value], kind: &str) -> Vec<&'a Value> {
    objects.iter().filter(|o| o["kind"] == kind).collect()
}

fn named<'a>(objects: &'a [Value], kind: &str, name: &str) -> &'a Value {
    objects
        .iter()
        .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("{kind} {name} is rendered"))
}

/// The default of one of `linli serve`'s port flags, read from the binary's own flags.
fn default_port(flag: &str) -> u16 {
    let command = <linli_cli::Serve as clap::CommandFactory>::command();
    let arg = command
        .get_arguments()
        .find(|a| a.get_id() == flag)
        .unwrap_or_else(|| panic!("linli serve has a {flag} flag"));
    arg.get_default_values()[0]
        .to_str()
        .expect("text")
        .parse()
        .expect("a port")
}

/// The environment variable one of `linli serve`'s flags falls back to, read from the
/// binary's own flags.
fn env_name(flag: &str) -> String {
    let command = <linli_cli::Serve as clap::CommandFactory>::command();
    let arg = command
        .get_arguments()
        .find(|a| a.get_id() == flag)
        .unwrap_or_else(|| panic!("linli serve has a {flag} flag"));
    arg.get_env()
        .unwrap_or_else(|| panic!("{flag} falls back to an environment variable"))
        .to_str()
        .expect("text")
        .to_owned()
}

/// Every role but `all`, with the port its gRPC (or, for the gateway, HTTP) listener uses.
fn roles() -> Vec<(String, u16)> {
    linli::Role::value_variants()
        .iter()
        .filter(|role| **role != linli::Role::All)
        .map(|role| {
            let name = role
                .to_possible_value()
                .expect("named")
                .get_name()
                .to_owned();
            let port = default_port(&format!("{name}_port"));
            (name, port)
        })
        .collect()
}

mod linli_cli {
    /// `linli serve`'s settings, as the binary parses them.
    #[derive(clap::Parser)]
    pub struct Serve {
        #[command(flatten)]
        pub args: linli::ServeArgs,
    }
}

fn containers(pod_spec: &Value) -> Vec<&Value> {
    ["initContainers", "containers"]
        .iter()
        .flat_map(|key| pod_spec[key].as_array().into_iter().flatten())
        .collect()
}

#[test]
fn every_role_has_a_deployment_running_it_with_probes_on_the_binarys_ports() {
    let admin = default_port("admin_port");
    for overlay in ["dev", "district"] {
        let objects = render(overlay);
        for (role, port) in roles() {
            let deployment = named(&objects, "Deployment", &role);
            let container = &containers(&deployment["spec"]["template"]["spec"])
                .into_iter()
                .find(|c| c["name"] == "linli")
                .unwrap_or_else(|| panic!("{overlay}: {role} runs a linli container"))
                .clone();
            assert_eq!(
                container["args"],
                serde_json::json!(["serve", role]),
                "{overlay}: {role} args"
            );
            assert_eq!(
                container["livenessProbe"]["httpGet"]["port"], admin,
                "{overlay}: {role} liveness"
            );
            assert_eq!(container["livenessProbe"]["httpGet"]["path"], "/healthz");
            assert_eq!(
                container["readinessProbe"]["httpGet"]["port"], admin,
                "{overlay}: {role} readiness"
            );
            assert_eq!(container["readinessProbe"]["httpGet"]["path"], "/readyz");
            if role != "gateway" {
                assert_eq!(
                    container["startupProbe"]["grpc"]["port"], port,
                    "{overlay}: {role} gRPC health"
                );
            }
            let ports: Vec<u64> = container["ports"]
                .as_array()
                .expect("ports")
                .iter()
                .map(|p| p["containerPort"].as_u64().unwrap())
                .collect();
            assert!(
                ports.contains(&u64::from(port)) && ports.contains(&u64::from(admin)),
                "{overlay}: {role} ports {ports:?}"
            );
            let env = container["env"].as_array().into_iter().flatten();
            for var in env {
                let name = var["name"].as_str().unwrap_or_default();
                assert!(
                    !(name.ends_with("_PORT") && name.starts_with("LINLI_")),
                    "{overlay}: {role} overrides {name}"
                );
            }
            let service = named(&objects, "Service", &role);
            let service_ports: Vec<u64> = service["spec"]["ports"]
                .as_array()
                .expect("ports")
                .iter()
                .map(|p| p["port"].as_u64().unwrap())
                .collect();
            assert!(
                service_ports.contains(&u64::from(port)),
                "{overlay}: Service {role} exposes {port}"
            );
        }
    }
}

#[test]
fn every_container_is_non_root_read_only_and_limited() {
    for overlay in ["dev", "district"] {
        let objects = render(overlay);
        let workloads: Vec<&Value> = of_kind(&objects, "Deployment")
            .into_iter()
            .chain(of_kind(&objects, "Job"))
            .collect();
        assert!(
            workloads.len() >= 6 + 5,
            "{overlay}: the roles and their migration jobs"
        );
        for workload in workloads {
            let name = workload["metadata"]["name"].as_str().unwrap_or_default();
            let pod = &workload["spec"]["template"]["spec"];
            for container in containers(pod) {
                let security = &container["securityContext"];
                let user = security["runAsUser"]
                    .as_u64()
                    .or(pod["securityContext"]["runAsUser"].as_u64());
                assert_eq!(
                    security["runAsNonRoot"], true,
                    "{overlay}: {name} runs as non-root"
                );
                assert!(
                    user.is_some_and(|u| u != 0),
                    "{overlay}: {name} runs as a numeric non-root user"
                );
                assert_eq!(
                    security["readOnlyRootFilesystem"], true,
                    "{overlay}: {name} read-only root"
                );
                assert_eq!(
                    security["allowPrivilegeEscalation"], false,
                    "{overlay}: {name} escalation"
                );
                assert_eq!(
                    security["capabilities"]["drop"],
                    serde_json::json!(["ALL"]),
                    "{overlay}: {name} capabilities"
                );
                for kind in ["requests", "limits"] {
                    for resource in ["cpu", "memory"] {
                        assert!(
                            container["resources"][kind][resource].is_string()
                                || container["resources"][kind][resource].is_number(),
                            "{overlay}: {name} has a {resource} {kind}"
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn no_secret_value_is_committed() {
    for overlay in ["dev", "district"] {
        let objects = render(overlay);
        assert!(
            of_kind(&objects, "Secret").is_empty(),
            "{overlay} renders no Secret"
        );
        let text = serde_json::to_string(&objects).expect("json");
        assert!(
            !text.contains(linli_platform::auth::LOCAL_SECRET),
            "{overlay}: the local JWT key"
        );
        assert!(
            !text.contains(linli_platform::crypto::LOCAL_DATA_KEY),
            "{overlay}: the local data key"
        );
    }
}

/// Partners reach each service's own mutual-TLS listener, which starts only when its
/// three PEM files are configured: the district opens the binary's partner port on every
/// service, sets the three variables the binary reads to files on read-only mounts, and
/// passes TLS through to that port, one host name per service (passthrough sees no gRPC
/// method). The gateway runs no service and serves no partner.
#[test]
fn district_passes_partner_tls_through_to_each_services_own_listener() {
    let partner_port = default_port("partner_port");
    let tls_files = ["partner_tls_cert", "partner_tls_key", "partner_client_ca"].map(env_name);
    let objects = render("district");
    let gateway = named(&objects, "Gateway", "linli-partner");
    let listeners = gateway["spec"]["listeners"].as_array().expect("listeners");
    assert!(
        !listeners.is_empty()
            && listeners
                .iter()
                .all(|l| l["protocol"] == "TLS" && l["tls"]["mode"] == "Passthrough"),
        "the partner Gateway passes TLS through, so the pods see the client certificate: {listeners:?}"
    );
    let routes = of_kind(&objects, "TLSRoute");
    let mut hostnames: Vec<&str> = Vec::new();
    for (role, _) in roles() {
        let deployment = named(&objects, "Deployment", &role);
        let container = containers(&deployment["spec"]["template"]["spec"])
            .into_iter()
            .find(|c| c["name"] == "linli")
            .unwrap_or_else(|| panic!("district: {role} runs a linli container"));
        let ports: Vec<u64> = container["ports"]
            .as_array()
            .expect("ports")
            .iter()
            .map(|p| p["containerPort"].as_u64().unwrap())
            .collect();
        let env: Vec<&Value> = container["env"].as_array().into_iter().flatten().collect();
        let value_of = |name: &str| {
            env.iter()
                .find(|var| var["name"] == name)
                .and_then(|var| var["value"].as_str())
        };
        if role == "gateway" {
            assert!(
                !ports.contains(&u64::from(partner_port))
                    && tls_files
                        .iter()
                        .all(|name| value_of(name.as_str()).is_none()),
                "district: the gateway serves no partners"
            );
            continue;
        }
        assert!(
            ports.contains(&u64::from(partner_port)),
            "district: {role} opens the partner port {partner_port}: {ports:?}"
        );
        let mounts = container["volumeMounts"]
            .as_array()
            .unwrap_or_else(|| panic!("district: {role} mounts the partner certificates"));
        for name in &tls_files {
            let path =
                value_of(name.as_str()).unwrap_or_else(|| panic!("district: {role} sets {name}"));
            assert!(
                mounts.iter().any(|mount| {
                    mount["readOnly"] == true
                        && mount["mountPath"]
                            .as_str()
                            .is_some_and(|dir| path.starts_with(&format!("{dir}/")))
                }),
                "district: {role}: {name}={path} is a file on a read-only mount"
            );
        }
        let service = named(&objects, "Service", &role);
        assert!(
            service["spec"]["ports"]
                .as_array()
                .expect("ports")
                .iter()
                .any(|p| p["port"] == partner_port),
            "district: Service {role} exposes {partner_port}"
        );
        let to_role: Vec<&Value> = routes
            .iter()
            .copied()
            .filter(|route| {
                route["spec"]["rules"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .flat_map(|rule| rule["backendRefs"].as_array().into_iter().flatten())
                    .any(|backend| backend["name"] == role.as_str())
            })
            .collect();
        assert_eq!(to_role.len(), 1, "district: one TLSRoute for {role}");
        let route = to_role[0];
        for backend in route["spec"]["rules"][0]["backendRefs"]
            .as_array()
            .expect("backends")
        {
            assert_eq!(
                backend["port"], partner_port,
                "district: the TLSRoute for {role} goes to its partner port"
            );
        }
        let names: Vec<&str> = route["spec"]["hostnames"]
            .as_array()
            .expect("hostnames")
            .iter()
            .map(|h| h.as_str().expect("a host name"))
            .collect();
        assert!(
            !names.is_empty() && names.iter().all(|name| !hostnames.contains(name)),
            "district: {role} has host names of its own: {names:?}"
        );
        hostnames.extend(names);
    }
}

/// A container's setting: its own environment first, then the `linli-settings`
/// ConfigMap every pod reads.
fn setting<'a>(container: &'a Value, settings: &'a Value, name: &str) -> Option<&'a str> {
    container["env"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|var| var["name"] == name)
        .and_then(|var| var["value"].as_str())
        .or_else(|| settings[name].as_str())
}

/// The most pods a Deployment can run at once: its autoscaler's maximum (or its replicas)
/// and the surge a rolling update adds.
fn most_pods(objects: &[Value], deployment: &Value) -> u64 {
    let name = &deployment["metadata"]["name"];
    let replicas = of_kind(objects, "HorizontalPodAutoscaler")
        .into_iter()
        .find(|hpa| &hpa["spec"]["scaleTargetRef"]["name"] == name)
        .map(|hpa| hpa["spec"]["maxReplicas"].as_u64().expect("maxReplicas"))
        .unwrap_or_else(|| deployment["spec"]["replicas"].as_u64().unwrap_or(1));
    let surge = match &deployment["spec"]["strategy"]["rollingUpdate"]["maxSurge"] {
        Value::Number(n) => n.as_u64().expect("a count"),
        Value::String(percent) => {
            let p: u64 = percent.trim_end_matches('%').parse().expect("a percentage");
            (replicas * p).div_ceil(100)
        }
        _ => replicas.div_ceil(4),
    };
    replicas + surge
}

/// The connection budget: for every overlay, the most pods of each role at once (the
/// autoscaler's maximum plus a rolling update's surge) times the connections each holds
/// at most (its request pool, `LINLI_<SERVICE>_DATABASE_MAX_CONNECTIONS` or
/// `LINLI_DATABASE_MAX_CONNECTIONS`, the bus pool and the relay's lock), plus one for each
/// migration Job,
/// stay within the role's connection limit, and all roles together within the server's
/// `max_connections` less the superuser's reserve. No pooler sits between the services
/// and PostgreSQL (docs/performance.md says why), so this sum is what the server sees.
#[test]
fn every_overlay_keeps_each_roles_connections_within_its_limit_and_the_servers() {
    let bus = u64::from(linli_platform::service::CONNECTIONS_BESIDE_THE_POOL);
    for overlay in ["dev", "district"] {
        let objects = render(overlay);
        let settings = &of_kind(&objects, "ConfigMap")
            .into_iter()
            .find(|c| {
                c["metadata"]["name"]
                    .as_str()
                    .is_some_and(|n| n.starts_with("linli-settings"))
            })
            .expect("the linli-settings ConfigMap")["data"];
        let cluster = named(&objects, "Cluster", "linli-pg");
        let parameters = &cluster["spec"]["postgresql"]["parameters"];
        let number = |value: &Value| -> Option<u64> { value.as_str()?.parse().ok() };
        let server = number(&parameters["max_connections"]).expect("max_connections is set")
            - number(&parameters["superuser_reserved_connections"]).unwrap_or(3);
        let mut limits: std::collections::BTreeMap<String, u64> =
            cluster["spec"]["managed"]["roles"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|role| {
                    Some((
                        role["name"].as_str()?.to_owned(),
                        role["connectionLimit"].as_i64()?,
                    ))
                })
                .filter(|(_, limit)| *limit >= 0)
                .map(|(name, limit)| (name, limit as u64))
                .collect();
        for sql in cluster["spec"]["bootstrap"]["initdb"]["postInitApplicationSQL"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            let words: Vec<&str> = sql.split_whitespace().collect();
            if let ["ALTER", "ROLE", role, "CONNECTION", "LIMIT", limit] = words[..] {
                limits.insert(role.to_owned(), limit.parse().expect("a limit"));
            }
        }
        let mut used: std::collections::BTreeMap<String, u64> = Default::default();
        for workload in of_kind(&objects, "Deployment")
            .into_iter()
            .chain(of_kind(&objects, "Job"))
        {
            let Some(container) = containers(&workload["spec"]["template"]["spec"])
                .into_iter()
                .find(|c| c["name"] == "linli")
            else {
                continue;
            };
            // The database a container reaches names its service (and so its role).
            let Some(service) = container["env"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|var| var["name"].as_str())
                .find_map(|name| {
                    name.strip_prefix("LINLI_")?
                        .strip_suffix("_DATABASE_URL")
                        .map(str::to_ascii_lowercase)
                })
            else {
                continue;
            };
            let connections = if workload["kind"] == "Job" {
                1
            } else {
                let own = format!("LINLI_{}_DATABASE_MAX_CONNECTIONS", service.to_uppercase());
                let pool: u64 = setting(container, settings, &own)
                    .or_else(|| setting(container, settings, "LINLI_DATABASE_MAX_CONNECTIONS"))
                    .map(|n| n.parse().expect("a pool size"))
                    .unwrap_or(u64::from(linli_platform::db::DEFAULT_MAX_CONNECTIONS));
                let pods = most_pods(&objects, workload);
                println!(
                    "{overlay}: {service}: {pods} pods × ({pool} + {bus}) = {}",
                    pods * (pool + bus)
                );
                pods * (pool + bus)
            };
            *used.entry(format!("linli_{service}")).or_default() += connections;
        }
        assert!(!used.is_empty(), "{overlay}: some role connects");
        for (role, connections) in &used {
            let limit = limits
                .get(role)
                .unwrap_or_else(|| panic!("{overlay}: role {role} has a connection limit"));
            assert!(
                connections <= limit,
                "{overlay}: {role} may open {connections} connections, over its limit of {limit}"
            );
        }
        let total: u64 = used.values().sum();
        println!("{overlay}: {total} of the server's {server}");
        assert!(
            total <= server,
            "{overlay}: the roles may open {total} connections, over the server's {server} ({used:?})"
        );
    }
}
