//! Element benchmark: per-frame time of `animestyle` split into ONNX Runtime inference and
//! everything else the element does (unpack, resample, tensor packing, blend, write).
//!
//! ```text
//! make bench            # = cargo bench --bench element (release)
//! cargo bench --bench element -- --frames 60 --model path.onnx --inference-size 384
//! ```
//!
//! The machine may be shared and noisy, so read the ratios (overhead as % of inference),
//! measured in the same run, rather than the absolute times.

use std::time::Instant;

use gst::prelude::*;

struct Options {
    frames: usize,
    model: String,
    inference_size: Option<i32>,
    threads: u32,
}

fn parse_options() -> Options {
    let mut o = Options { frames: 40, model: String::new(), inference_size: None, threads: 0 };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
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
    let mut builder = gst::ElementFactory::make("animestyle").property("threads", o.threads);
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
    use gstanimestyle::pixels::{self, PackedFrame, PackedLayout, Planes, RgbSource};
    use gstanimestyle::resample::Resampler;
    let contract = animestyle_model::handmade::contract();
    let layout = PackedLayout { pixel_stride: 4, rgb_offsets: [0, 1, 2] };
    let frame: Vec<u8> = (0..w * h * 4).map(|i| (i * 7 % 251) as u8).collect();
    let mut out = vec![0u8; w * h * 4];
    let mut planes = Planes::default();
    pixels::unpack_frame(&frame, w * 4, layout, w, h, &mut planes);
    let scale = inference_size as f64 / w.max(h) as f64;
    let small = if inference_size == 0 { (w, h) } else { ((w as f64 * scale) as usize, (h as f64 * scale) as usize) };
    let mut small_planes = Planes::default();
    small_planes.resize(small.0, small.1);
    let mut tensor: Vec<f32> = Vec::new();
    pixels::pack_tensor(&RgbSource::Planes(&small_planes), &contract, small, &mut tensor);
    let mut back = Planes::default();
    let n = 20;
    let packed = PackedFrame { data: &frame, stride: w * 4, layout, width: w, height: h };
    // At the frame's own size the tensor is packed straight from the frame.
    let (unpack, pack) = if small == (w, h) {
        (0.0, time_ms(n, || pixels::pack_tensor(&RgbSource::Frame(packed), &contract, small, &mut tensor)))
    } else {
        (
            time_ms(n, || pixels::unpack_frame(&frame, w * 4, layout, w, h, &mut planes)),
            time_ms(n, || pixels::pack_tensor(&RgbSource::Planes(&small_planes), &contract, small, &mut tensor)),
        )
    };
    let unpack_tensor = time_ms(n, || pixels::unpack_tensor(&tensor, &contract, small, small, &mut back));
    let write = time_ms(n, || pixels::write_frame(&planes, &frame, w * 4, &mut out, w * 4, layout, 1.0));
    let (down, up) = if small == (w, h) {
        (0.0, 0.0)
    } else {
        let mut d = Resampler::new((w, h), small);
        let mut u = Resampler::new(small, (w, h));
        let mut tmp_small = vec![0.0; small.0 * small.1];
        let mut tmp_full = vec![0.0; w * h];
        let src = planes.plane(0).to_vec();
        let down = 3.0 * time_ms(n, || d.resample_plane(&src, &mut tmp_small));
        let up = 3.0 * time_ms(n, || u.resample_plane(&tmp_small, &mut tmp_full));
        (down, up)
    };
    println!(
        "| {w}x{h} | {}x{} | {unpack:.2} | {down:.2} | {pack:.2} | {unpack_tensor:.2} | {up:.2} | {write:.2} | {:.2} |",
        small.0,
        small.1,
        unpack + down + pack + unpack_tensor + up + write
    );
}

fn main() {
    gst::init().unwrap();
    gstanimestyle::plugin_register_static().unwrap();
    let o = parse_options();
    let isz = o.inference_size.map_or("default".to_string(), |s| s.to_string());
    println!("animestyle element benchmark: inference-size {isz}, {} frames per row, RGBx in/out", o.frames);
    println!("(overhead = the element's time per frame minus ONNX Runtime's; both from the stats property)");
    println!();
    let reference = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(reference.path(), animestyle_model::fixtures::reference_conv_net(&[16, 16])).unwrap();
    let models: Vec<(String, String)> = if o.model.is_empty() {
        vec![
            ("embedded (handmade cel)".to_string(), String::new()),
            ("reference conv 3-16-16-3".to_string(), reference.path().display().to_string()),
        ]
    } else {
        vec![(o.model.clone(), o.model.clone())]
    };
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
    println!("Pre/post stages alone (ms):");
    println!();
    println!(
        "| frame | network input | unpack | downscale | pack tensor | unpack tensor | upscale | blend+write | total |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for size in [(640, 360), (1280, 720)] {
        for inference_size in [0, 384] {
            stage_breakdown(size, inference_size);
        }
    }
}
