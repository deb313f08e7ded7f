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
//! `realtime-policy` decides what happens when stylization is slower than the frames arrive:
//! `every-frame` stylizes each frame and lets upstream wait (files), `drop` drops the frames
//! the sink reports late (QoS), and `latest` runs the network on a worker thread on the newest
//! frame while every frame leaves on time, reusing the latest stylization when the next one is
//! not ready. The default, `auto`, picks `latest` for live sources and `every-frame` otherwise:
//!
//! ```text
//! gst-launch-1.0 v4l2src ! videoconvert ! animestyle ! videoconvert ! autovideosink
//! ```
//!
//! Setting `model` while playing loads the new model on a background thread and switches to it
//! between two frames; a model that cannot be loaded leaves the running one in place and posts
//! a warning.
//!
//! ONNX Runtime is loaded when the element starts (not when the plugin loads), from the
//! `ort-library` property, `ORT_DYLIB_PATH`, or well-known locations; a missing library is
//! an element error that says how to install it.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant};

use animestyle_model::{ChannelOrder, ContractOverrides, Layout, ValueRange};
use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;
use gst_base::prelude::*;
use gst_base::subclass::prelude::*;
use gst_video::prelude::*;
use gst_video::subclass::prelude::*;

use super::{
    ExecutionProvider, RealtimePolicy, Style, TensorChannelOrder, TensorLayout, TensorRange, Upsampling, View,
};
use crate::engine::{Engine, LoadOutcome};
use crate::frame_io::{self, PackedFrame, PackedLayout};
use crate::lock::lock;
use crate::pipeline::{Frame, FrameError, FrameIn, FrameOut, FramePipeline, FrameReport, FrameSettings};
use crate::providers::Provider;
use crate::scheduler::Fate;
use crate::session::{LoadError, LoadErrorKind, ModelSource, Session, SessionSettings};
use crate::stats::Stats;
use crate::temporal::TemporalSettings;
use crate::yuv::{Component, YuvFrame, YuvFrameMut, YuvLayout, YuvMatrix};

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
/// -1: what the model's metadata asks for (1 for the bundled styles), else none.
const DEFAULT_LINE_STRENGTH: f64 = -1.0;
/// -1: what the model's metadata asks for (the bundled styles' cel shading), else none.
const DEFAULT_CEL_SHADING: f64 = -1.0;
const DEFAULT_VIEW: View = View::Stylized;
const DEFAULT_STYLE: Style = Style::Cel;
const DEFAULT_REALTIME_POLICY: RealtimePolicy = RealtimePolicy::Auto;
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

const FORMATS: [gst_video::VideoFormat; 16] = [
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
    gst_video::VideoFormat::Yuy2,
    gst_video::VideoFormat::Uyvy,
    gst_video::VideoFormat::Nv12,
    gst_video::VideoFormat::Nv21,
    gst_video::VideoFormat::I420,
    gst_video::VideoFormat::Yv12,
];

#[derive(Debug, Clone)]
struct Settings {
    model: String,
    style: Style,
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
    line_strength: f64,
    cel_shading: f64,
    view: View,
    realtime_policy: RealtimePolicy,
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
            style: DEFAULT_STYLE,
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
            line_strength: DEFAULT_LINE_STRENGTH,
            cel_shading: DEFAULT_CEL_SHADING,
            view: DEFAULT_VIEW,
            realtime_policy: DEFAULT_REALTIME_POLICY,
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
    /// What one frame is processed with; `latest` is set once the policy is resolved.
    fn frame(&self) -> FrameSettings {
        FrameSettings {
            strength: self.strength as f32,
            inference_size: self.inference_size,
            guided: self.upsampling == Upsampling::Guided,
            line_strength: self.line_strength as f32,
            cel_shading: self.cel_shading as f32,
            temporal: self.temporal(),
            skip_threshold: self.skip_threshold as f32,
            split_view: self.view == View::Split,
            latest: false,
        }
    }

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

struct State {
    /// The frame path: buffers, history, and under `latest` the inference thread.
    pipeline: FramePipeline,
    /// The policy in effect and the setting it was resolved from (`auto` is resolved on the
    /// first frame, from whether upstream is live).
    policy: Option<(RealtimePolicy, RealtimePolicy)>,
}

impl State {
    fn new() -> Self {
        State { pipeline: FramePipeline::new(), policy: None }
    }
}

/// How long one frame may take: its duration, else the caps' frame rate, else 1/30 s.
fn frame_period(frame: &gst_video::VideoFrameRef<&gst::BufferRef>) -> Duration {
    if let Some(d) = frame.buffer().duration().filter(|d| d.nseconds() > 0) {
        return Duration::from_nanos(d.nseconds());
    }
    let fps = frame.info().fps();
    if fps.numer() > 0 && fps.denom() > 0 {
        Duration::from_secs_f64(fps.denom() as f64 / fps.numer() as f64)
    } else {
        Duration::from_secs_f64(1.0 / 30.0)
    }
}

fn gst_domain_message(e: &LoadError) -> gst::ErrorMessage {
    match e.kind {
        LoadErrorKind::Runtime | LoadErrorKind::Provider => {
            gst::error_msg!(gst::LibraryError::Init, ("{}", e.message))
        }
        LoadErrorKind::NotFound => gst::error_msg!(gst::ResourceError::NotFound, ("{}", e.message)),
        LoadErrorKind::NotOnnx | LoadErrorKind::Contract => {
            gst::error_msg!(gst::LibraryError::Settings, ("{}", e.message))
        }
    }
}

impl AnimeStyle {
    /// Reports the measured latency once warmed up (again after the policy changed), and
    /// whenever it grows by a quarter.
    fn update_latency(&self, frames: u64, p95_ms: f64) {
        if frames < LATENCY_WARMUP_FRAMES {
            return;
        }
        let measured = (p95_ms * 1e6) as u64;
        let reported = self.reported_latency_ns.load(Ordering::Relaxed);
        let remeasured = self.remeasure_latency.swap(false, Ordering::AcqRel);
        if remeasured || reported == 0 || measured > reported + reported / 4 {
            self.reported_latency_ns.store(measured, Ordering::Relaxed);
            gst::info!(CAT, imp = self, "processing latency now {:.1} ms (p95)", p95_ms);
            let _ = self.obj().post_message(gst::message::Latency::builder().src(&*self.obj()).build());
        }
    }

    fn reset_history(&self, why: &str) {
        if let Some(state) = lock(&self.state).as_mut() {
            gst::debug!(CAT, imp = self, "{why}: temporal history reset");
            state.pipeline.reset_history();
        }
    }

    fn upstream_is_live(&self) -> bool {
        let mut query = gst::query::Latency::new();
        self.obj().sink_pad().peer_query(&mut query) && query.result().0
    }

    /// The policy in effect for `setting`, resolving `auto` and applying a change: QoS is
    /// honoured only by `drop`, and the latency is measured afresh.
    fn resolve_policy(&self, state: &mut State, setting: RealtimePolicy) -> RealtimePolicy {
        if let Some((policy, from)) = state.policy
            && from == setting
        {
            return policy;
        }
        let (policy, why) = match setting {
            RealtimePolicy::Auto if self.upstream_is_live() => (RealtimePolicy::Latest, " (auto: live source)"),
            RealtimePolicy::Auto => (RealtimePolicy::EveryFrame, " (auto: not live)"),
            other => (other, ""),
        };
        self.obj().set_qos(policy == RealtimePolicy::Drop);
        let name = glib::EnumValue::from_value(&policy.to_value()).map_or("?", |(_, v)| v.nick()).to_string();
        gst::info!(CAT, imp = self, "real-time policy {name}{why}");
        {
            let mut stats = lock(&self.stats);
            stats.realtime_policy = format!("{name}{why}");
            stats.restart_latency_window();
        }
        self.remeasure_latency.store(true, Ordering::Release);
        state.policy = Some((policy, setting));
        policy
    }

    /// Hands the model the `model` and `style` properties now name, set while playing, to the
    /// engine, which loads it in the background and switches to it before the next inference;
    /// on failure the running model stays and a warning is posted.
    fn switch_model(&self) {
        let Some(engine) = lock(&self.engine).clone() else {
            return; // not started: the model is loaded at start
        };
        let (wanted, session, inference_size) = {
            let settings = lock(&self.settings);
            ((settings.model.clone(), settings.style), settings.session_settings(), settings.inference_size)
        };
        let source = ModelSource::from_properties(&wanted.0, wanted.1.into());
        gst::info!(CAT, imp = self, "loading model '{source}' while playing");
        let element = self.obj().downgrade();
        let started = engine.load_in_background(source.clone(), session, inference_size, {
            let wanted = wanted.clone();
            move |outcome| {
                let Some(element) = element.upgrade() else { return };
                let imp = element.imp();
                match outcome {
                    LoadOutcome::Ready => {
                        gst::info!(CAT, imp = imp, "model '{source}' ready: switching before the next inference");
                        *lock(&imp.accepted_model) = wanted;
                    }
                    LoadOutcome::Failed(why) => imp.reject_model(&wanted, &why),
                    LoadOutcome::Superseded => {
                        gst::debug!(CAT, imp = imp, "model '{source}' loaded but superseded by a newer request")
                    }
                }
            }
        });
        if let Err(e) = started {
            self.reject_model(&wanted, &format!("could not start a loading thread: {e}"));
        }
    }

    /// A model set while playing could not be used: the `model` (or `style`) property goes back
    /// to the model that keeps running, and the application gets a warning saying why.
    fn reject_model(&self, (path, style): &(String, Style), why: &str) {
        let accepted = lock(&self.accepted_model).clone();
        let wanted = ModelSource::from_properties(path, (*style).into());
        let (mut model_reverted, mut style_reverted) = (false, false);
        {
            let mut settings = lock(&self.settings);
            if settings.model == *path && settings.model != accepted.0 {
                settings.model = accepted.0.clone();
                model_reverted = true;
            }
            if settings.style == *style && settings.style != accepted.1 {
                settings.style = accepted.1;
                style_reverted = true;
            }
        }
        if model_reverted {
            self.obj().notify("model");
        }
        if style_reverted {
            self.obj().notify("style");
        }
        let running = ModelSource::from_properties(&accepted.0, accepted.1.into());
        gst::warning!(CAT, imp = self, "could not switch to model '{wanted}': {why}");
        gst::element_imp_warning!(
            self,
            gst::LibraryError::Settings,
            ("Could not switch to model '{wanted}': {why}. Still running model '{running}'; the model property is back to it")
        );
    }
}

impl AnimeStyle {
    /// The input frame unchanged in the output frame.
    fn copy_frame(
        &self,
        inframe: &gst_video::VideoFrameRef<&gst::BufferRef>,
        outframe: &mut gst_video::VideoFrameRef<&mut gst::BufferRef>,
    ) -> Result<gst::FlowSuccess, gst::FlowError> {
        // Whole rows, stride by stride: `gst_video_frame_copy` copies `width × pixel stride`
        // bytes a row, which for an odd-width YUY2/UYVY frame leaves out the last chroma byte.
        for p in 0..inframe.n_planes() {
            let src = self.mapped(inframe.plane_data(p))?;
            let src_stride = inframe.plane_stride()[p as usize] as usize;
            let dst_stride = outframe.plane_stride()[p as usize] as usize;
            frame_io::copy_rows(src, src_stride, self.mapped(outframe.plane_data_mut(p))?, dst_stride);
        }
        Ok(gst::FlowSuccess::Ok)
    }

    /// A frame's plane, or an element error saying it could not be read.
    fn mapped<T>(&self, plane: Result<T, glib::BoolError>) -> Result<T, gst::FlowError> {
        plane.map_err(|e| {
            gst::element_imp_error!(
                self,
                gst::CoreError::Failed,
                ("Could not read the video frame's pixels: {e}. The buffer does not match the negotiated caps")
            );
            gst::FlowError::Error
        })
    }

    fn frame_failed(&self, e: &FrameError) -> gst::FlowError {
        match e {
            FrameError::Inference { .. } => gst::element_imp_error!(self, gst::StreamError::Failed, ("{e}")),
            FrameError::Worker(_) => gst::element_imp_error!(self, gst::CoreError::Thread, ("{e}")),
        }
        gst::FlowError::Error
    }

    /// Statistics, log, model-changed message and latency for one processed frame.
    fn report_frame(&self, report: &FrameReport, started: Instant, (width, height): (u32, u32)) {
        if report.scene_cut {
            gst::debug!(CAT, imp = self, "scene cut: temporal history reset");
        }
        let mut stats = lock(&self.stats);
        stats.record_frame(elapsed_ms(started), report.inference_ms, report.upsample_ms);
        if let Some(stages) = report.stages {
            stats.record_stages(stages);
        }
        match report.fate {
            Fate::Stylized | Fate::PassedThrough => {}
            Fate::Skipped => stats.record_skipped(),
            Fate::Reused | Fate::Repeated => stats.record_reused(),
        }
        if report.fate == Fate::Repeated {
            gst::trace!(CAT, imp = self, "behind the live timeline: last stylized image repeated");
            return;
        }
        if let Some(model) = &report.model_changed {
            stats.model = model.name.clone();
            stats.execution_provider = model.execution_provider.clone();
            stats.model_line_strength = model.contract.asked_line_strength();
            stats.model_cel_shading = model.contract.asked_cel_shading();
        }
        let (frames, p95) = (stats.latency_frames(), stats.processing_p95_after(LATENCY_IGNORED_FRAMES));
        drop(stats);
        if let Some(model) = &report.model_changed {
            let (line_strength, cel_shading) =
                (model.contract.asked_line_strength(), model.contract.asked_cel_shading());
            gst::info!(
                CAT,
                imp = self,
                "switched to model {} on {}; it asks for line-strength {line_strength}, cel-shading {cel_shading}",
                model.name,
                model.execution_provider
            );
            let changed = gst::Structure::builder("animestyle-model-changed")
                .field("model", model.name.as_str())
                .field("execution-provider", model.execution_provider.as_str())
                .field("model-line-strength", f64::from(line_strength))
                .field("model-cel-shading", f64::from(cel_shading))
                .build();
            let _ = self.obj().post_message(gst::message::Element::builder(changed).src(&*self.obj()).build());
        }
        self.update_latency(frames, p95);
        let (fate, inference_ms, canvas) = (report.fate, report.inference_ms, report.canvas);
        gst::trace!(
            CAT,
            imp = self,
            "frame {width}x{height} via {}x{}: {fate:?}, inference {inference_ms:?} ms",
            canvas.0,
            canvas.1
        );
    }
}

fn elapsed_ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1000.0
}

/// Frames measured before the element first reports its own latency, and how many of the
/// first ones are left out of it (ONNX Runtime's first runs are several times slower).
const LATENCY_WARMUP_FRAMES: u64 = 10;
const LATENCY_IGNORED_FRAMES: usize = 3;

#[derive(Default)]
pub struct AnimeStyle {
    /// The processing latency last reported (ns; 0 = not measured yet). A LATENCY message is
    /// posted when the measured p95 outgrows it by a quarter, so live pipelines re-query.
    reported_latency_ns: AtomicU64,
    /// Set when the real-time policy changed: the next measurement is reported even if lower.
    remeasure_latency: AtomicBool,
    /// The running engine, held here only: each frame runs on it, and a model set while a frame
    /// holds `state` is handed to it for hot-swapping.
    engine: Mutex<Option<Arc<Engine>>>,
    /// The `model` value of the model running or about to run (what a failed switch returns to).
    accepted_model: Mutex<(String, Style)>,
    settings: Mutex<Settings>,
    state: Mutex<Option<State>>,
    /// Kept apart from `state` so reading `stats` never waits for an inference.
    stats: Mutex<Stats>,
}

impl AnimeStyle {
    fn stats_structure(&self) -> gst::Structure {
        let stats = lock(&self.stats);
        let snap = stats.snapshot();
        gst::Structure::builder("animestyle-stats")
            .field("frames", snap.frames)
            .field("dropped", snap.dropped)
            .field("skipped", snap.skipped)
            .field("reused", snap.reused)
            .field("inference-mean-ms", snap.inference_mean_ms)
            .field("inference-p95-ms", snap.inference_p95_ms)
            .field("upsampling-mean-ms", snap.upsampling_mean_ms)
            .field("prepare-mean-ms", snap.prepare_mean_ms)
            .field("lines-mean-ms", snap.lines_mean_ms)
            .field("smoothing-mean-ms", snap.smoothing_mean_ms)
            .field("write-mean-ms", snap.write_mean_ms)
            .field("processing-mean-ms", snap.processing_mean_ms)
            .field("fps", snap.fps)
            .field("execution-provider", stats.execution_provider.as_str())
            .field("model", stats.model.as_str())
            .field("model-line-strength", f64::from(stats.model_line_strength))
            .field("model-cel-shading", f64::from(stats.model_cel_shading))
            .field("realtime-policy", stats.realtime_policy.as_str())
            .build()
    }

    /// The input frame read in place and the output frame to write, in the negotiated format:
    /// packed RGB, or YUV in its own planes with the caps' colorimetry.
    fn map_frames<'a>(
        &self,
        inframe: &'a gst_video::VideoFrameRef<&gst::BufferRef>,
        outframe: &'a mut gst_video::VideoFrameRef<&mut gst::BufferRef>,
    ) -> Result<(FrameIn<'a>, FrameOut<'a>), gst::FlowError> {
        let info = inframe.format_info();
        let (width, height) = (inframe.width() as usize, inframe.height() as usize);
        if !info.is_yuv() {
            let input = PackedFrame {
                data: self.mapped(inframe.plane_data(0))?,
                stride: inframe.plane_stride()[0] as usize,
                layout: Self::packed_layout(&info),
                width,
                height,
            };
            let stride = outframe.plane_stride()[0] as usize;
            let data = self.mapped(outframe.plane_data_mut(0))?;
            return Ok((FrameIn::Packed(input), FrameOut::Packed { data, stride }));
        }
        let layout = Self::yuv_layout(&info);
        let n = layout.plane_count();
        let mut planes: [&[u8]; 3] = [&[]; 3];
        for (p, plane) in planes.iter_mut().enumerate().take(n) {
            *plane = self.mapped(inframe.plane_data(p as u32))?;
        }
        let strides = |s: &[i32]| -> [usize; 3] { std::array::from_fn(|p| if p < n { s[p] as usize } else { 0 }) };
        let input = YuvFrame {
            planes,
            strides: strides(inframe.plane_stride()),
            layout,
            matrix: Self::yuv_matrix(inframe.info()),
            width,
            height,
        };
        let out_strides = strides(outframe.plane_stride());
        let [a, b, c, _] = outframe.planes_data_mut();
        Ok((FrameIn::Yuv(input), FrameOut::Yuv(YuvFrameMut { planes: [a, b, c], strides: out_strides })))
    }

    /// Where each of Y, U and V lives in a YUV format, as GStreamer describes it.
    fn yuv_layout(info: &gst_video::VideoFormatInfo) -> YuvLayout {
        let component = |c: usize| Component {
            plane: info.plane()[c] as usize,
            offset: info.poffset()[c] as usize,
            step: info.pixel_stride()[c] as usize,
        };
        YuvLayout {
            components: [component(0), component(1), component(2)],
            chroma_shift: (info.w_sub()[1], info.h_sub()[1]),
        }
    }

    /// The caps' colour matrix and range; what GStreamer assumes where they say nothing.
    fn yuv_matrix(info: &gst_video::VideoInfo) -> YuvMatrix {
        let colorimetry = info.colorimetry();
        let default = YuvMatrix::default_for_height(info.height());
        let (kr, kb) = colorimetry.matrix().kr_kb().map_or((default.kr, default.kb), |(r, b)| (r as f32, b as f32));
        YuvMatrix { kr, kb, full_range: colorimetry.range() == gst_video::VideoColorRange::Range0_255 }
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
                    .blurb(
                        "Path of the ONNX generator to run; empty = the bundled look chosen by style. Set while \
                         playing, the new model loads in the background and takes over between two frames (a model \
                         that fails to load leaves the running one in place and posts a warning)",
                    )
                    .default_value(Some(DEFAULT_MODEL))
                    .mutable_playing()
                    .build(),
                glib::ParamSpecEnum::builder_with_default("style", DEFAULT_STYLE)
                    .nick("Style")
                    .blurb(
                        "The bundled look, used while model is empty: cel (flat regions, dark outlines) or painted \
                         (warmer colours, soft painted shading). Changeable while playing: the new look takes over \
                         between two frames",
                    )
                    .mutable_playing()
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
                glib::ParamSpecDouble::builder("line-strength")
                    .nick("Line strength")
                    .blurb(
                        "Ink lines drawn at the frame's full resolution on the borders the model keeps (on the dark \
                         side of each edge): 0 = none (only lines the model draws itself), 1 = a full line takes 80% of \
                         the luma, 2 = heavy, near-black lines (96%). -1 (the default) = what the model asks for in its \
                         metadata (animestyle.line_strength: 1 for the bundled styles); a model without it (one made \
                         elsewhere, e.g. an AnimeGAN export) gets none and looks as its authors made it",
                    )
                    .minimum(-1.0)
                    .maximum(crate::lines::MAX_STRENGTH as f64)
                    .default_value(DEFAULT_LINE_STRENGTH)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecDouble::builder("cel-shading")
                    .nick("Cel shading")
                    .blurb(
                        "Flat tones at the frame's full resolution: shading ramps become a few flat tones with a hard \
                         terminator, gentle gradients (skies, walls) stay graded, colour is a little more saturated. \
                         0 = none, 1 = full. -1 (the default) = what the model asks for in its metadata \
                         (animestyle.cel_shading: set for the bundled styles); a model without it (one made elsewhere, \
                         e.g. an AnimeGAN export) gets none and looks as its authors made it",
                    )
                    .minimum(-1.0)
                    .maximum(crate::cel::MAX_STRENGTH as f64)
                    .default_value(DEFAULT_CEL_SHADING)
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
                glib::ParamSpecEnum::builder_with_default("realtime-policy", DEFAULT_REALTIME_POLICY)
                    .nick("Real-time policy")
                    .blurb(
                        "When stylization is slower than the frames arrive: every-frame (stylize each, upstream \
                         waits), drop (drop frames the sink reports late, counted in stats), latest (inference on a \
                         worker thread on the newest frame; every frame leaves on time, reusing the latest \
                         stylization, counted as reused). auto = latest for live sources, every-frame otherwise",
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
                        "frames, dropped (late frames dropped by realtime-policy=drop), skipped (unchanged frames that reused the last \
                         stylization, see skip-threshold), reused (realtime-policy=latest: frames whose own stylization \
                         was not ready in time), inference-mean-ms and inference-p95-ms (ONNX Runtime's time, over the last 256 \
                         inferences), upsampling-mean-ms (scaling the result back to the frame size), prepare-mean-ms (reading the \
                         frame and scaling it to the network's size), lines-mean-ms (the frame-size look stages: cel shading and ink lines), smoothing-mean-ms (temporal smoothing), write-mean-ms \
                         (blending and writing the output), processing-mean-ms (the element's whole time per frame), fps (frames out per second \
                         of wall time), execution-provider, model and realtime-policy in use, model-line-strength (the ink lines \
                         the model asks for: what line-strength=-1 draws)",
                    )
                    .read_only()
                    .build(),
            ]
        });
        PROPERTIES.as_ref()
    }

    fn set_property(&self, _id: usize, value: &glib::Value, pspec: &glib::ParamSpec) {
        let mut settings = lock(&self.settings);
        let name = pspec.name();
        gst::debug!(CAT, imp = self, "setting {name} to {value:?}");
        match name {
            "model" => {
                let model = value.get::<Option<String>>().ok().flatten().unwrap_or_default();
                let changed = model != settings.model;
                settings.model = model;
                drop(settings);
                if changed {
                    self.switch_model();
                }
            }
            "style" => {
                let style = value.get().expect("type checked upstream");
                // The style only matters while no model file is set.
                let changed = style != settings.style && settings.model.is_empty();
                settings.style = style;
                drop(settings);
                if changed {
                    self.switch_model();
                }
            }
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
            "line-strength" => settings.line_strength = value.get().expect("type checked upstream"),
            "cel-shading" => settings.cel_shading = value.get().expect("type checked upstream"),
            "view" => settings.view = value.get().expect("type checked upstream"),
            "realtime-policy" => settings.realtime_policy = value.get().expect("type checked upstream"),
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
        let settings = lock(&self.settings);
        match pspec.name() {
            "model" => settings.model.to_value(),
            "style" => settings.style.to_value(),
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
            "line-strength" => settings.line_strength.to_value(),
            "cel-shading" => settings.cel_shading.to_value(),
            "view" => settings.view.to_value(),
            "realtime-policy" => settings.realtime_policy.to_value(),
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
        self.reported_latency_ns.store(0, Ordering::Relaxed);
        // QoS is honoured only under realtime-policy=drop, decided on the first frame.
        self.obj().set_qos(false);
        let settings = lock(&self.settings).clone();
        let source = ModelSource::from_properties(&settings.model, settings.style.into());
        let session = Session::load(&source, &settings.session_settings()).map_err(|e| {
            gst::error!(CAT, imp = self, "{e}");
            gst_domain_message(&e)
        })?;
        if let Some(warning) = session.selection.warning(settings.session_settings().provider) {
            gst::warning!(CAT, imp = self, "{warning}");
            gst::element_imp_warning!(self, gst::LibraryError::Init, ("{}", warning));
        }
        let c = &session.contract;
        gst::info!(
            CAT,
            imp = self,
            "loaded model {} with ONNX Runtime {} on {}: {} {} {}→{} {}/{} multiple {} min {} fixed {:?}",
            session.source,
            session.runtime_path.display(),
            session.selection.provider,
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
            .field("execution-provider", session.selection.provider.to_string())
            .field("model", session.source.to_string())
            .field("onnxruntime", session.runtime_path.display().to_string())
            .field(
                "rejected-providers",
                session.selection.rejected.iter().map(|(p, why)| format!("{p}: {why}")).collect::<Vec<_>>().join("; "),
            )
            .build();
        let _ = self.obj().post_message(gst::message::Element::builder(started).src(&*self.obj()).build());
        {
            let mut stats = lock(&self.stats);
            *stats = Stats::default();
            stats.execution_provider = session.selection.provider.to_string();
            stats.model = session.source.to_string();
            stats.model_line_strength = session.contract.asked_line_strength();
            stats.model_cel_shading = session.contract.asked_cel_shading();
        }
        let engine = Engine::new(session);
        *lock(&self.accepted_model) = (settings.model.clone(), settings.style);
        *lock(&self.engine) = Some(engine);
        *lock(&self.state) = Some(State::new());
        Ok(())
    }

    /// Adds this element's processing time to upstream's latency: the p95 of the measured
    /// per-frame time, so frames leave that much later than they arrive. Under `every-frame` and
    /// `drop` that includes inference; under `latest` a frame waits for its own stylization only
    /// within its frame period, so the measured time stays below one frame period.
    fn query(&self, direction: gst::PadDirection, query: &mut gst::QueryRef) -> bool {
        if direction == gst::PadDirection::Src
            && let gst::QueryViewMut::Latency(q) = query.view_mut()
        {
            let mut upstream = gst::query::Latency::new();
            if !self.obj().sink_pad().peer_query(&mut upstream) {
                return false;
            }
            let (live, min, max) = upstream.result();
            let ours = gst::ClockTime::from_nseconds(self.reported_latency_ns.load(Ordering::Relaxed));
            gst::debug!(CAT, imp = self, "latency: upstream {min} (live {live}), ours {ours}");
            q.set(live, min + ours, max.map(|m| m + ours));
            return true;
        }
        BaseTransformImplExt::parent_query(self, direction, query)
    }

    /// Counts the frames BaseTransform's QoS drops (only enabled under `realtime-policy=drop`).
    fn submit_input_buffer(&self, is_discont: bool, inbuf: gst::Buffer) -> Result<gst::FlowSuccess, gst::FlowError> {
        let pts = inbuf.pts();
        let result = self.parent_submit_input_buffer(is_discont, inbuf);
        if result == Ok(gst_base::BASE_TRANSFORM_FLOW_DROPPED) {
            gst::debug!(CAT, imp = self, "QoS: dropped late frame {}", pts.display());
            lock(&self.stats).record_dropped();
        }
        result
    }

    fn sink_event(&self, event: gst::Event) -> bool {
        if let gst::EventView::FlushStop(_) = event.view() {
            // A flushing seek: the next frame is unrelated to the last one.
            self.reset_history("flushing seek");
        }
        self.parent_sink_event(event)
    }

    fn stop(&self) -> Result<(), gst::ErrorMessage> {
        // Dropping the state joins the inference thread (it finishes its current run).
        *lock(&self.state) = None;
        // A model still loading is not switched in on the next start.
        if let Some(engine) = lock(&self.engine).take() {
            engine.cancel_loads();
        }
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
        let (mut settings, view, policy_setting) = {
            let s = lock(&self.settings);
            (s.frame(), s.view, s.realtime_policy)
        };
        if settings.strength <= 0.0 || view == View::Original {
            // Nothing of the stylized image would show: skip the network.
            self.copy_frame(inframe, outframe)?;
            lock(&self.stats).record_frame(elapsed_ms(started), None, None);
            return Ok(gst::FlowSuccess::Ok);
        }
        let engine = lock(&self.engine).clone();
        let mut state_guard = lock(&self.state);
        let (Some(engine), Some(state)) = (engine, state_guard.as_mut()) else {
            gst::element_imp_error!(self, gst::CoreError::Negotiation, ("Frame received before the element started"));
            return Err(gst::FlowError::NotNegotiated);
        };
        settings.latest = self.resolve_policy(state, policy_setting) == RealtimePolicy::Latest;
        let (width, height) = (inframe.width(), inframe.height());
        let period = frame_period(inframe);
        let (input, output) = self.map_frames(inframe, outframe)?;
        let frame = Frame { input, output, arrived: started, period };
        let report = state.pipeline.process(&engine, frame, &settings).map_err(|e| self.frame_failed(&e))?;
        drop(state_guard);
        if report.fate == Fate::PassedThrough {
            gst::warning!(CAT, imp = self, "no stylization available yet: frame passed through");
            return self.copy_frame(inframe, outframe);
        }
        self.report_frame(&report, started, (width, height));
        Ok(gst::FlowSuccess::Ok)
    }
}
