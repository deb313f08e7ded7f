//! Writes every test fixture of `animestyle_model::fixtures` into a directory (default
//! `/tmp/animestyle-fixtures`), for looking at them with other tools (Netron, Python
//! onnxruntime, `onnx.checker`).
//!
//! ```sh
//! cargo run -p animestyle-model --example write_fixtures -- /tmp/animestyle-fixtures
//! ```

use animestyle_model::fixtures;
use std::path::PathBuf;

fn main() -> std::io::Result<()> {
    let dir = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "/tmp/animestyle-fixtures".into()));
    std::fs::create_dir_all(&dir)?;
    let mut files: Vec<(String, Vec<u8>)> =
        fixtures::PermuteInvert::all().into_iter().map(|v| (format!("{}.onnx", v.name()), v.model())).collect();
    files.push(("bad-rank3.onnx".into(), fixtures::rank3_input()));
    files.push(("bad-one-channel.onnx".into(), fixtures::one_channel()));
    files.push(("bad-int64.onnx".into(), fixtures::int64_input()));
    files.push(("bad-fails-at-run.onnx".into(), fixtures::fails_at_run()));
    files.push(("bad-not-onnx.onnx".into(), fixtures::not_onnx()));
    for (name, bytes) in &files {
        std::fs::write(dir.join(name), bytes)?;
    }
    println!("wrote {} models to {}", files.len(), dir.display());
    Ok(())
}
