//! Temporal behaviour of the `animestyle` element: smoothing removes flicker on static noisy
//! video, moving objects leave no trails, scene cuts and flushing seeks reset the history, and
//! unchanged frames skip inference.

mod common;

use animestyle_model::fixtures::{PermuteInvert, permute_invert_pixel};
use common::*;
use gst::prelude::*;
use gst_video::VideoFormat;

const FORMAT: VideoFormat = VideoFormat::Rgbx;

/// One frame's pixel function: (x, y) → (r, g, b, spare byte).
type PixelFn = Box<dyn Fn(u32, u32) -> [u8; 4]>;

/// Deterministic per-pixel, per-frame noise in `-amp..=amp`.
fn noise(x: u32, y: u32, t: u32, amp: i32) -> i32 {
    let mut z = (x as u64) << 40 ^ (y as u64) << 20 ^ t as u64;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d049bb133111eb);
    ((z ^ (z >> 31)) % (2 * amp as u64 + 1)) as i32 - amp
}

fn add(p: [u8; 4], n: i32) -> [u8; 4] {
    let a = |v: u8| (v as i32 + n).clamp(0, 255) as u8;
    [a(p[0]), a(p[1]), a(p[2]), p[3]]
}

/// Feeds `frames` (each a pixel function) through one element; returns the output pixels.
fn run(
    props: &[(&str, glib::Value)],
    (w, h): (u32, u32),
    frames: impl IntoIterator<Item = PixelFn>,
) -> (Vec<Vec<[u8; 4]>>, gst::Structure) {
    let props: Vec<_> = props.iter().cloned().chain([every_frame()]).collect();
    let mut harness = harness(&props, FORMAT, w, h);
    let mut outputs = Vec::new();
    for (i, pixel) in frames.into_iter().enumerate() {
        let mut input = frame(FORMAT, w, h, pixel);
        input.get_mut().unwrap().set_pts(gst::ClockTime::from_mseconds(33 * i as u64));
        let out = harness.push_and_pull(input).expect("a frame comes out");
        outputs.push(FrameReader::new(out, FORMAT, w, h).pixels());
    }
    let stats = harness.element().unwrap().property::<gst::Structure>("stats");
    (outputs, stats)
}

fn mean_abs_diff(a: &[[u8; 4]], b: &[[u8; 4]]) -> f64 {
    let sum: u64 = a.iter().zip(b).map(|(p, q)| (0..3).map(|c| p[c].abs_diff(q[c]) as u64).sum::<u64>()).sum();
    sum as f64 / (3 * a.len()) as f64
}

/// Mean consecutive-frame difference of the second half of the outputs (after the history
/// has settled).
fn flicker(outputs: &[Vec<[u8; 4]>]) -> f64 {
    let pairs: Vec<f64> = outputs.windows(2).skip(outputs.len() / 2).map(|w| mean_abs_diff(&w[0], &w[1])).collect();
    pairs.iter().sum::<f64>() / pairs.len() as f64
}

/// A static scene with sensor-like noise (±6 levels) through the embedded model at a reduced
/// inference size (640×360 → 192 wide, the ratio of 720p at the default 384): smoothing (the
/// default) makes consecutive outputs far more alike than with it off. Skipping is off so only
/// the smoothing is measured.
#[test]
fn smoothing_removes_most_flicker_on_a_static_noisy_scene() {
    let (w, h) = (640, 360);
    let frames = |n: u32| -> Vec<PixelFn> {
        (0..n).map(|t| Box::new(move |x, y| add(natural(x, y, w, h), noise(x, y, t, 6))) as _).collect()
    };
    let base = [("skip-threshold", 0.0f64.to_value()), ("inference-size", 192i32.to_value())];
    let (off, _) = run(&[&base[..], &[("temporal-smoothing", 0.0f64.to_value())]].concat(), (w, h), frames(16));
    let (on, _) = run(&base, (w, h), frames(16));
    let (f_off, f_on) = (flicker(&off), flicker(&on));
    eprintln!("flicker off {f_off:.3}, on {f_on:.3}");
    assert!(f_off > 0.25, "the noise must make the unsmoothed output flicker (got {f_off})");
    assert!(f_on < 0.35 * f_off, "smoothing on {f_on:.3} vs off {f_off:.3}");
}

/// A bright square moving 12 px per frame over a noisy background: the pixels it left in the
/// last frame are back to the background's stylization at once (no trail), with smoothing and
/// motion compensation on (the defaults).
#[test]
fn a_moving_square_leaves_no_trail() {
    let model = model_file(&PermuteInvert::default().model());
    let (w, h) = (320, 180);
    let (size, step) = (40u32, 12u32);
    let x0 = move |t: u32| 20 + step * t;
    let bg = [70u8, 90, 60, 0];
    let frames: Vec<PixelFn> = (0..12)
        .map(|t| {
            Box::new(move |x: u32, y: u32| {
                if (x0(t)..x0(t) + size).contains(&x) && (70..70 + size).contains(&y) {
                    [250, 250, 240, 0]
                } else {
                    add(bg, noise(x, y, t, 2))
                }
            }) as _
        })
        .collect();
    let props = [model_prop(&model.path), ("inference-size", 160i32.to_value()), ("skip-threshold", 0.0f64.to_value())];
    let (outputs, _) = run(&props, (w, h), frames);
    let want = permute_invert_pixel([bg[0], bg[1], bg[2]]);
    // Margin for the network-resolution filters near the square's current edge (2 frame px a
    // network px): the vacated strip is `step` wide; check all of it but the 4 px next to the
    // square.
    for t in 2..12u32 {
        let out = &outputs[t as usize];
        let mut worst = 0;
        for y in 70..70 + size {
            for x in x0(t - 1)..x0(t).saturating_sub(4) {
                let p = out[(y * w + x) as usize];
                worst = worst.max((0..3).map(|c| p[c].abs_diff(want[c])).max().unwrap());
            }
        }
        assert!(worst <= 8, "frame {t}: a pixel the square left 1 frame ago is {worst} levels off the background");
    }
}

/// With a noise level so high that every change counts as noise (history always blended), a
/// scene cut must still give exactly a fresh element's output; with scene-cut detection off the
/// old scene would bleed in.
#[test]
fn a_scene_cut_resets_the_history() {
    let (w, h) = (160, 90);
    let scene_a = move |x: u32, y: u32| natural(x, y, w, h);
    let scene_b = move |x: u32, y: u32| {
        let p = natural(w - 1 - x, h - 1 - y, w, h);
        [255 - p[0], 255 - p[1], p[2] / 2, p[3]]
    };
    let blend_everything = |cut: f64| {
        vec![
            ("noise-level", 255.0f64.to_value()),
            ("temporal-smoothing", 1.0f64.to_value()),
            ("scene-cut-threshold", cut.to_value()),
            ("skip-threshold", 0.0f64.to_value()),
        ]
    };
    let frames =
        || -> Vec<PixelFn> { vec![Box::new(scene_a), Box::new(scene_a), Box::new(scene_a), Box::new(scene_b)] };
    let (fresh, _) = run(&blend_everything(30.0), (w, h), vec![Box::new(scene_b) as PixelFn]);
    let (with_cut, _) = run(&blend_everything(30.0), (w, h), frames());
    assert_eq!(with_cut[3], fresh[0], "after a scene cut the output is the new scene's alone");
    let (without_cut, _) = run(&blend_everything(255.0), (w, h), frames());
    assert!(
        mean_abs_diff(&without_cut[3], &fresh[0]) > 20.0,
        "control: without scene-cut detection the old scene bleeds in"
    );
}

/// A flushing seek resets the history: the first frame after it is stylized on its own even
/// when it is similar enough to the previous one to be blended otherwise.
#[test]
fn a_flushing_seek_resets_the_history() {
    let (w, h) = (160, 90);
    let props = [
        ("noise-level", 255.0f64.to_value()),
        ("temporal-smoothing", 1.0f64.to_value()),
        ("skip-threshold", 0.0f64.to_value()),
        every_frame(),
    ];
    init();
    let a = frame(FORMAT, w, h, |x, y| natural(x, y, w, h));
    let b = frame(FORMAT, w, h, |x, y| add(natural(x, y, w, h), 25));
    let pixels = |buf: gst::Buffer| FrameReader::new(buf, FORMAT, w, h).pixels();

    let mut fresh = harness(&props, FORMAT, w, h);
    let fresh_b = pixels(fresh.push_and_pull(b.clone()).unwrap());

    let mut seeking = harness(&props, FORMAT, w, h);
    for _ in 0..3 {
        seeking.push_and_pull(a.clone()).unwrap();
    }
    assert!(seeking.push_event(gst::event::FlushStart::new()));
    assert!(seeking.push_event(gst::event::FlushStop::new(true)));
    assert!(seeking.push_event(gst::event::Segment::new(&gst::FormattedSegment::<gst::ClockTime>::new())));
    assert_eq!(pixels(seeking.push_and_pull(b.clone()).unwrap()), fresh_b, "first frame after the seek");

    // Control: the same frames without the seek are blended with the history.
    let mut playing = harness(&props, FORMAT, w, h);
    for _ in 0..3 {
        playing.push_and_pull(a.clone()).unwrap();
    }
    let blended = pixels(playing.push_and_pull(b).unwrap());
    assert!(mean_abs_diff(&blended, &fresh_b) > 5.0, "control: without a seek the history is blended in");
}

/// Identical frames reuse the last stylization (counted as skipped, output unchanged); a small
/// moving patch in an otherwise static scene is not skipped.
#[test]
fn unchanged_frames_skip_inference_and_a_small_change_does_not() {
    let (w, h) = (320, 180);
    let still: Vec<PixelFn> = (0..6).map(|_| Box::new(move |x, y| natural(x, y, w, h)) as _).collect();
    let (outputs, stats) = run(&[], (w, h), still);
    assert_eq!(stats.get::<u64>("skipped").unwrap(), 5, "{stats}");
    assert_eq!(stats.get::<u64>("frames").unwrap(), 6);
    assert!(outputs.windows(2).all(|p| p[0] == p[1]));

    // A 12×12 patch moving 12 px a frame: a tiny share of the frame, but never skipped.
    let moving: Vec<PixelFn> = (0..6)
        .map(|t| {
            Box::new(move |x: u32, y: u32| {
                if (100 + 12 * t..112 + 12 * t).contains(&x) && (80..92).contains(&y) {
                    [255, 255, 255, 0]
                } else {
                    natural(x, y, w, h)
                }
            }) as _
        })
        .collect();
    let (_, stats) = run(&[], (w, h), moving);
    assert_eq!(stats.get::<u64>("skipped").unwrap(), 0, "{stats}");
}
