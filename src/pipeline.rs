//! One stream's frame path, without GStreamer: a packed frame in, the stylized frame out.
//!
//! scale down ([`resample`]) → skip test ([`skip`]) → infer (the [`engine`] in this thread, or
//! the [`worker`] under `realtime-policy=latest`, see [`scheduler`]) → upsample ([`guided`],
//! guided by the frame, or [`resample`]) → cel shading ([`cel`]) and ink lines ([`lines`]) at
//! frame size → smooth
//! ([`temporal`]) → blend and write, with the split view ([`frame_io::write_output`]).
//!
//! [`FramePipeline`] owns the buffers reused from frame to frame and the history of the
//! stream; the element maps its frames, hands them to [`FramePipeline::process`] and reports
//! the [`FrameReport`] it gets back.
//!
//! [`resample`]: crate::resample
//! [`skip`]: crate::skip
//! [`worker`]: crate::worker
//! [`scheduler`]: crate::scheduler
//! [`guided`]: crate::guided
//! [`cel`]: crate::cel
//! [`lines`]: crate::lines
//! [`temporal`]: crate::temporal

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::cel::CelStage;
use crate::engine::{self, Engine, ModelInfo};
use crate::frame_io::{self, PackedFrame, Planes};
use crate::guided::{GreyGuidedUpsampler, GuidedUpsampler};
use crate::lines::LineStage;
use crate::motion;
use crate::resample::Resampler;
use crate::scheduler::{Fate, LatestScheduler};
use crate::skip::SkipMemory;
use crate::stats::StageTimes;
use crate::temporal::{Outcome, TemporalFilter, TemporalSettings};
use crate::tensor_io::RgbSource;
use crate::worker::{InferenceWorker, Job, Stylization};
use crate::yuv::{self, Plane, YuvFrame, YuvFrameMut, YuvPlanes, unpack_yuv};

/// The settings one frame is processed with (a snapshot of the element's properties).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FrameSettings {
    /// Blend of the stylized image over the original, `0..=1`.
    pub strength: f32,
    /// The `inference-size` property: -1 = the model's recommendation, 0 = the frame's size.
    pub inference_size: i32,
    /// Guided upsampling (else bilinear).
    pub guided: bool,
    /// `line-strength`: ink lines drawn at the frame's size, `0..=2` (0 = none); negative = what
    /// the model that made the stylization asks for ([`line_strength_for`]).
    pub line_strength: f32,
    /// `cel-shading`: flat tones at the frame's size, `0..=1` (0 = none); negative = what the
    /// model that made the stylization asks for ([`cel_shading_for`]).
    pub cel_shading: f32,
    pub temporal: TemporalSettings,
    /// `skip-threshold`; 0 = always run the network.
    pub skip_threshold: f32,
    /// Original left, stylized right.
    pub split_view: bool,
    /// `realtime-policy=latest`: inference on the worker thread, frames leave on time.
    pub latest: bool,
}

/// A frame coming in, read in place: packed RGB, or YUV in its own planes.
#[derive(Debug, Clone, Copy)]
pub enum FrameIn<'a> {
    Packed(PackedFrame<'a>),
    Yuv(YuvFrame<'a>),
}

impl FrameIn<'_> {
    pub fn size(&self) -> (usize, usize) {
        match self {
            FrameIn::Packed(f) => (f.width, f.height),
            FrameIn::Yuv(f) => (f.width, f.height),
        }
    }
}

/// Where the output frame goes: the same format and size as the input.
pub enum FrameOut<'a> {
    Packed { data: &'a mut [u8], stride: usize },
    Yuv(YuvFrameMut<'a>),
}

/// One frame to process: the input frame, where the output goes, when the frame arrived and
/// how long it may take.
pub struct Frame<'a> {
    pub input: FrameIn<'a>,
    pub output: FrameOut<'a>,
    pub arrived: Instant,
    pub period: Duration,
}

/// What happened to one frame.
#[derive(Debug, Clone)]
pub struct FrameReport {
    pub fate: Fate,
    /// ONNX Runtime's time, when a new inference result is accounted to this frame.
    pub inference_ms: Option<f64>,
    /// Time to scale the result back to the frame size, when it was scaled.
    pub upsample_ms: Option<f64>,
    /// The other stages' times, for a frame that went through the whole path.
    pub stages: Option<StageTimes>,
    /// The network's input size (content padded to the model's multiple).
    pub canvas: (usize, usize),
    /// The model shown from this frame on, when it differs from the previous frame's.
    pub model_changed: Option<Arc<ModelInfo>>,
    /// The temporal filter saw a scene cut and reset its history.
    pub scene_cut: bool,
}

impl FrameReport {
    fn new(fate: Fate, canvas: (usize, usize)) -> Self {
        FrameReport {
            fate,
            inference_ms: None,
            upsample_ms: None,
            stages: None,
            canvas,
            model_changed: None,
            scene_cut: false,
        }
    }
}

/// Why a frame could not be processed.
#[derive(Debug)]
pub enum FrameError {
    /// The model failed on this frame.
    Inference { frame: (usize, usize), canvas: (usize, usize), message: String },
    /// The `latest` policy's inference thread could not be started.
    Worker(std::io::Error),
}

impl std::fmt::Display for FrameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FrameError::Inference { frame, canvas, message } => write!(
                f,
                "Inference failed on a {}x{} frame (network input {}x{}): {message}. If the model needs a \
                 particular size, set size-multiple or inference-size to match it",
                frame.0, frame.1, canvas.0, canvas.1
            ),
            FrameError::Worker(e) => write!(
                f,
                "Could not start the inference thread for realtime-policy=latest: {e}. Use realtime-policy=every-frame"
            ),
        }
    }
}

/// Scratch images reused from frame to frame, and resamplers for the current sizes.
#[derive(Default)]
struct Buffers {
    /// A packed frame's colour, when needed as planes.
    frame: Planes,
    /// What the network sees (RGB at network size).
    network_in: Planes,
    network_out: Planes,
    /// A packed frame's stylized image at frame size.
    upscaled: Planes,
    down: Option<Resampler>,
    up: Option<Resampler>,
    guided: GuidedUpsampler,
    /// `latest`: a reused stylization moved onto the current frame ([`motion::align`]).
    aligned_in: Planes,
    aligned_out: Planes,
    yuv: YuvBuffers,
    lines: LineStage,
    cel: CelStage,
}

/// The YUV path's images: the frame's own planes at their sizes, and Y, U, V at network size.
#[derive(Default)]
struct YuvBuffers {
    /// The frame's planes.
    frame: YuvPlanes,
    /// The frame's Y, U, V at network size (the guide for upsampling).
    network_in: Planes,
    /// The stylization's input (when it is not this frame's) and output as Y, U, V.
    pair_in: Planes,
    pair_out: Planes,
    /// The frame's luma at chroma size: the guide for chroma.
    luma_at_chroma: Vec<f32>,
    /// The stylized image in the frame's planes.
    stylized: YuvPlanes,
    down_chroma: Option<Resampler>,
    up_chroma: Option<Resampler>,
    grey: GreyGuidedUpsampler,
    grey_chroma: GreyGuidedUpsampler,
}

/// `src` (`from`-sized) scaled to `to` into `dst`, with the resampler in `slot`; a copy when
/// the sizes agree.
fn scale_plane(slot: &mut Option<Resampler>, src: &[f32], from: (usize, usize), dst: &mut Plane, to: (usize, usize)) {
    dst.resize(to.0, to.1);
    Resampler::scale_plane_cached(slot, src, from, &mut dst.data, to);
}

impl YuvBuffers {
    /// The frame's planes scaled to the network's `content` size, then converted to RGB there
    /// (never at the frame's size) into `network_in`.
    fn scale_to_network(
        &mut self,
        frame: &YuvFrame,
        content: (usize, usize),
        down: &mut Option<Resampler>,
        network_in: &mut Planes,
    ) {
        unpack_yuv(frame, &mut self.frame);
        self.network_in.resize(content.0, content.1);
        for (c, plane) in self.frame.planes().into_iter().enumerate() {
            let slot = if c == 0 { &mut *down } else { &mut self.down_chroma };
            Resampler::scale_plane_cached(slot, &plane.data, plane.size(), self.network_in.plane_mut(c), content);
        }
        yuv::yuv_to_rgb(&self.network_in, &frame.matrix, network_in);
    }

    /// The stylization (`pair_out`, RGB at network size; the network saw `pair_in`, or this
    /// frame when `None`) brought to the frame's planes, each guided by the frame's luma at its
    /// size (or bilinear when `guided` is off).
    fn upsample(
        &mut self,
        (pair_in, pair_out): (Option<&Planes>, &Planes),
        frame: &YuvFrame,
        guided: bool,
        up: &mut Option<Resampler>,
    ) {
        let low = (pair_out.width, pair_out.height);
        let full = (frame.width, frame.height);
        let chroma = frame.layout.chroma_size(full);
        yuv::rgb_to_yuv(pair_out, &frame.matrix, &mut self.pair_out);
        let guide = match pair_in {
            None => &self.network_in,
            Some(pair_in) => {
                yuv::rgb_to_yuv(pair_in, &frame.matrix, &mut self.pair_in);
                &self.pair_in
            }
        };
        // A guide only where the network's input and output are pixel-aligned.
        let guided = guided && (guide.width, guide.height) == low;
        let out = &self.pair_out;
        let y = &mut self.stylized.y;
        if guided && low != full {
            y.resize(full.0, full.1);
            self.grey.upsample((guide.plane(0), out.plane(0)), low, &self.frame.y.data, full, &mut y.data);
        } else {
            scale_plane(up, out.plane(0), low, y, full);
        }
        if guided && low.0 < chroma.0 && low.1 <= chroma.1 {
            // Chroma is larger than the network's output: each chroma plane guided by the
            // frame's luma at chroma size (a grey guide: chroma changes where luma does).
            let luma = &mut self.luma_at_chroma;
            yuv::luma_at_chroma(&self.frame.y, frame.layout.chroma_shift, luma);
            for (c, dst) in [(1, &mut self.stylized.u), (2, &mut self.stylized.v)] {
                dst.resize(chroma.0, chroma.1);
                self.grey_chroma.upsample((guide.plane(0), out.plane(c)), low, luma, chroma, &mut dst.data);
            }
        } else {
            scale_plane(&mut self.up_chroma, out.plane(1), low, &mut self.stylized.u, chroma);
            scale_plane(&mut self.up_chroma, out.plane(2), low, &mut self.stylized.v, chroma);
        }
    }

    /// True when the stylized planes fit `frame` (for repeating them).
    fn fits(&self, frame: &YuvFrame) -> bool {
        let full = (frame.width, frame.height);
        self.stylized.y.size() == full && self.stylized.u.size() == frame.layout.chroma_size(full)
    }
}

fn elapsed_ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1000.0
}

/// One stream's frame path: the buffers and the history. The engine stays the element's; each
/// frame is run on the engine passed to [`Self::process`].
pub struct FramePipeline {
    buffers: Buffers,
    temporal: TemporalFilter,
    skip: SkipMemory,
    /// `latest`: the inference thread, started on first use, and its scheduling.
    worker: Option<InferenceWorker<Arc<ModelInfo>>>,
    scheduler: LatestScheduler,
    /// The model whose output was shown last ([`engine::ModelInfo::serial`]).
    shown_model: u64,
}

/// The result of the inference stage, at network size.
struct Inferred {
    fate: Fate,
    /// `latest`: the worker's stylization (what the network saw and returned).
    shared: Option<Arc<Stylization<Arc<ModelInfo>>>>,
    /// The model that made the stylization; `None`: the one shown last (a skipped frame).
    model: Option<Arc<ModelInfo>>,
    inference_ms: Option<f64>,
}

impl FramePipeline {
    pub fn new() -> Self {
        FramePipeline {
            buffers: Buffers::default(),
            temporal: TemporalFilter::default(),
            skip: SkipMemory::default(),
            worker: None,
            scheduler: LatestScheduler::default(),
            shown_model: 1,
        }
    }

    /// Forgets everything learnt from earlier frames (a seek, new caps).
    pub fn reset_history(&mut self) {
        self.temporal.reset();
        self.skip.forget();
        if let Some(worker) = &self.worker {
            worker.clear();
        }
        self.scheduler.forget_stylization();
    }

    /// Takes one frame through the path and writes the result into `frame.output`. A frame
    /// with [`Fate::PassedThrough`] has had nothing written: the caller copies the input.
    pub fn process(
        &mut self,
        engine: &Arc<Engine>,
        frame: Frame,
        s: &FrameSettings,
    ) -> Result<FrameReport, FrameError> {
        let Frame { input, mut output, arrived, period } = frame;
        let (width, height) = input.size();
        engine.note_frame_size((width as u32, height as u32));
        // `latest`, with frames taking longer here than their periods (the frame path alone is
        // slower than the camera while inference shares the cores): repeat the last stylized
        // image over this frame, the cheapest output there is, until the overrun is paid back.
        let b = &mut self.buffers;
        let can_repeat = match &input {
            FrameIn::Packed(_) => (b.upscaled.width, b.upscaled.height) == (width, height),
            FrameIn::Yuv(f) => b.yuv.fits(f),
        };
        if s.latest && self.scheduler.repeat_last() && can_repeat {
            Self::write(b, Upsampled::Upscaled, &input, &mut output, s);
            self.scheduler.repeated(arrived.elapsed(), period);
            return Ok(FrameReport::new(Fate::Repeated, (0, 0)));
        }

        let prepare_started = Instant::now();
        // Outside `latest` the model switches here, between two frames; under `latest` the
        // inference thread switches before its next run.
        let frame_size = (width as u32, height as u32);
        let mut model = engine.model();
        if !s.latest
            && let Some(switched) = engine.switch_if_offered()
        {
            model = switched;
        }
        let (content, canvas) = engine::network_size(&model.contract, frame_size, s.inference_size);
        let history = s.temporal.smoothing > 0.0 || s.skip_threshold > 0.0;

        // The network's input as planes: needed to scale it, to compare frames, and under
        // `latest` to hand it to the inference thread and to guide a reused stylization. A YUV
        // frame is converted to RGB at the network's size only.
        let reduced = match &input {
            FrameIn::Packed(packed) => {
                let reduced = content != (width, height);
                if reduced || history || s.latest {
                    frame_io::unpack_frame(packed.data, packed.stride, packed.layout, width, height, &mut b.frame);
                }
                if reduced {
                    engine::to_network_input(&mut b.down, &b.frame, content, &mut b.network_in);
                }
                reduced
            }
            FrameIn::Yuv(yuv) => {
                b.yuv.scale_to_network(yuv, content, &mut b.down, &mut b.network_in);
                true
            }
        };
        let prepare_ms = elapsed_ms(prepare_started);
        let low_in: &Planes = if reduced { &b.network_in } else { &b.frame };
        // Never skip across a model switch: the new model's output must replace the old one's.
        let unchanged = s.skip_threshold > 0.0
            && !engine.switch_waiting()
            && model.serial == self.shown_model
            && self.skip.unchanged(low_in, s.skip_threshold);
        let failed = |message: String| FrameError::Inference { frame: (width, height), canvas, message };

        let inferred = if s.latest {
            let waited = Self::infer_latest(
                engine,
                (&mut self.worker, &mut self.scheduler),
                &mut self.skip,
                low_in,
                unchanged,
                s,
                (frame_size, arrived, period),
                failed,
            )?;
            match waited {
                Some(inferred) => inferred,
                None => return Ok(FrameReport::new(Fate::PassedThrough, canvas)),
            }
        } else if unchanged {
            b.network_out.clone_from(self.skip.output());
            Inferred { fate: Fate::Skipped, shared: None, model: None, inference_ms: None }
        } else {
            let source = match input {
                // At the frame's own size the tensor is packed straight from the frame.
                FrameIn::Packed(packed) if !reduced && !history => RgbSource::Frame(packed),
                _ => RgbSource::Planes(low_in),
            };
            let ran = engine.run(&source, canvas, &mut b.network_out).map_err(failed)?;
            if s.skip_threshold > 0.0 {
                self.skip.remember(low_in, &b.network_out);
            }
            let inference_ms = Some(ran.inference.as_secs_f64() * 1000.0);
            Inferred { fate: Fate::Stylized, shared: None, model: Some(ran.model), inference_ms }
        };
        let stylized_at = Instant::now();
        let mut report = FrameReport::new(inferred.fate, canvas);
        if let Some(made_by) = inferred.model.as_ref().filter(|m| m.serial != self.shown_model) {
            self.shown_model = made_by.serial;
            // The new model's output must not be skipped in favour of the old one's, nor
            // blended with it by the temporal filter: the switch is a cut.
            self.skip.forget();
            self.temporal.reset();
            report.model_changed = Some(made_by.clone());
        }
        report.inference_ms = inferred.inference_ms;

        let (stylized, upsample_ms) = Self::upsample(b, &inferred, reduced, s.guided, &input);
        report.upsample_ms = upsample_ms;
        let lines_started = Instant::now();
        // The look stages follow the model whose output this is (a skipped frame: the one shown).
        let look_model = inferred.model.as_ref().unwrap_or(&model);
        let look = (
            cel_shading_for(s.cel_shading, &look_model.contract),
            line_strength_for(s.line_strength, &look_model.contract),
        );
        Self::draw_look(b, stylized, &input, look);
        let lines_ms = elapsed_ms(lines_started);
        // Temporal smoothing of the final image; decided on what the network saw.
        let smoothing_started = Instant::now();
        let low_in: &Planes = if reduced { &b.network_in } else { &b.frame };
        let outcome = match stylized {
            Upsampled::NetworkOut => self.temporal.process(low_in, &mut b.network_out, &s.temporal),
            Upsampled::Upscaled => match input {
                FrameIn::Packed(_) => self.temporal.process(low_in, &mut b.upscaled, &s.temporal),
                FrameIn::Yuv(_) => self.temporal.process_yuv(low_in, &mut b.yuv.stylized, &s.temporal),
            },
        };
        report.scene_cut = outcome == Outcome::SceneCut;
        let smoothing_ms = elapsed_ms(smoothing_started);
        let write_started = Instant::now();
        Self::write(b, stylized, &input, &mut output, s);
        report.stages = Some(StageTimes { prepare_ms, lines_ms, smoothing_ms, write_ms: elapsed_ms(write_started) });
        if s.latest {
            self.scheduler.finished(inferred.fate, stylized_at.elapsed(), arrived.elapsed(), period);
        }
        Ok(report)
    }

    /// Cel shading, then ink lines, on the frame-sized stylized image, before smoothing (so both
    /// are smoothed over time with the rest of the picture); `(cel, lines)` their amounts.
    fn draw_look(b: &mut Buffers, stylized: Upsampled, input: &FrameIn, (cel, lines): (f32, f32)) {
        // Lines are placed by the frame's own luma, so they are as sharp as the frame; at the
        // network's size (nothing scaled) by the stylized image itself.
        match (stylized, input) {
            (Upsampled::NetworkOut, _) => {
                b.cel.apply_rgb(&mut b.network_out, cel);
                b.lines.apply_rgb(&mut b.network_out, None, lines)
            }
            (Upsampled::Upscaled, FrameIn::Packed(_)) => {
                b.cel.apply_rgb(&mut b.upscaled, cel);
                let frame = (b.frame.width, b.frame.height) == (b.upscaled.width, b.upscaled.height);
                b.lines.apply_rgb(&mut b.upscaled, frame.then_some(&b.frame), lines)
            }
            (Upsampled::Upscaled, FrameIn::Yuv(frame)) => {
                let stylized = &mut b.yuv.stylized;
                let size = stylized.y.size();
                let levels = frame.matrix.luma_levels();
                b.cel.apply_yuv((&mut stylized.y.data, &mut stylized.u.data, &mut stylized.v.data), size, levels, cel);
                let source = &b.yuv.frame.y;
                let scaled = (b.yuv.pair_out.width, b.yuv.pair_out.height) != size;
                let source = (scaled && source.size() == size).then_some(&source.data[..]);
                b.lines.apply_luma((&mut stylized.y.data, source), size, levels, lines);
            }
        }
    }

    /// The output stage: the stylized image blended over the input by `strength` into the
    /// output frame, with the split view.
    fn write(b: &Buffers, stylized: Upsampled, input: &FrameIn, output: &mut FrameOut, s: &FrameSettings) {
        match (input, output) {
            (FrameIn::Packed(packed), FrameOut::Packed { data, stride }) => {
                let image = match stylized {
                    Upsampled::NetworkOut => &b.network_out,
                    Upsampled::Upscaled => &b.upscaled,
                };
                frame_io::write_output(image, packed, data, *stride, s.strength, s.split_view);
            }
            (FrameIn::Yuv(yuv), FrameOut::Yuv(out)) => {
                yuv::write_yuv(&b.yuv.stylized, yuv, out, s.strength, s.split_view);
            }
            _ => unreachable!("the element maps input and output frames of one format"),
        }
    }

    /// `latest`: hands the frame to the worker (unless it is `unchanged`) and waits for its
    /// stylization as long as the scheduler allows. `None`: no stylization exists at all.
    #[allow(clippy::too_many_arguments)]
    fn infer_latest(
        engine: &Arc<Engine>,
        (worker, scheduler): (&mut Option<InferenceWorker<Arc<ModelInfo>>>, &mut LatestScheduler),
        skip: &mut SkipMemory,
        low_in: &Planes,
        unchanged: bool,
        s: &FrameSettings,
        (frame_size, arrived, period): ((u32, u32), Instant, Duration),
        failed: impl Fn(String) -> FrameError,
    ) -> Result<Option<Inferred>, FrameError> {
        let worker = match worker {
            Some(worker) => worker,
            None => worker.insert(spawn_worker(engine).map_err(FrameError::Worker)?),
        };
        let submitted = (!unchanged).then(|| {
            let id = scheduler.next_job();
            worker.submit(Job { id, input: low_in.clone(), frame_size, inference_size: s.inference_size });
            if s.skip_threshold > 0.0 {
                skip.remember_input(low_in);
            }
            id
        });
        let deadline = scheduler.wait_limit(period).map(|limit| arrived + limit);
        let Some(stylization) = worker.wait(deadline).map_err(failed)? else {
            // Only possible if every job so far failed to produce a result, which is an error
            // reported above; the frame is passed on rather than lost.
            return Ok(None);
        };
        let inference_ms = scheduler.got_stylization(stylization.id, stylization.inference_ms);
        Ok(Some(Inferred {
            fate: LatestScheduler::fate(submitted, stylization.id),
            model: Some(stylization.model.clone()),
            shared: Some(stylization),
            inference_ms,
        }))
    }

    /// Back to the frame size. A reused stylization is first moved onto this frame by block
    /// motion, then guided by it, so it follows what moved since. Returns where the result is
    /// and the time taken when it was scaled.
    fn upsample(
        b: &mut Buffers,
        inferred: &Inferred,
        reduced: bool,
        guided: bool,
        input: &FrameIn,
    ) -> (Upsampled, Option<f64>) {
        let started = Instant::now();
        let (width, height) = input.size();
        let low_in: &Planes = if reduced { &b.network_in } else { &b.frame };
        // What the network saw (`None`: this frame) and what it returned.
        let (pair_in, pair_out): (Option<&Planes>, &Planes) = match &inferred.shared {
            Some(s)
                if inferred.fate == Fate::Reused
                    && (s.input.width, s.input.height) == (low_in.width, low_in.height)
                    && (s.output.width, s.output.height) == (low_in.width, low_in.height)
                    && motion::align(&s.input, &s.output, low_in, &mut b.aligned_in, &mut b.aligned_out) =>
            {
                (Some(&b.aligned_in), &b.aligned_out)
            }
            // This frame's own stylization: the frame guides itself.
            Some(s)
                if inferred.fate == Fate::Stylized
                    && (s.input.width, s.input.height) == (low_in.width, low_in.height) =>
            {
                (None, &s.output)
            }
            Some(s) => (Some(&s.input), &s.output),
            None => (None, &b.network_out),
        };
        let same_size = (pair_out.width, pair_out.height) == (width, height);
        if let FrameIn::Yuv(yuv) = input {
            b.yuv.upsample((pair_in, pair_out), yuv, guided, &mut b.up);
            return (Upsampled::Upscaled, (!same_size).then(|| elapsed_ms(started)));
        }
        let pair_in = pair_in.unwrap_or(low_in);
        if !same_size {
            if guided && (pair_out.width, pair_out.height) == (pair_in.width, pair_in.height) {
                // The network saw `pair_in` (the frame scaled down); the frame guides the way up.
                b.guided.upsample(pair_in, pair_out, &b.frame, &mut b.upscaled);
            } else {
                // Bilinear by choice, or a model whose output size differs from its input's (no
                // pixel-aligned low-resolution guide).
                Resampler::scale_cached(&mut b.up, pair_out, &mut b.upscaled, (width, height));
            }
        } else if inferred.shared.is_some() {
            b.upscaled.clone_from(pair_out);
        }
        let upsample_ms = (!same_size).then(|| elapsed_ms(started));
        let at = if same_size && inferred.shared.is_none() { Upsampled::NetworkOut } else { Upsampled::Upscaled };
        (at, upsample_ms)
    }
}

impl Default for FramePipeline {
    fn default() -> Self {
        Self::new()
    }
}

/// The `line-strength` a frame is drawn with: the property's value, or when it is negative (its
/// default) what the model's metadata asks for — none for a model that does not say, so a model
/// made elsewhere looks as its authors made it.
pub fn line_strength_for(property: f32, contract: &animestyle_model::ModelContract) -> f32 {
    if property >= 0.0 { property } else { contract.asked_line_strength() }
}

/// The `cel-shading` a frame is drawn with: the property's value, or when it is negative (its
/// default) what the model's metadata asks for — none for a model that does not say.
pub fn cel_shading_for(property: f32, contract: &animestyle_model::ModelContract) -> f32 {
    if property >= 0.0 { property } else { contract.asked_cel_shading() }
}

/// Where the frame-sized stylized image is: for a YUV frame, always in its stylized planes.
#[derive(Clone, Copy)]
enum Upsampled {
    NetworkOut,
    Upscaled,
}

/// Starts the `latest` policy's inference thread on `engine`.
fn spawn_worker(engine: &Arc<Engine>) -> std::io::Result<InferenceWorker<Arc<ModelInfo>>> {
    let engine = engine.clone();
    let mut rescale = None;
    InferenceWorker::spawn(Box::new(move |job: &mut Job, output: &mut Planes| {
        let ran = engine.switch_and_run(&mut job.input, job.frame_size, job.inference_size, &mut rescale, output)?;
        Ok((ran.inference.as_secs_f64() * 1000.0, ran.model))
    }))
}
