//! `animestyle-train`: trains animestyle generators and exports them to ONNX.
//!
//! `data` (image folders → augmented batches) → `model` (generator, discriminator) → `loss`
//! (one function per loss, with its source) → `train` (one GAN step, checkpoints) → `export`
//! (ONNX writer + metadata). `teacher` is the classical cel filter distilled in `teacher` mode;
//! `plot` draws loss curves and sample grids; `run` is the loop the CLI drives.

pub mod data;
pub mod evaluate;
pub mod export;
pub mod loss;
pub mod model;
pub mod plot;
pub mod run;
pub mod teacher;
pub mod train;
