//! `animestyle-train`: trains animestyle generators and exports them to ONNX.
//!
//! `config` (what defines a run, validated once) → `data` (image folders → augmented batches) →
//! `model` (generator, discriminator) → `loss` (one function per loss, with its source) → `train`
//! (one GAN step) → `checkpoint` (save/restore a run) → `export` (ONNX writer + metadata);
//! `device` picks the burn backend, `files` holds the one atomic file write. `teacher` is the classical cel filter distilled in `teacher` mode;
//! `plot` draws loss curves and sample grids; `run` is the loop the CLI drives.

pub mod checkpoint;
pub mod config;
pub mod data;
pub mod device;
pub mod evaluate;
pub mod export;
pub mod files;
pub mod loss;
pub mod model;
pub mod plot;
pub mod run;
pub mod teacher;
pub mod train;
