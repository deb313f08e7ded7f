//! Cel shading at the frame's size (`cel-shading`): a surface in a few flat tones with a hard
//! terminator between them, and cleaner, more saturated colour.
//!
//! The network flattens texture but leaves shading as the photo's smooth ramps (a cheek, a
//! cup, a wall): at 1:1 that reads as a smoothed photo. A drawn frame shades a surface in two or
//! three flat tones. This stage, after the upsampling and before the ink lines, quantizes the
//! stylized luma into [`BANDS`] tones (Winnemöller et al. 2006, "Real-time video abstraction"):
//!
//! 1. **Which tone**: decided on the stylized luma averaged 2×2 and blurred with a 3-tap
//!    binomial each way (σ ≈ 1.5 frame pixels), so what is left of photo texture and noise
//!    does not pick the tone pixel by pixel (speckle) and a terminator is a smooth curve. The
//!    blurred luma is smooth, so it is computed at half the frame's size and scaled back
//!    bilinearly; the tones are set at the frame's size (terminators as crisp as the frame).
//! 2. **How hard the step between tones**: `q + Δ/2 · tanh(φ · (l − q))`, `q` the band's centre
//!    and `Δ` its width. The sharpness `φ` goes from [`SOFT`] where the blurred luma is nearly
//!    flat ([`GRADIENT_SOFT`] levels a pixel or less: a sky, a plain wall) to [`HARD`] on a
//!    shading ramp ([`GRADIENT_HARD`] or more). A flat region thus stays smoothly graded instead
//!    of breaking into contour bands, while a shaded surface gets flat tones and a hard
//!    terminator. The map is monotonic: what was brighter stays brighter, and borders keep
//!    their side.
//! 3. **Colour**: chroma is scaled by `1 + cel-shading ×` [`SATURATION_PER_STRENGTH`] about the
//!    pixel's luma (RGB) or about neutral (YUV chroma planes): cleaner, more saturated colour
//!    with the hue kept.
//!
//! `cel-shading` blends the tone change (0 none, 1 full). RGB frames get the same change added to
//! R, G and B (the luma moves, the colour does not); YUV frames get it on the luma plane only.
//! Temporal coherence: every test is smooth in the luma (tanh, smoothstep), so noise moves a
//! terminator by a fraction of a pixel, not a tone on and off; the temporal filter that follows
//! smooths what is left.
//!
//! Cost: the 2×2 average, the blurred luma scaled back, the tone map (a few dozen flops a
//! pixel) and the change added, at the frame's size; the blur at a quarter of the pixels.

use rayon::prelude::*;

use crate::frame_io::Planes;
use crate::lines::{rgb_luma, smoothstep};

/// Tones over the luma range, spaced evenly in lightness (`sqrt`) rather than in code values:
/// 6 gives narrow bands in the shadows (a window, a dark coat keeps its detail) and wide ones in
/// the light — a face in two or three tones, a sky in one or two.
pub const BANDS: f32 = 6.0;
/// `tanh` sharpness (per level) of the step between tones where the luma is nearly flat, and on
/// a shading ramp. At [`SOFT`] a tone's interior keeps a gentle slope (`Δ/2 · tanh(0.1 · l)`);
/// at [`HARD`] a band is flat but for the 5 or so levels around its edge.
pub const SOFT: f32 = 0.1;
pub const HARD: f32 = 0.8;
/// The blurred luma's gradient (levels a pixel, central differences) up to which the steps are
/// [`SOFT`] and from which they are [`HARD`]. A 100-level shading ramp over 60 pixels (a cheek
/// at 720p) has 1.7; a sky's graded blue 0.1–0.3.
pub const GRADIENT_SOFT: f32 = 0.3;
pub const GRADIENT_HARD: f32 = 1.5;
/// Chroma gain per unit of `cel-shading`.
pub const SATURATION_PER_STRENGTH: f32 = 0.2;
/// The largest `cel-shading` (the model contract's, so a model cannot ask for more).
pub const MAX_STRENGTH: f32 = animestyle_model::contract::MAX_CEL_SHADING;

/// Rows per parallel task.
const ROWS: usize = 16;

/// The scratch planes of the cel stage, reused from frame to frame.
#[derive(Debug, Default, Clone)]
pub struct CelStage {
    /// The stylized luma (RGB frames).
    luma: Vec<f32>,
    /// The tone decision's luma at half size (blurred), and the blur's intermediate plane,
    /// which then holds the decision scaled back to the frame's size.
    decision: Vec<f32>,
    scratch: Vec<f32>,
    /// The luma change of each pixel (codes, frame size).
    change: Vec<f32>,
}

/// Padé approximation of `tanh`, exact at 0 and ±3 (where it reaches ±1), within 2 % between;
/// unlike `f32::tanh` it vectorises.
#[inline(always)]
fn tanh_approx(x: f32) -> f32 {
    let x = x.clamp(-3.0, 3.0);
    let x2 = x * x;
    x * (27.0 + x2) / (27.0 + 9.0 * x2)
}

/// The constants of one frame's cel pass.
#[derive(Clone, Copy)]
struct Tones {
    /// Levels (0–255) per code of the planes, and the code of black.
    per_code: f32,
    black: f32,
    strength: f32,
}

impl Tones {
    /// The luma change (codes) of a pixel whose blurred luma is `decision`, with the blurred
    /// luma's central differences `(dx, dy)` (codes). Only the blurred luma is toned: the detail
    /// above it (a border the upsampling made crisp, a pupil, a thin line) is kept as it is.
    #[inline(always)]
    fn change(&self, decision: f32, (dx, dy): (f32, f32)) -> f32 {
        let band = 255.0 / BANDS;
        let level = ((decision - self.black) * self.per_code).clamp(0.0, 255.0);
        // Tones are spaced evenly in lightness (the square root of the level), so a dark scene
        // keeps as many tones as a bright one; the sharpness is per lightness step.
        let lightness = (level * 255.0).sqrt();
        let gradient = (dx * dx + dy * dy).sqrt() * 0.5 * self.per_code;
        let hardness = smoothstep((gradient - GRADIENT_SOFT) * (1.0 / (GRADIENT_HARD - GRADIENT_SOFT)));
        let phi = SOFT + (HARD - SOFT) * hardness;
        let centre = ((lightness * (1.0 / band)).floor().clamp(0.0, BANDS - 1.0) + 0.5) * band;
        let toned = centre + 0.5 * band * tanh_approx(phi * (lightness - centre));
        let toned_level = toned * toned * (1.0 / 255.0);
        (toned_level - level) / self.per_code * self.strength
    }
}

/// `plane` (`size`) blurred in place with a 3-tap binomial (1 2 1) each way, edges clamped;
/// `tmp` the horizontal pass.
fn blur3(plane: &mut [f32], size: (usize, usize), tmp: &mut Vec<f32>) {
    let (w, h) = size;
    tmp.resize(w * h, 0.0);
    tmp.par_chunks_mut(w * ROWS).zip(plane.par_chunks(w * ROWS)).for_each(|(t, s)| {
        for (t, s) in t.chunks_exact_mut(w).zip(s.chunks_exact(w)) {
            for x in 0..w {
                t[x] = (s[x.saturating_sub(1)] + 2.0 * s[x] + s[(x + 1).min(w - 1)]) * 0.25;
            }
        }
    });
    let tmp = &*tmp;
    plane.par_chunks_mut(w * ROWS).enumerate().for_each(|(chunk, out)| {
        for (i, d) in out.chunks_exact_mut(w).enumerate() {
            let y = chunk * ROWS + i;
            let row = |r: usize| &tmp[r * w..(r + 1) * w];
            let (a, b, c) = (row(y.saturating_sub(1)), row(y), row((y + 1).min(h - 1)));
            for x in 0..w {
                d[x] = (a[x] + 2.0 * b[x] + c[x]) * 0.25;
            }
        }
    });
}

/// The half size of `size` (rounded up: an odd last row or column is averaged with itself).
fn half(size: (usize, usize)) -> (usize, usize) {
    (size.0.div_ceil(2), size.1.div_ceil(2))
}

/// `plane` (`size`) averaged 2×2 into `out` (`half(size)`).
fn halve(plane: &[f32], size: (usize, usize), out: &mut Vec<f32>) {
    let (w, h) = size;
    let (hw, hh) = half(size);
    out.resize(hw * hh, 0.0);
    out.par_chunks_mut(hw * ROWS).enumerate().for_each(|(chunk, rows)| {
        for (i, o) in rows.chunks_exact_mut(hw).enumerate() {
            let y = 2 * (chunk * ROWS + i);
            let (r0, r1) = (&plane[y * w..(y + 1) * w], &plane[(y + 1).min(h - 1) * w..][..w]);
            for (x, o) in o.iter_mut().enumerate() {
                let (x0, x1) = (2 * x, (2 * x + 1).min(w - 1));
                *o = (r0[x0] + r0[x1] + r1[x0] + r1[x1]) * 0.25;
            }
        }
    });
}

/// The half-size rows or columns `(a, b)` that frame row or column `i` lies between, and the
/// weight of `b`: frame pixel `i` sits at half-size coordinate `i / 2 − 1/4` (clamped at the
/// edges, where `a == b`).
#[inline(always)]
fn taps(i: usize, n: usize) -> (usize, usize, f32) {
    let k = i / 2;
    if i.is_multiple_of(2) { (k.saturating_sub(1), k, 0.75) } else { (k, (k + 1).min(n - 1), 0.25) }
}

/// `small` (`half(size)`) scaled bilinearly to `size` into `out`.
fn double(small: &[f32], size: (usize, usize), out: &mut Vec<f32>) {
    let (w, h) = size;
    let (hw, hh) = half(size);
    out.resize(w * h, 0.0);
    out.par_chunks_mut(w * ROWS).enumerate().for_each(|(chunk, rows)| {
        for (i, o) in rows.chunks_exact_mut(w).enumerate() {
            let (ya, yb, ty) = taps(chunk * ROWS + i, hh);
            let (ra, rb) = (&small[ya * hw..(ya + 1) * hw], &small[yb * hw..(yb + 1) * hw]);
            for (x, o) in o.iter_mut().enumerate() {
                let (xa, xb, tx) = taps(x, hw);
                let (va, vb) = (ra[xa] + ty * (rb[xa] - ra[xa]), ra[xb] + ty * (rb[xb] - ra[xb]));
                *o = va + tx * (vb - va);
            }
        }
    });
}

/// The luma change (codes) of each pixel of `luma` (`size`), into `change`: the decision's
/// luma averaged and blurred at half size, scaled back (it is smooth, so nothing is lost), and
/// toned at the frame's size, so a terminator is as crisp as the frame.
fn tone_changes(
    luma: &[f32],
    size: (usize, usize),
    tones: Tones,
    (decision, scratch): (&mut Vec<f32>, &mut Vec<f32>),
    change: &mut Vec<f32>,
) {
    let (w, h) = size;
    halve(luma, size, decision);
    blur3(decision, half(size), scratch);
    double(decision, size, scratch);
    let decision = &*scratch;
    change.resize(w * h, 0.0);
    change.par_chunks_mut(w * ROWS).enumerate().for_each(|(chunk, out)| {
        for (i, out) in out.chunks_exact_mut(w).enumerate() {
            let y = chunk * ROWS + i;
            tone_row(decision, size, y, tones, out);
        }
    });
}

fn tone_row(decision: &[f32], size: (usize, usize), y: usize, tones: Tones, out: &mut [f32]) {
    dispatch!(tone_row_avx2, tone_row_generic, (decision, size, y, tones, out))
}

with_avx2!(tone_row_avx2, tone_row_generic, (decision: &[f32], size: (usize, usize), y: usize, tones: Tones, out: &mut [f32]));

#[inline(always)]
fn tone_row_generic(decision: &[f32], (w, h): (usize, usize), y: usize, tones: Tones, out: &mut [f32]) {
    let row = |r: usize| &decision[r * w..(r + 1) * w];
    let (up, here, down) = (row(y.saturating_sub(1)), row(y), row((y + 1).min(h - 1)));
    for x in 0..w {
        let dx = here[(x + 1).min(w - 1)] - here[x.saturating_sub(1)];
        out[x] = tones.change(here[x], (dx, down[x] - up[x]));
    }
}

impl CelStage {
    /// Cel-shades a stylized RGB image (`0..=255` planes) in place; `strength` `0..=1`.
    pub fn apply_rgb(&mut self, image: &mut Planes, strength: f32) {
        if strength <= 0.0 || image.width == 0 || image.height == 0 {
            return;
        }
        let strength = strength.min(MAX_STRENGTH);
        let size = (image.width, image.height);
        let n = size.0 * size.1;
        rgb_luma(image, &mut self.luma);
        let tones = Tones { per_code: 1.0, black: 0.0, strength };
        tone_changes(&self.luma, size, tones, (&mut self.decision, &mut self.scratch), &mut self.change);
        let gain = 1.0 + SATURATION_PER_STRENGTH * strength;
        let (change, luma) = (&self.change, &self.luma);
        let (r, rest) = image.data.split_at_mut(n);
        let (g, b) = rest.split_at_mut(n);
        r.par_chunks_mut(w_chunk(size.0))
            .zip(g.par_chunks_mut(w_chunk(size.0)))
            .zip(b.par_chunks_mut(w_chunk(size.0)))
            .zip(change.par_chunks(w_chunk(size.0)).zip(luma.par_chunks(w_chunk(size.0))))
            .for_each(|(((r, g), b), (d, l))| recolour([r, g, b], d, l, gain));
    }

    /// Cel-shades stylized YUV planes in place: the luma plane `y` (`size`, codes from `black`
    /// to `white`: 16–235 limited range, 0–255 full) gets the tones, the chroma planes `u`, `v`
    /// (codes about 128) the saturation; `strength` `0..=1`.
    pub fn apply_yuv(
        &mut self,
        (y, u, v): (&mut [f32], &mut [f32], &mut [f32]),
        size: (usize, usize),
        (black, white): (f32, f32),
        strength: f32,
    ) {
        if strength <= 0.0 || size.0 == 0 || size.1 == 0 {
            return;
        }
        assert_eq!(y.len(), size.0 * size.1, "luma plane size");
        let strength = strength.min(MAX_STRENGTH);
        let tones = Tones { per_code: 255.0 / (white - black), black, strength };
        tone_changes(y, size, tones, (&mut self.decision, &mut self.scratch), &mut self.change);
        // Never pushed out of the code range (a detail below the blurred decision, at black):
        // clamped to it, or to the pixel's own code where the stylization already left it.
        y.par_iter_mut()
            .zip(self.change.par_iter())
            .with_min_len(4096)
            .for_each(|(v, d)| *v = (*v + d).clamp(black.min(*v), white.max(*v)));
        let gain = 1.0 + SATURATION_PER_STRENGTH * strength;
        for plane in [u, v] {
            plane.par_iter_mut().with_min_len(4096).for_each(|c| *c = 128.0 + gain * (*c - 128.0));
        }
    }
}

/// Whole rows of about 16 K pixels per parallel task.
fn w_chunk(w: usize) -> usize {
    w * (16384 / w.max(1)).max(1)
}

/// Adds `change` to R, G and B alike (luma moves, colour does not), and scales each pixel's
/// chroma about its luma by `gain`; clamped to the 0–255 gamut.
fn recolour(rgb: [&mut [f32]; 3], change: &[f32], luma: &[f32], gain: f32) {
    dispatch!(recolour_avx2, recolour_generic, (rgb, change, luma, gain))
}

with_avx2!(recolour_avx2, recolour_generic, (rgb: [&mut [f32]; 3], change: &[f32], luma: &[f32], gain: f32));

#[inline(always)]
fn recolour_generic([r, g, b]: [&mut [f32]; 3], change: &[f32], luma: &[f32], gain: f32) {
    let n = change.len();
    let (r, g, b, luma) = (&mut r[..n], &mut g[..n], &mut b[..n], &luma[..n]);
    for i in 0..n {
        let (l, d) = (luma[i], change[i]);
        r[i] = (l + d + gain * (r[i] - l)).clamp(0.0, 255.0);
        g[i] = (l + d + gain * (g[i] - l)).clamp(0.0, 255.0);
        b[i] = (l + d + gain * (b[i] - l)).clamp(0.0, 255.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grey(w: usize, h: usize, f: impl Fn(usize, usize) -> f32) -> Planes {
        Planes::from_fn(w, h, |_, x, y| f(x, y))
    }

    fn shaded(mut image: Planes, strength: f32) -> Planes {
        CelStage::default().apply_rgb(&mut image, strength);
        image
    }

    /// The share of neighbouring pixels along a row whose levels differ by less than `eps`.
    fn flat_share(row: &[f32], eps: f32) -> f32 {
        row.windows(2).filter(|p| (p[1] - p[0]).abs() < eps).count() as f32 / (row.len() - 1) as f32
    }

    #[test]
    fn a_shading_ramp_becomes_flat_tones_with_hard_steps_in_order() {
        // 0 → 255 over 128 pixels: 2 levels a pixel, a shaded surface.
        let out = shaded(grey(128, 12, |x, _| x as f32 * 2.0), 1.0);
        let row = &out.plane(0)[6 * 128..7 * 128];
        // The ramp has no flat pixel; the tones are flat but for the steps between them.
        assert!(flat_share(row, 0.5) > 0.6, "flat share {}", flat_share(row, 0.5));
        // Steps are hard: a few pixels carry most of the rise.
        let mut rises: Vec<f32> = row.windows(2).map(|p| p[1] - p[0]).collect();
        rises.sort_by(|a, b| b.partial_cmp(a).unwrap());
        let top: f32 = rises[..(BANDS as usize - 1) * 4].iter().sum();
        assert!(top > 0.7 * (row[127] - row[0]), "steepest {top} of {}", row[127] - row[0]);
        // Monotonic: brighter stays brighter.
        assert!(row.windows(2).all(|p| p[1] >= p[0] - 1e-3), "{row:?}");
        // The ends keep their side of the range.
        assert!(row[0] < 30.0 && row[127] > 225.0, "{} {}", row[0], row[127]);
    }

    #[test]
    fn a_gentle_gradient_like_a_sky_stays_graded_without_contour_bands() {
        // 100 → 125 over 128 pixels (0.2 levels a pixel), across a band edge at 102.
        let out = shaded(grey(128, 8, |x, _| 100.0 + x as f32 * 0.2), 1.0);
        let row = &out.plane(0)[4 * 128..5 * 128];
        let biggest = row.windows(2).map(|p| p[1] - p[0]).fold(0.0f32, f32::max);
        // No hard step: a band edge in a sky stays a gentle slope (the largest rise ≤ 2 levels).
        assert!(biggest < 2.0, "largest step {biggest}");
        assert!(row.windows(2).all(|p| p[1] >= p[0] - 1e-3));
    }

    #[test]
    fn strength_zero_changes_nothing_and_a_flat_field_stays_flat() {
        let image = grey(9, 7, |x, y| (x * 29 + y * 13) as f32);
        assert_eq!(shaded(image.clone(), 0.0), image);
        let flat = shaded(grey(16, 16, |_, _| 90.0), 1.0);
        let first = flat.data[0];
        assert!(flat.data.iter().all(|v| (v - first).abs() < 1e-3), "a flat field got texture");
    }

    #[test]
    fn rgb_keeps_the_hue_and_gains_saturation() {
        // A flat orange field: tone moves R, G and B alike, then chroma is scaled by 1.2.
        let image = Planes::from_fn(8, 8, |c, _, _| [220.0, 120.0, 40.0][c]);
        let out = shaded(image, 1.0);
        let px = |p: &Planes| [p.plane(0)[27], p.plane(1)[27], p.plane(2)[27]];
        let [r, g, b] = px(&out);
        let l_in = 0.299 * 220.0 + 0.587 * 120.0 + 0.114 * 40.0;
        let l_out = 0.299 * r + 0.587 * g + 0.114 * b;
        // Chroma about the luma: (R−L) and (B−L) scaled by the same gain, 1.2 (hue kept).
        let (gr, gb) = ((r - l_out) / (220.0 - l_in), (b - l_out) / (40.0 - l_in));
        assert!((gr - 1.2).abs() < 0.02 && (gb - 1.2).abs() < 0.02, "gains {gr} {gb}");
    }

    #[test]
    fn yuv_tones_the_luma_in_codes_and_scales_chroma_about_neutral() {
        let (w, h) = (64, 4);
        // Limited-range luma, a ramp 16 → 235 codes.
        let mut y: Vec<f32> = (0..w * h).map(|i| 16.0 + (i % w) as f32 * 219.0 / 63.0).collect();
        let before = y.clone();
        let (mut u, mut v) = (vec![138.0; 32 * 2], vec![118.0; 32 * 2]);
        CelStage::default().apply_yuv((&mut y, &mut u, &mut v), (w, h), (16.0, 235.0), 1.0);
        assert!(u.iter().all(|c| (c - 140.0).abs() < 1e-3) && v.iter().all(|c| (c - 116.0).abs() < 1e-3));
        assert!(y.iter().all(|c| (15.0..=236.0).contains(c)), "left the range");
        assert!(y[..w].windows(2).all(|p| p[1] >= p[0] - 1e-3));
        assert_ne!(y, before);
    }

    #[test]
    fn the_half_size_blur_scales_back_in_place() {
        // A ramp averaged 2×2 and scaled back is the same ramp, not shifted by half a pixel
        // (the first and last two rows and columns are clamped: an odd size's last row is
        // averaged with itself).
        for (w, h) in [(16, 5), (15, 4)] {
            let ramp: Vec<f32> = (0..w * h).map(|i| (i % w) as f32 * 4.0 + (i / w) as f32).collect();
            let (mut small, mut back) = (Vec::new(), Vec::new());
            halve(&ramp, (w, h), &mut small);
            double(&small, (w, h), &mut back);
            for y in 1..h - 2 {
                for x in 1..w - 2 {
                    let (want, got) = (ramp[y * w + x], back[y * w + x]);
                    assert!((want - got).abs() < 1e-3, "{w}x{h} at ({x}, {y}): {got}, want {want}");
                }
            }
        }
    }

    #[test]
    fn tiny_frames_are_fine() {
        for (w, h) in [(1, 1), (2, 3), (5, 1)] {
            let out = shaded(grey(w, h, |x, y| (x * 90 + y * 40) as f32), 1.0);
            assert!(out.data.iter().all(|v| v.is_finite() && (0.0..=255.0).contains(v)));
        }
    }
}
