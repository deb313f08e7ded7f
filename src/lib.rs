//! GStreamer plugin `animestyle`: real-time anime stylization of video with an ONNX generator.
//!
//! The frame path is split into small modules that know nothing about GStreamer
//! ([`frame_io`], [`resample`], [`skip`], [`tensor_io`], [`session`], [`engine`], [`guided`], [`cel`], [`lines`], [`motion`],
//! [`temporal`], [`worker`], [`scheduler`], [`providers`], [`runtime`], [`stats`]), wired in that
//! order by [`pipeline`]; the
//! element in [`animestyle`] wires them together and owns settings and state.

use gst::glib;

#[macro_use]
mod simd;

pub mod animestyle;
pub mod cel;
pub mod engine;
pub mod frame_io;
pub mod guided;
pub mod lines;
mod lock;
pub mod metrics;
pub mod motion;
pub mod pipeline;
pub mod providers;
pub mod resample;
pub mod runtime;
pub mod scheduler;
pub mod session;
pub mod skip;
pub mod stats;
pub mod temporal;
pub mod tensor_io;
pub mod worker;
pub mod yuv;

fn plugin_init(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    animestyle::register(plugin)
}

gst::plugin_define!(
    animestyle,
    env!("CARGO_PKG_DESCRIPTION"),
    plugin_init,
    env!("CARGO_PKG_VERSION"),
    "MIT/X11",
    env!("CARGO_PKG_NAME"),
    env!("CARGO_PKG_NAME"),
    // GStreamer requires a non-empty origin and the project has no public URL: this is the
    // value GStreamer's own build uses when no origin is configured (`package-origin`).
    "Unknown package origin",
    "2026-11-22"
);
