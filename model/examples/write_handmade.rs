//! Writes the handmade cel model (`animestyle_model::handmade::cel_model()`) to
//! `models/animestyle-handmade.onnx` at the workspace root, or to the path given.
//!
//! ```sh
//! cargo run -p animestyle-model --example write_handmade
//! ```

use animestyle_model::handmade;
use std::path::PathBuf;

fn main() -> std::io::Result<()> {
    let path = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join(handmade::COMMITTED_PATH));
    let bytes = handmade::cel_model();
    std::fs::write(&path, &bytes)?;
    println!("wrote {} ({} bytes)", path.display(), bytes.len());
    Ok(())
}
