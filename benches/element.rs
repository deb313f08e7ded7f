//! Element benchmark.
//!
//! 1. Real pipelines with **default properties** (the embedded model at its recommended
//!    inference size, guided upsampling): `videotestsrc ! animestyle ! fakesink` and real
//!    footage (`vtest.avi`, decoded and scaled in the same pipeline) at 640×360, 1280×720 and
//!    1920×1080: pipeline fps, and the element's time per frame split into inference /
//!    upsampling / the rest (from the `stats` property).
//! 2. Per-frame time in a harness, overhead vs inference, for the embedded and a reference model.
//! 3. The pre/post stages alone, guided vs bilinear upsampling.
//!
//! Between 1 and 2, camera formats: YUY2 and NV12 through the element natively, against the
//! `videoconvert` sandwich and the RGBx element alone, with the element's time split by stage.
//! Then the cost of the frame-size look stages (`look`): the default against `cel-shading=0`
//! and against both look stages off, at 720p YUY2 and RGBx, interleaved round by round so a
//! noisy machine slows all three alike; medians of the rounds.
//!
//! ```text
//! make bench            # = cargo bench --bench element (release)
//! cargo bench --bench element -- --frames 60 --model path.onnx --inference-size 384
//! cargo bench --bench element -- --only formats    # one section: pipelines, formats, look, harness, yuv, stages
//! ```
//!
//! The machine may be shared and noisy, so read the ratios measured in the same run rather than
//! the absolute times.

use std::time::Instant;

use gst::prelude::*;

const FOOTAGE: &str = "/usr/share/doc/opencv-doc/examples/data/vtest.avi";
const SIZES: [(u32, u32); 3] = [(640, 360), (1280, 720), (1920, 1080)];

struct Options {
    /// Run only the section whose name starts with this (`pipelines`, `formats`, `harness`, `stages`).
    only: String,
    frames: usize,
    model: String,
    inference_size: Option<i32>,
    threads: u32,
}

fn parse_options() -> Options {
    let mut o = Options { only: String::new(), frames: 40, model: String::new(), inference_size: None, threads: 0 };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--only" => o.only = args.next().expect("--only SECTION"),
            "--frames" => o.frames = args.next().and_then(|v| v.parse().ok()).expect("--frames N"),
            "--model" => o.model = args.next().expect("--model PATH"),
            "--inference-size" => o.inference_size = args.next().and_then(|v| v.parse().ok()),
            "--threads" => o.threads = args.next().and_then(|v| v.parse().ok()).expect("--threads N"),
            _ => {} // cargo bench passes --bench
        }
    }
    o
}

/// A frame with gradients, shapes and texture, different each time so nothing can be cached.
fn frame(info: &gst_video::VideoInfo, seed: u32) -> gst::Buffer {
    let mut buffer = gst::Buffer::with_size(info.size()).unwrap();
    {
        let b = buffer.get_mut().unwrap();
        let mut map = b.map_writable().unwrap();
        let stride = info.stride()[0] as usize;
        for y in 0..info.height() as usize {
            for x in 0..info.width() as usize {
                let p = &mut map[y * stride + x * 4..][..4];
                let t = ((x * 7 + y * 13 + seed as usize * 5) % 23) as u8;
                p.copy_from_slice(&[(x / 5) as u8 ^ t, (y / 3) as u8 + t, ((x + y) / 7) as u8, 255]);
            }
        }
    }
    buffer
}

struct Row {
    inference_ms: f64,
    processing_ms: f64,
    frame_ms: f64,
}

fn measure(o: &Options, model: &str, (w, h): (u32, u32)) -> Row {
    // Per-frame cost of the frame path alone: no smoothing, no skipping.
    let mut builder = gst::ElementFactory::make("animestyle")
        .property("threads", o.threads)
        .property("temporal-smoothing", 0.0f64)
        .property("skip-threshold", 0.0f64)
        // Each frame's own inference is what is timed (a Harness looks live, so `auto` = latest).
        .property_from_str("realtime-policy", "every-frame");
    if !model.is_empty() {
        builder = builder.property("model", model);
    }
    if let Some(s) = o.inference_size {
        builder = builder.property("inference-size", s);
    }
    let element = builder.build().unwrap();
    let mut harness = gst_check::Harness::with_element(&element, Some("sink"), Some("src"));
    let info = gst_video::VideoInfo::builder(gst_video::VideoFormat::Rgbx, w, h)
        .fps(gst::Fraction::new(30, 1))
        .build()
        .unwrap();
    harness.set_src_caps(info.to_caps().unwrap());
    let frames: Vec<gst::Buffer> = (0..8).map(|i| frame(&info, i)).collect();
    for f in frames.iter().take(3) {
        harness.push_and_pull(f.clone()).expect("warm-up frame");
    }
    // Restart the statistics after warm-up (they reset on start).
    harness.set_src_caps(info.to_caps().unwrap());
    let started = Instant::now();
    for i in 0..o.frames {
        harness.push_and_pull(frames[i % frames.len()].clone()).expect("frame");
    }
    let frame_ms = started.elapsed().as_secs_f64() * 1000.0 / o.frames as f64;
    let stats = element.property::<gst::Structure>("stats");
    Row {
        inference_ms: stats.get::<f64>("inference-mean-ms").unwrap(),
        processing_ms: stats.get::<f64>("processing-mean-ms").unwrap(),
        frame_ms,
    }
}

/// Runs `description` (with an `animestyle name=style`) to EOS; returns wall fps and the stats.
fn run_pipeline(description: &str, frames: usize) -> (f64, gst::Structure) {
    let pipeline = gst::parse::launch(description).unwrap().downcast::<gst::Pipeline>().unwrap();
    let style = pipeline.by_name("style").unwrap();
    let bus = pipeline.bus().unwrap();
    pipeline.set_state(gst::State::Playing).unwrap();
    let started = Instant::now();
    for msg in bus.iter_timed(gst::ClockTime::NONE) {
        match msg.view() {
            gst::MessageView::Eos(..) => break,
            gst::MessageView::Error(e) => panic!("{description}: {} ({:?})", e.error(), e.debug()),
            _ => {}
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let stats = style.property::<gst::Structure>("stats");
    pipeline.set_state(gst::State::Null).unwrap();
    (frames as f64 / elapsed, stats)
}

/// Part 1: real pipelines, default properties (or `--model` / `--inference-size`).
fn pipelines(o: &Options) {
    let mut props = String::new();
    if !o.model.is_empty() {
        props += &format!(" model={}", o.model);
    }
    if let Some(s) = o.inference_size {
        props += &format!(" inference-size={s}");
    }
    println!("| source | frame | pipeline fps | element ms/frame | inference | upsampling | rest | skipped |");
    println!("|---|---|---|---|---|---|---|---|");
    let n = o.frames;
    // A scrolling pattern: every frame differs, so no frame is skipped as unchanged.
    let mut sources = vec![("videotestsrc", format!("videotestsrc num-buffers={n} pattern=smpte horizontal-speed=8"))];
    if std::path::Path::new(FOOTAGE).exists() {
        // Decode in its own thread (as a player would), so the element's time is its own.
        sources.push(("vtest.avi", format!("filesrc location={FOOTAGE} ! decodebin ! queue max-size-buffers=4")));
    } else {
        println!("(no {FOOTAGE}: install opencv-doc (make setup) for the real-footage rows)");
    }
    for (name, src) in &sources {
        for (w, h) in SIZES {
            let description = format!(
                "{src} ! videoconvert ! videoscale ! video/x-raw,format=RGBx,width={w},height={h} ! \
                 animestyle name=style{props} ! fakesink sync=false"
            );
            // vtest.avi has 795 frames; keep the first n.
            let description = if *name == "vtest.avi" {
                description.replace("decodebin !", &format!("decodebin ! identity eos-after={n} !"))
            } else {
                description
            };
            let (fps, stats) = run_pipeline(&description, n);
            let get = |f: &str| stats.get::<f64>(f).unwrap_or(0.0);
            let (total, inference, upsampling) =
                (get("processing-mean-ms"), get("inference-mean-ms"), get("upsampling-mean-ms"));
            let pct = |v: f64| 100.0 * v / total;
            println!(
                "| {name} | {w}x{h} | {fps:.1} | {total:.1} | {:.0}% | {:.0}% | {:.0}% | {} |",
                pct(inference),
                pct(upsampling),
                pct(total - inference - upsampling),
                stats.get::<u64>("skipped").unwrap_or(0)
            );
        }
    }
}

/// `n` distinct frames of `format` at `w × h` (a scrolling test pattern), rendered up front so
/// that what is timed is the element and its neighbours, not a source (a camera's frames cost
/// the CPU nothing).
fn rendered_frames(format: &str, (w, h): (u32, u32), n: usize) -> (gst::Caps, Vec<gst::Buffer>) {
    let description = format!(
        "videotestsrc num-buffers={n} pattern=smpte horizontal-speed=8 ! \
         video/x-raw,format={format},width={w},height={h},framerate=30/1 ! appsink name=sink sync=false"
    );
    let pipeline = gst::parse::launch(&description).unwrap().downcast::<gst::Pipeline>().unwrap();
    let sink = pipeline.by_name("sink").unwrap().downcast::<gst_app::AppSink>().unwrap();
    pipeline.set_state(gst::State::Playing).unwrap();
    let mut frames = Vec::new();
    let mut caps = None;
    while let Ok(sample) = sink.pull_sample() {
        caps = sample.caps().map(|c| c.to_owned());
        frames.push(sample.buffer_owned().unwrap());
    }
    pipeline.set_state(gst::State::Null).unwrap();
    (caps.expect("frames rendered"), frames)
}

/// Pushes `count` frames (cycling through `frames`, timestamped at 30 fps) through `chain`
/// (between an appsrc and a fakesink, with an `animestyle name=style`): wall fps and the stats.
fn push_through(chain: &str, caps: &gst::Caps, frames: &[gst::Buffer], count: usize) -> (f64, gst::Structure) {
    let description = format!("appsrc name=src format=time ! {chain} ! fakesink sync=false");
    let pipeline = gst::parse::launch(&description).unwrap().downcast::<gst::Pipeline>().unwrap();
    let src = pipeline.by_name("src").unwrap().downcast::<gst_app::AppSrc>().unwrap();
    src.set_caps(Some(caps));
    src.set_max_bytes(4 * frames[0].size() as u64);
    let style = pipeline.by_name("style").unwrap();
    pipeline.set_state(gst::State::Playing).unwrap();
    let started = Instant::now();
    for i in 0..count {
        let mut buffer = frames[i % frames.len()].copy();
        let b = buffer.get_mut().unwrap();
        b.set_pts(gst::ClockTime::from_nseconds(i as u64 * 33_333_333));
        b.set_duration(gst::ClockTime::from_nseconds(33_333_333));
        src.push_buffer(buffer).unwrap();
    }
    src.end_of_stream().unwrap();
    for msg in pipeline.bus().unwrap().iter_timed(gst::ClockTime::NONE) {
        match msg.view() {
            gst::MessageView::Eos(..) => break,
            gst::MessageView::Error(e) => panic!("{description}: {} ({:?})", e.error(), e.debug()),
            _ => {}
        }
    }
    let fps = count as f64 / started.elapsed().as_secs_f64();
    let stats = style.property::<gst::Structure>("stats");
    pipeline.set_state(gst::State::Null).unwrap();
    (fps, stats)
}

/// Part 1b: camera formats. YUY2 and NV12 straight through the element, the `videoconvert`
/// sandwich users needed before, and the RGBx element alone; default properties
/// (every-frame, so each frame's own time is measured); the element's time split by stage.
fn camera_formats(o: &Options) {
    println!(
        "| frame | path | pipeline fps | element ms | inference | prepare | upsampling | lines | smoothing | write | \
         element's own work / inference |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    let style = "animestyle name=style realtime-policy=every-frame";
    for (w, h) in SIZES {
        let paths = [
            ("RGBx, element alone", "RGBx", style.to_string()),
            ("YUY2 → YUY2", "YUY2", style.to_string()),
            (
                "YUY2, videoconvert sandwich",
                "YUY2",
                format!("videoconvert ! video/x-raw,format=RGBx ! {style} ! videoconvert ! video/x-raw,format=YUY2"),
            ),
            ("NV12 → NV12", "NV12", style.to_string()),
            (
                "NV12, videoconvert sandwich",
                "NV12",
                format!("videoconvert ! video/x-raw,format=RGBx ! {style} ! videoconvert ! video/x-raw,format=NV12"),
            ),
        ];
        for (name, format, chain) in paths {
            let (caps, frames) = rendered_frames(format, (w, h), 8);
            // Warm-up (ONNX Runtime's first runs allocate), then the measured run.
            push_through(&chain, &caps, &frames, 4);
            let (fps, stats) = push_through(&chain, &caps, &frames, o.frames);
            let get = |f: &str| stats.get::<f64>(f).unwrap_or(0.0);
            let total = get("processing-mean-ms");
            let inference = get("inference-mean-ms");
            let pct = |f: &str| 100.0 * get(f) / total;
            println!(
                "| {w}x{h} | {name} | {fps:.1} | {total:.1} | {:.0}% | {:.0}% | {:.0}% | {:.0}% | {:.0}% | {:.0}% | {:.0}% |",
                100.0 * inference / total,
                pct("prepare-mean-ms"),
                pct("upsampling-mean-ms"),
                pct("lines-mean-ms"),
                pct("smoothing-mean-ms"),
                pct("write-mean-ms"),
                100.0 * (total - inference) / inference,
            );
        }
    }
}

/// Rounds of the look-stage comparison.
const LOOK_ROUNDS: usize = 5;

/// The default look against the cel stage off and against both look stages off, at 720p YUY2
/// and RGBx: median pipeline fps and element ms over [`LOOK_ROUNDS`] interleaved rounds.
fn look_stages(o: &Options) {
    println!("| frame | path | look stages | pipeline fps | element ms | look ms | vs default |");
    println!("|---|---|---|---|---|---|---|");
    let variants = [
        ("default (cel shading + ink)", ""),
        ("cel-shading=0", " cel-shading=0"),
        ("both off", " cel-shading=0 line-strength=0"),
    ];
    for format in ["YUY2", "RGBx"] {
        let (caps, frames) = rendered_frames(format, (1280, 720), 8);
        let mut runs = vec![Vec::new(); variants.len()];
        for _ in 0..LOOK_ROUNDS {
            for (i, (_, props)) in variants.iter().enumerate() {
                let chain = format!("animestyle name=style realtime-policy=every-frame{props}");
                push_through(&chain, &caps, &frames, 4);
                let (fps, stats) = push_through(&chain, &caps, &frames, o.frames);
                let get = |f: &str| stats.get::<f64>(f).unwrap_or(0.0);
                runs[i].push((fps, get("processing-mean-ms"), get("lines-mean-ms")));
            }
        }
        let median = |v: &mut Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        let mut default_ms = 0.0;
        for (i, (name, _)) in variants.iter().enumerate() {
            let (mut fps, mut ms, mut look): (Vec<f64>, Vec<f64>, Vec<f64>) = (
                runs[i].iter().map(|r| r.0).collect(),
                runs[i].iter().map(|r| r.1).collect(),
                runs[i].iter().map(|r| r.2).collect(),
            );
            let (fps, ms, look) = (median(&mut fps), median(&mut ms), median(&mut look));
            if i == 0 {
                default_ms = ms;
            }
            println!("| 1280x720 | {format} | {name} | {fps:.1} | {ms:.1} | {look:.1} | {:.2}× |", ms / default_ms);
        }
    }
}

/// The YUV path's stages alone at `w × h` NV12 (4:2:0) against the default network size.
fn yuv_stages((w, h): (usize, usize)) {
    use gstanimestyle::frame_io::Planes;
    use gstanimestyle::guided::GreyGuidedUpsampler;
    use gstanimestyle::resample::Resampler;
    use gstanimestyle::temporal::{TemporalFilter, TemporalSettings};
    use gstanimestyle::yuv::{self, YuvFrame, YuvFrameMut, YuvLayout, YuvMatrix, YuvPlanes};
    let layout = YuvLayout::NV12;
    let (cw, ch) = layout.chroma_size((w, h));
    let luma: Vec<u8> = (0..w * h).map(|i| (i * 7 % 251) as u8).collect();
    let chroma: Vec<u8> = (0..cw * ch * 2).map(|i| (i * 3 % 241) as u8).collect();
    let frame = YuvFrame {
        planes: [&luma, &chroma, &[]],
        strides: [w, cw * 2, 0],
        layout,
        matrix: YuvMatrix::BT709,
        width: w,
        height: h,
    };
    let small = (384, 384 * h / w);
    let n = 20;
    let mut planes = YuvPlanes::default();
    let unpack = time_ms(n, || yuv::unpack_yuv(&frame, &mut planes));
    let mut low = Planes::default();
    low.resize(small.0, small.1);
    let (mut dy, mut dc) = (Resampler::new((w, h), small), Resampler::new((cw, ch), small));
    let down = time_ms(n, || {
        dy.resample_plane(&planes.y.data, low.plane_mut(0));
        dc.resample_plane(&planes.u.data, low.plane_mut(1));
        dc.resample_plane(&planes.v.data, low.plane_mut(2));
    });
    let mut rgb = Planes::default();
    let to_rgb = time_ms(n, || yuv::yuv_to_rgb(&low, &frame.matrix, &mut rgb));
    let mut out_yuv = Planes::default();
    let to_yuv = time_ms(n, || yuv::rgb_to_yuv(&rgb, &frame.matrix, &mut out_yuv));
    let mut grey = GreyGuidedUpsampler::default();
    let mut styl = planes.clone();
    let luma_up =
        time_ms(n, || grey.upsample((low.plane(0), out_yuv.plane(0)), small, &planes.y.data, (w, h), &mut styl.y.data));
    let luma_at_chroma = vec![100.0f32; cw * ch];
    let mut grey_chroma = GreyGuidedUpsampler::default();
    let chroma_up = time_ms(n, || {
        for (c, dst) in [(1, &mut styl.u.data), (2, &mut styl.v.data)] {
            grey_chroma.upsample((low.plane(0), out_yuv.plane(c)), small, &luma_at_chroma, (cw, ch), dst);
        }
    });
    let mut temporal = TemporalFilter::default();
    let settings = TemporalSettings { smoothing: 0.6, noise_level: 6.0, scene_cut: 30.0, motion_compensation: true };
    temporal.process_yuv(&low, &mut styl, &settings);
    let smooth = time_ms(n, || {
        temporal.process_yuv(&low, &mut styl, &settings);
    });
    let mut line_stage = gstanimestyle::lines::LineStage::default();
    let source = styl.y.data.clone();
    let lines = time_ms(n, || {
        line_stage.apply_luma((&mut styl.y.data, Some(&source)), (w, h), (16.0, 235.0), 1.0);
    });
    let (mut o0, mut o1) = (vec![0u8; luma.len()], vec![0u8; chroma.len()]);
    let write = time_ms(n, || {
        let mut out = YuvFrameMut { planes: [&mut o0, &mut o1, &mut []], strides: frame.strides };
        yuv::write_yuv(&styl, &frame, &mut out, 1.0, false)
    });
    println!(
        "| {w}x{h} NV12 | {}x{} | {unpack:.2} | {down:.2} | {to_rgb:.2} | {to_yuv:.2} | {luma_up:.2} | {chroma_up:.2} | \
         {lines:.2} | {smooth:.2} | {write:.2} |",
        small.0, small.1
    );
}

/// Mean ms of `f` over `n` calls.
fn time_ms(n: usize, mut f: impl FnMut()) -> f64 {
    f();
    let started = Instant::now();
    for _ in 0..n {
        f();
    }
    started.elapsed().as_secs_f64() * 1000.0 / n as f64
}

/// The element's pre/post stages on their own, with the embedded model's contract.
fn stage_breakdown((w, h): (usize, usize), inference_size: usize) {
    use gstanimestyle::frame_io::{self, PackedFrame, PackedLayout, Planes};
    use gstanimestyle::guided::GuidedUpsampler;
    use gstanimestyle::resample::Resampler;
    use gstanimestyle::tensor_io::{self, RgbSource};
    let contract = animestyle_model::handmade::contract();
    let layout = PackedLayout { pixel_stride: 4, rgb_offsets: [0, 1, 2] };
    let frame: Vec<u8> = (0..w * h * 4).map(|i| (i * 7 % 251) as u8).collect();
    let mut out = vec![0u8; w * h * 4];
    let mut planes = Planes::default();
    frame_io::unpack_frame(&frame, w * 4, layout, w, h, &mut planes);
    let scale = inference_size as f64 / w.max(h) as f64;
    let small = if inference_size == 0 { (w, h) } else { ((w as f64 * scale) as usize, (h as f64 * scale) as usize) };
    let mut small_planes = Planes::default();
    small_planes.resize(small.0, small.1);
    let mut tensor: Vec<f32> = Vec::new();
    tensor_io::pack_tensor(&RgbSource::Planes(&small_planes), &contract, small, &mut tensor);
    let mut back = Planes::default();
    let n = 20;
    let packed = PackedFrame { data: &frame, stride: w * 4, layout, width: w, height: h };
    // At the frame's own size the tensor is packed straight from the frame.
    let (unpack, pack) = if small == (w, h) {
        (0.0, time_ms(n, || tensor_io::pack_tensor(&RgbSource::Frame(packed), &contract, small, &mut tensor)))
    } else {
        (
            time_ms(n, || frame_io::unpack_frame(&frame, w * 4, layout, w, h, &mut planes)),
            time_ms(n, || tensor_io::pack_tensor(&RgbSource::Planes(&small_planes), &contract, small, &mut tensor)),
        )
    };
    let unpack_tensor = time_ms(n, || tensor_io::unpack_tensor(&tensor, &contract, small, small, &mut back));
    let write = time_ms(n, || frame_io::write_frame(&planes, &frame, w * 4, &mut out, w * 4, layout, 1.0));
    let mut line_stage = gstanimestyle::lines::LineStage::default();
    let mut lined = planes.clone();
    let lines = time_ms(n, || line_stage.apply_rgb(&mut lined, Some(&planes), 1.0));
    let (down, up, guided) = if small == (w, h) {
        (0.0, 0.0, 0.0)
    } else {
        let mut d = Resampler::new((w, h), small);
        let mut u = Resampler::new(small, (w, h));
        let mut tmp_small = vec![0.0; small.0 * small.1];
        let mut tmp_full = vec![0.0; w * h];
        let src = planes.plane(0).to_vec();
        let down = 3.0 * time_ms(n, || d.resample_plane(&src, &mut tmp_small));
        let up = 3.0 * time_ms(n, || u.resample_plane(&tmp_small, &mut tmp_full));
        let mut low = Planes::default();
        low.resize(small.0, small.1);
        low.data.iter_mut().enumerate().for_each(|(i, v)| *v = (i * 13 % 255) as f32);
        let mut upsampler = GuidedUpsampler::default();
        let guided = time_ms(n, || upsampler.upsample(&low, &low, &planes, &mut back));
        (down, up, guided)
    };
    println!(
        "| {w}x{h} | {}x{} | {unpack:.2} | {down:.2} | {pack:.2} | {unpack_tensor:.2} | {up:.2} | {guided:.2} | \
         {lines:.2} | {write:.2} | {:.2} |",
        small.0,
        small.1,
        unpack + down + pack + unpack_tensor + guided + lines + write
    );
}

fn main() {
    gst::init().unwrap();
    gstanimestyle::plugin_register_static().unwrap();
    let o = parse_options();
    let isz = o.inference_size.map_or("default".to_string(), |s| s.to_string());
    println!("animestyle element benchmark: inference-size {isz}, {} frames per row, RGBx in/out", o.frames);
    println!();
    let reference = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(reference.path(), animestyle_model::fixtures::reference_conv_net(&[16, 16])).unwrap();
    let models: Vec<(String, String)> = if o.model.is_empty() {
        vec![
            ("embedded (cel)".to_string(), String::new()),
            ("reference conv 3-16-16-3".to_string(), reference.path().display().to_string()),
        ]
    } else {
        vec![(o.model.clone(), o.model.clone())]
    };
    let run = |section: &str| o.only.is_empty() || section.starts_with(o.only.as_str());
    if run("pipelines") {
        println!("Pipelines, default properties (element time split from its stats):");
        println!();
        pipelines(&o);
        println!();
    }
    if run("formats") {
        println!("Camera formats, default properties, frames rendered up front and pushed from an appsrc:");
        println!();
        camera_formats(&o);
        println!();
    }
    if run("look") {
        println!("The frame-size look stages at 1280x720, every-frame, {LOOK_ROUNDS} interleaved rounds (medians):");
        println!();
        look_stages(&o);
        println!();
    }
    if run("harness") {
        println!(
            "Harness, one element, temporal smoothing and skipping off (overhead = the element's time per frame \
             minus ONNX Runtime's):"
        );
        println!();
        println!("| model | frame | inference ms | element overhead ms | overhead % of inference | fps (harness) |");
        println!("|---|---|---|---|---|---|");
        for (name, path) in &models {
            for size in [(640, 360), (1280, 720)] {
                let r = measure(&o, path, size);
                let overhead = r.processing_ms - r.inference_ms;
                println!(
                    "| {name} | {}x{} | {:.1} | {:.2} | {:.1}% | {:.1} |",
                    size.0,
                    size.1,
                    r.inference_ms,
                    overhead,
                    100.0 * overhead / r.inference_ms,
                    1000.0 / r.frame_ms
                );
            }
        }
        println!();
    }
    if run("yuv") {
        println!("YUV stages alone (ms):");
        println!();
        println!(
            "| frame | network | unpack | downscale | YUV→RGB | RGB→YUV | luma guided up | chroma guided up | lines | \
             smoothing | write |"
        );
        println!("|---|---|---|---|---|---|---|---|---|---|---|");
        for size in SIZES {
            yuv_stages((size.0 as usize, size.1 as usize));
        }
        println!();
    }
    if run("stages") {
        println!("Pre/post stages alone (ms):");
        println!();
        println!(
            "| frame | network input | unpack | downscale | pack tensor | unpack tensor | bilinear up | guided up | \
             lines | blend+write | total (guided) |"
        );
        println!("|---|---|---|---|---|---|---|---|---|---|---|");
        for size in [(640, 360), (1280, 720), (1920, 1080)] {
            for inference_size in [0, 384] {
                stage_breakdown(size, inference_size);
            }
        }
    }
}
