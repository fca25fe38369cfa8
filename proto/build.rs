//! Compiles every contract in `linli/` with a vendored protoc, so a fresh machine needs no
//! system protobuf compiler.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protoc = protoc_bin_vendored::protoc_bin_path()?;
    // SAFETY: build scripts are single-threaded; nothing else reads the environment here.
    unsafe { std::env::set_var("PROTOC", protoc) };
    let include = protoc_bin_vendored::include_path()?;
    let out_dir = std::path::PathBuf::from(std::env::var("OUT_DIR")?);

    let protos = [
        "linli/registry/v1/registry.proto",
        "linli/bookings/v1/bookings.proto",
        "linli/evaluation/v1/evaluation.proto",
        "linli/finance/v1/finance.proto",
        "linli/events/v1/registry.proto",
        "linli/events/v1/bookings.proto",
        "linli/events/v1/evaluation.proto",
        "linli/events/v1/finance.proto",
        "linli/volunteers/v1/volunteers.proto",
        "linli/events/v1/volunteers.proto",
    ];
    tonic_prost_build::configure()
        .file_descriptor_set_path(out_dir.join("linli_descriptor.bin"))
        .compile_protos(
            &protos,
            &[
                ".",
                include.to_str().ok_or("protoc include path is not UTF-8")?,
            ],
        )?;
    for proto in protos {
        println!("cargo:rerun-if-changed={proto}");
    }
    Ok(())
}
