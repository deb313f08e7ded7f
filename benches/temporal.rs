//! Temporal-stability metrics of the `animestyle` element (issue #6), for several settings,
//! printed as ratios against smoothing off:
//!
//! - **flicker**: mean absolute difference of consecutive outputs on a static scene (a held-out
//!   photo at 1280×720) with fresh sensor-like noise every frame (Gaussian, σ 3 levels);
//! - **warping error** (Lai et al. 2018): mean squared difference between output t and output
//!   t−1 warped by the known motion, over pixels visible in both, on a synthetic pan (6 px a
//!   frame) and a synthetic zoom (1% a frame) of the same photo;
//! - **vtest.avi** (real footage, static camera): flicker over the background, i.e. pixels whose
//!   input changed by less than 3 levels between the two frames.
//!
//! It also times the smoothing (with motion compensation, during a pan) against the element's
//! whole per-frame time at 720p, and writes `docs/temporal-vtest-strip.png`: 5 consecutive
//! frames of walking people, input | smoothing off | default smoothing.
//!
//! ```text
//! cargo bench --bench temporal [-- --stable-model models/animestyle-cel.onnx --frames 24]
//! cargo bench --bench temporal -- --pans    # pans of 2/4/8 px and a zoom at 640×360 and 720p
//! ```

mod common;

use gst::prelude::*;
use gst_video::VideoFormat;
use gstanimestyle::metrics::Rgb8;
use gstanimestyle::metrics::temporal::{Motion, flicker, still_pixel_masks, synthetic_sequence, warping_error};

const PHOTO: &str = "/usr/share/doc/opencv-doc/examples/data/building.jpg";
const SIZE: (usize, usize) = (1280, 720);

type Rgb = Vec<u8>; // interleaved RGB, row-major

struct Config {
    name: &'static str,
    model: Option<String>,
    props: Vec<(&'static str, glib::Value)>,
}

fn configs(stable: Option<&str>) -> Vec<Config> {
    let off = || vec![("temporal-smoothing", 0.0f64.to_value()), ("skip-threshold", 0.0f64.to_value())];
    let smooth = |mc: bool| vec![("motion-compensation", mc.to_value()), ("skip-threshold", 0.0f64.to_value())];
    let mut c = vec![
        Config { name: "smoothing off", model: None, props: off() },
        Config { name: "element smoothing (no motion comp.)", model: None, props: smooth(false) },
        Config { name: "+ motion compensation (default)", model: None, props: smooth(true) },
    ];
    if let Some(m) = stable {
        c.push(Config { name: "stability-trained model, smoothing off", model: Some(m.into()), props: off() });
        c.push(Config { name: "stability-trained model + smoothing + MC", model: Some(m.into()), props: smooth(true) });
    }
    c
}

/// Runs RGB frames of `size` through one element; returns the outputs and the stats.
fn run(config: &Config, size: (usize, usize), frames: &[Rgb]) -> (Vec<Rgb>, gst::Structure) {
    // Every frame stylized: a Harness answers LATENCY as a live source, and `auto` would then
    // choose `latest`, whose reuse depends on timing.
    let mut builder = gst::ElementFactory::make("animestyle");
    builder = builder.property_from_str("realtime-policy", "every-frame");
    if let Some(m) = &config.model {
        builder = builder.property("model", m);
    }
    for (k, v) in &config.props {
        builder = builder.property(k, v.clone());
    }
    let element = builder.build().unwrap();
    let mut h = gst_check::Harness::with_element(&element, Some("sink"), Some("src"));
    let info = gst_video::VideoInfo::builder(VideoFormat::Rgb, size.0 as u32, size.1 as u32)
        .fps(gst::Fraction::new(30, 1))
        .build()
        .unwrap();
    h.set_src_caps(info.to_caps().unwrap());
    let stride = info.stride()[0] as usize;
    let mut outputs = Vec::new();
    for (i, f) in frames.iter().enumerate() {
        let mut buf = gst::Buffer::with_size(info.size()).unwrap();
        {
            let b = buf.get_mut().unwrap();
            b.set_pts(gst::ClockTime::from_mseconds(33 * i as u64));
            let mut map = b.map_writable().unwrap();
            for y in 0..size.1 {
                map[y * stride..y * stride + 3 * size.0].copy_from_slice(&f[y * 3 * size.0..(y + 1) * 3 * size.0]);
            }
        }
        let out = h.push_and_pull(buf).unwrap();
        let map = out.map_readable().unwrap();
        let mut rgb = vec![0u8; 3 * size.0 * size.1];
        for y in 0..size.1 {
            rgb[y * 3 * size.0..(y + 1) * 3 * size.0].copy_from_slice(&map[y * stride..y * stride + 3 * size.0]);
        }
        outputs.push(rgb);
    }
    (outputs, element.property::<gst::Structure>("stats"))
}

/// Time of the temporal filter alone at 720p (network 384×216), with motion compensation
/// during a pan, in ms.
fn smoothing_cost() -> f64 {
    use gstanimestyle::frame_io::Planes;
    use gstanimestyle::temporal::{TemporalFilter, TemporalSettings};
    let planes = |w: usize, h: usize, shift: usize| {
        let mut p = Planes::default();
        p.resize(w, h);
        let n = w * h;
        for c in 0..3 {
            for i in 0..n {
                let (x, y) = (i % w + shift, i / w);
                p.data[c * n + i] = (((x * 37) ^ (y * 53)) % 97) as f32 * 2.0 + c as f32;
            }
        }
        p
    };
    let settings = TemporalSettings { smoothing: 0.95, noise_level: 6.0, scene_cut: 30.0, motion_compensation: true };
    let mut f = TemporalFilter::default();
    let runs = 30;
    // Inputs made beforehand: only the filter is timed.
    let inputs: Vec<Planes> = (0..=runs).map(|t| planes(384, 216, t)).collect();
    let mut outputs: Vec<Planes> = (0..=runs).map(|t| planes(SIZE.0, SIZE.1, 3 * t)).collect();
    f.process(&inputs[0], &mut outputs[0], &settings);
    let started = std::time::Instant::now();
    for t in 1..=runs {
        f.process(&inputs[t], &mut outputs[t], &settings);
    }
    started.elapsed().as_secs_f64() * 1000.0 / runs as f64
}

fn strip(vtest: &common::Footage, offs: &[Rgb], ons: &[Rgb], path: &str) {
    // 5 consecutive frames; the 200×260 crop where the input moves most (the walkers).
    let (first, crop) = (30, (200, 260));
    let size = (vtest.width, vtest.height);
    let at = common::busiest_crop(&vtest.frames[first], &vtest.frames[first + 4], size, crop);
    let five = |set: &[Rgb]| set[first..first + 5].to_vec();
    let rows = [five(&vtest.frames), five(offs), five(ons)];
    common::save_strip(path, &[&rows[0], &rows[1], &rows[2]], vtest.width, at, crop);
}

/// Warping error with default smoothing against smoothing off on known pans of 2, 4 and
/// 8 px/frame at 640×360 and 1280×720 and a 1%/frame zoom (issue #15's temporal goals), and
/// flicker on the static noisy scene.
fn pans_table(n: usize) {
    let photo = image::open(PHOTO).expect("opencv-doc installed (make setup)").to_rgb8();
    let photo = image::imageops::resize(&photo, 2400, 1800, image::imageops::FilterType::Triangle);
    let source = Rgb8::new(photo.width() as usize, photo.height() as usize, photo.as_raw());
    let (cx, cy) = (1200.0, 900.0);
    let configs = configs(None);
    let (off, on) = (&configs[0], &configs[2]);
    println!("Warping error (lower is better) and flicker, {n} frames, default smoothing / smoothing off\n");
    println!("| frame | motion | smoothing off | default smoothing | ratio |");
    println!("|---|---|---|---|---|");
    for size in [(640, 360), (1280, 720)] {
        let mut cases: Vec<(String, Motion)> =
            [2.0, 4.0, 8.0].iter().map(|&px| (format!("pan {px} px/frame"), Motion::pan(px))).collect();
        cases.push(("zoom 1%/frame".into(), Motion::Zoom { factor: 1.01 }));
        for (name, motion) in cases {
            let start = if matches!(motion, Motion::Pan { .. }) { (cx - 300.0, cy) } else { (cx, cy) };
            let frames = synthetic_sequence(source, size, start, motion, n, 3.0);
            let error = |config: &Config| {
                let (out, _) = run(config, size, &frames);
                warping_error(&out, size, out.len() / 3, |x, y| motion.previous(x, y, size))
            };
            let (a, b) = (error(off), error(on));
            println!("| {}×{} | {name} | {a:.2} | {b:.2} | **{:.2}×** |", size.0, size.1, b / a);
        }
        let frames = synthetic_sequence(source, size, (cx, cy), Motion::Static, n, 3.0);
        let flick = |config: &Config| {
            let (out, _) = run(config, size, &frames);
            flicker(&out, None, out.len() / 3)
        };
        let (a, b) = (flick(off), flick(on));
        println!("| {}×{} | static, noise σ 3: flicker | {a:.2} | {b:.2} | **{:.2}×** |", size.0, size.1, b / a);
    }
}

fn main() {
    gst::init().unwrap();
    gstanimestyle::plugin_register_static().unwrap();
    let mut stable = None;
    let mut n = 24usize;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--stable-model" => stable = args.next(),
            "--frames" => n = args.next().and_then(|v| v.parse().ok()).expect("--frames N"),
            "--pans" => return pans_table(n),
            "--cost-only" => {
                println!("Smoothing + motion compensation alone at 720p: {:.2} ms a frame", smoothing_cost());
                return;
            }
            _ => {}
        }
    }
    let photo = image::open(PHOTO).expect("opencv-doc installed (make setup)").to_rgb8();
    // Upscale the photo so a 1280×720 view can pan and zoom inside it.
    let photo = image::imageops::resize(&photo, 2400, 1800, image::imageops::FilterType::Triangle);
    let source = Rgb8::new(photo.width() as usize, photo.height() as usize, photo.as_raw());
    let (cx, cy) = (1200.0, 900.0);
    let (pan, zoom) = (Motion::pan(6.0), Motion::Zoom { factor: 1.01 });
    let static_frames = synthetic_sequence(source, SIZE, (cx, cy), Motion::Static, n, 3.0);
    let pan_frames = synthetic_sequence(source, SIZE, (cx - 300.0, cy), pan, n, 3.0);
    let zoom_frames = synthetic_sequence(source, SIZE, (cx, cy), zoom, n, 3.0);
    let vtest = common::vtest_frames(0, n.max(48));
    // Background masks for vtest: input changed by < 3 levels since the previous frame.
    let vtest_masks: Option<Vec<Vec<bool>>> = vtest.as_ref().map(|v| still_pixel_masks(&v.frames, 3));

    println!("Temporal stability, {n} frames a sequence at 1280×720 (vtest.avi: 768×576), ratios vs smoothing off");
    println!();
    println!(
        "| setting | flicker, static noisy | warping error, pan | warping error, zoom | vtest background flicker | ms/frame 720p |"
    );
    println!("|---|---|---|---|---|---|");
    let mut base: Option<[f64; 4]> = None;
    let mut vtest_outputs = Vec::new();
    for config in configs(stable.as_deref()) {
        let (out_static, stats) = run(&config, SIZE, &static_frames);
        let (out_pan, _) = run(&config, SIZE, &pan_frames);
        let (out_zoom, _) = run(&config, SIZE, &zoom_frames);
        // Skip a third of each sequence: let the element's history settle.
        let settle = |frames: &[Rgb]| frames.len() / 3;
        let f = flicker(&out_static, None, settle(&out_static));
        let wp = warping_error(&out_pan, SIZE, settle(&out_pan), |x, y| pan.previous(x, y, SIZE));
        let wz = warping_error(&out_zoom, SIZE, settle(&out_zoom), |x, y| zoom.previous(x, y, SIZE));
        let fv = match (&vtest, &vtest_masks) {
            (Some(common::Footage { width: w, height: h, frames }), Some(masks)) => {
                let (outs, _) = run(&config, (*w, *h), frames);
                let fv = flicker(&outs, Some(masks), settle(&outs));
                vtest_outputs.push(outs);
                fv
            }
            _ => f64::NAN,
        };
        let values = [f, wp, wz, fv];
        let b = *base.get_or_insert(values);
        let cell = |i: usize| format!("{:.3} ({:.2}×)", values[i], values[i] / b[i]);
        println!(
            "| {} | {} | {} | {} | {} | {:.1} |",
            config.name,
            cell(0),
            cell(1),
            cell(2),
            cell(3),
            stats.get::<f64>("processing-mean-ms").unwrap_or(0.0)
        );
    }
    println!();
    let cost = smoothing_cost();
    println!("Smoothing + motion compensation alone at 720p (network 384×216, during a pan): {cost:.2} ms a frame");
    if let Some(v) = &vtest
        && vtest_outputs.len() >= 3
    {
        let path = "docs/temporal-vtest-strip.png";
        strip(v, &vtest_outputs[0], &vtest_outputs[2], path);
        println!("wrote {path}: 5 consecutive vtest.avi frames, rows input | smoothing off | default smoothing");
    }
}
