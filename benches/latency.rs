//! Live latency per real-time policy.
//!
//! A live 1280×720 source (`videotestsrc is-live=true`, moving ball) at 30 fps (a camera the
//! model keeps up with) and at 60 fps (faster than the model), through `animestyle` with
//! default properties and each `realtime-policy`, into `fakesink sync=true qos=true` (a display
//! sink that reports lateness). For each run:
//!
//! - **LATENCY query**: the element's own share of the pipeline latency (its answer minus
//!   upstream's) and the pipeline's whole answer (source + element + the sink's processing
//!   deadline), read at the end of the run;
//! - **measured**: for every frame reaching the sink, the pipeline clock's running time at
//!   arrival minus the frame's running time (its capture time): p50 / p95 / max, ms;
//! - frames in / out, output fps (out per second of stream time), stylized / reused / dropped.
//!
//! Then a **hot-swap** at 30 fps under `every-frame` and `latest`: at frame 90 the `model`
//! property is set to `models/animestyle-handmade.onnx`; the table gives frames in / out, the
//! longest gap between two frames leaving the element in the second before the change, while
//! the new model loads, and in the second after it took over, and how long the switch took
//! (set → `animestyle-model-changed`).
//!
//! Last, how a reused stylization looks (`docs/latest-reuse-strip.png`): five consecutive
//! `vtest.avi` frames of two walkers, rows input | each frame's own stylization (every-frame) |
//! the first frame's stylization moved onto each frame by block motion and guided by it (what
//! `latest` shows while the next inference runs) | the same without the motion step | the first
//! frame's output repeated. Printed: each reuse's mean difference from the frame's own
//! stylization over the moving region.
//!
//! ```text
//! cargo bench --bench latency                       # 8 s per run
//! cargo bench --bench latency -- --seconds 15 --size 1920x1080
//! cargo bench --bench latency -- --strip-only       # just docs/latest-reuse-strip.png
//! cargo bench --bench latency -- --format YUY2 --size 1920x1080 --fps 30 --table-only
//! ```
//!
//! The machine may be shared and noisy: compare the policies within one run.

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use gst::prelude::*;

struct Options {
    seconds: u32,
    size: (u32, u32),
    /// The source's raw format (a webcam's YUY2, NV12, … or RGBx).
    format: String,
    /// Only the latency table (no hot-swap runs, no strip).
    table_only: bool,
    rates: Vec<u32>,
    /// Extra element properties, e.g. `threads=1`.
    extra: String,
    policies: Vec<String>,
    strip_only: bool,
}

fn parse_options() -> Options {
    let mut o = Options {
        seconds: 8,
        size: (1280, 720),
        format: "RGBx".into(),
        table_only: false,
        rates: vec![30, 60],
        extra: String::new(),
        policies: ["every-frame", "drop", "latest"].map(String::from).to_vec(),
        strip_only: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--seconds" => o.seconds = args.next().and_then(|v| v.parse().ok()).expect("--seconds N"),
            "--size" => {
                let v = args.next().expect("--size WxH");
                let (w, h) = v.split_once('x').expect("--size WxH");
                o.size = (w.parse().expect("width"), h.parse().expect("height"));
            }
            "--props" => o.extra = args.next().expect("--props 'name=value ...'"),
            "--strip-only" => o.strip_only = true,
            "--format" => o.format = args.next().expect("--format YUY2|NV12|RGBx|…"),
            "--table-only" => o.table_only = true,
            "--policy" => o.policies = vec![args.next().expect("--policy NAME")],
            "--fps" => o.rates = vec![args.next().and_then(|v| v.parse().ok()).expect("--fps N")],
            _ => {} // cargo bench passes --bench
        }
    }
    o
}

struct Row {
    frames_in: u64,
    frames_out: usize,
    /// Arrival at the sink minus capture, ms, sorted.
    measured: Vec<f64>,
    query_ms: f64,
    /// The pipeline's own LATENCY answer: source + element + sink (its processing deadline).
    pipeline_ms: f64,
    stats: gst::Structure,
    stream_seconds: f64,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
}

fn run(policy: &str, fps: u32, o: &Options) -> Row {
    let frames = o.seconds * fps;
    let (w, h) = o.size;
    let pipeline = gst::parse::launch(&format!(
        "videotestsrc is-live=true pattern=ball num-buffers={frames} ! \
         video/x-raw,format={},width={w},height={h},framerate={fps}/1 ! \
         animestyle name=style realtime-policy={policy} {} ! fakesink name=sink sync=true qos=true",
        o.format, o.extra
    ))
    .expect("pipeline")
    .downcast::<gst::Pipeline>()
    .expect("pipeline");
    let style = pipeline.by_name("style").unwrap();
    let sink = pipeline.by_name("sink").unwrap();
    let measured = Arc::new(Mutex::new(Vec::new()));
    let record = measured.clone();
    let element = sink.clone();
    sink.static_pad("sink").unwrap().add_probe(gst::PadProbeType::BUFFER, move |pad, info| {
        let Some(buffer) = info.buffer() else { return gst::PadProbeReturn::Ok };
        let (Some(clock), Some(base)) = (element.clock(), element.base_time()) else {
            return gst::PadProbeReturn::Ok;
        };
        let now = clock.time() - base;
        let segment = pad.sticky_event::<gst::event::Segment>(0).map(|e| e.segment().clone());
        let running =
            segment.and_then(|s| s.downcast::<gst::ClockTime>().ok()).and_then(|s| s.to_running_time(buffer.pts()));
        if let Some(running) = running {
            record.lock().unwrap().push((now.nseconds() as f64 - running.nseconds() as f64) / 1e6);
        }
        gst::PadProbeReturn::Ok
    });
    let bus = pipeline.bus().unwrap();
    pipeline.set_state(gst::State::Playing).expect("playing");
    for msg in bus.iter_timed(gst::ClockTime::from_seconds(600)) {
        match msg.view() {
            // What gst-launch and players do: re-distribute the latency when an element's changes.
            gst::MessageView::Latency(..) => {
                let _ = pipeline.recalculate_latency();
            }
            gst::MessageView::Eos(..) => break,
            gst::MessageView::Error(e) => panic!("{}: {:?}", e.error(), e.debug()),
            _ => {}
        }
    }
    // Still PLAYING at EOS: the element answers with its latest measurement.
    let mut query_ms = f64::NAN;
    let mut ours = gst::query::Latency::new();
    let mut upstream = gst::query::Latency::new();
    if style.static_pad("src").unwrap().query(&mut ours) && style.static_pad("sink").unwrap().peer_query(&mut upstream)
    {
        query_ms = (ours.result().1.nseconds() as f64 - upstream.result().1.nseconds() as f64) / 1e6;
    }
    let mut total = gst::query::Latency::new();
    let pipeline_ms = if pipeline.query(&mut total) { total.result().1.nseconds() as f64 / 1e6 } else { f64::NAN };
    let stats = style.property::<gst::Structure>("stats");
    pipeline.set_state(gst::State::Null).unwrap();
    let mut measured = measured.lock().unwrap().clone();
    measured.sort_by(f64::total_cmp);
    let frames_out = measured.len();
    Row {
        frames_in: frames as u64,
        frames_out,
        measured,
        query_ms,
        pipeline_ms,
        stats,
        stream_seconds: o.seconds as f64,
    }
}

struct SwapRow {
    frames_in: u64,
    frames_out: usize,
    gap_before_ms: f64,
    gap_loading_ms: f64,
    gap_after_ms: f64,
    switch_ms: f64,
}

const SWAP_AT: u64 = 90;

fn swap_run(policy: &str, o: &Options) -> SwapRow {
    let fps = 30;
    let frames = o.seconds.max(6) * fps;
    let (w, h) = o.size;
    let new_model = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models/animestyle-handmade.onnx");
    let pipeline = gst::parse::launch(&format!(
        "videotestsrc is-live=true pattern=ball num-buffers={frames} ! \
         video/x-raw,format={},width={w},height={h},framerate={fps}/1 ! \
         animestyle name=style realtime-policy={policy} {} ! fakesink sync=true qos=true",
        o.format, o.extra
    ))
    .expect("pipeline")
    .downcast::<gst::Pipeline>()
    .expect("pipeline");
    let style = pipeline.by_name("style").unwrap();
    let arrivals = Arc::new(AtomicU64::new(0));
    let set_at = Arc::new(Mutex::new(None::<Instant>));
    let (count, set_time, element) = (arrivals.clone(), set_at.clone(), style.clone());
    style.static_pad("sink").unwrap().add_probe(gst::PadProbeType::BUFFER, move |_, _| {
        if count.fetch_add(1, Ordering::AcqRel) + 1 == SWAP_AT {
            *set_time.lock().unwrap() = Some(Instant::now());
            element.set_property("model", new_model.to_str().unwrap());
        }
        gst::PadProbeReturn::Ok
    });
    let leaving = Arc::new(Mutex::new(Vec::<Instant>::new()));
    let record = leaving.clone();
    style.static_pad("src").unwrap().add_probe(gst::PadProbeType::BUFFER, move |_, _| {
        record.lock().unwrap().push(Instant::now());
        gst::PadProbeReturn::Ok
    });
    let bus = pipeline.bus().unwrap();
    pipeline.set_state(gst::State::Playing).expect("playing");
    let mut switched = None;
    for msg in bus.iter_timed(gst::ClockTime::from_seconds(600)) {
        match msg.view() {
            gst::MessageView::Latency(..) => {
                let _ = pipeline.recalculate_latency();
            }
            gst::MessageView::Element(e) if e.structure().is_some_and(|s| s.name() == "animestyle-model-changed") => {
                switched = Some(Instant::now());
            }
            gst::MessageView::Warning(w) => panic!("{}", w.error()),
            gst::MessageView::Eos(..) => break,
            gst::MessageView::Error(e) => panic!("{}: {:?}", e.error(), e.debug()),
            _ => {}
        }
    }
    pipeline.set_state(gst::State::Null).unwrap();
    let set = set_at.lock().unwrap().expect("model set during the run");
    let switched = switched.filter(|t| *t > set);
    let leaving = leaving.lock().unwrap().clone();
    let max_gap = |from: Instant, to: Instant| {
        leaving
            .windows(2)
            .filter(|p| p[1] >= from && p[1] <= to)
            .map(|p| (p[1] - p[0]).as_secs_f64() * 1000.0)
            .fold(0.0, f64::max)
    };
    SwapRow {
        frames_in: arrivals.load(Ordering::Acquire),
        frames_out: leaving.len(),
        gap_before_ms: max_gap(set - Duration::from_secs(1), set),
        gap_loading_ms: switched.map_or(f64::NAN, |t| max_gap(set, t)),
        gap_after_ms: switched.map_or(f64::NAN, |t| max_gap(t, t + Duration::from_secs(1))),
        switch_ms: switched.map_or(f64::NAN, |t| (t - set).as_secs_f64() * 1000.0),
    }
}

/// Stylizes vtest frames with the embedded model the way `latest` does when it reuses the
/// first frame's stylization, and writes the strip.
fn reuse_strip(path: &str) -> Option<(f64, f64, f64)> {
    use gstanimestyle::engine::network_size;
    use gstanimestyle::frame_io::{self, PackedLayout, Planes};
    use gstanimestyle::guided::GuidedUpsampler;
    use gstanimestyle::resample::Resampler;
    use gstanimestyle::session::{ModelSource, Session, SessionSettings};
    use gstanimestyle::tensor_io::RgbSource;

    let common::Footage { width: w, height: h, frames } = common::vtest_frames(30, 5)?;
    let layout = PackedLayout { pixel_stride: 3, rgb_offsets: [0, 1, 2] };
    let mut session = Session::load(&ModelSource::from_property(""), &SessionSettings::default()).ok()?;
    let (content, canvas) = network_size(&session.contract, (w as u32, h as u32), -1);
    let (mut down, mut guided) = (None, GuidedUpsampler::default());
    // Per frame: full-size planes, network input, network output.
    let mut full = Vec::new();
    let mut pairs = Vec::new();
    for f in &frames {
        let mut planes = Planes::default();
        frame_io::unpack_frame(f, 3 * w, layout, w, h, &mut planes);
        let (mut low, mut out) = (Planes::default(), Planes::default());
        Resampler::cached(&mut down, (w, h), content).resample_planes(&planes, &mut low);
        session.run(&RgbSource::Planes(&low), canvas, &mut out).ok()?;
        full.push(planes);
        pairs.push((low, out));
    }
    let render = |guided: &mut GuidedUpsampler, pair: &(Planes, Planes), guide: &Planes, original: &[u8]| {
        let mut up = Planes::default();
        guided.upsample(&pair.0, &pair.1, guide, &mut up);
        let mut rgb = vec![0u8; 3 * w * h];
        frame_io::write_frame(&up, original, 3 * w, &mut rgb, 3 * w, layout, 1.0);
        rgb
    };
    let own: Vec<Vec<u8>> = (0..5).map(|t| render(&mut guided, &pairs[t], &full[t], &frames[t])).collect();
    let reused: Vec<Vec<u8>> = (0..5).map(|t| render(&mut guided, &pairs[0], &full[t], &frames[t])).collect();
    let aligned: Vec<Vec<u8>> = (0..5)
        .map(|t| {
            let mut pair = (Planes::default(), Planes::default());
            if !gstanimestyle::motion::align(&pairs[0].0, &pairs[0].1, &pairs[t].0, &mut pair.0, &mut pair.1) {
                pair = (pairs[0].0.clone(), pairs[0].1.clone());
            }
            render(&mut guided, &pair, &full[t], &frames[t])
        })
        .collect();
    let repeated: Vec<Vec<u8>> = (0..5).map(|_| own[0].clone()).collect();

    // The 200×260 crop where the input moves most (the walkers).
    let (cw, ch) = (200usize, 260usize);
    let (cx, cy) = common::busiest_crop(&frames[0], &frames[4], (w, h), (cw, ch));
    common::save_strip(path, &[&frames, &own, &aligned, &reused, &repeated], w, (cx, cy), (cw, ch));
    // Mean difference from each frame's own stylization over the crop, frames 2–5.
    let diff = |set: &[Vec<u8>]| {
        let mut total = 0u64;
        let mut n = 0u64;
        for t in 1..5 {
            for y in cy..cy + ch {
                for i in 3 * (y * w + cx)..3 * (y * w + cx + cw) {
                    total += set[t][i].abs_diff(own[t][i]) as u64;
                    n += 1;
                }
            }
        }
        total as f64 / n as f64
    };
    Some((diff(&aligned), diff(&reused), diff(&repeated)))
}

fn main() {
    gst::init().unwrap();
    gstanimestyle::plugin_register_static().unwrap();
    let o = parse_options();
    if o.strip_only {
        return write_reuse_strip();
    }
    println!(
        "\nLive latency, {}x{} {} videotestsrc is-live=true, default properties, fakesink sync=true qos=true, {} s per run\n",
        o.size.0, o.size.1, o.format, o.seconds
    );
    println!(
        "| source fps | realtime-policy | LATENCY query: element / pipeline ms | measured p50 / p95 / max ms | frames in / out | \
         output fps | reused | dropped | inference mean ms | element mean ms |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for &fps in &o.rates {
        for policy in o.policies.clone() {
            let r = run(&policy, fps, &o);
            let s = &r.stats;
            let get = |k: &str| s.get::<u64>(k).unwrap_or(0);
            println!(
                "| {fps} | {policy} | {:.1} / {:.1} | {:.1} / {:.1} / {:.1} | {} / {} | {:.1} | {} | {} | {:.1} | {:.1} |",
                r.query_ms,
                r.pipeline_ms,
                percentile(&r.measured, 0.5),
                percentile(&r.measured, 0.95),
                r.measured.last().copied().unwrap_or(f64::NAN),
                r.frames_in,
                r.frames_out,
                r.frames_out as f64 / r.stream_seconds,
                get("reused"),
                get("dropped"),
                s.get::<f64>("inference-mean-ms").unwrap_or(f64::NAN),
                s.get::<f64>("processing-mean-ms").unwrap_or(f64::NAN),
            );
        }
    }
    if o.table_only {
        return;
    }
    println!(
        "\nHot-swap to models/animestyle-handmade.onnx at frame {SWAP_AT}, 30 fps ({:.1} ms a frame)\n",
        1000.0 / 30.0
    );
    println!(
        "| realtime-policy | frames in / out | longest gap between outputs: 1 s before / while loading / 1 s after \
         the switch | set → switched |"
    );
    println!("|---|---|---|---|");
    for policy in ["every-frame", "latest"] {
        let r = swap_run(policy, &o);
        println!(
            "| {policy} | {} / {} | {:.1} / {:.1} / {:.1} ms | {:.0} ms |",
            r.frames_in, r.frames_out, r.gap_before_ms, r.gap_loading_ms, r.gap_after_ms, r.switch_ms
        );
    }
    write_reuse_strip();
}

fn write_reuse_strip() {
    let path = "docs/latest-reuse-strip.png";
    match reuse_strip(path) {
        Some((aligned, guided, repeated)) => println!(
            "\nwrote {path}: 5 vtest.avi frames, rows input | own stylization | frame 1's reused, aligned to the \
             frame and guided by it (latest) | frame 1's reused, guided only | frame 1's repeated.\nMean difference \
             from each frame's own stylization over the walkers (levels): aligned + guided {aligned:.2}, guided only \
             {guided:.2}, repeated {repeated:.2}"
        ),
        None => println!("\n(no vtest.avi or ONNX Runtime: {path} not written)"),
    }
}
