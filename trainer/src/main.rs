//! `animestyle-train`: trains animestyle generators and exports them to ONNX.
//!
//! The training loop and exporter are not written yet; this skeleton only reserves the
//! crate and its place in the workspace (it already shares the model contract with the
//! element through `animestyle-model`).

fn main() {
    let contract_version = animestyle_model::contract::CONTRACT_VERSION;
    eprintln!(
        "animestyle-train: training and export are not implemented yet (model contract v{contract_version}).\n\
         The bundled model is currently made by `cargo run -p animestyle-model --example write_handmade`."
    );
    std::process::exit(2);
}
