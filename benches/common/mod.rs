//! Helpers shared by the benchmarks: real footage, and image strips for docs/.
#![allow(dead_code)]

use gst::prelude::*;

/// Real footage with people walking past a static camera (Debian's opencv-doc).
pub const FOOTAGE: &str = "/usr/share/doc/opencv-doc/examples/data/vtest.avi";

/// Packed RGB frames (row-major, no padding) of one size.
pub struct Footage {
    pub width: usize,
    pub height: usize,
    pub frames: Vec<Vec<u8>>,
}

/// `n` frames of [`FOOTAGE`] from frame `first`, or `None` without the file.
pub fn vtest_frames(first: usize, n: usize) -> Option<Footage> {
    if !std::path::Path::new(FOOTAGE).exists() {
        return None;
    }
    let pipeline = gst::parse::launch(&format!(
        "filesrc location={FOOTAGE} ! decodebin ! videoconvert ! video/x-raw,format=RGB ! appsink name=sink sync=false"
    ))
    .ok()?
    .downcast::<gst::Pipeline>()
    .ok()?;
    let sink = pipeline.by_name("sink")?.downcast::<gst_app::AppSink>().ok()?;
    pipeline.set_state(gst::State::Playing).ok()?;
    let mut footage = Footage { width: 0, height: 0, frames: Vec::new() };
    let mut seen = 0;
    while footage.frames.len() < n {
        let Ok(sample) = sink.pull_sample() else { break };
        seen += 1;
        if seen <= first {
            continue;
        }
        let info = gst_video::VideoInfo::from_caps(sample.caps()?).ok()?;
        let (w, h) = (info.width() as usize, info.height() as usize);
        let stride = info.stride()[0] as usize;
        let map = sample.buffer()?.map_readable().ok()?;
        footage.frames.push((0..h).flat_map(|y| map[y * stride..y * stride + 3 * w].to_vec()).collect());
        (footage.width, footage.height) = (w, h);
    }
    pipeline.set_state(gst::State::Null).ok()?;
    Some(footage)
}

/// Top-left corner of the `crop`-sized window (on a 20-px grid) where frames `a` and `b` of a
/// `width`-wide RGB image differ most: where the footage moves.
pub fn busiest_crop(a: &[u8], b: &[u8], (width, height): (usize, usize), (cw, ch): (usize, usize)) -> (usize, usize) {
    let moved: Vec<u32> = a
        .chunks_exact(3)
        .zip(b.chunks_exact(3))
        .map(|(p, q)| (0..3).map(|c| p[c].abs_diff(q[c]) as u32).sum())
        .collect();
    let mut best = (0u64, (0, 0));
    for y in (0..=height - ch).step_by(20) {
        for x in (0..=width - cw).step_by(20) {
            let sum: u64 = (y..y + ch)
                .map(|yy| moved[yy * width + x..yy * width + x + cw].iter().map(|v| *v as u64).sum::<u64>())
                .sum();
            if sum > best.0 {
                best = (sum, (x, y));
            }
        }
    }
    best.1
}

/// Writes a grid of crops: one row per entry of `rows`, one column per frame in it, each the
/// `crop`-sized window at `at` of a `width`-wide RGB frame, 4 px of white between.
pub fn save_strip(path: &str, rows: &[&[Vec<u8>]], width: usize, at: (usize, usize), (cw, ch): (usize, usize)) {
    let columns = rows.iter().map(|r| r.len()).max().unwrap_or(0);
    let mut out = image::RgbImage::from_pixel(
        (columns * (cw + 4)) as u32,
        (rows.len() * (ch + 4)) as u32,
        image::Rgb([255, 255, 255]),
    );
    for (row, frames) in rows.iter().enumerate() {
        for (k, f) in frames.iter().enumerate() {
            for y in 0..ch {
                for x in 0..cw {
                    let i = 3 * ((at.1 + y) * width + at.0 + x);
                    out.put_pixel(
                        (k * (cw + 4) + x) as u32,
                        (row * (ch + 4) + y) as u32,
                        image::Rgb([f[i], f[i + 1], f[i + 2]]),
                    );
                }
            }
        }
    }
    out.save(path).expect("write the strip");
}
