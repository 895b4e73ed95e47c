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
    tonic_build::configure()
        .file_descriptor_set_path(out_dir.join("topics_v1_descriptor.bin"))
        .compile_protos(&[proto], &[root])?;
    Ok(())
}
