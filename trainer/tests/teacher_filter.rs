//! The teacher filter flattens regions and draws dark outlines.

use std::collections::HashSet;

use animestyle_train::teacher::{TeacherParams, apply_rgb8};
use image::{Rgb, RgbImage};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Left half blue-grey, right half light orange, ±12 of uniform noise per channel.
fn two_regions(w: u32, h: u32) -> RgbImage {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    RgbImage::from_fn(w, h, |x, _| {
        let base: [i32; 3] = if x < w / 2 { [70, 90, 140] } else { [235, 190, 120] };
        Rgb(base.map(|v| (v + rng.random_range(-12..=12)).clamp(0, 255) as u8))
    })
}

fn distinct(img: &RgbImage) -> usize {
    img.pixels().map(|p| p.0).collect::<HashSet<_>>().len()
}

fn luma(p: &Rgb<u8>) -> f32 {
    0.299 * p.0[0] as f32 + 0.587 * p.0[1] as f32 + 0.114 * p.0[2] as f32
}

#[test]
fn flattens_noise_and_draws_a_dark_line_at_the_boundary() {
    let (w, h) = (96, 64);
    let img = two_regions(w, h);
    let out = apply_rgb8(&img, &TeacherParams::default());
    assert_eq!(out.dimensions(), (w, h));
    let (before, after) = (distinct(&img), distinct(&out));
    eprintln!("distinct colours: {before} -> {after}");
    assert!(after * 10 < before, "far fewer colours: {before} -> {after}");

    // Away from the boundary and the borders each half is nearly flat.
    for x0 in [10, w - 30] {
        let vals: Vec<f32> = (16..h - 16)
            .flat_map(|y| (x0..x0 + 20).map(move |x| (x, y)))
            .map(|(x, y)| luma(out.get_pixel(x, y)))
            .collect();
        let (lo, hi) = vals.iter().fold((f32::MAX, f32::MIN), |(a, b), v| (a.min(*v), b.max(*v)));
        assert!(hi - lo < 6.0, "flat region at x {x0}: luma {lo}..{hi}");
    }
    // A dark line along the boundary: in each interior row, the darkest pixel within 4 px of the
    // boundary is clearly darker than the dark region's own flat colour.
    let dark_flat = luma(out.get_pixel(20, h / 2));
    for y in 8..h - 8 {
        let darkest = (w / 2 - 4..w / 2 + 4).map(|x| luma(out.get_pixel(x, y))).fold(f32::MAX, f32::min);
        assert!(darkest < dark_flat * 0.7, "row {y}: darkest {darkest} vs flat {dark_flat}");
    }
    // ...and no lines inside the flat regions.
    for y in 8..h - 8 {
        for x in (8..w / 2 - 8).chain(w / 2 + 8..w - 8) {
            let l = luma(out.get_pixel(x, y));
            let flat = luma(out.get_pixel(if x < w / 2 { 20 } else { w - 20 }, y));
            assert!(l > flat * 0.85, "no line at ({x}, {y}): {l} vs {flat}");
        }
    }
}

#[test]
fn is_deterministic_and_fast_enough() {
    let img = RgbImage::from_fn(512, 512, |x, y| Rgb([(x / 2) as u8, (y / 2) as u8, ((x ^ y) & 255) as u8]));
    let p = TeacherParams::default();
    let started = std::time::Instant::now();
    let a = apply_rgb8(&img, &p);
    let elapsed = started.elapsed();
    eprintln!("teacher on 512x512: {elapsed:?}");
    assert_eq!(a, apply_rgb8(&img, &p));
    // Generous bound: the machine is shared; typical is ~0.15 s in release.
    assert!(elapsed.as_secs_f64() < 5.0);
}

#[test]
fn params_round_trip_through_json_and_fill_defaults() {
    let p: TeacherParams = serde_json::from_str(r#"{"saturation": 1.5}"#).unwrap();
    assert_eq!(p.saturation, 1.5);
    assert_eq!(p.guided_radius, TeacherParams::default().guided_radius);
    let back: TeacherParams = serde_json::from_str(&serde_json::to_string(&p).unwrap()).unwrap();
    assert_eq!(back, p);
}

/// Writes before|after previews of a few opencv sample photos to /tmp/teacher-*.png.
/// `cargo test --release -p animestyle-train --test teacher_filter -- --ignored`
#[test]
#[ignore]
fn write_previews() {
    let dir = std::path::Path::new("/usr/share/doc/opencv-doc/examples/data");
    for name in ["fruits.jpg", "messi5.jpg", "baboon.jpg", "building.jpg"] {
        let Ok(img) = image::open(dir.join(name)) else { continue };
        let img = img.to_rgb8();
        let started = std::time::Instant::now();
        let out = apply_rgb8(&img, &TeacherParams::default());
        eprintln!("{name}: {}x{} in {:?}", img.width(), img.height(), started.elapsed());
        let (w, h) = img.dimensions();
        let mut both = RgbImage::new(2 * w + 4, h);
        image::imageops::replace(&mut both, &img, 0, 0);
        image::imageops::replace(&mut both, &out, (w + 4) as i64, 0);
        both.save(format!("/tmp/teacher-{}.png", name.trim_end_matches(".jpg"))).unwrap();
    }
}
