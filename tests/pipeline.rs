//! The frame path without GStreamer: [`FramePipeline`] with a real ONNX Runtime session on the
//! fixture models, fed packed frames made here. No GStreamer is initialised in this binary.
//! Assertions are on pixels and on what the pipeline reports, never on wall time.

use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use animestyle_model::fixtures::{self, PermuteInvert, permute_invert_pixel};
use gstanimestyle::engine::{Engine, LoadOutcome};
use gstanimestyle::frame_io::{PackedFrame, PackedLayout};
use gstanimestyle::pipeline::{Frame, FrameError, FrameIn, FrameOut, FramePipeline, FrameReport, FrameSettings};
use gstanimestyle::scheduler::Fate;
use gstanimestyle::session::{ModelSource, Session, SessionSettings};
use gstanimestyle::temporal::TemporalSettings;

const RGBX: PackedLayout = PackedLayout { pixel_stride: 4, rgb_offsets: [0, 1, 2] };
const BGRA: PackedLayout = PackedLayout { pixel_stride: 4, rgb_offsets: [2, 1, 0] };
const W: usize = 32;
const H: usize = 16;
/// Rows padded past the pixels, as GStreamer's strides may be.
const STRIDE: usize = W * 4 + 8;
const GREEN: [u8; 3] = [40, 200, 90];

fn engine(model: &[u8]) -> Arc<Engine> {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("model.onnx");
    std::fs::write(&path, model).expect("write model");
    let source = ModelSource::from_property(path.to_str().expect("utf-8 path"));
    Engine::new(Session::load(&source, &SessionSettings::default()).expect("fixture model loads"))
}

/// One stream: the engine (the element's) and the frame path run on it.
struct Stream {
    engine: Arc<Engine>,
    pipeline: FramePipeline,
}

fn on(engine: &Arc<Engine>) -> Stream {
    Stream { engine: engine.clone(), pipeline: FramePipeline::new() }
}

fn pipeline(model: &[u8]) -> Stream {
    on(&engine(model))
}

/// Asks `engine` to load `source` in the background and waits for the outcome.
fn load(engine: &Arc<Engine>, source: ModelSource) -> LoadOutcome {
    let (tx, rx) = mpsc::channel();
    engine
        .load_in_background(source, SessionSettings::default(), 0, move |outcome| tx.send(outcome).unwrap())
        .expect("loading thread starts");
    rx.recv().expect("an outcome is reported")
}

/// Every-frame defaults at the frame's own size, no smoothing: outputs follow inputs exactly.
fn settings() -> FrameSettings {
    FrameSettings {
        strength: 1.0,
        inference_size: 0,
        guided: true,
        line_strength: 0.0,
        cel_shading: 0.0,
        temporal: TemporalSettings { smoothing: 0.0, noise_level: 6.0, scene_cut: 30.0, motion_compensation: true },
        skip_threshold: 2.0,
        split_view: false,
        latest: false,
    }
}

/// A gradient frame with alpha 77 and padding bytes 9.
fn frame(shift: u8) -> Vec<u8> {
    let mut f = vec![9u8; STRIDE * H];
    for y in 0..H {
        for x in 0..W {
            let p = &mut f[y * STRIDE + x * 4..][..4];
            p.copy_from_slice(&[(x * 7) as u8 + shift, (y * 13) as u8, 255 - (x * 3) as u8, 77]);
        }
    }
    f
}

fn run(p: &mut Stream, input: &[u8], layout: PackedLayout, s: &FrameSettings) -> (FrameReport, Vec<u8>) {
    let mut out = vec![0u8; STRIDE * H];
    let report = try_run(p, input, layout, s, &mut out).expect("frame processed");
    (report, out)
}

fn try_run(
    p: &mut Stream,
    input: &[u8],
    layout: PackedLayout,
    s: &FrameSettings,
    out: &mut [u8],
) -> Result<FrameReport, FrameError> {
    let input = FrameIn::Packed(PackedFrame { data: input, stride: STRIDE, layout, width: W, height: H });
    let output = FrameOut::Packed { data: out, stride: STRIDE };
    let frame = Frame { input, output, arrived: Instant::now(), period: Duration::from_millis(33) };
    p.pipeline.process(&p.engine, frame, s)
}

fn pixel(buf: &[u8], x: usize, y: usize) -> [u8; 4] {
    buf[y * STRIDE + x * 4..][..4].try_into().unwrap()
}

fn close(a: [u8; 3], b: [u8; 3]) -> bool {
    (0..3).all(|c| (a[c] as i32 - b[c] as i32).abs() <= 1)
}

#[test]
fn every_frame_stylizes_each_pixel_and_keeps_alpha() {
    let mut p = pipeline(&PermuteInvert::default().model());
    let input = frame(0);
    for layout in [RGBX, BGRA] {
        let (report, out) = run(&mut p, &input, layout, &settings());
        assert_eq!(report.fate, Fate::Stylized);
        assert!(report.inference_ms.is_some(), "the inference is accounted to the frame");
        assert_eq!(report.upsample_ms, None, "the network saw the frame's own size");
        assert_eq!(report.canvas, (W, H));
        for (x, y) in [(0, 0), (5, 3), (W - 1, H - 1)] {
            let (i, o) = (pixel(&input, x, y), pixel(&out, x, y));
            let o = layout.rgb_offsets.map(|c| o[c]);
            let expect = permute_invert_pixel(layout.rgb_offsets.map(|c| i[c]));
            assert!(close(o, expect), "{x},{y}: {o:?} vs {expect:?}");
            assert_eq!(pixel(&out, x, y)[3], 77, "alpha passes through");
        }
    }
}

#[test]
fn an_unchanged_frame_skips_the_network_and_a_reset_forgets_it() {
    let mut p = pipeline(&PermuteInvert::default().model());
    let (first, out1) = run(&mut p, &frame(0), RGBX, &settings());
    assert_eq!(first.fate, Fate::Stylized);
    let (second, out2) = run(&mut p, &frame(1), RGBX, &settings());
    assert_eq!((second.fate, second.inference_ms), (Fate::Skipped, None), "a third of a level of change is below 2");
    assert_eq!(out1, out2, "the remembered stylization is written again");
    let (changed, _) = run(&mut p, &frame(12), RGBX, &settings());
    assert_eq!(changed.fate, Fate::Stylized, "4 levels of change run the network");
    p.pipeline.reset_history();
    let (after_reset, _) = run(&mut p, &frame(12), RGBX, &settings());
    assert_eq!(after_reset.fate, Fate::Stylized, "a seek forgets what the network saw");
    let no_skip = FrameSettings { skip_threshold: 0.0, ..settings() };
    assert_eq!(run(&mut p, &frame(12), RGBX, &no_skip).0.fate, Fate::Stylized);
}

#[test]
fn a_smaller_network_size_is_scaled_back_to_the_frame() {
    let mut p = pipeline(&fixtures::flat_colour(GREEN, 0));
    for guided in [true, false] {
        let s = FrameSettings { inference_size: 16, guided, ..settings() };
        let (report, out) = run(&mut p, &frame(0), RGBX, &s);
        assert_eq!(report.canvas, (16, 8), "longest side 16, aspect kept");
        assert!(report.upsample_ms.is_some());
        for y in 0..H {
            for x in 0..W {
                let o = pixel(&out, x, y);
                assert!(close([o[0], o[1], o[2]], GREEN), "guided={guided} {x},{y}: {o:?}");
            }
        }
        p.pipeline.reset_history();
    }
}

#[test]
fn strength_blends_and_split_view_shows_the_original_left() {
    let mut p = pipeline(&fixtures::flat_colour(GREEN, 0));
    let input = frame(0);
    let s = FrameSettings { strength: 0.5, split_view: true, ..settings() };
    let (_, out) = run(&mut p, &input, RGBX, &s);
    for y in 0..H {
        let i = pixel(&input, 0, y);
        assert_eq!(pixel(&out, 0, y), i, "left half: the original");
        assert_eq!(pixel(&out, W / 2, y)[..3], [255, 255, 255], "divider");
        let (o, i) = (pixel(&out, W - 1, y), pixel(&input, W - 1, y));
        for c in 0..3 {
            let half = (i[c] as f32 + GREEN[c] as f32) / 2.0;
            assert!((o[c] as f32 - half).abs() <= 1.0, "right half: half way, {o:?} from {i:?}");
        }
    }
}

#[test]
fn latest_first_frame_waits_for_its_own_stylization_and_an_unchanged_one_skips() {
    let mut p = pipeline(&fixtures::flat_colour(GREEN, 0));
    let s = FrameSettings { latest: true, ..settings() };
    let (first, out) = run(&mut p, &frame(0), RGBX, &s);
    assert_eq!(first.fate, Fate::Stylized, "nothing to reuse: the first frame waits for its own");
    assert!(first.inference_ms.is_some());
    let o = pixel(&out, 3, 3);
    assert!(close([o[0], o[1], o[2]], GREEN), "{o:?}");
    // The same input again: nothing is submitted, the latest stylization is shown.
    let (second, out) = run(&mut p, &frame(0), RGBX, &s);
    assert_eq!((second.fate, second.inference_ms), (Fate::Skipped, None));
    let o = pixel(&out, 3, 3);
    assert!(close([o[0], o[1], o[2]], GREEN), "{o:?}");
}

#[test]
fn a_model_failing_on_a_frame_is_an_error_naming_the_sizes() {
    for latest in [false, true] {
        let mut p = pipeline(&fixtures::fails_at_run());
        let mut out = vec![0u8; STRIDE * H];
        let s = FrameSettings { latest, ..settings() };
        let e = try_run(&mut p, &frame(0), RGBX, &s, &mut out).expect_err("the model fails at 32x16");
        let message = e.to_string();
        assert!(matches!(e, FrameError::Inference { .. }), "{message}");
        assert!(message.contains("Inference failed on a 32x16 frame (network input 32x16)"), "{message}");
        assert!(message.contains("set size-multiple or inference-size"), "{message}");
    }
}

#[test]
fn a_model_loaded_in_the_background_takes_over_at_the_next_frame() {
    let engine = engine(&PermuteInvert::default().model());
    let mut p = on(&engine);
    let (first, _) = run(&mut p, &frame(0), RGBX, &settings());
    assert!(first.model_changed.is_none());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("green.onnx");
    std::fs::write(&path, fixtures::flat_colour(GREEN, 0)).unwrap();
    assert_eq!(load(&engine, ModelSource::File(path.clone())), LoadOutcome::Ready);
    // The same frame again: never skipped across a model switch.
    let (switched, out) = run(&mut p, &frame(0), RGBX, &settings());
    assert_eq!(switched.fate, Fate::Stylized);
    let model = switched.model_changed.expect("the new model is reported once");
    assert_eq!((model.serial, model.name.as_str()), (2, path.to_str().unwrap()));
    let o = pixel(&out, 7, 7);
    assert!(close([o[0], o[1], o[2]], GREEN), "{o:?}");
    assert!(run(&mut p, &frame(0), RGBX, &settings()).0.model_changed.is_none());
}

#[test]
fn a_model_that_cannot_be_loaded_leaves_the_running_one() {
    let engine = engine(&fixtures::flat_colour(GREEN, 0));
    let mut p = on(&engine);
    run(&mut p, &frame(0), RGBX, &settings());
    let outcome = load(&engine, ModelSource::File("/nonexistent/model.onnx".into()));
    let LoadOutcome::Failed(why) = outcome else { panic!("{outcome:?}") };
    assert!(why.contains("'/nonexistent/model.onnx' does not exist"), "{why}");
    let (report, out) = run(&mut p, &frame(12), RGBX, &settings());
    assert!(report.model_changed.is_none());
    let o = pixel(&out, 7, 7);
    assert!(close([o[0], o[1], o[2]], GREEN), "{o:?}");
}
