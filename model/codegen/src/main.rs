//! Generates `model/src/onnx/onnx.rs` from `model/proto/onnx.proto`.
//!
//! `onnx.proto` is the file shipped in the pip `onnx` wheel (`onnx/onnx.proto`, version 1.23.2,
//! Apache-2.0), copied unchanged. To update it, copy the newer file over it and rerun this.
//!
//! Run from anywhere (paths are relative to this crate's manifest):
//!
//! ```sh
//! CARGO_TARGET_DIR=/tmp/codegen-target cargo run --manifest-path model/codegen/Cargo.toml
//! ```

use std::path::Path;

const HEADER: &str = "\
// @generated from model/proto/onnx.proto (ONNX, Apache-2.0) by model/codegen with
// prost-build and protox. Do not edit by hand; regenerate with
//
//     CARGO_TARGET_DIR=/tmp/codegen-target cargo run --manifest-path model/codegen/Cargo.toml
//
";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let model_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let proto_dir = model_dir.join("proto");
    let out_file = model_dir.join("src").join("onnx").join("onnx.rs");

    let fds = protox::compile([proto_dir.join("onnx.proto")], [&proto_dir])?;

    let tmp = std::env::temp_dir().join(format!("animestyle-codegen-{}", std::process::id()));
    std::fs::create_dir_all(&tmp)?;
    prost_build::Config::new().out_dir(&tmp).compile_fds(fds)?;
    let generated = std::fs::read_to_string(tmp.join("onnx.rs"))?;
    std::fs::remove_dir_all(&tmp)?;

    std::fs::create_dir_all(out_file.parent().unwrap())?;
    std::fs::write(&out_file, format!("{HEADER}{generated}"))?;
    println!("wrote {}", out_file.canonicalize()?.display());
    Ok(())
}
