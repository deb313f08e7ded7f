//! Measures of how *drawn* an image reads, on the image alone (no reference): what separates a
//! drawing from a photo on the project's own corpus (issue #25). Both are computed on the BT.601
//! luma of an image whose short side is about 720 px (the `evaluate` frame), so thresholds in
//! levels and pixels mean the same thing for every image.
//!
//! - [`edge_crispness`]: drawings change tone in steps (crisp borders, ink lines) and hardly
//!   at all inside regions; photos ramp. The ratio of strong to weak gradient pixels is several
//!   times higher for drawings (Ren'Py art 0.53, photos 0.12 at 720p).
//! - [`ink_share`]: the share of pixels on a thin dark stroke: darker by more than
//!   [`INK_DEPTH`] levels than the brightest pixel within [`INK_REACH`] px on *both* sides, along
//!   a row or a column — a line up to about 2·reach − 1 px wide. Photos have few (edges there
//!   are steps, not valleys); line art has many.

use super::{Rgb8, gradient2};

/// Sobel magnitude (unnormalised 3×3 kernel, luma in levels) at or above which a pixel is a
/// strong edge: a step of 48 levels across one pixel.
pub const STRONG_GRADIENT: f32 = 192.0;
/// Weak-gradient band [`WEAK_GRADIENT`]: a soft ramp of about 4 to 16 levels per pixel — the
/// shading a drawing leaves out. Below it is flat or noise.
pub const WEAK_GRADIENT: (f32, f32) = (16.0, 64.0);
/// How much darker than both sides a stroke pixel is, in levels.
pub const INK_DEPTH: f32 = 40.0;
/// How far to each side the stroke's surroundings are looked for, in pixels.
pub const INK_REACH: usize = 3;

/// Strong-edge pixels per weak-gradient pixel (see the module notes): 0 for an image with no
/// strong edge; an image with no weak gradient at all counts its strong edges against one pixel.
pub fn edge_crispness(img: Rgb8) -> f64 {
    // Squared magnitudes against squared thresholds: no square root per pixel.
    let g2 = gradient2(img);
    let (strong2, weak2) = (STRONG_GRADIENT * STRONG_GRADIENT, (WEAK_GRADIENT.0.powi(2), WEAK_GRADIENT.1.powi(2)));
    let strong = g2.iter().filter(|v| **v >= strong2).count();
    let weak = g2.iter().filter(|v| (weak2.0..weak2.1).contains(*v)).count();
    strong as f64 / weak.max(1) as f64
}

/// Whether `line[i]` sits in a valley deeper than [`INK_DEPTH`] with walls within
/// [`INK_REACH`] on both sides.
fn in_valley(line: &[f32], i: usize) -> bool {
    let n = line.len();
    if i < 1 || i + 1 >= n {
        return false;
    }
    let left = line[i.saturating_sub(INK_REACH)..i].iter().copied().fold(f32::MIN, f32::max);
    let right = line[i + 1..(i + 1 + INK_REACH).min(n)].iter().copied().fold(f32::MIN, f32::max);
    left.min(right) - line[i] > INK_DEPTH
}

/// Share of the image's pixels (0–1) that lie on a thin dark stroke (see the module notes).
pub fn ink_share(img: Rgb8) -> f64 {
    let (w, h) = (img.width, img.height);
    if w == 0 || h == 0 {
        return 0.0;
    }
    let l = img.luma();
    let mut ink = vec![false; w * h];
    for (y, row) in l.chunks_exact(w).enumerate() {
        for x in 0..w {
            ink[y * w + x] = in_valley(row, x);
        }
    }
    let mut column = vec![0.0; h];
    for x in 0..w {
        for (y, v) in column.iter_mut().enumerate() {
            *v = l[y * w + x];
        }
        for y in 0..h {
            ink[y * w + x] |= in_valley(&column, y);
        }
    }
    ink.iter().filter(|v| **v).count() as f64 / (w * h) as f64
}

/// Both measures of one image.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Drawnness {
    pub crispness: f64,
    pub ink_share: f64,
}

pub fn drawnness(img: Rgb8) -> Drawnness {
    Drawnness { crispness: edge_crispness(img), ink_share: ink_share(img) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grey(w: usize, h: usize, f: impl Fn(usize, usize) -> f32) -> Vec<u8> {
        (0..h)
            .flat_map(|y| (0..w).map(move |x| (x, y)))
            .flat_map(|(x, y)| [f(x, y).clamp(0.0, 255.0) as u8; 3])
            .collect()
    }

    /// Flat regions with 1–2 px dark outlines, as line art is drawn.
    fn cel(x: usize, y: usize) -> f32 {
        let ring = ((x as f32 - 48.0).powi(2) + (y as f32 - 40.0).powi(2)).sqrt();
        if (ring - 24.0).abs() < 1.0 || x == 10 || y == 70 {
            20.0
        } else if ring < 24.0 {
            200.0
        } else {
            120.0
        }
    }

    /// The same scene as a photo sees it: soft shading ramps and texture, edges as blurred steps.
    fn photo(x: usize, y: usize) -> f32 {
        let ring = ((x as f32 - 48.0).powi(2) + (y as f32 - 40.0).powi(2)).sqrt();
        let step = 1.0 / (1.0 + ((ring - 24.0) / 2.5).exp());
        let texture = ((x * 7919 + y * 104729) % 9) as f32;
        90.0 + 60.0 * step + 0.6 * x as f32 + texture
    }

    #[test]
    fn line_art_is_crisper_and_inkier_than_a_photo_of_the_same_scene() {
        let (w, h) = (96, 80);
        let drawn = grey(w, h, cel);
        let photo = grey(w, h, photo);
        let d = drawnness(Rgb8::new(w, h, &drawn));
        let p = drawnness(Rgb8::new(w, h, &photo));
        assert!(d.crispness > 5.0 * p.crispness.max(0.01), "drawn {d:?} photo {p:?}");
        assert!(d.ink_share > 0.03 && p.ink_share < 0.001, "drawn {d:?} photo {p:?}");
    }

    #[test]
    fn a_step_edge_is_crisp_but_not_ink_and_a_thin_line_is_ink() {
        let (w, h) = (40, 20);
        let step = grey(w, h, |x, _| if x < 20 { 40.0 } else { 200.0 });
        let s = drawnness(Rgb8::new(w, h, &step));
        assert!(s.crispness > 1.0, "{s:?}");
        assert_eq!(s.ink_share, 0.0, "a border between two tones is not a stroke");
        // A 3 px dark line on white: strokes up to 2·reach − 1 wide count, wider bands do not.
        let line = grey(w, h, |x, _| if (18..21).contains(&x) { 30.0 } else { 230.0 });
        assert!((ink_share(Rgb8::new(w, h, &line)) - 3.0 / 40.0).abs() < 1e-9);
        let band = grey(w, h, |x, _| if (10..30).contains(&x) { 30.0 } else { 230.0 });
        assert_eq!(ink_share(Rgb8::new(w, h, &band)), 0.0);
        // A faint line (20 levels) is not ink.
        let faint = grey(w, h, |x, _| if x == 20 { 210.0 } else { 230.0 });
        assert_eq!(ink_share(Rgb8::new(w, h, &faint)), 0.0);
    }

    #[test]
    fn flat_and_tiny_images_are_measured_without_panicking() {
        for (w, h) in [(0, 0), (1, 1), (2, 3), (5, 1), (1, 7)] {
            let flat = vec![128u8; w * h * 3];
            let d = drawnness(Rgb8::new(w, h, &flat));
            assert_eq!(d, Drawnness { crispness: 0.0, ink_share: 0.0 }, "{w}x{h}");
        }
        // A soft ramp only: weak gradients, no strong ones.
        let ramp = grey(64, 8, |x, _| 4.0 * x as f32);
        assert_eq!(edge_crispness(Rgb8::new(64, 8, &ramp)), 0.0);
    }
}
