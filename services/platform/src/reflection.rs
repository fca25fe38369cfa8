//! gRPC server reflection that tells the truth about one listener: it lists only the
//! services that listener serves (and resolves only their files), over both the
//! `grpc.reflection.v1` protocol and the `v1alpha` one that stock tools such as grpcurl
//! and older grpcio still ask for.

use std::collections::{BTreeSet, HashMap};

use prost::Message as _;
use prost_types::{FileDescriptorProto, FileDescriptorSet};
use tonic::service::Routes;

/// The gRPC health checking service, which every service's listener serves beside it.
pub const HEALTH: &str = "grpc.health.v1.Health";
/// The two reflection services this module adds.
pub const REFLECTION: [&str; 2] = [
    "grpc.reflection.v1.ServerReflection",
    "grpc.reflection.v1alpha.ServerReflection",
];

/// Adds both versions of reflection to `routes`, advertising `served` (full service
/// names, health among them when it is served) and the reflection services themselves.
pub fn add(routes: Routes, served: &[&str]) -> anyhow::Result<Routes> {
    let own = files_of(linli_proto::FILE_DESCRIPTOR_SET, served)?;
    let builder = || {
        let mut builder = tonic_reflection::server::Builder::configure()
            // Each version would otherwise register only its own file: registered here,
            // both versions describe both.
            .include_reflection_service(false)
            .register_encoded_file_descriptor_set(tonic_reflection::pb::v1::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(
                tonic_reflection::pb::v1alpha::FILE_DESCRIPTOR_SET,
            )
            .register_file_descriptor_set(own.clone());
        if served.contains(&HEALTH) {
            builder =
                builder.register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET);
        }
        for name in served.iter().chain(&REFLECTION) {
            builder = builder.with_service_name(*name);
        }
        builder
    };
    Ok(routes
        .add_service(builder().build_v1()?)
        .add_service(builder().build_v1alpha()?))
}

/// The files of `encoded` that define one of `services`, with every file they import,
/// so no other service's methods or messages can be looked up.
fn files_of(encoded: &[u8], services: &[&str]) -> anyhow::Result<FileDescriptorSet> {
    let set = FileDescriptorSet::decode(encoded)?;
    let by_name: HashMap<&str, &FileDescriptorProto> =
        set.file.iter().map(|file| (file.name(), file)).collect();
    let mut wanted: Vec<&str> = set
        .file
        .iter()
        .filter(|file| {
            file.service.iter().any(|service| {
                services.contains(&format!("{}.{}", file.package(), service.name()).as_str())
            })
        })
        .map(|file| file.name())
        .collect();
    let mut kept = BTreeSet::new();
    while let Some(name) = wanted.pop() {
        if kept.insert(name) {
            let file = by_name
                .get(name)
                .ok_or_else(|| anyhow::anyhow!("{name} is imported but not in the set"))?;
            wanted.extend(file.dependency.iter().map(String::as_str));
        }
    }
    Ok(FileDescriptorSet {
        file: set
            .file
            .iter()
            .filter(|file| kept.contains(file.name()))
            .cloned()
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_service_keeps_its_own_file_and_its_imports_and_no_other_service() {
        let set = files_of(
            linli_proto::FILE_DESCRIPTOR_SET,
            &["linli.finance.v1.Finance"],
        )
        .expect("the set decodes");
        let names: Vec<&str> = set.file.iter().map(|f| f.name()).collect();
        assert!(
            names.contains(&"linli/finance/v1/finance.proto"),
            "{names:?}"
        );
        assert!(
            set.file
                .iter()
                .all(|f| f.service.is_empty() || f.package() == "linli.finance.v1"),
            "{names:?}"
        );
        for file in &set.file {
            for import in &file.dependency {
                assert!(names.contains(&import.as_str()), "{import} is missing");
            }
        }
    }
}
