//! Compiles `proto/topics/v1/topics.proto` with a vendored `protoc`, so a fresh machine needs no
//! system protobuf compiler.
use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protoc = protoc_bin_vendored::protoc_bin_path()?;
    // SAFETY-free: build scripts are single-threaded; tonic-build reads PROTOC.
    std::env::set_var("PROTOC", protoc);
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let proto = root.join("topics/v1/topics.proto");
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    println!("cargo:rerun-if-changed={}", proto.display());
    let descriptor_path = out_dir.join("topics_v1_descriptor.bin");
    tonic_build::configure()
        .file_descriptor_set_path(&descriptor_path)
        .compile_protos(&[proto], &[root])?;
    // Feature `serde`: serde impls in the proto3 JSON mapping (for the HTTP/JSON API), with the
    // proto's own snake_case field names on output (camelCase is accepted on input too) and
    // every field emitted, defaults included (topic 0 is a topic, not a missing field).
    if std::env::var_os("CARGO_FEATURE_SERDE").is_some() {
        let descriptors = std::fs::read(&descriptor_path)?;
        pbjson_build::Builder::new()
            .register_descriptors(&descriptors)?
            .preserve_proto_field_names()
            .emit_fields()
            .build(&[".topics.v1"])?;
    }
    Ok(())
}
