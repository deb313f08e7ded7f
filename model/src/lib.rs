//! Shared between the `animestyle` element and the `animestyle-train` trainer: the model
//! contract (how frames map to tensors, read from ONNX metadata) and an ONNX writer.
//!
//! - [`contract`]: tensor layout, channel order, value range and the metadata keys.
//! - [`onnx`]: the ONNX protobuf types and a small graph builder.
//! - [`fixtures`]: tiny models with exactly known behaviour (and broken ones) for tests.
//! - [`handmade`]: the placeholder "cel" generator with hand-chosen weights.
//! - [`blur`]: the Gaussian blur the element's metrics and the trainer's teacher share.

pub mod blur;
pub mod contract;
pub mod fixtures;
pub mod handmade;
pub mod onnx;

pub use contract::{
    ChannelOrder, ContractError, ContractOverrides, Layout, ModelContract, ModelDescription, TensorType, ValueRange,
};
