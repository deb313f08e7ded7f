//! # animestyle
//!
//! Stylizes video frames with an ONNX image-to-image generator (anime/cel look by default)
//! run by ONNX Runtime. Frames are read in any packed 8-bit RGB-family format, scaled to the
//! network's `inference-size`, run through the model, scaled back to the frame size and
//! blended over the original by `strength`. Alpha and padding bytes pass through unchanged,
//! as do timestamps and durations.
//!
//! With no properties set, the model embedded in the plugin is used:
//!
//! ```text
//! gst-launch-1.0 videotestsrc num-buffers=60 ! videoconvert ! animestyle ! videoconvert ! autovideosink
//! ```
//!
//! The model contract (tensor layout, channel order, value range, size multiple) is read from
//! the model's metadata (written by `animestyle-train export`) or inferred from its input
//! shape; the `layout`, `channel-order`, `input-range`, `output-range` and `size-multiple`
//! properties override it for models made elsewhere, e.g. an AnimeGAN export:
//!
//! ```text
//! gst-launch-1.0 filesrc location=in.mp4 ! decodebin ! videoconvert ! \
//!     animestyle model=AnimeGANv3.onnx layout=nhwc size-multiple=8 ! videoconvert ! autovideosink
//! ```
//!
//! ONNX Runtime is loaded when the element starts (not when the plugin loads), from the
//! `ort-library` property, `ORT_DYLIB_PATH`, or well-known locations; a missing library is
//! an element error that says how to install it.

use std::sync::{LazyLock, Mutex};
use std::time::Instant;

use animestyle_model::{ChannelOrder, ContractOverrides, Layout, ValueRange};
use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;
use gst_base::subclass::prelude::*;
use gst_video::prelude::*;
use gst_video::subclass::prelude::*;

use super::{ExecutionProvider, TensorChannelOrder, TensorLayout, TensorRange, Upsampling, View};
use crate::generator::{Generator, LoadErrorKind, ModelSource, SessionSettings};
use crate::pixels::{self, PackedFrame, PackedLayout, Planes, RgbSource};
use crate::providers::Provider;
use crate::resample::Resampler;
use crate::stats::Stats;
use crate::temporal::{self, Outcome, TemporalFilter, TemporalSettings};
use crate::upsample::GuidedUpsampler;

const DEFAULT_MODEL: &str = "";
const DEFAULT_ORT_LIBRARY: &str = "";
const DEFAULT_EXECUTION_PROVIDER: ExecutionProvider = ExecutionProvider::Auto;
const DEFAULT_PROVIDER_STRICT: bool = false;
const DEFAULT_THREADS: u32 = 0;
const DEFAULT_DEVICE_ID: i32 = 0;
const DEFAULT_TENSORRT_FP16: bool = true;
const DEFAULT_TENSORRT_ENGINE_CACHE: &str = "";
/// -1: the model's recommended size (metadata), else the frame's own size.
const DEFAULT_INFERENCE_SIZE: i32 = -1;
const DEFAULT_STRENGTH: f64 = 1.0;
const DEFAULT_VIEW: View = View::Stylized;
const DEFAULT_UPSAMPLING: Upsampling = Upsampling::Guided;
const DEFAULT_TEMPORAL_SMOOTHING: f64 = 0.95;
const DEFAULT_NOISE_LEVEL: f64 = 6.0;
const DEFAULT_SCENE_CUT_THRESHOLD: f64 = 30.0;
const DEFAULT_MOTION_COMPENSATION: bool = true;
const DEFAULT_SKIP_THRESHOLD: f64 = 2.0;
const DEFAULT_LAYOUT: TensorLayout = TensorLayout::Auto;
const DEFAULT_CHANNEL_ORDER: TensorChannelOrder = TensorChannelOrder::Auto;
const DEFAULT_RANGE: TensorRange = TensorRange::Auto;
const DEFAULT_SIZE_MULTIPLE: u32 = 0;

static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "animestyle",
        gst::DebugColorFlags::empty(),
        Some("Anime stylization with an ONNX generator"),
    )
});

const FORMATS: [gst_video::VideoFormat; 10] = [
    gst_video::VideoFormat::Rgb,
    gst_video::VideoFormat::Bgr,
    gst_video::VideoFormat::Rgbx,
    gst_video::VideoFormat::Bgrx,
    gst_video::VideoFormat::Xrgb,
    gst_video::VideoFormat::Xbgr,
    gst_video::VideoFormat::Rgba,
    gst_video::VideoFormat::Bgra,
    gst_video::VideoFormat::Argb,
    gst_video::VideoFormat::Abgr,
];

#[derive(Debug, Clone)]
struct Settings {
    model: String,
    ort_library: String,
    execution_provider: ExecutionProvider,
    provider_strict: bool,
    device_id: i32,
    tensorrt_fp16: bool,
    tensorrt_engine_cache: String,
    threads: u32,
    inference_size: i32,
    upsampling: Upsampling,
    temporal_smoothing: f64,
    noise_level: f64,
    scene_cut_threshold: f64,
    motion_compensation: bool,
    skip_threshold: f64,
    strength: f64,
    view: View,
    layout: TensorLayout,
    channel_order: TensorChannelOrder,
    input_range: TensorRange,
    output_range: TensorRange,
    size_multiple: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            model: DEFAULT_MODEL.into(),
            ort_library: DEFAULT_ORT_LIBRARY.into(),
            execution_provider: DEFAULT_EXECUTION_PROVIDER,
            provider_strict: DEFAULT_PROVIDER_STRICT,
            device_id: DEFAULT_DEVICE_ID,
            tensorrt_fp16: DEFAULT_TENSORRT_FP16,
            tensorrt_engine_cache: DEFAULT_TENSORRT_ENGINE_CACHE.into(),
            threads: DEFAULT_THREADS,
            inference_size: DEFAULT_INFERENCE_SIZE,
            upsampling: DEFAULT_UPSAMPLING,
            temporal_smoothing: DEFAULT_TEMPORAL_SMOOTHING,
            noise_level: DEFAULT_NOISE_LEVEL,
            scene_cut_threshold: DEFAULT_SCENE_CUT_THRESHOLD,
            motion_compensation: DEFAULT_MOTION_COMPENSATION,
            skip_threshold: DEFAULT_SKIP_THRESHOLD,
            strength: DEFAULT_STRENGTH,
            view: DEFAULT_VIEW,
            layout: DEFAULT_LAYOUT,
            channel_order: DEFAULT_CHANNEL_ORDER,
            input_range: DEFAULT_RANGE,
            output_range: DEFAULT_RANGE,
            size_multiple: DEFAULT_SIZE_MULTIPLE,
        }
    }
}

fn range_override(r: TensorRange) -> Option<ValueRange> {
    match r {
        TensorRange::Auto => None,
        TensorRange::MinusOneToOne => Some(ValueRange::MinusOneToOne),
        TensorRange::ZeroToOne => Some(ValueRange::ZeroToOne),
        TensorRange::ZeroTo255 => Some(ValueRange::ZeroTo255),
    }
}

impl Settings {
    fn temporal(&self) -> TemporalSettings {
        TemporalSettings {
            smoothing: self.temporal_smoothing as f32,
            noise_level: self.noise_level as f32,
            scene_cut: self.scene_cut_threshold as f32,
            motion_compensation: self.motion_compensation,
        }
    }

    fn session_settings(&self) -> SessionSettings {
        SessionSettings {
            ort_library: Some(self.ort_library.clone()).filter(|s| !s.is_empty()),
            threads: self.threads as usize,
            provider: match self.execution_provider {
                ExecutionProvider::Auto => None,
                ExecutionProvider::Cpu => Some(Provider::Cpu),
                ExecutionProvider::Cuda => Some(Provider::Cuda),
                ExecutionProvider::TensorRt => Some(Provider::TensorRt),
                ExecutionProvider::OpenVino => Some(Provider::OpenVino),
            },
            provider_strict: self.provider_strict,
            gpu: crate::providers::GpuOptions {
                device_id: self.device_id,
                tensorrt_fp16: self.tensorrt_fp16,
                tensorrt_engine_cache: Some(self.tensorrt_engine_cache.clone())
                    .filter(|s| !s.is_empty())
                    .map(std::path::PathBuf::from),
            },
            overrides: ContractOverrides {
                layout: match self.layout {
                    TensorLayout::Auto => None,
                    TensorLayout::Nchw => Some(Layout::Nchw),
                    TensorLayout::Nhwc => Some(Layout::Nhwc),
                },
                channel_order: match self.channel_order {
                    TensorChannelOrder::Auto => None,
                    TensorChannelOrder::Rgb => Some(ChannelOrder::Rgb),
                    TensorChannelOrder::Bgr => Some(ChannelOrder::Bgr),
                },
                input_range: range_override(self.input_range),
                output_range: range_override(self.output_range),
                size_multiple: Some(self.size_multiple).filter(|m| *m > 0),
            },
        }
    }
}

/// Scratch images reused from frame to frame, and resamplers for the current sizes.
#[derive(Default)]
struct Buffers {
    frame: Planes,
    network_in: Planes,
    network_out: Planes,
    upscaled: Planes,
    down: Option<Resampler>,
    up: Option<Resampler>,
    guided: GuidedUpsampler,
    temporal: TemporalFilter,
    /// What the network last saw and returned (network size), for skipping unchanged frames.
    last_input: Planes,
    last_output: Planes,
}

impl Buffers {
    /// Forgets everything learnt from earlier frames.
    fn reset_history(&mut self) {
        self.temporal.reset();
        self.last_input = Planes::default();
        self.last_output = Planes::default();
    }
}

/// A resampler for `from → to`, rebuilt only when the sizes change.
fn resampler(slot: &mut Option<Resampler>, from: (usize, usize), to: (usize, usize)) -> &mut Resampler {
    if slot.as_ref().is_none_or(|r| r.in_size() != from || r.out_size() != to) {
        *slot = Some(Resampler::new(from, to));
    }
    slot.as_mut().expect("set above")
}

fn resample(slot: &mut Option<Resampler>, src: &Planes, dst: &mut Planes, size: (usize, usize)) {
    resampler(slot, (src.width, src.height), size).resample_planes(src, dst);
}

struct State {
    generator: Generator,
    buffers: Buffers,
}

impl AnimeStyle {
    /// Reports the measured latency once warmed up, and again when it grows by a quarter.
    fn update_latency(&self, frames: u64, p95_ms: f64) {
        use std::sync::atomic::Ordering;
        if frames < LATENCY_WARMUP_FRAMES {
            return;
        }
        let measured = (p95_ms * 1e6) as u64;
        let reported = self.reported_latency_ns.load(Ordering::Relaxed);
        if reported == 0 || measured > reported + reported / 4 {
            self.reported_latency_ns.store(measured, Ordering::Relaxed);
            gst::info!(CAT, imp = self, "processing latency now {:.1} ms (p95)", p95_ms);
            let _ = self.obj().post_message(gst::message::Latency::builder().src(&*self.obj()).build());
        }
    }

    fn reset_history(&self, why: &str) {
        if let Some(state) = self.state.lock().unwrap_or_else(|e| e.into_inner()).as_mut() {
            gst::debug!(CAT, imp = self, "{why}: temporal history reset");
            state.buffers.reset_history();
        }
    }
}

/// Frames measured before the element first reports its own latency, and how many of the
/// first ones are left out of it (ONNX Runtime's first runs are several times slower).
const LATENCY_WARMUP_FRAMES: u64 = 10;
const LATENCY_IGNORED_FRAMES: usize = 3;

#[derive(Default)]
pub struct AnimeStyle {
    /// The processing latency last reported (ns; 0 = not measured yet). A LATENCY message is
    /// posted when the measured p95 outgrows it by a quarter, so live pipelines re-query.
    reported_latency_ns: std::sync::atomic::AtomicU64,
    settings: Mutex<Settings>,
    state: Mutex<Option<State>>,
    /// Kept apart from `state` so reading `stats` never waits for an inference.
    stats: Mutex<Stats>,
}

impl AnimeStyle {
    fn stats_structure(&self) -> gst::Structure {
        let stats = self.stats.lock().unwrap_or_else(|e| e.into_inner());
        let snap = stats.snapshot();
        gst::Structure::builder("animestyle-stats")
            .field("frames", snap.frames)
            .field("dropped", snap.dropped)
            .field("skipped", snap.skipped)
            .field("inference-mean-ms", snap.inference_mean_ms)
            .field("inference-p95-ms", snap.inference_p95_ms)
            .field("upsampling-mean-ms", snap.upsampling_mean_ms)
            .field("processing-mean-ms", snap.processing_mean_ms)
            .field("fps", snap.fps)
            .field("execution-provider", stats.execution_provider.as_str())
            .field("model", stats.model.as_str())
            .build()
    }

    fn packed_layout(info: &gst_video::VideoFormatInfo) -> PackedLayout {
        let offsets = info.poffset();
        PackedLayout {
            pixel_stride: info.pixel_stride()[0] as usize,
            rgb_offsets: [offsets[0] as usize, offsets[1] as usize, offsets[2] as usize],
        }
    }
}

#[glib::object_subclass]
impl ObjectSubclass for AnimeStyle {
    const NAME: &'static str = "GstAnimeStyle";
    type Type = super::AnimeStyle;
    type ParentType = gst_video::VideoFilter;
}

impl ObjectImpl for AnimeStyle {
    fn properties() -> &'static [glib::ParamSpec] {
        static PROPERTIES: LazyLock<Vec<glib::ParamSpec>> = LazyLock::new(|| {
            vec![
                glib::ParamSpecString::builder("model")
                    .nick("Model")
                    .blurb("Path of the ONNX generator to run; empty = the model embedded in the plugin")
                    .default_value(Some(DEFAULT_MODEL))
                    .mutable_ready()
                    .build(),
                glib::ParamSpecString::builder("ort-library")
                    .nick("ONNX Runtime library")
                    .blurb(
                        "Path of libonnxruntime.so; empty = ORT_DYLIB_PATH, then well-known locations \
                         (a venv's pip install, ~/.local, /usr/lib). Only the first library loaded in a process is used",
                    )
                    .default_value(Some(DEFAULT_ORT_LIBRARY))
                    .mutable_ready()
                    .build(),
                glib::ParamSpecEnum::builder_with_default("execution-provider", DEFAULT_EXECUTION_PROVIDER)
                    .nick("Execution provider")
                    .blurb(
                        "Hardware that runs the model; auto tries CUDA, then OpenVINO, then CPU. The one in use is \
                         logged and reported in stats",
                    )
                    .mutable_ready()
                    .build(),
                glib::ParamSpecBoolean::builder("provider-strict")
                    .nick("Strict provider")
                    .blurb("Fail to start when the requested execution provider cannot be used, instead of warning and using the CPU")
                    .default_value(DEFAULT_PROVIDER_STRICT)
                    .mutable_ready()
                    .build(),
                glib::ParamSpecInt::builder("device-id")
                    .nick("GPU device")
                    .blurb("CUDA / TensorRT device index")
                    .minimum(0)
                    .maximum(64)
                    .default_value(DEFAULT_DEVICE_ID)
                    .mutable_ready()
                    .build(),
                glib::ParamSpecBoolean::builder("tensorrt-fp16")
                    .nick("TensorRT fp16")
                    .blurb("Build TensorRT engines in fp16 (about twice as fast on GPUs with tensor cores)")
                    .default_value(DEFAULT_TENSORRT_FP16)
                    .mutable_ready()
                    .build(),
                glib::ParamSpecString::builder("tensorrt-engine-cache")
                    .nick("TensorRT engine cache")
                    .blurb(
                        "Folder where TensorRT keeps built engines, so only the first start per input size pays the \
                         build (minutes); empty = no cache",
                    )
                    .default_value(Some(DEFAULT_TENSORRT_ENGINE_CACHE))
                    .mutable_ready()
                    .build(),
                glib::ParamSpecUInt::builder("threads")
                    .nick("Threads")
                    .blurb("CPU threads for inference; 0 = one per core")
                    .maximum(256)
                    .default_value(DEFAULT_THREADS)
                    .mutable_ready()
                    .build(),
                glib::ParamSpecInt::builder("inference-size")
                    .nick("Inference size")
                    .blurb(
                        "Longest side of the image the network sees (aspect kept, rounded to the model's size multiple; \
                         the result is scaled back to the frame size). 0 = the frame's own size, -1 = the model's \
                         recommended size, else the frame's own size",
                    )
                    .minimum(-1)
                    .maximum(16384)
                    .default_value(DEFAULT_INFERENCE_SIZE)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecEnum::builder_with_default("upsampling", DEFAULT_UPSAMPLING)
                    .nick("Upsampling")
                    .blurb(
                        "How the stylized image is scaled back to the frame size when inference-size is smaller than \
                         the frame: guided (edge-aware, the full-resolution frame guides it; lines stay crisp) or \
                         bilinear (plain resize)",
                    )
                    .mutable_playing()
                    .build(),
                glib::ParamSpecDouble::builder("temporal-smoothing")
                    .nick("Temporal smoothing")
                    .blurb(
                        "Anti-flicker: where the input did not change beyond noise-level, blend toward the previous \
                         stylized frame (motion-adaptive, so moving things leave no trails). 0 = off, 1 = strongest",
                    )
                    .minimum(0.0)
                    .maximum(1.0)
                    .default_value(DEFAULT_TEMPORAL_SMOOTHING)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecDouble::builder("noise-level")
                    .nick("Noise level")
                    .blurb(
                        "Motion sensitivity: input change (8-bit levels, at the network's resolution) still treated as \
                         noise and smoothed. Raise for noisy cameras, lower if slow motion smears",
                    )
                    .minimum(0.1)
                    .maximum(255.0)
                    .default_value(DEFAULT_NOISE_LEVEL)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecDouble::builder("scene-cut-threshold")
                    .nick("Scene-cut threshold")
                    .blurb(
                        "Mean input change between frames (8-bit levels) that counts as a scene cut and resets the \
                         temporal history; 255 = never",
                    )
                    .minimum(0.0)
                    .maximum(255.0)
                    .default_value(DEFAULT_SCENE_CUT_THRESHOLD)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecBoolean::builder("motion-compensation")
                    .nick("Motion compensation")
                    .blurb(
                        "Estimate block motion (camera pans) and warp the previous stylized frame before blending, so \
                         moving scenes stay stable without trails",
                    )
                    .default_value(DEFAULT_MOTION_COMPENSATION)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecDouble::builder("skip-threshold")
                    .nick("Skip threshold")
                    .blurb(
                        "Reuse the last stylization instead of running the network when no 8x8 block of the \
                         network's input differs from the last stylized input by more than this (8-bit levels, mean); \
                         saves CPU on static scenes. 0 = always run the network. Counted as skipped in stats",
                    )
                    .minimum(0.0)
                    .maximum(255.0)
                    .default_value(DEFAULT_SKIP_THRESHOLD)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecDouble::builder("strength")
                    .nick("Strength")
                    .blurb("How much of the stylized image is blended over the original: 0 = original, 1 = fully stylized")
                    .minimum(0.0)
                    .maximum(1.0)
                    .default_value(DEFAULT_STRENGTH)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecEnum::builder_with_default("view", DEFAULT_VIEW)
                    .nick("View")
                    .blurb(
                        "What to output: stylized, original (the network is not run) or split (original left, \
                         stylized right, with a divider) for demos and tuning",
                    )
                    .mutable_playing()
                    .build(),
                glib::ParamSpecEnum::builder_with_default("layout", DEFAULT_LAYOUT)
                    .nick("Tensor layout")
                    .blurb("Override the model's tensor layout (NCHW or NHWC)")
                    .mutable_ready()
                    .build(),
                glib::ParamSpecEnum::builder_with_default("channel-order", DEFAULT_CHANNEL_ORDER)
                    .nick("Channel order")
                    .blurb("Override the model's colour channel order (RGB or BGR)")
                    .mutable_ready()
                    .build(),
                glib::ParamSpecEnum::builder_with_default("input-range", DEFAULT_RANGE)
                    .nick("Input range")
                    .blurb("Override the value range the model expects for black..white")
                    .mutable_ready()
                    .build(),
                glib::ParamSpecEnum::builder_with_default("output-range", DEFAULT_RANGE)
                    .nick("Output range")
                    .blurb("Override the value range of the model's output (default: the input range)")
                    .mutable_ready()
                    .build(),
                glib::ParamSpecUInt::builder("size-multiple")
                    .nick("Size multiple")
                    .blurb(
                        "Override the multiple the network's height and width must be (e.g. 8 for AnimeGANv2/v3, 16 for \
                         v3-tiny); 0 = from the model (metadata, else 16 for dynamic-size models)",
                    )
                    .maximum(1024)
                    .default_value(DEFAULT_SIZE_MULTIPLE)
                    .mutable_ready()
                    .build(),
                glib::ParamSpecBoxed::builder::<gst::Structure>("stats")
                    .nick("Statistics")
                    .blurb(
                        "frames, dropped, skipped (frames that reused the last stylization, see skip-threshold), inference-mean-ms and inference-p95-ms (ONNX Runtime's time, over the last 256 \
                         inferences), upsampling-mean-ms (scaling the result back to the frame size), processing-mean-ms (the \
                         element's whole time per frame), fps (frames out per second \
                         of wall time), execution-provider and model in use",
                    )
                    .read_only()
                    .build(),
            ]
        });
        PROPERTIES.as_ref()
    }

    fn set_property(&self, _id: usize, value: &glib::Value, pspec: &glib::ParamSpec) {
        let mut settings = self.settings.lock().unwrap_or_else(|e| e.into_inner());
        let name = pspec.name();
        gst::debug!(CAT, imp = self, "setting {name} to {value:?}");
        match name {
            "model" => settings.model = value.get::<Option<String>>().ok().flatten().unwrap_or_default(),
            "ort-library" => settings.ort_library = value.get::<Option<String>>().ok().flatten().unwrap_or_default(),
            "execution-provider" => settings.execution_provider = value.get().expect("type checked upstream"),
            "provider-strict" => settings.provider_strict = value.get().expect("type checked upstream"),
            "threads" => settings.threads = value.get().expect("type checked upstream"),
            "device-id" => settings.device_id = value.get().expect("type checked upstream"),
            "tensorrt-fp16" => settings.tensorrt_fp16 = value.get().expect("type checked upstream"),
            "tensorrt-engine-cache" => {
                settings.tensorrt_engine_cache = value.get::<Option<String>>().ok().flatten().unwrap_or_default()
            }
            "inference-size" => settings.inference_size = value.get().expect("type checked upstream"),
            "upsampling" => settings.upsampling = value.get().expect("type checked upstream"),
            "temporal-smoothing" => settings.temporal_smoothing = value.get().expect("type checked upstream"),
            "noise-level" => settings.noise_level = value.get().expect("type checked upstream"),
            "scene-cut-threshold" => settings.scene_cut_threshold = value.get().expect("type checked upstream"),
            "motion-compensation" => settings.motion_compensation = value.get().expect("type checked upstream"),
            "skip-threshold" => settings.skip_threshold = value.get().expect("type checked upstream"),
            "strength" => settings.strength = value.get().expect("type checked upstream"),
            "view" => settings.view = value.get().expect("type checked upstream"),
            "layout" => settings.layout = value.get().expect("type checked upstream"),
            "channel-order" => settings.channel_order = value.get().expect("type checked upstream"),
            "input-range" => settings.input_range = value.get().expect("type checked upstream"),
            "output-range" => settings.output_range = value.get().expect("type checked upstream"),
            "size-multiple" => settings.size_multiple = value.get().expect("type checked upstream"),
            other => gst::warning!(CAT, imp = self, "unknown property {other}"),
        }
    }

    fn property(&self, _id: usize, pspec: &glib::ParamSpec) -> glib::Value {
        if pspec.name() == "stats" {
            return self.stats_structure().to_value();
        }
        let settings = self.settings.lock().unwrap_or_else(|e| e.into_inner());
        match pspec.name() {
            "model" => settings.model.to_value(),
            "ort-library" => settings.ort_library.to_value(),
            "execution-provider" => settings.execution_provider.to_value(),
            "provider-strict" => settings.provider_strict.to_value(),
            "threads" => settings.threads.to_value(),
            "device-id" => settings.device_id.to_value(),
            "tensorrt-fp16" => settings.tensorrt_fp16.to_value(),
            "tensorrt-engine-cache" => settings.tensorrt_engine_cache.to_value(),
            "inference-size" => settings.inference_size.to_value(),
            "upsampling" => settings.upsampling.to_value(),
            "temporal-smoothing" => settings.temporal_smoothing.to_value(),
            "noise-level" => settings.noise_level.to_value(),
            "scene-cut-threshold" => settings.scene_cut_threshold.to_value(),
            "motion-compensation" => settings.motion_compensation.to_value(),
            "skip-threshold" => settings.skip_threshold.to_value(),
            "strength" => settings.strength.to_value(),
            "view" => settings.view.to_value(),
            "layout" => settings.layout.to_value(),
            "channel-order" => settings.channel_order.to_value(),
            "input-range" => settings.input_range.to_value(),
            "output-range" => settings.output_range.to_value(),
            "size-multiple" => settings.size_multiple.to_value(),
            other => {
                gst::warning!(CAT, imp = self, "unknown property {other}");
                pspec.default_value().clone()
            }
        }
    }
}

impl GstObjectImpl for AnimeStyle {}

impl ElementImpl for AnimeStyle {
    fn metadata() -> Option<&'static gst::subclass::ElementMetadata> {
        static ELEMENT_METADATA: LazyLock<gst::subclass::ElementMetadata> = LazyLock::new(|| {
            gst::subclass::ElementMetadata::new(
                "Anime stylization",
                "Filter/Effect/Video",
                "Stylizes video as anime with an ONNX generator run by ONNX Runtime",
                "animestyle developers",
            )
        });
        Some(&*ELEMENT_METADATA)
    }

    fn pad_templates() -> &'static [gst::PadTemplate] {
        static PAD_TEMPLATES: LazyLock<Vec<gst::PadTemplate>> = LazyLock::new(|| {
            let caps = gst_video::VideoCapsBuilder::new().format_list(FORMATS).build();
            vec![
                gst::PadTemplate::new("src", gst::PadDirection::Src, gst::PadPresence::Always, &caps)
                    .expect("valid src template"),
                gst::PadTemplate::new("sink", gst::PadDirection::Sink, gst::PadPresence::Always, &caps)
                    .expect("valid sink template"),
            ]
        });
        PAD_TEMPLATES.as_ref()
    }
}

impl BaseTransformImpl for AnimeStyle {
    const MODE: gst_base::subclass::BaseTransformMode = gst_base::subclass::BaseTransformMode::NeverInPlace;
    const PASSTHROUGH_ON_SAME_CAPS: bool = false;
    const TRANSFORM_IP_ON_PASSTHROUGH: bool = false;

    fn start(&self) -> Result<(), gst::ErrorMessage> {
        self.reported_latency_ns.store(0, std::sync::atomic::Ordering::Relaxed);
        let settings = self.settings.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let source = ModelSource::from_property(&settings.model);
        let generator = Generator::load(&source, &settings.session_settings()).map_err(|e| {
            gst::error!(CAT, imp = self, "{e}");
            match e.kind {
                LoadErrorKind::Runtime => {
                    gst::error_msg!(gst::LibraryError::Init, ("{}", e.message))
                }
                LoadErrorKind::NotFound => {
                    gst::error_msg!(gst::ResourceError::NotFound, ("{}", e.message))
                }
                LoadErrorKind::NotOnnx | LoadErrorKind::Contract => {
                    gst::error_msg!(gst::LibraryError::Settings, ("{}", e.message))
                }
                LoadErrorKind::Provider => {
                    gst::error_msg!(gst::LibraryError::Init, ("{}", e.message))
                }
            }
        })?;
        if let Some(warning) = generator.selection.warning(settings.session_settings().provider) {
            gst::warning!(CAT, imp = self, "{warning}");
            gst::element_imp_warning!(self, gst::LibraryError::Init, ("{}", warning));
        }
        let c = &generator.contract;
        gst::info!(
            CAT,
            imp = self,
            "loaded model {} with ONNX Runtime {} on {}: {} {} {}→{} {}/{} multiple {} min {} fixed {:?}",
            generator.source,
            generator.runtime_path.display(),
            generator.selection.provider,
            c.layout,
            c.channel_order,
            c.input_range,
            c.output_range,
            c.input_type,
            c.output_type,
            c.size_multiple,
            c.min_size,
            c.fixed_size
        );
        // Tell the application which hardware and model it got (also in the log and `stats`).
        let started = gst::Structure::builder("animestyle-started")
            .field("execution-provider", generator.selection.provider.to_string())
            .field("model", generator.source.to_string())
            .field("onnxruntime", generator.runtime_path.display().to_string())
            .field(
                "rejected-providers",
                generator
                    .selection
                    .rejected
                    .iter()
                    .map(|(p, why)| format!("{p}: {why}"))
                    .collect::<Vec<_>>()
                    .join("; "),
            )
            .build();
        let _ = self.obj().post_message(gst::message::Element::builder(started).src(&*self.obj()).build());
        {
            let mut stats = self.stats.lock().unwrap_or_else(|e| e.into_inner());
            *stats = Stats::default();
            stats.execution_provider = generator.selection.provider.to_string();
            stats.model = generator.source.to_string();
        }
        *self.state.lock().unwrap_or_else(|e| e.into_inner()) = Some(State { generator, buffers: Buffers::default() });
        Ok(())
    }

    /// Adds this element's processing time (p95 of the measured per-frame time, inference
    /// included) to upstream's latency: frames leave that much later than they arrive.
    fn query(&self, direction: gst::PadDirection, query: &mut gst::QueryRef) -> bool {
        if direction == gst::PadDirection::Src
            && let gst::QueryViewMut::Latency(q) = query.view_mut()
        {
            let mut upstream = gst::query::Latency::new();
            if !self.obj().sink_pad().peer_query(&mut upstream) {
                return false;
            }
            let (live, min, max) = upstream.result();
            let ours =
                gst::ClockTime::from_nseconds(self.reported_latency_ns.load(std::sync::atomic::Ordering::Relaxed));
            gst::debug!(CAT, imp = self, "latency: upstream {min} (live {live}), ours {ours}");
            q.set(live, min + ours, max.map(|m| m + ours));
            return true;
        }
        BaseTransformImplExt::parent_query(self, direction, query)
    }

    fn sink_event(&self, event: gst::Event) -> bool {
        if let gst::EventView::FlushStop(_) = event.view() {
            // A flushing seek: the next frame is unrelated to the last one.
            self.reset_history("flushing seek");
        }
        self.parent_sink_event(event)
    }

    fn stop(&self) -> Result<(), gst::ErrorMessage> {
        *self.state.lock().unwrap_or_else(|e| e.into_inner()) = None;
        gst::info!(CAT, imp = self, "stopped");
        Ok(())
    }
}

impl VideoFilterImpl for AnimeStyle {
    fn set_info(
        &self,
        incaps: &gst::Caps,
        in_info: &gst_video::VideoInfo,
        outcaps: &gst::Caps,
        out_info: &gst_video::VideoInfo,
    ) -> Result<(), gst::LoggableError> {
        gst::debug!(CAT, imp = self, "configured for {incaps} -> {outcaps}");
        if in_info.width() != out_info.width() || in_info.height() != out_info.height() {
            return Err(gst::loggable_error!(CAT, "input and output sizes differ"));
        }
        self.reset_history("caps changed");
        Ok(())
    }

    fn transform_frame(
        &self,
        inframe: &gst_video::VideoFrameRef<&gst::BufferRef>,
        outframe: &mut gst_video::VideoFrameRef<&mut gst::BufferRef>,
    ) -> Result<gst::FlowSuccess, gst::FlowError> {
        let started = Instant::now();
        let (strength, inference_size, upsampling, temporal_settings, skip_threshold, view) = {
            let s = self.settings.lock().unwrap_or_else(|e| e.into_inner());
            (s.strength as f32, s.inference_size, s.upsampling, s.temporal(), s.skip_threshold as f32, s.view)
        };
        if strength <= 0.0 || view == View::Original {
            // Nothing of the stylized image would show: skip the network.
            inframe.copy(outframe).map_err(|e| {
                gst::element_imp_error!(self, gst::CoreError::Failed, ("Could not copy frame: {e}"));
                gst::FlowError::Error
            })?;
            self.stats.lock().unwrap_or_else(|e| e.into_inner()).record_frame(
                started.elapsed().as_secs_f64() * 1000.0,
                None,
                None,
            );
            return Ok(gst::FlowSuccess::Ok);
        }

        let mut state_guard = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let state = state_guard.as_mut().ok_or_else(|| {
            gst::element_imp_error!(self, gst::CoreError::Negotiation, ("Frame received before the element started"));
            gst::FlowError::NotNegotiated
        })?;
        let (width, height) = (inframe.width() as usize, inframe.height() as usize);
        let layout = Self::packed_layout(&inframe.format_info());
        let in_stride = inframe.plane_stride()[0] as usize;
        let out_stride = outframe.plane_stride()[0] as usize;
        let in_data = inframe.plane_data(0).map_err(|_| gst::FlowError::Error)?;

        let contract = &state.generator.contract;
        let inference_size = match inference_size {
            -1 => contract.recommended_inference_size.unwrap_or(0),
            n => n.max(0) as u32,
        };
        let (content, canvas) = contract.network_size((width as u32, height as u32), inference_size);
        let content = (content.0 as usize, content.1 as usize);
        let canvas = (canvas.0 as usize, canvas.1 as usize);

        let State { generator, buffers: b } = state;
        let reduced = content != (width, height);
        let history = temporal_settings.smoothing > 0.0 || skip_threshold > 0.0;
        // The network's input as planes: needed to scale it, and to compare frames.
        if reduced || history {
            pixels::unpack_frame(in_data, in_stride, layout, width, height, &mut b.frame);
        }
        if reduced {
            resample(&mut b.down, &b.frame, &mut b.network_in, content);
        }
        let low_in: &Planes = if reduced { &b.network_in } else { &b.frame };
        let skip = skip_threshold > 0.0
            && (b.last_input.width, b.last_input.height) == (low_in.width, low_in.height)
            && temporal::max_block_diff(low_in, &b.last_input) < skip_threshold;
        let inference_ms = if skip {
            b.network_out.clone_from(&b.last_output);
            None
        } else {
            let source = if reduced || history {
                RgbSource::Planes(low_in)
            } else {
                // At the frame's own size the tensor is packed straight from the frame.
                RgbSource::Frame(PackedFrame { data: in_data, stride: in_stride, layout, width, height })
            };
            let elapsed = match generator.run(&source, canvas, &mut b.network_out) {
                Ok(elapsed) => elapsed,
                Err(e) => {
                    gst::element_imp_error!(
                        self,
                        gst::StreamError::Failed,
                        (
                            "Inference failed on a {width}x{height} frame (network input {}x{}): {e}. If the model \
                             needs a particular size, set size-multiple or inference-size to match it",
                            canvas.0,
                            canvas.1
                        )
                    );
                    return Err(gst::FlowError::Error);
                }
            };
            if skip_threshold > 0.0 {
                b.last_input.clone_from(low_in);
                b.last_output.clone_from(&b.network_out);
            }
            Some(elapsed.as_secs_f64() * 1000.0)
        };
        let upsample_started = Instant::now();
        let same_size = (b.network_out.width, b.network_out.height) == (width, height);
        if !same_size {
            if upsampling == Upsampling::Guided
                && (b.network_out.width, b.network_out.height) == (b.network_in.width, b.network_in.height)
            {
                // The network saw `network_in` (the frame scaled down); the frame guides the way up.
                b.guided.upsample(&b.network_in, &b.network_out, &b.frame, &mut b.upscaled);
            } else {
                // Bilinear by choice, or a model whose output size differs from its input's (no
                // pixel-aligned low-resolution guide).
                resample(&mut b.up, &b.network_out, &mut b.upscaled, (width, height));
            }
        }
        let upsample_ms = (!same_size).then(|| upsample_started.elapsed().as_secs_f64() * 1000.0);
        let stylized = if same_size { &mut b.network_out } else { &mut b.upscaled };
        // Temporal smoothing of the final image; decided on what the network saw.
        let low_in: &Planes = if reduced { &b.network_in } else { &b.frame };
        match b.temporal.process(low_in, stylized, &temporal_settings) {
            Outcome::SceneCut => gst::debug!(CAT, imp = self, "scene cut: temporal history reset"),
            Outcome::Started | Outcome::Off | Outcome::Smoothed => {}
        }
        let stylized: &Planes = stylized;
        let out_data = outframe.plane_data_mut(0).map_err(|_| gst::FlowError::Error)?;
        pixels::write_frame(stylized, in_data, in_stride, out_data, out_stride, layout, strength);
        if view == View::Split {
            pixels::split_view(in_data, in_stride, out_data, out_stride, layout, (width, height));
        }
        drop(state_guard);

        let mut stats = self.stats.lock().unwrap_or_else(|e| e.into_inner());
        stats.record_frame(started.elapsed().as_secs_f64() * 1000.0, inference_ms, upsample_ms);
        if skip {
            stats.record_skipped();
        }
        let (frames, p95) = (stats.snapshot().frames, stats.processing_p95_after(LATENCY_IGNORED_FRAMES));
        drop(stats);
        self.update_latency(frames, p95);
        gst::trace!(
            CAT,
            imp = self,
            "frame {width}x{height} via {}x{}: inference {inference_ms:?} ms",
            canvas.0,
            canvas.1
        );
        Ok(gst::FlowSuccess::Ok)
    }
}
