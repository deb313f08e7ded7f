//! Temporal-stability measures of stylized video, and the synthetic sequences with known motion
//! they run on (issue #6; used by `benches/temporal.rs` and the trainer's `evaluate`):
//!
//! - **flicker**: mean absolute difference of consecutive frames, optionally over a visibility
//!   mask per frame (e.g. [`still_pixel_masks`]: the static background of real footage);
//! - **warping error** (Lai et al. 2018, "Learning Blind Video Temporal Consistency"): mean
//!   squared difference between frame t and frame t−1 warped by the known motion, over the
//!   pixels visible in both.
//!
//! Frames are interleaved 8-bit RGB, row-major, all of one size (`width * height * 3` bytes).

use super::Rgb8;

/// Gaussian noise of standard deviation `sigma` levels added to every byte of `img`, rounded
/// and clamped (Box–Muller on a small LCG seeded by `seed`: reproducible).
pub fn noisy(img: &[u8], sigma: f32, seed: u64) -> Vec<u8> {
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

/// Bilinear sample of `img` at (x, y), coordinates clamped to the image, rounded to levels.
pub fn sample(img: Rgb8, x: f32, y: f32) -> [u8; 3] {
    let (w, h) = (img.width as f32, img.height as f32);
    let (x, y) = (x.clamp(0.0, w - 1.0), y.clamp(0.0, h - 1.0));
    let (x0, y0) = (x.floor() as usize, y.floor() as usize);
    let (x1, y1) = ((x0 + 1).min(img.width - 1), (y0 + 1).min(img.height - 1));
    let (fx, fy) = (x - x0 as f32, y - y0 as f32);
    std::array::from_fn(|c| {
        let p = |x: usize, y: usize| img.data[3 * (y * img.width + x) + c] as f32;
        let top = p(x0, y0) + (p(x1, y0) - p(x0, y0)) * fx;
        let bottom = p(x0, y1) + (p(x1, y1) - p(x0, y1)) * fx;
        (top + (bottom - top) * fy).round() as u8
    })
}

/// A `width × height` view of `src` (bilinear): frame pixel (x, y) shows the source point
/// `(cx + (x − width/2) / zoom, cy + (y − height/2) / zoom)`. Outside the source, edges repeat.
pub fn view(src: Rgb8, (width, height): (usize, usize), (cx, cy): (f32, f32), zoom: f32) -> Vec<u8> {
    let (w, h) = (width, height);
    let mut out = vec![0u8; 3 * w * h];
    for y in 0..h {
        for x in 0..w {
            let p = sample(src, cx + (x as f32 - w as f32 / 2.0) / zoom, cy + (y as f32 - h as f32 / 2.0) / zoom);
            out[3 * (y * w + x)..3 * (y * w + x) + 3].copy_from_slice(&p);
        }
    }
    out
}

/// The camera motion of a synthetic sequence, frame to frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Motion {
    /// A still camera.
    Static,
    /// The view moves `dx, dy` source pixels a frame (the scene moves the other way in the
    /// frame): `Pan { dx: 4.0, dy: 0.0 }` is a 4 px/frame pan to the right.
    Pan { dx: f32, dy: f32 },
    /// The view magnifies by `factor` a frame about the frame's centre (1.01: 1% a frame).
    Zoom { factor: f32 },
}

impl Motion {
    /// A horizontal pan of `px_per_frame` pixels a frame.
    pub fn pan(px_per_frame: f32) -> Self {
        Motion::Pan { dx: px_per_frame, dy: 0.0 }
    }

    /// The view's centre (source coordinates) and zoom at frame `t` when frame 0 is centred on
    /// `start` at zoom 1.
    pub fn pose(&self, start: (f32, f32), t: usize) -> ((f32, f32), f32) {
        match *self {
            Motion::Static => (start, 1.0),
            Motion::Pan { dx, dy } => ((start.0 + dx * t as f32, start.1 + dy * t as f32), 1.0),
            Motion::Zoom { factor } => (start, factor.powi(t as i32)),
        }
    }

    /// Where the scene point at pixel (x, y) of frame t was in frame t−1 of a `size` sequence
    /// (the exact motion for [`warping_error`]); it may fall outside frame t−1.
    pub fn previous(&self, x: f32, y: f32, (width, height): (usize, usize)) -> Option<(f32, f32)> {
        match *self {
            Motion::Static => Some((x, y)),
            Motion::Pan { dx, dy } => Some((x + dx, y + dy)),
            Motion::Zoom { factor } => {
                let (hw, hh) = (width as f32 / 2.0, height as f32 / 2.0);
                Some((hw + (x - hw) / factor, hh + (y - hh) / factor))
            }
        }
    }
}

/// `frames` views of `src` of `size`, frame 0 centred on `start` (source coordinates) at zoom 1,
/// then moving by `motion`; frame t gets [`noisy`] noise of `noise_sigma` levels seeded by t
/// (sensor-like noise, fresh every frame; 0 for none). Keep the views inside `src` (edges
/// repeat outside it, which breaks the known motion there).
pub fn synthetic_sequence(
    src: Rgb8,
    size: (usize, usize),
    start: (f32, f32),
    motion: Motion,
    frames: usize,
    noise_sigma: f32,
) -> Vec<Vec<u8>> {
    let still = (motion == Motion::Static).then(|| view(src, size, start, 1.0));
    (0..frames)
        .map(|t| {
            let clean = match &still {
                Some(s) => s.clone(),
                None => {
                    let (centre, zoom) = motion.pose(start, t);
                    view(src, size, centre, zoom)
                }
            };
            if noise_sigma == 0.0 { clean } else { noisy(&clean, noise_sigma, t as u64) }
        })
        .collect()
}

/// Mean absolute difference of two RGB frames over the pixels where `mask` is true (all without
/// one); 0 for an empty mask.
pub fn mean_abs_difference(a: &[u8], b: &[u8], mask: Option<&[bool]>) -> f64 {
    let (mut s, mut n) = (0u64, 0u64);
    for (i, (p, q)) in a.iter().zip(b).enumerate() {
        if mask.is_none_or(|m| m[i / 3]) {
            s += p.abs_diff(*q) as u64;
            n += 1;
        }
    }
    s as f64 / n.max(1) as f64
}

/// Flicker: the mean over consecutive pairs (t−1, t), t > `settle`, of their mean absolute
/// difference in levels, over `masks[t]` (one per frame, `width * height`) when given. Skip
/// `settle` frames to let a filter's history settle (the benchmark skips a third). NaN when
/// there is no pair.
pub fn flicker(frames: &[Vec<u8>], masks: Option<&[Vec<bool>]>, settle: usize) -> f64 {
    let pairs: Vec<f64> = (settle + 1..frames.len())
        .map(|t| mean_abs_difference(&frames[t], &frames[t - 1], masks.map(|m| m[t].as_slice())))
        .collect();
    pairs.iter().sum::<f64>() / pairs.len() as f64
}

/// Warping error (Lai et al. 2018): the mean over consecutive pairs (t−1, t), t > `settle`, of
/// the mean squared difference (levels², all channels) between frame t and frame t−1 warped by
/// the motion. `previous(x, y)` maps a pixel of frame t to where the same scene point was in
/// frame t−1 (e.g. [`Motion::previous`]), rounded to the nearest pixel; `None` or outside the
/// frame = not visible in both, left out. NaN when there is no pair.
pub fn warping_error(
    frames: &[Vec<u8>],
    (width, height): (usize, usize),
    settle: usize,
    previous: impl Fn(f32, f32) -> Option<(f32, f32)>,
) -> f64 {
    let (w, h) = (width, height);
    let mut total = 0.0;
    let mut pairs = 0;
    for t in settle + 1..frames.len() {
        let (cur, prev) = (&frames[t], &frames[t - 1]);
        let (mut s, mut n) = (0.0f64, 0u64);
        for y in 0..h {
            for x in 0..w {
                let Some((px, py)) = previous(x as f32, y as f32) else { continue };
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

/// Per frame of real footage, the pixels whose input barely changed since the previous frame:
/// the sum of the three channels' absolute changes below `3 * levels` (mean change below
/// `levels`). Frame 0 has none. For [`flicker`] over a static camera's background.
pub fn still_pixel_masks(frames: &[Vec<u8>], levels: u32) -> Vec<Vec<bool>> {
    (0..frames.len())
        .map(|t| {
            if t == 0 {
                return vec![false; frames[0].len() / 3];
            }
            frames[t]
                .chunks_exact(3)
                .zip(frames[t - 1].chunks_exact(3))
                .map(|(a, b)| (0..3).map(|c| a[c].abs_diff(b[c]) as u32).sum::<u32>() < 3 * levels)
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A smooth, textured source image larger than the views.
    fn source(w: usize, h: usize) -> Vec<u8> {
        (0..h)
            .flat_map(|y| {
                (0..w).flat_map(move |x| {
                    let (xf, yf) = (x as f32, y as f32);
                    [
                        (128.0 + 100.0 * (xf * 0.11).sin() * (yf * 0.07).cos()) as u8,
                        (128.0 + 90.0 * (xf * 0.05 + yf * 0.09).sin()) as u8,
                        ((x * 3 + y * 5) % 256) as u8,
                    ]
                })
            })
            .collect()
    }

    #[test]
    fn warping_error_of_an_exact_pan_is_zero() {
        let (sw, sh) = (200, 80);
        let src = source(sw, sh);
        let size = (64, 48);
        for px in [2.0, 4.0, 8.0] {
            let motion = Motion::pan(px);
            let frames = synthetic_sequence(Rgb8::new(sw, sh, &src), size, (40.0, 40.0), motion, 8, 0.0);
            assert_eq!(frames.len(), 8);
            let e = warping_error(&frames, size, 0, |x, y| motion.previous(x, y, size));
            assert!(e.abs() < 1e-12, "pan {px}: {e}");
            // The wrong motion (a still camera) is seen.
            let still = warping_error(&frames, size, 0, |x, y| Motion::Static.previous(x, y, size));
            assert!(still > 10.0, "pan {px}: {still}");
        }
    }

    #[test]
    fn zoom_moves_points_away_from_the_centre() {
        let size = (100, 50);
        let m = Motion::Zoom { factor: 1.25 };
        assert_eq!(m.previous(50.0, 25.0, size), Some((50.0, 25.0)));
        assert_eq!(m.previous(100.0, 0.0, size), Some((90.0, 5.0)));
        assert_eq!(m.pose((10.0, 20.0), 2), ((10.0, 20.0), 1.5625));
        assert_eq!(Motion::pan(4.0).pose((10.0, 20.0), 3), ((22.0, 20.0), 1.0));
    }

    #[test]
    fn flicker_of_identical_frames_is_zero_and_noise_is_seen() {
        let (sw, sh) = (64, 48);
        let src = source(sw, sh);
        let img = Rgb8::new(sw, sh, &src);
        let size = (32, 24);
        let still = synthetic_sequence(img, size, (32.0, 24.0), Motion::Static, 5, 0.0);
        assert_eq!(flicker(&still, None, 0), 0.0);
        let masks = still_pixel_masks(&still, 3);
        assert!(masks[1..].iter().all(|m| m.iter().all(|v| *v)) && !masks[0][0]);
        assert_eq!(flicker(&still, Some(&masks), 1), 0.0);
        // Gaussian noise of σ 3 on both frames: E|a − b| = 2σ/√π ≈ 3.4 levels.
        let noisy = synthetic_sequence(img, size, (32.0, 24.0), Motion::Static, 5, 3.0);
        let f = flicker(&noisy, None, 0);
        assert!((2.8..4.0).contains(&f), "{f}");
        assert!(flicker(&still[..1], None, 0).is_nan());
    }
}
