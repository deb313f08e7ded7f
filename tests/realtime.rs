//! Live use: the real-time policies with a model slower than the camera, and switching models
//! while playing. Assertions are on buffer counts, timestamps, pixels, stats and bus messages,
//! never on wall time.

mod common;

use std::path::Path;
use std::sync::{Arc, Mutex};

use animestyle_model::fixtures;
use common::*;
use gst::prelude::*;

const RED: [u8; 3] = [220, 30, 40];
const BLUE: [u8; 3] = [30, 60, 210];
/// Ignored convolutions in the slow model: about 90 ms an inference at the 96×54 network size
/// used here on the 2-core CI machine, five times the 60 fps source's frame period.
const SLOW_WORK: usize = 8;

fn is_colour(pixels: &[[u8; 4]], rgb: [u8; 3]) -> bool {
    pixels.iter().all(|p| (0..3).all(|c| (p[c] as i32 - rgb[c] as i32).abs() <= 2))
}

/// What came out of a live run.
struct LiveRun {
    /// PTS of the frames that reached the element, and of those that left it, in order.
    pts_in: Vec<gst::ClockTime>,
    pts_out: Vec<gst::ClockTime>,
    /// Output frames that were not entirely the slow model's colour.
    not_stylized: usize,
    stats: gst::Structure,
    /// The element's own share of the LATENCY answer, and upstream's.
    ours: gst::ClockTime,
    qos_messages: usize,
    policy: String,
}

/// Runs `frames` frames of a live 60 fps 160×90 source through the slow flat-colour model under
/// `policy`, into an appsink (`sink_props`), and collects timestamps, stats and the latency.
fn live_run(policy: &str, frames: u32, sink_props: &str) -> LiveRun {
    init();
    let model = model_file(&fixtures::flat_colour(RED, SLOW_WORK));
    let pipeline = gst::parse::launch(&format!(
        "videotestsrc is-live=true num-buffers={frames} pattern=ball ! \
         video/x-raw,format=RGBx,width=160,height=90,framerate=60/1 ! \
         animestyle name=style model={} realtime-policy={policy} inference-size=96 temporal-smoothing=0 ! \
         appsink name=sink {sink_props}",
        model.path.display()
    ))
    .expect("pipeline")
    .downcast::<gst::Pipeline>()
    .expect("a pipeline");
    let style = pipeline.by_name("style").expect("style");
    let sink = pipeline.by_name("sink").expect("sink").downcast::<gst_app::AppSink>().expect("appsink");
    let pts_in = Arc::new(Mutex::new(Vec::new()));
    let record = pts_in.clone();
    style.static_pad("sink").expect("sink pad").add_probe(gst::PadProbeType::BUFFER, move |_, info| {
        if let Some(pts) = info.buffer().and_then(|b| b.pts()) {
            record.lock().unwrap().push(pts);
        }
        gst::PadProbeReturn::Ok
    });
    pipeline.set_state(gst::State::Playing).expect("playing");
    let (mut pts_out, mut not_stylized) = (Vec::new(), 0);
    while let Ok(sample) = sink.pull_sample() {
        let buffer = sample.buffer_owned().expect("buffer");
        pts_out.push(buffer.pts().expect("pts"));
        let pixels = FrameReader::new(buffer, gst_video::VideoFormat::Rgbx, 160, 90).pixels();
        if !is_colour(&pixels, RED) {
            not_stylized += 1;
        }
    }
    let stats = style.property::<gst::Structure>("stats");
    let mut ours_q = gst::query::Latency::new();
    assert!(style.static_pad("src").unwrap().query(&mut ours_q), "the element answers LATENCY");
    let mut upstream_q = gst::query::Latency::new();
    assert!(style.static_pad("sink").unwrap().peer_query(&mut upstream_q));
    let ours = ours_q.result().1.checked_sub(upstream_q.result().1).expect("upstream latency included");
    let bus = pipeline.bus().expect("bus");
    let mut qos_messages = 0;
    while let Some(msg) = bus.pop() {
        match msg.view() {
            gst::MessageView::Qos(_) if msg.src().is_some_and(|s| s == &style) => qos_messages += 1,
            gst::MessageView::Error(e) => panic!("{}", e.error()),
            _ => {}
        }
    }
    pipeline.set_state(gst::State::Null).expect("null");
    let policy = stats.get::<String>("realtime-policy").expect("realtime-policy in stats");
    let pts_in = pts_in.lock().unwrap().clone();
    println!(
        "{policy}: in {} out {} not-stylized {not_stylized}, ours {ours}, qos messages {qos_messages}, {stats}",
        pts_in.len(),
        pts_out.len()
    );
    LiveRun { pts_in, pts_out, not_stylized, stats, ours, qos_messages, policy }
}

fn stat_u64(s: &gst::Structure, name: &str) -> u64 {
    s.get::<u64>(name).unwrap_or_else(|_| panic!("{name} in {s}"))
}

fn stat_ms(s: &gst::Structure, name: &str) -> f64 {
    s.get::<f64>(name).unwrap_or_else(|_| panic!("{name} in {s}"))
}

/// A live source faster than inference: under `auto` (= `latest` for a live source) every frame
/// leaves with its own timestamp, all stylized, most reusing the latest stylization, and the
/// element's latency stays below one inference because inference is off the frame's path.
#[test]
fn latest_keeps_the_input_rate_and_timestamps_with_a_slow_model() {
    let run = live_run("auto", 60, "sync=false");
    assert!(run.policy.starts_with("latest (auto: live source)"), "{}", run.policy);
    assert_eq!(run.pts_in.len(), 60);
    assert_eq!(run.pts_out, run.pts_in, "every frame leaves, in order, with its own timestamp");
    assert_eq!(run.not_stylized, 0, "every frame shows a stylization (the first waits for its own)");
    let s = &run.stats;
    assert_eq!(stat_u64(s, "frames"), 60);
    assert_eq!(stat_u64(s, "dropped"), 0);
    let reused = stat_u64(s, "reused");
    assert!(reused >= 30, "most frames reuse the latest stylization: {s}");
    let inference = stat_ms(s, "inference-mean-ms");
    assert!(
        run.ours.nseconds() > 0 && (run.ours.nseconds() as f64 / 1e6) < inference,
        "latency {} must be measured and below one inference ({inference} ms)",
        run.ours
    );
}

/// `every-frame` stylizes each frame even when the sink reports them late (QoS ignored), and
/// its latency includes the inference.
#[test]
fn every_frame_stylizes_each_frame_and_reports_inference_in_its_latency() {
    let run = live_run("every-frame", 16, "sync=true qos=true");
    assert_eq!(run.pts_out, run.pts_in);
    assert_eq!(run.pts_in.len(), 16);
    assert_eq!(run.not_stylized, 0);
    let s = &run.stats;
    assert_eq!((stat_u64(s, "dropped"), stat_u64(s, "reused"), stat_u64(s, "skipped")), (0, 0, 0), "{s}");
    assert_eq!(run.qos_messages, 0, "no QoS drops");
    let inference = stat_ms(s, "inference-mean-ms");
    assert!(
        run.ours.nseconds() as f64 / 1e6 >= 0.5 * inference,
        "latency {} must include the inference ({inference} ms)",
        run.ours
    );
}

/// `drop` honours the sink's QoS: late frames are dropped (counted in stats, announced with
/// QoS messages), the rest are stylized and keep their timestamps.
#[test]
fn drop_drops_late_frames_and_counts_them() {
    let run = live_run("drop", 60, "sync=true qos=true");
    assert_eq!(run.pts_in.len(), 60);
    let s = &run.stats;
    let dropped = stat_u64(s, "dropped") as usize;
    assert!(dropped > 0, "a model slower than the camera makes frames late: {s}");
    assert_eq!(run.pts_out.len() + dropped, run.pts_in.len(), "every frame is either out or counted as dropped");
    assert_eq!(stat_u64(s, "frames") as usize, run.pts_out.len());
    assert!(run.pts_out.iter().all(|t| run.pts_in.contains(t)), "outputs keep their own timestamps");
    assert!(run.pts_out.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(run.not_stylized, 0);
    assert!(run.qos_messages > 0, "drops are announced with QoS messages");
}

/// A file-like (not live) source under `auto` gets `every-frame`.
#[test]
fn auto_is_every_frame_for_a_source_that_is_not_live() {
    init();
    let style = element(&[]);
    let pipeline = gst::Pipeline::new();
    let src = gst::ElementFactory::make("videotestsrc").property("num-buffers", 3).build().unwrap();
    let sink = gst::ElementFactory::make("fakesink").build().unwrap();
    pipeline.add_many([&src, &style, &sink]).unwrap();
    gst::Element::link_many([&src, &style, &sink]).unwrap();
    pipeline.set_state(gst::State::Playing).unwrap();
    let bus = pipeline.bus().unwrap();
    let msg =
        bus.timed_pop_filtered(gst::ClockTime::from_seconds(60), &[gst::MessageType::Eos, gst::MessageType::Error]);
    assert!(matches!(msg.as_ref().map(|m| m.view()), Some(gst::MessageView::Eos(_))), "{msg:?}");
    let stats = style.property::<gst::Structure>("stats");
    pipeline.set_state(gst::State::Null).unwrap();
    assert_eq!(stats.get::<String>("realtime-policy").unwrap(), "every-frame (auto: not live)");
    assert_eq!(stat_u64(&stats, "frames"), 3);
}

/// A harness on a flat-red model with a bus for the element's messages.
fn swap_harness(policy: &str, red: &Path) -> (gst_check::Harness, gst::Bus) {
    let props = [
        model_prop(red),
        ("temporal-smoothing", 0.0f64.to_value()),
        ("inference-size", 32i32.to_value()),
        ("realtime-policy", enum_value("realtime-policy", policy)),
    ];
    let h = harness(&props, gst_video::VideoFormat::Rgbx, 64, 48);
    let bus = gst::Bus::new();
    h.element().expect("element").set_bus(Some(&bus));
    (h, bus)
}

/// Pushes frame `i` (a static picture) and returns the colour that came out, if flat.
fn push_frame(h: &mut gst_check::Harness, i: u64) -> Option<[u8; 3]> {
    let mut buffer = frame(gst_video::VideoFormat::Rgbx, 64, 48, |x, y| [(x * 4) as u8, (y * 5) as u8, 90, 255]);
    {
        let b = buffer.get_mut().unwrap();
        b.set_pts(gst::ClockTime::from_mseconds(33 * i));
        b.set_duration(gst::ClockTime::from_mseconds(33));
    }
    h.push(buffer).expect("push");
    let out = h.pull().expect("every pushed frame comes out");
    assert_eq!(out.pts(), Some(gst::ClockTime::from_mseconds(33 * i)), "frame {i} keeps its timestamp");
    let pixels = FrameReader::new(out, gst_video::VideoFormat::Rgbx, 64, 48).pixels();
    [RED, BLUE].into_iter().find(|c| is_colour(&pixels, *c))
}

/// Setting `model` while playing switches to it between two frames: no frame is lost, every
/// frame is wholly the old model's or the new one's, and the switch is announced.
fn hot_swap_loses_no_frame(policy: &str) {
    let red = model_file(&fixtures::flat_colour(RED, 0));
    let blue = model_file(&fixtures::flat_colour(BLUE, 0));
    let (mut h, bus) = swap_harness(policy, &red.path);
    let mut colours = Vec::new();
    for i in 0..5 {
        colours.push(push_frame(&mut h, i));
    }
    h.element().unwrap().set_property("model", blue.path.to_str().unwrap());
    let mut i = 5;
    // The new model loads in the background: frames keep flowing meanwhile.
    while !colours.contains(&Some(BLUE)) && i < 4000 {
        colours.push(push_frame(&mut h, i));
        i += 1;
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    for _ in 0..5 {
        colours.push(push_frame(&mut h, i));
        i += 1;
    }
    let first_blue = colours.iter().position(|c| *c == Some(BLUE)).expect("the new model takes over");
    assert!(colours[..first_blue].iter().all(|c| *c == Some(RED)), "{policy}: old model before: {colours:?}");
    assert!(colours[first_blue..].iter().all(|c| *c == Some(BLUE)), "{policy}: new model after: {colours:?}");
    assert_eq!(colours.len() as u64, i, "{policy}: one output per input");
    let changed = std::iter::from_fn(|| bus.pop())
        .find(|m| m.structure().is_some_and(|s| s.name() == "animestyle-model-changed"))
        .expect("an animestyle-model-changed message");
    let s = changed.structure().unwrap();
    assert_eq!(s.get::<String>("model").unwrap(), blue.path.display().to_string());
    let stats = h.element().unwrap().property::<gst::Structure>("stats");
    assert_eq!(stats.get::<String>("model").unwrap(), blue.path.display().to_string());
    assert_eq!(stat_u64(&stats, "frames"), i);
}

#[test]
fn hot_swap_while_playing_loses_no_frame_every_frame() {
    hot_swap_loses_no_frame("every-frame");
}

#[test]
fn hot_swap_while_playing_loses_no_frame_latest() {
    hot_swap_loses_no_frame("latest");
}

/// A model that cannot be used, set while playing, leaves the running model in place, posts a
/// warning saying why, and puts the `model` property back.
#[test]
fn bad_hot_swap_keeps_the_old_model_and_warns() {
    let red = model_file(&fixtures::flat_colour(RED, 0));
    let fails = model_file(&fixtures::fails_at_run());
    let (mut h, bus) = swap_harness("every-frame", &red.path);
    let mut i = 0;
    for _ in 0..3 {
        assert_eq!(push_frame(&mut h, i), Some(RED));
        i += 1;
    }
    let missing = "/nonexistent/dir/style.onnx";
    let cases: [(&str, &[&str]); 2] = [
        (missing, &["Could not switch to model '/nonexistent/dir/style.onnx'", "does not exist", "Still running"]),
        (fails.path.to_str().unwrap(), &["failed its first inference", "Still running"]),
    ];
    for (path, expected) in cases {
        h.element().unwrap().set_property("model", path);
        let warning =
            bus.timed_pop_filtered(gst::ClockTime::from_seconds(60), &[gst::MessageType::Warning]).expect("a warning");
        let gst::MessageView::Warning(w) = warning.view() else { unreachable!() };
        let text = w.error().to_string();
        for e in expected {
            assert!(text.contains(e), "{text}");
        }
        assert!(text.contains(&red.path.display().to_string()), "names the model still running: {text}");
        assert_eq!(
            h.element().unwrap().property::<String>("model"),
            red.path.display().to_string(),
            "the property is back to the running model"
        );
        for _ in 0..3 {
            assert_eq!(push_frame(&mut h, i), Some(RED), "the old model keeps running");
            i += 1;
        }
    }
}
