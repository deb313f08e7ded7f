//! Runs RGB frames through the `animestyle` element exactly as a user's pipeline would
//! (`appsrc ! animestyle ! appsink`, the element's default properties unless told otherwise),
//! so `evaluate` measures what users see: area downscale, the ONNX model, guided upsampling,
//! temporal smoothing and the strength blend — not the bare network.

use std::path::PathBuf;
use std::sync::Once;

use anyhow::{Context, anyhow, bail};
use gst::prelude::*;
use gst_app::{AppSink, AppSrc};
use image::RgbImage;

/// What to put in the element: a model file (or the embedded default) and property settings
/// as `gst-launch-1.0` would take them (`name=value`).
#[derive(Debug, Clone, Default)]
pub struct ElementConfig {
    pub model: Option<PathBuf>,
    pub properties: Vec<(String, String)>,
}

/// Outputs of one run, and how long each frame took from push to pull.
pub struct ElementRun {
    pub outputs: Vec<RgbImage>,
    /// Wall time per frame through the element (one frame in flight at a time), ms.
    pub frame_ms: Vec<f64>,
}

impl ElementRun {
    /// Median of [`ElementRun::frame_ms`] after the first `warmup` frames (ONNX Runtime's
    /// first runs allocate and are several times slower); NaN without frames.
    pub fn median_ms(&self, warmup: usize) -> f64 {
        let mut t: Vec<f64> =
            self.frame_ms.iter().skip(warmup.min(self.frame_ms.len().saturating_sub(1))).copied().collect();
        if t.is_empty() {
            return f64::NAN;
        }
        t.sort_by(f64::total_cmp);
        t[t.len() / 2]
    }
}

/// How long one frame may take before the run is declared stuck.
const FRAME_TIMEOUT: gst::ClockTime = gst::ClockTime::from_seconds(120);

/// Initialises GStreamer and registers the plugin statically (no `GST_PLUGIN_PATH` needed).
pub fn init() -> anyhow::Result<()> {
    static ONCE: Once = Once::new();
    let mut result = Ok(());
    ONCE.call_once(|| {
        result = gst::init().map_err(|e| anyhow!("cannot initialise GStreamer: {e}")).and_then(|()| {
            gstanimestyle::plugin_register_static().map_err(|e| anyhow!("cannot register animestyle: {e}"))
        });
    });
    result
}

/// The element with `config` applied. Unknown properties, read-only ones and values that do
/// not parse are errors naming the property and what it accepts.
pub fn make_element(config: &ElementConfig) -> anyhow::Result<gst::Element> {
    init()?;
    let element = gst::ElementFactory::make("animestyle").build().context("cannot create the animestyle element")?;
    if let Some(model) = &config.model {
        if !model.is_file() {
            bail!("model file {} does not exist; pass the path of an .onnx file", model.display());
        }
        element.set_property("model", model.to_string_lossy().as_ref());
    }
    for (name, value) in &config.properties {
        set_from_str(&element, name, value)?;
    }
    Ok(element)
}

fn set_from_str(element: &gst::Element, name: &str, value: &str) -> anyhow::Result<()> {
    let Some(pspec) = element.find_property(name) else {
        let names: Vec<String> = element
            .list_properties()
            .iter()
            .filter(|p| p.flags().contains(glib::ParamFlags::WRITABLE) && p.owner_type() == element.type_())
            .map(|p| p.name().to_string())
            .collect();
        bail!("animestyle has no property '{name}'; its properties are: {}", names.join(", "));
    };
    if !pspec.flags().contains(glib::ParamFlags::WRITABLE) {
        bail!("animestyle's property '{name}' is read-only");
    }
    let parsed = glib::Value::deserialize(value, pspec.value_type()).map_err(|_| {
        anyhow!("'{value}' is not a valid value for animestyle's '{name}' ({})", pspec.blurb().unwrap_or(""))
    })?;
    if !pspec.value_is_valid(&parsed) {
        bail!("'{value}' is out of range for animestyle's '{name}' ({})", pspec.blurb().unwrap_or(""));
    }
    element.set_property_from_value(name, &parsed);
    Ok(())
}

/// Pushes `frames` (all the same size) through a fresh element as a 30 fps stream and returns
/// every output frame, in order. Non-live, so `realtime-policy=auto` stylizes every frame.
pub fn run_sequence(config: &ElementConfig, frames: &[RgbImage]) -> anyhow::Result<ElementRun> {
    let first = frames.first().context("no frames to stylize")?;
    let (width, height) = first.dimensions();
    let element = make_element(config)?;
    let info = gst_video::VideoInfo::builder(gst_video::VideoFormat::Rgb, width, height)
        .fps(gst::Fraction::new(30, 1))
        .build()
        .context("frame size")?;
    let caps = info.to_caps().context("caps")?;
    let src = AppSrc::builder().caps(&caps).format(gst::Format::Time).build();
    let sink = AppSink::builder().caps(&caps).sync(false).build();
    let pipeline = gst::Pipeline::new();
    pipeline.add_many([src.upcast_ref(), &element, sink.upcast_ref()])?;
    gst::Element::link_many([src.upcast_ref(), &element, sink.upcast_ref()])?;
    let result = drive(&pipeline, &src, &sink, &info, frames);
    let _ = pipeline.set_state(gst::State::Null);
    result
}

fn drive(
    pipeline: &gst::Pipeline,
    src: &AppSrc,
    sink: &AppSink,
    info: &gst_video::VideoInfo,
    frames: &[RgbImage],
) -> anyhow::Result<ElementRun> {
    let bus = pipeline.bus().context("pipeline without a bus")?;
    pipeline.set_state(gst::State::Playing).map_err(|_| pipeline_error(&bus, "cannot start the pipeline"))?;
    let (width, height) = (info.width() as usize, info.height() as usize);
    let stride = info.stride()[0] as usize;
    let mut outputs = Vec::with_capacity(frames.len());
    let mut frame_ms = Vec::with_capacity(frames.len());
    for (i, frame) in frames.iter().enumerate() {
        if frame.dimensions() != (info.width(), info.height()) {
            bail!("frame {i} is {}x{}, the sequence is {width}x{height}", frame.width(), frame.height());
        }
        let mut buffer = gst::Buffer::with_size(info.size()).context("buffer")?;
        {
            let buffer = buffer.get_mut().context("buffer")?;
            buffer.set_pts(gst::ClockTime::from_nseconds(i as u64 * 1_000_000_000 / 30));
            buffer.set_duration(gst::ClockTime::from_nseconds(1_000_000_000 / 30));
            let mut map = buffer.map_writable().context("buffer map")?;
            for (y, row) in frame.as_raw().chunks_exact(3 * width).enumerate() {
                map[y * stride..y * stride + 3 * width].copy_from_slice(row);
            }
        }
        let started = std::time::Instant::now();
        src.push_buffer(buffer).map_err(|_| pipeline_error(&bus, "the pipeline refused a frame"))?;
        // One frame in flight at a time: memory stays at one frame whatever the sequence length.
        outputs.push(pull(sink, &bus, info)?);
        frame_ms.push(started.elapsed().as_secs_f64() * 1e3);
    }
    src.end_of_stream().map_err(|_| pipeline_error(&bus, "the pipeline refused end-of-stream"))?;
    Ok(ElementRun { outputs, frame_ms })
}

fn pull(sink: &AppSink, bus: &gst::Bus, info: &gst_video::VideoInfo) -> anyhow::Result<RgbImage> {
    let (width, height) = (info.width() as usize, info.height() as usize);
    let sample = match sink.try_pull_sample(FRAME_TIMEOUT) {
        Some(s) => s,
        None => return Err(pipeline_error(bus, "the element returned no frame")),
    };
    let buffer = sample.buffer().context("sample without a buffer")?;
    let map = buffer.map_readable().context("output map")?;
    let stride = info.stride()[0] as usize;
    let mut rgb = Vec::with_capacity(3 * width * height);
    for y in 0..height {
        rgb.extend_from_slice(&map[y * stride..y * stride + 3 * width]);
    }
    RgbImage::from_raw(width as u32, height as u32, rgb).context("output frame size")
}

/// The pipeline's own error message when it posted one, else `what`.
fn pipeline_error(bus: &gst::Bus, what: &str) -> anyhow::Error {
    while let Some(msg) = bus.pop() {
        if let gst::MessageView::Error(e) = msg.view() {
            let debug = e.debug().map(|d| format!(" ({d})")).unwrap_or_default();
            return anyhow!("{what}: {}{debug}", e.error());
        }
    }
    anyhow!("{what}")
}
