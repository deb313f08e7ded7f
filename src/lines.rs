//! Ink lines and crisp borders drawn at the frame's size (`line-strength`).
//!
//! The network runs small (384×216 for a 720p frame). It decides what the picture becomes:
//! which regions are flattened, which borders stay. But the lines it draws are one or two
//! network pixels wide, and the way up to the frame washes every border it keeps into a soft
//! ramp three or four frame pixels wide. This stage redraws the kept borders at the frame's
//! own resolution, after the upsampling:
//!
//! 1. **Where**: a border counts as kept where the *stylized* luma still has a gradient
//!    ([`KEPT_ONSET`] … [`KEPT_FULL`] levels a pixel). Texture the network flattened (fur,
//!    foliage, sensor noise) has none left, so it gets no lines: this is what makes it ink
//!    and not an edge detector (raw XDoG on a photo turns fur into hatching).
//! 2. **Exactly where, and how sharp**: from the *frame's* luma (the camera's, full
//!    resolution), blurred narrowly (one `[1 2 1]/4` binomial pass each way, σ ≈ 0.7 px) and
//!    widely (two more, σ ≈ 1.2 px). A line is where the narrow blur is steep
//!    ([`EDGE_ONSET`] … [`EDGE_FULL`] levels a pixel) on the border's dark side (narrow below
//!    wide: a negative difference of Gaussians, as in XDoG, Winnemöller et al. 2012). There
//!    the luma loses up to [`DARKEN_PER_STRENGTH`] (0.8) of itself at `line-strength` 1 and
//!    0.96 at 2 (the same share again of what is left); on the bright side the frame's
//!    band-pass contrast is added back (`line-strength ×` [`CRISP_PER_STRENGTH`]), so the
//!    border is as crisp as the frame's.
//!
//! Every test is a smoothstep, not a threshold, which keeps lines from flickering on and off
//! between frames; the temporal filter then smooths them with the rest of the picture. RGB and
//! YUV frames get the same luma: on RGB a line scales R, G and B alike (a darker shade of the
//! region's colour) and the crisp side adds the same to each; on YUV only the luma plane
//! changes (a line one or two pixels wide has no room in subsampled chroma). The line sits against
//! the border (one to two pixels wide), so a small bright object (the paper on the grass in
//! `vtest.avi`) gets an outline touching it, not a ring around it.
//!
//! Cost: four frame-size passes of three taps and one of a few dozen flops a pixel (see
//! `cargo bench --bench element -- --only stages`).

use rayon::prelude::*;

use crate::frame_io::Planes;

/// The narrow blur's gradient (luma levels, 0–255, per pixel, central differences) where a
/// line starts, and where it is at full darkness. A sharp step of 100 levels has 37 at the
/// pixel against it (a full line) and 12 one further (a trace); one of 40 levels, 15 (a
/// faint line); a 100-level shading ramp over 8 pixels, 12 (a trace).
pub const EDGE_ONSET: f32 = 10.0;
pub const EDGE_FULL: f32 = 30.0;
/// The stylized image's gradient (levels a pixel) from which a border counts as kept by the
/// network, and where it counts fully. A border the network kept arrives from the upsampling
/// spread over three or four frame pixels: 100 levels of contrast make ~25 a pixel, 30 levels
/// ~7; texture the network flattened is left with 1–2.
pub const KEPT_ONSET: f32 = 2.0;
pub const KEPT_FULL: f32 = 8.0;
/// How far below the wide blur (levels) a pixel must be to count fully as the dark side.
pub const DARK_SIDE: f32 = 3.0;
/// The share of a pixel's luma a full line takes away at `line-strength` 1; strength 2 takes
/// the same share again of what is left (0.8 → 0.96: a line never goes fully black).
pub const DARKEN_PER_STRENGTH: f32 = 0.8;
/// How much of the frame's own band-pass contrast (narrow minus wide blur) is added back on
/// the bright side of a kept border, per unit of `line-strength`: the border is as crisp as
/// the frame's, with the line on its dark side.
pub const CRISP_PER_STRENGTH: f32 = 1.0;
/// The largest `line-strength` (the model contract's, so a model cannot ask for more).
pub const MAX_STRENGTH: f32 = animestyle_model::contract::MAX_LINE_STRENGTH;

/// Rows per parallel task: each band blurs its rows (and a few above and below) in scratch
/// rows that stay in cache, instead of writing whole blurred planes.
const BAND: usize = 24;
/// Rows above and below a band its blurs read: 1 (narrow) + 2 (wide) + 1 (vertical gradient).
const HALO: usize = 3;

/// Pixels per parallel task of the per-pixel RGB passes (luma, shading).
const CHUNK: usize = 16384;

/// BT.601 luma weights. Lines are a luma effect; which matrix measures luma changes the
/// darkness by a level or two at most.
const LUMA: [f32; 3] = [0.299, 0.587, 0.114];

/// The scratch planes of the line stage, reused from frame to frame.
#[derive(Debug, Default, Clone)]
pub struct LineStage {
    /// The stylized luma.
    luma: Vec<f32>,
    /// The frame's luma (packed frames).
    source_luma: Vec<f32>,
    /// The luma change of each pixel.
    change: Vec<f32>,
}

#[inline]
pub(crate) fn smoothstep(t: f32) -> f32 {
    let t = t.clamp(0.0, 1.0);
    t * t * (3.0 - 2.0 * t)
}

/// The constants of one frame's line pass.
#[derive(Clone, Copy)]
struct Ink {
    /// Levels (0–255) per code of the planes.
    per_code: f32,
    black: f32,
    strength: f32,
}

impl Ink {
    /// The luma change (codes) of one pixel: `stylized` its stylized luma, `(sx, sy)` the
    /// stylized luma's central differences, `(nx, ny)` those of the frame's narrow blur and
    /// `dog` the narrow minus the wide blur (all codes).
    #[inline(always)]
    fn change(&self, stylized: f32, (sx, sy): (f32, f32), (nx, ny): (f32, f32), dog: f32) -> f32 {
        let k = self.per_code * 0.5;
        // Where: the network kept a border here.
        let kept = smoothstep(((sx * sx + sy * sy).sqrt() * k - KEPT_ONSET) * (1.0 / (KEPT_FULL - KEPT_ONSET)));
        // Exactly where: steep in the frame, and on its dark side (line) or bright side (crisp).
        let edge = smoothstep(((nx * nx + ny * ny).sqrt() * k - EDGE_ONSET) * (1.0 / (EDGE_FULL - EDGE_ONSET)));
        let dog = dog * self.per_code;
        let dark_side = smoothstep(-dog * (1.0 / DARK_SIDE));
        // A full line takes DARKEN_PER_STRENGTH of the luma at strength 1, and the same share
        // of what is left over the second unit (exact at 0, 1 and 2; linear in between).
        let share = edge * dark_side * DARKEN_PER_STRENGTH;
        let (first, second) = (self.strength.min(1.0), (self.strength - 1.0).max(0.0));
        let line = share * (first + second * (1.0 - share));
        let crisp = edge * CRISP_PER_STRENGTH * self.strength * dog.max(0.0);
        kept * (crisp / self.per_code - line * (stylized - self.black).max(0.0))
    }
}

/// `dst[x] = (s[x−1] + 2·s[x] + s[x+1]) / 4`, edges clamped.
#[inline(always)]
fn binomial3_row(s: &[f32], dst: &mut [f32]) {
    let w = s.len();
    if w < 3 {
        for x in 0..w {
            dst[x] = (s[x.saturating_sub(1)] + 2.0 * s[x] + s[(x + 1).min(w - 1)]) * 0.25;
        }
        return;
    }
    dst[0] = (3.0 * s[0] + s[1]) * 0.25;
    dst[w - 1] = (3.0 * s[w - 1] + s[w - 2]) * 0.25;
    for (((d, a), b), c) in dst[1..w - 1].iter_mut().zip(&s[..w - 2]).zip(&s[1..w - 1]).zip(&s[2..]) {
        *d = (a + 2.0 * b + c) * 0.25;
    }
}

/// `dst[x] = (s[x−2] + 4·s[x−1] + 6·s[x] + 4·s[x+1] + s[x+2]) / 16`, edges clamped: two
/// [`binomial3_row`] passes in one.
#[inline(always)]
fn binomial5_row(s: &[f32], dst: &mut [f32]) {
    let w = s.len();
    let at = |x: isize| s[x.clamp(0, w as isize - 1) as usize];
    let slow = |x: usize| {
        let x = x as isize;
        (at(x - 2) + 4.0 * at(x - 1) + 6.0 * at(x) + 4.0 * at(x + 1) + at(x + 2)) * (1.0 / 16.0)
    };
    if w < 5 {
        for (x, d) in dst.iter_mut().enumerate() {
            *d = slow(x);
        }
        return;
    }
    for x in [0, 1, w - 2, w - 1] {
        dst[x] = slow(x);
    }
    let n = w - 4;
    for (((((d, a), b), c), e), f) in
        dst[2..w - 2].iter_mut().zip(&s[..n]).zip(&s[1..n + 1]).zip(&s[2..n + 2]).zip(&s[3..n + 3]).zip(&s[4..n + 4])
    {
        *d = (a + 4.0 * b + 6.0 * c + 4.0 * e + f) * (1.0 / 16.0);
    }
}

/// Central differences of a row, edges one-sided (clamped): `dst[x] = s[x+1] − s[x−1]`.
#[inline(always)]
fn diff_row(s: &[f32], dst: &mut [f32]) {
    let w = s.len();
    if w < 3 {
        for x in 0..w {
            dst[x] = s[(x + 1).min(w - 1)] - s[x.saturating_sub(1)];
        }
        return;
    }
    dst[0] = s[1] - s[0];
    dst[w - 1] = s[w - 1] - s[w - 2];
    for ((d, a), c) in dst[1..w - 1].iter_mut().zip(&s[..w - 2]).zip(&s[2..]) {
        *d = c - a;
    }
}

std::thread_local! {
    /// Each thread's band scratch rows, kept from frame to frame.
    static BAND_SCRATCH: std::cell::RefCell<Vec<f32>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The luma change of each pixel, into `change` (codes): lines placed by `source` (the frame's
/// luma) where `stylized` (the stylized luma) keeps a border; both `size` planes.
///
/// The blurs are computed a band of rows at a time in scratch rows: the frame's rows blurred
/// horizontally, the narrow blur (3×3 binomial), its horizontal 5-tap binomial, then per row
/// the wide blur (the narrow one's 5×5 binomial: three binomial passes in all) and the pixel's
/// change. Every inner loop runs over whole row slices, so it vectorises.
fn line_changes((source, stylized): (&[f32], &[f32]), size: (usize, usize), ink: Ink, change: &mut [f32]) {
    let w = size.0;
    change.par_chunks_mut(w * BAND).enumerate().for_each(|(band, out)| {
        BAND_SCRATCH.with_borrow_mut(|scratch| band_changes((source, stylized), size, ink, (band, out), scratch));
    });
}

/// [`line_changes`] for the rows of band `band` (`out`), with `scratch` for its rows.
fn band_changes(
    planes: (&[f32], &[f32]),
    size: (usize, usize),
    ink: Ink,
    out: (usize, &mut [f32]),
    scratch: &mut Vec<f32>,
) {
    dispatch!(band_changes_avx2, band_changes_generic, (planes, size, ink, out, scratch))
}

with_avx2!(band_changes_avx2, band_changes_generic, (planes: (&[f32], &[f32]), size: (usize, usize), ink: Ink, out: (usize, &mut [f32]), scratch: &mut Vec<f32>));

#[inline(always)]
fn band_changes_generic(
    (source, stylized): (&[f32], &[f32]),
    size: (usize, usize),
    ink: Ink,
    (band, out): (usize, &mut [f32]),
    scratch: &mut Vec<f32>,
) {
    let (w, h) = size;
    // The range of frame row `y`, clamped to the frame.
    let row = |y: isize| -> std::ops::Range<usize> {
        let y = y.clamp(0, h as isize - 1) as usize;
        y * w..(y + 1) * w
    };
    let y0 = (band * BAND) as isize;
    let rows = out.len() / w;
    let span = rows + 2 * HALO;
    // Rows y0−HALO … y0+rows+HALO−1 (clamped) of: the source blurred horizontally,
    // the narrow blur, the narrow blur's horizontal 5-tap blur; then row temporaries.
    scratch.resize(3 * span * w + 6 * w, 0.0);
    let (horizontal, rest) = scratch.split_at_mut(span * w);
    let (narrow, rest) = rest.split_at_mut(span * w);
    let (narrow5, rest) = rest.split_at_mut(span * w);
    let (wide, rest) = rest.split_at_mut(w);
    let (nx, rest) = rest.split_at_mut(w);
    let (ny, rest) = rest.split_at_mut(w);
    let (sx, rest) = rest.split_at_mut(w);
    let (sy, _) = rest.split_at_mut(w);
    let local = |r: isize| (r - (y0 - HALO as isize)) as usize;
    for r in 0..span {
        let y = y0 - HALO as isize + r as isize;
        binomial3_row(&source[row(y)], &mut horizontal[r * w..(r + 1) * w]);
    }
    // The narrow blur's vertical pass, clamped at the frame's top and bottom (and at
    // the span's outermost rows, whose narrow blur nothing reads).
    let (first, last) = (y0 - HALO as isize, y0 + (span - HALO) as isize - 1);
    for r in 0..span {
        let y = y0 - HALO as isize + r as isize;
        let at = |y: isize| local(y.clamp(0, h as isize - 1).clamp(first, last)) * w;
        let (a, b, c) = (at(y - 1), at(y), at(y + 1));
        let dst = &mut narrow[r * w..(r + 1) * w];
        for (((d, a), b), c) in
            dst.iter_mut().zip(&horizontal[a..a + w]).zip(&horizontal[b..b + w]).zip(&horizontal[c..c + w])
        {
            *d = (a + 2.0 * b + c) * 0.25;
        }
        binomial5_row(&narrow[r * w..(r + 1) * w], &mut narrow5[r * w..(r + 1) * w]);
    }
    for (i, out) in out.chunks_exact_mut(w).enumerate() {
        let y = y0 + i as isize;
        let at = |y: isize| local(y.clamp(0, h as isize - 1)) * w;
        let n5 = |d: isize| &narrow5[at(y + d)..at(y + d) + w];
        for (((((d, a), b), c), e), f) in wide.iter_mut().zip(n5(-2)).zip(n5(-1)).zip(n5(0)).zip(n5(1)).zip(n5(2)) {
            *d = (a + 4.0 * b + 6.0 * c + 4.0 * e + f) * (1.0 / 16.0);
        }
        let nr = |d: isize| &narrow[at(y + d)..at(y + d) + w];
        diff_row(nr(0), nx);
        for ((d, a), c) in ny.iter_mut().zip(nr(-1)).zip(nr(1)) {
            *d = c - a;
        }
        let sr = |d: isize| &stylized[row(y + d)];
        diff_row(sr(0), sx);
        for ((d, a), c) in sy.iter_mut().zip(sr(-1)).zip(sr(1)) {
            *d = c - a;
        }
        let pixels =
            out.iter_mut().zip(sr(0)).zip(sx.iter().zip(&*sy)).zip(nx.iter().zip(&*ny)).zip(nr(0).iter().zip(&*wide));
        for ((((o, &styl), (&sx, &sy)), (&nx, &ny)), (&n, &wd)) in pixels {
            *o = ink.change(styl, (sx, sy), (nx, ny), n - wd);
        }
    }
}

impl LineStage {
    /// Draws lines on a stylized RGB image (`0..=255` planes) in place, placed by `source`
    /// (the frame, the same size) or, without one, by the image itself.
    pub fn apply_rgb(&mut self, image: &mut Planes, source: Option<&Planes>, strength: f32) {
        if strength <= 0.0 || image.width == 0 || image.height == 0 {
            return;
        }
        let size = (image.width, image.height);
        let n = size.0 * size.1;
        rgb_luma(image, &mut self.luma);
        if let Some(source) = source {
            assert_eq!((source.width, source.height), size, "line source size");
            rgb_luma(source, &mut self.source_luma);
        }
        let source = if source.is_some() { &self.source_luma } else { &self.luma };
        self.change.resize(n, 0.0);
        line_changes((source, &self.luma), size, Ink { per_code: 1.0, black: 0.0, strength }, &mut self.change);
        // A line (a negative change) scales R, G and B by the same factor, a darker shade of
        // the region's colour that never leaves the gamut; the crisp bright side (positive)
        // adds the same to each. Either way luma changes by exactly `change`.
        let (change, luma) = (&self.change, &self.luma);
        let (r, rest) = image.data.split_at_mut(n);
        let (g, b) = rest.split_at_mut(n);
        r.par_chunks_mut(CHUNK)
            .zip(g.par_chunks_mut(CHUNK))
            .zip(b.par_chunks_mut(CHUNK))
            .zip(change.par_chunks(CHUNK).zip(luma.par_chunks(CHUNK)))
            .for_each(|(((r, g), b), (d, l))| shade([r, g, b], d, l));
    }

    /// Draws lines on a stylized luma plane (`size`, codes from `black` to `white`: 16–235
    /// for limited range, 0–255 for full) in place, placed by `source` (the frame's luma
    /// plane) or, without one, by the plane itself.
    pub fn apply_luma(
        &mut self,
        (y, source): (&mut [f32], Option<&[f32]>),
        size: (usize, usize),
        (black, white): (f32, f32),
        strength: f32,
    ) {
        if strength <= 0.0 || size.0 == 0 || size.1 == 0 {
            return;
        }
        assert_eq!(y.len(), size.0 * size.1, "luma plane size");
        assert!(source.is_none_or(|s| s.len() == y.len()), "line source size");
        // The thresholds are in 0–255 levels: limited-range codes are 219/255 of them.
        let per_code = 255.0 / (white - black);
        self.change.resize(y.len(), 0.0);
        line_changes((source.unwrap_or(&*y), &*y), size, Ink { per_code, black, strength }, &mut self.change);
        let change = &self.change;
        y.par_iter_mut().zip(change.par_iter()).with_min_len(4096).for_each(|(v, d)| *v += d);
    }
}

/// Applies luma changes `change` to R, G, B pixels of luma `luma`: a line (a negative change,
/// which implies a positive luma: it is a share of it) scales the three alike, the crisp side
/// (positive) adds the same to each.
fn shade(rgb: [&mut [f32]; 3], change: &[f32], luma: &[f32]) {
    dispatch!(shade_avx2, shade_generic, (rgb, change, luma))
}

with_avx2!(shade_avx2, shade_generic, (rgb: [&mut [f32]; 3], change: &[f32], luma: &[f32]));

#[inline(always)]
fn shade_generic([r, g, b]: [&mut [f32]; 3], change: &[f32], luma: &[f32]) {
    let n = change.len();
    let (r, g, b, luma) = (&mut r[..n], &mut g[..n], &mut b[..n], &luma[..n]);
    for i in 0..n {
        let d = change[i];
        let (scale, add) = (1.0 + d.min(0.0) / luma[i].max(1e-6), d.max(0.0));
        r[i] = r[i] * scale + add;
        g[i] = g[i] * scale + add;
        b[i] = b[i] * scale + add;
    }
}

/// BT.601 luma of RGB planes into `luma`.
pub(crate) fn rgb_luma(image: &Planes, luma: &mut Vec<f32>) {
    let n = image.width * image.height;
    luma.resize(n, 0.0);
    let (r, rest) = image.data.split_at(n);
    let (g, b) = rest.split_at(n);
    luma.par_chunks_mut(CHUNK)
        .zip(r.par_chunks(CHUNK).zip(g.par_chunks(CHUNK)).zip(b.par_chunks(CHUNK)))
        .for_each(|(l, ((r, g), b))| luma_of(l, [r, g, b]));
}

fn luma_of(luma: &mut [f32], rgb: [&[f32]; 3]) {
    dispatch!(luma_of_avx2, luma_of_generic, (luma, rgb))
}

with_avx2!(luma_of_avx2, luma_of_generic, (luma: &mut [f32], rgb: [&[f32]; 3]));

#[inline(always)]
fn luma_of_generic(luma: &mut [f32], [r, g, b]: [&[f32]; 3]) {
    let n = luma.len();
    let (r, g, b) = (&r[..n], &g[..n], &b[..n]);
    for i in 0..n {
        luma[i] = LUMA[0] * r[i] + LUMA[1] * g[i] + LUMA[2] * b[i];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A grey RGB image from a luma function.
    fn grey(w: usize, h: usize, f: impl Fn(usize, usize) -> f32) -> Planes {
        Planes::from_fn(w, h, |_, x, y| f(x, y))
    }

    fn lined(mut image: Planes, strength: f32) -> Planes {
        LineStage::default().apply_rgb(&mut image, None, strength);
        image
    }

    /// A vertical step from 50 to 150 at x = 10.
    fn step(x: usize, _: usize) -> f32 {
        if x < 10 { 50.0 } else { 150.0 }
    }

    #[test]
    fn a_step_edge_gets_a_dark_line_on_its_dark_side_only() {
        let out = lined(grey(20, 6, step), 1.0);
        let row = |x: usize| out.plane(0)[2 * 20 + x];
        // The pixel against the edge on its dark side loses most of its luma (a full line
        // takes 80%), the next one a trace: a line one to two pixels wide.
        assert!(row(9) < 50.0 * 0.6, "{}", row(9));
        assert!((45.0..=50.0).contains(&row(8)), "{}", row(8));
        // The pixel against it on the bright side gets the step's contrast back (the band-pass
        // of the narrow and wide blurs, +9.4 levels); everything further away keeps its value.
        assert!((155.0..162.0).contains(&row(10)), "{}", row(10));
        for x in (0..8).chain(11..20) {
            assert!((row(x) - step(x, 0)).abs() < 0.5, "x {x}: {}", row(x));
        }
    }

    #[test]
    fn more_strength_darkens_lines_more_and_zero_leaves_the_image_alone() {
        let input = grey(20, 6, step);
        let at = |p: &Planes| p.plane(1)[2 * 20 + 9];
        let [none, light, default, heavy] = [0.0, 0.5, 1.0, 2.0].map(|s| at(&lined(input.clone(), s)));
        assert_eq!(lined(input.clone(), 0.0), input);
        assert!(none > light && light > default && default > heavy, "{none} {light} {default} {heavy}");
        // Heavy is close to black, never negative.
        assert!((0.0..10.0).contains(&heavy), "{heavy}");
    }

    #[test]
    fn flat_regions_and_soft_shading_get_no_lines() {
        let flat = grey(16, 16, |_, _| 120.0);
        assert_eq!(lined(flat.clone(), 2.0), flat);
        // A 100-level ramp over 8 pixels: shading, not a border.
        let ramp = grey(32, 4, |x, _| (x as f32 * 12.5).clamp(50.0, 150.0));
        let out = lined(ramp.clone(), 1.0);
        let worst = out.data.iter().zip(&ramp.data).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
        assert!(worst < 1.0, "a shading ramp changed by {worst} levels");
    }

    #[test]
    fn a_small_bright_object_gets_a_thin_outline_not_a_halo() {
        // A 3×3 white square on dark grass: darkened only within 2 pixels of it.
        let (w, h) = (21, 21);
        let input = grey(w, h, |x, y| if (9..12).contains(&x) && (9..12).contains(&y) { 230.0 } else { 80.0 });
        let out = lined(input.clone(), 2.0);
        for y in 0..h {
            for x in 0..w {
                let d = x.abs_diff(10).max(y.abs_diff(10));
                let change = input.plane(0)[y * w + x] - out.plane(0)[y * w + x];
                if d > 3 {
                    assert!(change.abs() < 0.5, "({x},{y}) {d} px from the centre darkened by {change}");
                }
                // The object itself is not darkened (its contrast comes back: brighter).
                if d <= 1 {
                    assert!(change < 0.5, "the object darkened at ({x},{y}): {change}");
                }
            }
        }
        assert!(input.plane(0)[10 * w + 8] - out.plane(0)[10 * w + 8] > 20.0, "no outline");
    }

    #[test]
    fn lines_follow_the_frames_border_where_the_stylized_image_keeps_one() {
        // The stylized image has the step spread over 4 pixels (a network-size border brought
        // up); the frame has it sharp. The line lands against the frame's border.
        let (w, h) = (20, 6);
        let soft = grey(w, h, |x, _| (50.0 + (x as f32 - 7.5) * 25.0).clamp(50.0, 150.0));
        let sharp = grey(w, h, step);
        let mut out = soft.clone();
        LineStage::default().apply_rgb(&mut out, Some(&sharp), 1.0);
        let change = |x: usize| soft.plane(0)[2 * w + x] - out.plane(0)[2 * w + x];
        assert!(change(9) > 0.3 * soft.plane(0)[2 * w + 9], "no line against the border: {}", change(9));
        for x in (0..8).chain(10..w) {
            assert!(change(x) < 3.0, "x {x} darkened by {}", change(x));
        }
    }

    #[test]
    fn texture_the_stylized_image_flattened_gets_no_lines() {
        // Fur in the frame (a fine, high-contrast checker), flat in the stylized image.
        let (w, h) = (24, 24);
        let fur = grey(w, h, |x, y| if (x / 2 + y / 2) % 2 == 0 { 40.0 } else { 200.0 });
        let flat = grey(w, h, |_, _| 120.0);
        let mut out = flat.clone();
        LineStage::default().apply_rgb(&mut out, Some(&fur), 2.0);
        assert_eq!(out, flat);
    }

    #[test]
    fn rgb_and_yuv_frames_get_the_same_luma_and_lines_keep_the_colours_hue() {
        // A coloured step: the RGB output's luma equals what the luma path makes of a
        // full-range Y plane of the same image; a line scales R, G and B by one factor (a
        // darker shade of the same colour), the crisp side adds one amount to each.
        let (w, h) = (20, 6);
        let colour =
            Planes::from_fn(w, h, |c, x, _| if x < 10 { [90.0, 40.0, 30.0][c] } else { [200.0, 180.0, 120.0][c] });
        let out = lined(colour.clone(), 1.0);
        let n = w * h;
        let luma_of =
            |p: &Planes, i: usize| LUMA[0] * p.data[i] + LUMA[1] * p.data[n + i] + LUMA[2] * p.data[2 * n + i];
        let mut luma: Vec<f32> = (0..n).map(|i| luma_of(&colour, i)).collect();
        LineStage::default().apply_luma((&mut luma, None), (w, h), (0.0, 255.0), 1.0);
        for (i, &yuv) in luma.iter().enumerate() {
            assert!((luma_of(&out, i) - yuv).abs() < 1e-2, "pixel {i}: rgb {} yuv {yuv}", luma_of(&out, i));
            let [r0, g0, b0] = [0, 1, 2].map(|c| colour.data[c * n + i]);
            let [r, g, b] = [0, 1, 2].map(|c| out.data[c * n + i]);
            if luma_of(&out, i) < luma_of(&colour, i) {
                assert!(
                    (r / r0 - g / g0).abs() < 1e-4 && (g / g0 - b / b0).abs() < 1e-4,
                    "line pixel {i}: hue changed"
                );
            } else {
                assert!(
                    (r - r0 - (g - g0)).abs() < 1e-3 && (g - g0 - (b - b0)).abs() < 1e-3,
                    "pixel {i}: chroma changed"
                );
            }
        }
        // There is a line, and a crisp side.
        assert!(luma_of(&out, 2 * w + 9) < 0.7 * luma_of(&colour, 2 * w + 9));
        assert!(luma_of(&out, 2 * w + 10) > luma_of(&colour, 2 * w + 10) + 3.0);
    }

    #[test]
    fn limited_range_luma_gets_the_same_lines_in_its_codes() {
        // The same step in limited-range codes (16 + v·219/255) is darkened by the same share.
        let (w, h) = (20, 4);
        let full: Vec<f32> = (0..w * h).map(|i| step(i % w, 0)).collect();
        let mut limited: Vec<f32> = full.iter().map(|v| 16.0 + v * 219.0 / 255.0).collect();
        let mut full_out = full.clone();
        let mut stage = LineStage::default();
        stage.apply_luma((&mut full_out, None), (w, h), (0.0, 255.0), 1.0);
        stage.apply_luma((&mut limited, None), (w, h), (16.0, 235.0), 1.0);
        for (f, l) in full_out.iter().zip(&limited) {
            assert!((16.0 + f * 219.0 / 255.0 - l).abs() < 0.05, "{f} vs {l}");
        }
    }

    /// The same line pass written plainly over whole planes, clamped at the edges.
    fn reference(source: &[f32], stylized: &[f32], (w, h): (usize, usize), ink: Ink) -> Vec<f32> {
        let at = |p: &[f32], x: isize, y: isize| {
            p[y.clamp(0, h as isize - 1) as usize * w + x.clamp(0, w as isize - 1) as usize]
        };
        let blur = |p: &[f32], taps: &[f32]| -> Vec<f32> {
            let r = taps.len() as isize / 2;
            let sum: f32 = taps.iter().sum();
            let horizontal: Vec<f32> = (0..w * h)
                .map(|i| {
                    let (x, y) = ((i % w) as isize, (i / w) as isize);
                    taps.iter().enumerate().map(|(k, t)| t * at(p, x + k as isize - r, y)).sum::<f32>() / sum
                })
                .collect();
            (0..w * h)
                .map(|i| {
                    let (x, y) = ((i % w) as isize, (i / w) as isize);
                    taps.iter().enumerate().map(|(k, t)| t * at(&horizontal, x, y + k as isize - r)).sum::<f32>() / sum
                })
                .collect()
        };
        let narrow = blur(source, &[1.0, 2.0, 1.0]);
        let wide = blur(&narrow, &[1.0, 4.0, 6.0, 4.0, 1.0]);
        let diff =
            |p: &[f32], x: isize, y: isize| (at(p, x + 1, y) - at(p, x - 1, y), at(p, x, y + 1) - at(p, x, y - 1));
        (0..w * h)
            .map(|i| {
                let (x, y) = ((i % w) as isize, (i / w) as isize);
                ink.change(stylized[i], diff(stylized, x, y), diff(&narrow, x, y), narrow[i] - wide[i])
            })
            .collect()
    }

    #[test]
    fn the_banded_pass_equals_the_plain_one_across_band_borders() {
        // 101 rows: four bands and a short one; shapes crossing every band border.
        let (w, h) = (37, 101);
        let source: Vec<f32> = (0..w * h)
            .map(|i| {
                let (x, y) = ((i % w) as f32, (i / w) as f32);
                if ((x - 18.0).powi(2) + (y - 50.0).powi(2)).sqrt() < 30.0 { 190.0 } else { 40.0 + (y * 0.7) }
            })
            .collect();
        let stylized: Vec<f32> = source.iter().enumerate().map(|(i, v)| v * 0.9 + (i % 7) as f32).collect();
        let ink = Ink { per_code: 1.0, black: 0.0, strength: 1.5 };
        let mut banded = vec![0.0; w * h];
        line_changes((&source, &stylized), (w, h), ink, &mut banded);
        let plain = reference(&source, &stylized, (w, h), ink);
        for (i, (a, b)) in banded.iter().zip(&plain).enumerate() {
            assert!((a - b).abs() < 1e-3, "pixel ({}, {}): banded {a} plain {b}", i % w, i / w);
        }
        assert!(plain.iter().filter(|v| v.abs() > 5.0).count() > 50, "the test image draws lines");
    }

    #[test]
    fn tiny_frames_do_not_panic() {
        for (w, h) in [(1, 1), (2, 1), (1, 3), (2, 2), (3, 1)] {
            let input = grey(w, h, |x, y| ((x + y) % 2) as f32 * 200.0);
            let out = lined(input, 2.0);
            assert!(out.data.iter().all(|v| v.is_finite() && *v >= 0.0));
        }
    }
}
