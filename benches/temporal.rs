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
//! ```

mod common;

use gst::prelude::*;
use gst_video::VideoFormat;

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

/// Gaussian noise, σ in levels (Box–Muller on a small LCG: reproducible).
fn noisy(img: &[u8], sigma: f32, seed: u64) -> Rgb {
    let mut state = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    let mut uniform = move || {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((state >> 40) as f32 + 0.5) / (1u64 << 24) as f32
    };
    img.iter()
        .map(|v| {
            let g = (-2.0 * uniform().ln()).sqrt() * (std::f32::consts::TAU * uniform()).cos();
            (*v as f32 + sigma * g).round().clamp(0.0, 255.0) as u8
        })
        .collect()
}

/// Bilinear sample of an RGB image at (x, y), clamped.
fn sample(img: &image::RgbImage, x: f32, y: f32) -> [u8; 3] {
    let (w, h) = (img.width() as f32, img.height() as f32);
    let (x, y) = (x.clamp(0.0, w - 1.0), y.clamp(0.0, h - 1.0));
    let (x0, y0) = (x.floor() as u32, y.floor() as u32);
    let (x1, y1) = ((x0 + 1).min(img.width() - 1), (y0 + 1).min(img.height() - 1));
    let (fx, fy) = (x - x0 as f32, y - y0 as f32);
    std::array::from_fn(|c| {
        let p = |x, y| img.get_pixel(x, y).0[c] as f32;
        let top = p(x0, y0) + (p(x1, y0) - p(x0, y0)) * fx;
        let bottom = p(x0, y1) + (p(x1, y1) - p(x0, y1)) * fx;
        (top + (bottom - top) * fy).round() as u8
    })
}

/// A 1280×720 view of `src`: frame pixel (x, y) shows source point `(cx + (x − W/2)/zoom, cy + …)`.
fn view(src: &image::RgbImage, cx: f32, cy: f32, zoom: f32) -> Rgb {
    let (w, h) = SIZE;
    let mut out = vec![0u8; 3 * w * h];
    for y in 0..h {
        for x in 0..w {
            let p = sample(src, cx + (x as f32 - w as f32 / 2.0) / zoom, cy + (y as f32 - h as f32 / 2.0) / zoom);
            out[3 * (y * w + x)..3 * (y * w + x) + 3].copy_from_slice(&p);
        }
    }
    out
}

fn mean_abs(a: &[u8], b: &[u8], mask: Option<&[bool]>) -> f64 {
    let (mut s, mut n) = (0u64, 0u64);
    for (i, (p, q)) in a.iter().zip(b).enumerate() {
        if mask.is_none_or(|m| m[i / 3]) {
            s += p.abs_diff(*q) as u64;
            n += 1;
        }
    }
    s as f64 / n.max(1) as f64
}

fn flicker(outputs: &[Rgb], masks: Option<&[Vec<bool>]>) -> f64 {
    let skip = outputs.len() / 3; // let the history settle
    let pairs: Vec<f64> = (skip + 1..outputs.len())
        .map(|t| mean_abs(&outputs[t], &outputs[t - 1], masks.map(|m| m[t].as_slice())))
        .collect();
    pairs.iter().sum::<f64>() / pairs.len() as f64
}

/// Warping error: `warp(t − 1 frame coords)` maps a pixel of frame t to where the same scene
/// point was in frame t−1 (None when it was outside).
fn warping_error(outputs: &[Rgb], warp: impl Fn(f32, f32) -> Option<(f32, f32)>) -> f64 {
    let (w, h) = SIZE;
    let skip = outputs.len() / 3;
    let mut total = 0.0;
    let mut pairs = 0;
    for t in skip + 1..outputs.len() {
        let (cur, prev) = (&outputs[t], &outputs[t - 1]);
        let (mut s, mut n) = (0.0f64, 0u64);
        for y in 0..h {
            for x in 0..w {
                let Some((px, py)) = warp(x as f32, y as f32) else { continue };
                let (px, py) = (px.round() as isize, py.round() as isize);
                if px < 0 || py < 0 || px >= w as isize || py >= h as isize {
                    continue;
                }
                let (i, j) = (3 * (y * w + x), 3 * (py as usize * w + px as usize));
                for c in 0..3 {
                    s += (cur[i + c] as f64 - prev[j + c] as f64).powi(2);
                }
                n += 3;
            }
        }
        total += s / n.max(1) as f64;
        pairs += 1;
    }
    total / pairs as f64
}

/// Time of the temporal filter alone at 720p (network 384×216), with motion compensation
/// during a pan, in ms.
fn smoothing_cost() -> f64 {
    use gstanimestyle::pixels::Planes;
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
    let (cx, cy) = (1200.0, 900.0);
    let still = view(&photo, cx, cy, 1.0);
    let static_frames: Vec<Rgb> = (0..n).map(|t| noisy(&still, 3.0, t as u64)).collect();
    let pan = 6.0;
    let pan_frames: Vec<Rgb> =
        (0..n).map(|t| noisy(&view(&photo, cx - 300.0 + pan * t as f32, cy, 1.0), 3.0, t as u64)).collect();
    let zoom = 1.01f32;
    let zoom_frames: Vec<Rgb> =
        (0..n).map(|t| noisy(&view(&photo, cx, cy, zoom.powi(t as i32)), 3.0, t as u64)).collect();
    let vtest = common::vtest_frames(0, n.max(48));
    // Background masks for vtest: input changed by < 3 levels since the previous frame.
    let vtest_masks: Option<Vec<Vec<bool>>> = vtest.as_ref().map(|v| {
        let f = &v.frames;
        (0..f.len())
            .map(|t| {
                if t == 0 {
                    return vec![false; f[0].len() / 3];
                }
                f[t].chunks_exact(3)
                    .zip(f[t - 1].chunks_exact(3))
                    .map(|(a, b)| (0..3).map(|c| a[c].abs_diff(b[c]) as u32).sum::<u32>() < 9)
                    .collect()
            })
            .collect()
    });

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
        let f = flicker(&out_static, None);
        let wp = warping_error(&out_pan, |x, y| Some((x + pan, y)));
        let wz = warping_error(&out_zoom, |x, y| {
            let (hw, hh) = (SIZE.0 as f32 / 2.0, SIZE.1 as f32 / 2.0);
            Some((hw + (x - hw) / zoom, hh + (y - hh) / zoom))
        });
        let fv = match (&vtest, &vtest_masks) {
            (Some(common::Footage { width: w, height: h, frames }), Some(masks)) => {
                let (outs, _) = run(&config, (*w, *h), frames);
                let fv = flicker(&outs, Some(masks));
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
