//! Helpers shared by the element's integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Once;

use gst::prelude::*;
use gst_video::prelude::*;

pub fn init() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        gst::init().expect("GStreamer initialises");
        gstanimestyle::plugin_register_static().expect("plugin registers");
    });
}

/// Writes model bytes to a temporary file that lives as long as the returned guard.
pub struct ModelFile {
    _dir: tempfile::TempDir,
    pub path: PathBuf,
}

pub fn model_file(bytes: &[u8]) -> ModelFile {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("model.onnx");
    std::fs::write(&path, bytes).expect("write model");
    ModelFile { _dir: dir, path }
}

/// An `animestyle` element with `props` set (before any state change, as a Harness needs).
pub fn element(props: &[(&str, glib::Value)]) -> gst::Element {
    init();
    let mut builder = gst::ElementFactory::make("animestyle");
    for (name, value) in props {
        builder = builder.property(name, value.clone());
    }
    builder.build().expect("animestyle element")
}

/// `realtime-policy=every-frame`. A Harness answers LATENCY queries as a live source, so under
/// the default `auto` the element would choose `latest`, where a frame whose own stylization is
/// not ready within its period reuses the previous one: right for a camera, but then what comes
/// out depends on timing. Tests that compare frame sequences exactly run under every-frame.
pub fn every_frame() -> (&'static str, glib::Value) {
    ("realtime-policy", enum_value("realtime-policy", "every-frame"))
}

/// The value of enum property `property` whose nick is `nick` (e.g. `realtime-policy`, `latest`).
pub fn enum_value(property: &str, nick: &str) -> glib::Value {
    let pspec = element(&[]).find_property(property).expect("property exists");
    let class = glib::EnumClass::with_type(pspec.value_type()).expect("an enum property");
    class.to_value_by_nick(nick).unwrap_or_else(|| panic!("{property} has no value '{nick}'"))
}

pub fn model_prop(path: &Path) -> (&'static str, glib::Value) {
    ("model", path.to_str().expect("utf-8 path").to_value())
}

/// A harness around `animestyle` with `props`, fed `format` at `width × height`.
pub fn harness(
    props: &[(&str, glib::Value)],
    format: gst_video::VideoFormat,
    width: u32,
    height: u32,
) -> gst_check::Harness {
    let mut h = gst_check::Harness::with_element(&element(props), Some("sink"), Some("src"));
    h.set_src_caps(caps(format, width, height));
    h
}

pub fn caps(format: gst_video::VideoFormat, width: u32, height: u32) -> gst::Caps {
    gst_video::VideoInfo::builder(format, width, height)
        .fps(gst::Fraction::new(30, 1))
        .build()
        .expect("video info")
        .to_caps()
        .expect("caps")
}

/// A frame whose pixel (x, y) is `pixel(x, y)` as (r, g, b, a); the alpha (or padding) byte
/// is set too so pass-through can be checked.
pub fn frame(
    format: gst_video::VideoFormat,
    width: u32,
    height: u32,
    pixel: impl Fn(u32, u32) -> [u8; 4],
) -> gst::Buffer {
    let info = gst_video::VideoInfo::builder(format, width, height).build().expect("video info");
    let mut buffer = gst::Buffer::with_size(info.size()).expect("buffer");
    {
        let buffer = buffer.get_mut().expect("writable");
        let mut vframe = gst_video::VideoFrameRef::from_buffer_ref_writable(buffer, &info).expect("map");
        let finfo = vframe.format_info();
        let stride = vframe.plane_stride()[0] as usize;
        let ps = finfo.pixel_stride()[0] as usize;
        let off: Vec<usize> = finfo.poffset().iter().map(|o| *o as usize).collect();
        let data = vframe.plane_data_mut(0).expect("plane");
        for y in 0..height {
            for x in 0..width {
                let p = pixel(x, y);
                let base = y as usize * stride + x as usize * ps;
                if ps == 4 {
                    // Alpha / padding byte: the one byte not holding a colour.
                    let spare = (0..4).find(|i| !off[..3].contains(i)).expect("spare byte");
                    data[base + spare] = p[3];
                }
                for c in 0..3 {
                    data[base + off[c]] = p[c];
                }
            }
        }
    }
    buffer
}

/// Reads pixel (x, y) of `buffer` as (r, g, b, spare byte or 255).
pub struct FrameReader {
    info: gst_video::VideoInfo,
    buffer: gst::Buffer,
}

impl FrameReader {
    pub fn new(buffer: gst::Buffer, format: gst_video::VideoFormat, width: u32, height: u32) -> Self {
        let info = gst_video::VideoInfo::builder(format, width, height).build().expect("video info");
        FrameReader { info, buffer }
    }

    pub fn pixels(&self) -> Vec<[u8; 4]> {
        let vframe = gst_video::VideoFrameRef::from_buffer_ref_readable(self.buffer.as_ref(), &self.info).expect("map");
        let finfo = vframe.format_info();
        let stride = vframe.plane_stride()[0] as usize;
        let ps = finfo.pixel_stride()[0] as usize;
        let off: Vec<usize> = finfo.poffset().iter().map(|o| *o as usize).collect();
        let data = vframe.plane_data(0).expect("plane");
        let mut out = Vec::new();
        for y in 0..self.info.height() as usize {
            for x in 0..self.info.width() as usize {
                let base = y * stride + x * ps;
                let spare = if ps == 4 { data[base + (0..4).find(|i| !off[..3].contains(i)).unwrap()] } else { 255 };
                out.push([data[base + off[0]], data[base + off[1]], data[base + off[2]], spare]);
            }
        }
        out
    }
}

/// A natural-looking test image: smooth gradients, a few flat shapes with hard edges, and
/// mild texture, so a stylizer has edges to draw and regions to flatten.
pub fn natural(x: u32, y: u32, w: u32, h: u32) -> [u8; 4] {
    let fx = x as f32 / w.max(1) as f32;
    let fy = y as f32 / h.max(1) as f32;
    let mut r = 60.0 + 150.0 * fx;
    let mut g = 90.0 + 100.0 * fy;
    let mut b = 160.0 - 80.0 * fx * fy;
    let (cx, cy) = (fx - 0.35, fy - 0.5);
    if cx * cx + cy * cy < 0.04 {
        r = 230.0;
        g = 190.0;
        b = 150.0;
    }
    if fx > 0.6 && fx < 0.85 && fy > 0.2 && fy < 0.7 {
        r = 40.0;
        g = 120.0;
        b = 60.0;
    }
    let texture = (((x * 7 + y * 13) % 17) as f32 - 8.0) * 1.5;
    [(r + texture) as u8, (g + texture) as u8, (b + texture) as u8, ((x + y) % 251) as u8]
}

/// Runs `pipeline` (gst-launch syntax, in this process) to EOS or error; returns the error
/// text (message and debug) if there was one.
pub fn run_pipeline(description: &str) -> Result<(), String> {
    init();
    let pipeline = gst::parse::launch(description).map_err(|e| format!("parse: {e}"))?;
    let bus = pipeline.bus().expect("bus");
    let _ = pipeline.set_state(gst::State::Playing);
    let mut result = Ok(());
    for msg in bus.iter_timed(gst::ClockTime::from_seconds(120)) {
        match msg.view() {
            gst::MessageView::Eos(..) => break,
            gst::MessageView::Error(err) => {
                result = Err(format!("{} | {}", err.error(), err.debug().map(|d| d.to_string()).unwrap_or_default()));
                break;
            }
            _ => {}
        }
    }
    pipeline.set_state(gst::State::Null).expect("to NULL");
    result
}
