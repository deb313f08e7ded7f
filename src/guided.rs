//! Edge-aware upsampling of the network's low-resolution output: the fast guided filter
//! (He & Sun 2015, "Fast Guided Filter"), with the colour guide of the guided filter (He, Sun &
//! Tang 2013, eq. 13).
//!
//! The network stylizes a reduced copy of the frame. Scaling its output back up with a plain
//! bilinear resize smears every line over `frame / network` pixels. Instead, at low resolution
//! each output channel `p_c` is fitted, in every `(2r+1)²` window, as a linear function of the
//! RGB colour `I` of the image the network saw: `p_c ≈ a_c·I + b_c` (ridge regression with
//! `eps`). The coefficients are box-averaged, bilinearly upsampled, and applied to the colours
//! of the *full-resolution* frame: `q_c = A_c·I_full + B_c`. Where the stylized output follows
//! an edge of the input (lines, region borders, also between colours of equal brightness),
//! the edge comes back at full-resolution sharpness; in flat regions (`var(I) ≪ eps`) `a → 0`
//! and the result is the smooth low-resolution output.
//!
//! Cost: the low-resolution part is O(1)-per-pixel box filters and a 3×3 solve per pixel,
//! band by band in scratch rows (only the twelve coefficient planes are written out); at
//! full resolution it is a bilinear interpolation of twelve coefficient planes fused with
//! `A·I + B`, band by band (the output rows between two low-resolution rows): the band's two
//! coefficient rows are widened into scratch rows that stay in cache, so nothing of frame size
//! is written but the output. The element reports the time as `upsampling-mean-ms` in `stats`.

use rayon::prelude::*;

use crate::frame_io::Planes;
use crate::resample::{BilinearTaps, TapRun};

/// Window radius at the network's resolution (3×3 windows). At the default inference size
/// (long side 384) and 720p, one low-resolution pixel is 3.3 frame pixels, so the window spans
/// about 10 frame pixels: small enough to keep thin lines, large enough to average noise.
pub const DEFAULT_RADIUS: usize = 1;
/// Regularisation in 8-bit colour units squared: colour variations below ~8 levels (sensor
/// noise, fine texture) are not transferred into the flat regions of the stylized image.
pub const DEFAULT_EPS: f32 = 64.0;

/// Coefficient planes per output channel: three for `a_c` (R, G, B) and one for `b_c`.
const PER_CHANNEL: usize = 4;
/// Window moments: mean of I (3), of I·Iᵀ (6, upper triangle), of p (3), of I·p (9).
const MOMENTS: usize = 21;

/// Mean over a `(2r+1)²` window clamped to the image (each pixel averages only the window
/// pixels inside the image), in O(1) per pixel: running sums along rows, then along columns.
pub(crate) fn box_mean(src: &[f32], dst: &mut [f32], tmp: &mut Vec<f32>, (w, h): (usize, usize), r: usize) {
    if r == 1 && w >= 2 && h >= 2 {
        return box3(src, dst, tmp, (w, h));
    }
    tmp.resize(w * h, 0.0);
    for (s, t) in src.chunks_exact(w).zip(tmp.chunks_exact_mut(w)) {
        let mut acc = s[..r.min(w - 1) + 1].iter().sum::<f32>();
        for x in 0..w {
            let lo = x.saturating_sub(r);
            let hi = (x + r).min(w - 1);
            t[x] = acc / (hi - lo + 1) as f32;
            if x + r + 1 < w {
                acc += s[x + r + 1];
            }
            if x >= r {
                acc -= s[x - r];
            }
        }
    }
    // Columns, a whole row at a time: dst row y = mean of tmp rows [y−r, y+r].
    let mut acc = vec![0.0f32; w];
    for row in tmp.chunks_exact(w).take(r.min(h - 1) + 1) {
        acc.iter_mut().zip(row).for_each(|(a, v)| *a += v);
    }
    for y in 0..h {
        let lo = y.saturating_sub(r);
        let hi = (y + r).min(h - 1);
        let inv = 1.0 / (hi - lo + 1) as f32;
        dst[y * w..(y + 1) * w].iter_mut().zip(&acc).for_each(|(d, a)| *d = a * inv);
        if y + r + 1 < h {
            acc.iter_mut().zip(&tmp[(y + r + 1) * w..(y + r + 2) * w]).for_each(|(a, v)| *a += v);
        }
        if y >= r {
            acc.iter_mut().zip(&tmp[(y - r) * w..(y - r + 1) * w]).for_each(|(a, v)| *a -= v);
        }
    }
}

/// [`box_mean`] for `r = 1`, written so the compiler vectorises it: the clamped 3×3 window's
/// pixel count is `cx(x)·cy(y)` (2 at an edge, else 3), so each output is a plain sum of three
/// row sums times two reciprocals.
fn box3(src: &[f32], dst: &mut [f32], tmp: &mut Vec<f32>, (w, h): (usize, usize)) {
    tmp.resize(w * h, 0.0);
    for (s, t) in src.chunks_exact(w).zip(tmp.chunks_exact_mut(w)) {
        hsum3(s, t);
    }
    let inv_cx: Vec<f32> = inv_window_widths(w).collect();
    for (y, d) in dst.chunks_exact_mut(w).enumerate() {
        let (y0, y1) = (y.saturating_sub(1), (y + 1).min(h - 1));
        let inv_cy = 1.0 / (y1 - y0 + 1) as f32;
        let row = |r: usize| &tmp[r * w..(r + 1) * w];
        vmean3((row(y0), row(y), row(y1)), y1 - y0 == 2, (&inv_cx, inv_cy), d);
    }
}

/// What a guided upsampler keeps from frame to frame: its sizes and interpolation taps (rebuilt
/// when the sizes change) and its scratch planes.
#[derive(Debug, Clone)]
struct Scratch {
    radius: usize,
    eps: f32,
    low: (usize, usize),
    full: (usize, usize),
    horizontal: BilinearTaps,
    vertical: BilinearTaps,
    /// Low resolution: the products whose window means the fit needs, then the raw coefficients.
    raw: Vec<f32>,
    /// Low resolution: window means of `raw`.
    means: Vec<f32>,
    /// Low resolution: the box-averaged coefficients.
    coeffs: Vec<f32>,
    /// Output columns (rows) grouped by the pair of low-resolution taps they interpolate.
    columns: Vec<TapRun>,
    rows: Vec<TapRun>,
}

impl Scratch {
    fn new(radius: usize, eps: f32) -> Self {
        Scratch {
            radius,
            eps,
            low: (0, 0),
            full: (0, 0),
            horizontal: BilinearTaps::default(),
            vertical: BilinearTaps::default(),
            raw: Vec::new(),
            means: Vec::new(),
            coeffs: Vec::new(),
            columns: Vec::new(),
            rows: Vec::new(),
        }
    }

    fn set_sizes(&mut self, low: (usize, usize), full: (usize, usize)) {
        assert!(low.0 > 0 && low.1 > 0 && full.0 > 0 && full.1 > 0);
        if self.low != low || self.full != full {
            (self.low, self.full) = (low, full);
            self.horizontal = BilinearTaps::new(low.0, full.0);
            self.vertical = BilinearTaps::new(low.1, full.1);
            self.columns = self.horizontal.runs();
            self.rows = self.vertical.runs();
        }
    }

    /// Low-resolution row `row` of the first `planes` coefficient planes, interpolated along x
    /// to full width into `dst` (`planes` rows of full width). Within a run of columns the two
    /// taps are fixed, so the inner loop is a vectorised `a + d·w`.
    fn widen_row(&self, planes: usize, row: usize, dst: &mut [f32]) {
        let (low, fw) = (self.low, self.full.0);
        widen(&self.horizontal, &self.columns, (&self.coeffs, low, planes, row), dst, fw);
    }

    /// Full resolution, band by band: the output rows between two low-resolution rows are one
    /// task, which interpolates those two coefficient rows along x into scratch rows that stay
    /// in cache and calls `row(y, (top, bottom, t), outputs, i)` for each output row `y` (`i`-th
    /// row of the band's slices of `outputs`); `top`/`bottom` hold the first `planes`
    /// coefficient rows, `t` the vertical weight. Nothing of frame size is written but the
    /// outputs.
    fn for_each_row<F>(&self, planes: usize, outputs: Vec<&mut [f32]>, row: F)
    where
        F: Fn(usize, (&[f32], &[f32], f32), &mut [&mut [f32]], usize) + Sync,
    {
        let fw = self.full.0;
        let heights: Vec<usize> = self.rows.iter().map(|run| run.end - run.start).collect();
        let bands: Vec<(TapRun, Vec<&mut [f32]>)> =
            self.rows.iter().copied().zip(band_slices(outputs, &heights, fw)).collect();
        // Consecutive bands share a coefficient row (one band's bottom is the next one's top):
        // a task takes a group of bands and widens each row once.
        let group = bands.len().div_ceil(4 * rayon::current_num_threads()).max(1);
        bands.into_par_iter().chunks(group).for_each_init(
            || (vec![0.0f32; planes * fw], vec![0.0f32; planes * fw]),
            |(top, bottom), group| {
                // The low-resolution rows `top` and `bottom` hold (none at the group's start).
                let mut held: [Option<usize>; 2] = [None, None];
                for (run, mut slices) in group {
                    if held[0] != Some(run.i0) {
                        if held[1] == Some(run.i0) {
                            std::mem::swap(top, bottom);
                            held.swap(0, 1);
                        } else {
                            self.widen_row(planes, run.i0, top);
                            held[0] = Some(run.i0);
                        }
                    }
                    // At the clamped last row both taps are the same row: read it as both.
                    let bottom: &[f32] = if run.i1 == run.i0 {
                        top
                    } else {
                        if held[1] != Some(run.i1) {
                            self.widen_row(planes, run.i1, bottom);
                            held[1] = Some(run.i1);
                        }
                        bottom
                    };
                    for y in run.start..run.end {
                        row(y, (top, bottom, self.vertical.w[y]), &mut slices, y - run.start);
                    }
                }
            },
        );
    }
}

/// The guided filter with a colour guide (RGB frames).
#[derive(Debug, Clone)]
pub struct GuidedUpsampler {
    s: Scratch,
}

impl Default for GuidedUpsampler {
    fn default() -> Self {
        GuidedUpsampler::new(DEFAULT_RADIUS, DEFAULT_EPS)
    }
}

/// Cuts each of `planes` (rows of `w` values) into consecutive bands of `heights` rows: one
/// list per band of its slice of every plane, in plane order.
fn band_slices<'a>(
    planes: impl IntoIterator<Item = &'a mut [f32]>,
    heights: &[usize],
    w: usize,
) -> Vec<Vec<&'a mut [f32]>> {
    let mut bands: Vec<Vec<&mut [f32]>> = heights.iter().map(|_| Vec::new()).collect();
    for plane in planes {
        let mut rest = plane;
        for (slices, rows) in bands.iter_mut().zip(heights) {
            let (head, tail) = rest.split_at_mut(rows * w);
            slices.push(head);
            rest = tail;
        }
    }
    bands
}

/// `1/cx` for each column of a clamped 3×3 window: 1/2 at the first and last column, where
/// the window holds two columns, else 1/3.
fn inv_window_widths(w: usize) -> impl Iterator<Item = f32> {
    (0..w).map(move |x| if x == 0 || x == w - 1 { 0.5 } else { 1.0 / 3.0 })
}

/// Box-means each `n`-value plane of `src` into the same plane of `dst`, planes in parallel.
fn box_mean_planes(src: &[f32], dst: &mut [f32], size: (usize, usize), r: usize) {
    let n = size.0 * size.1;
    src.par_chunks_exact(n).zip(dst.par_chunks_exact_mut(n)).for_each_init(Vec::new, |tmp, (s, d)| {
        box_mean(s, d, tmp, size, r);
    });
}

impl GuidedUpsampler {
    pub fn new(radius: usize, eps: f32) -> Self {
        GuidedUpsampler { s: Scratch::new(radius, eps) }
    }

    /// Upsamples `low_output` (the network's output, same size as `low_guide`, the image the
    /// network saw) to the size of `full_guide` (the frame), guided by it, into `out`. All
    /// planes are RGB in 0..255.
    pub fn upsample(&mut self, low_guide: &Planes, low_output: &Planes, full_guide: &Planes, out: &mut Planes) {
        let low = (low_guide.width, low_guide.height);
        let full = (full_guide.width, full_guide.height);
        assert_eq!(low, (low_output.width, low_output.height), "guide and output must be the same size");
        self.s.set_sizes(low, full);
        if self.s.radius == 1 && low.0 >= 2 && low.1 >= 2 {
            self.fit_coefficients_banded(low_guide, low_output);
        } else {
            self.fit_coefficients(low_guide, low_output);
        }
        self.apply(full_guide, out);
    }

    /// [`Self::fit_coefficients`] for 3×3 windows (the default radius), band by band: a task
    /// computes its rows' products, window means and solves in scratch rows that stay in cache
    /// (with the rows above and below that the two box means read), so the 21 product and 21
    /// mean planes are never written out; only the twelve coefficient planes are. Same sums in
    /// the same order as the plane-by-plane way.
    fn fit_coefficients_banded(&mut self, low_guide: &Planes, low_output: &Planes) {
        let (w, h) = self.s.low;
        let n = w * h;
        let planes = 3 * PER_CHANNEL;
        self.s.coeffs.resize(planes * n, 0.0);
        let band = h.div_ceil(4 * rayon::current_num_threads()).max(4);
        let heights: Vec<usize> = (0..h).step_by(band).map(|y| band.min(h - y)).collect();
        let bands = band_slices(self.s.coeffs.chunks_exact_mut(n), &heights, w);
        let inputs = FitInputs { guide: &low_guide.data, output: &low_output.data, size: (w, h), eps: self.s.eps };
        bands.into_par_iter().enumerate().for_each_init(FitScratch::default, |scratch, (i, mut outs)| {
            let rows = (i * band, ((i + 1) * band).min(h));
            fit_band(&inputs, rows, scratch, &mut outs);
        });
    }

    /// Low resolution: `A_c`, `B_c` of every pixel (box means of the per-window `a_c`, `b_c`).
    fn fit_coefficients(&mut self, low_guide: &Planes, low_output: &Planes) {
        let (w, h) = self.s.low;
        let n = w * h;
        let eps = self.s.eps;
        let (g, p) = (&low_guide.data, &low_output.data);
        // Products, one plane each: I_k, I_j·I_k (j ≤ k), p_c, I_k·p_c.
        self.s.raw.resize(MOMENTS * n, 0.0);
        self.s.raw.par_chunks_exact_mut(n).enumerate().for_each(|(m, plane)| {
            let i = |k: usize| &g[k * n..(k + 1) * n];
            let o = |c: usize| &p[c * n..(c + 1) * n];
            let product = |a: &[f32], b: &[f32], plane: &mut [f32]| {
                plane.iter_mut().zip(a.iter().zip(b)).for_each(|(d, (x, y))| *d = x * y);
            };
            match m {
                0..3 => plane.copy_from_slice(i(m)),
                3..9 => {
                    let (j, k) = UPPER[m - 3];
                    product(i(j), i(k), plane);
                }
                9..12 => plane.copy_from_slice(o(m - 9)),
                _ => product(i((m - 12) % 3), o((m - 12) / 3), plane), // I_k·p_c at 12 + 3c + k
            }
        });
        self.s.means.resize(MOMENTS * n, 0.0);
        box_mean_planes(&self.s.raw, &mut self.s.means, self.s.low, self.s.radius);

        // Per pixel: a_c = (Σ + eps·U)⁻¹ cov(I, p_c), b_c = mean(p_c) − a_c·mean(I); rows in
        // parallel, straight into the coefficient planes; then box-averaged.
        let planes = 3 * PER_CHANNEL;
        let means = &self.s.means;
        let mut rows: Vec<Vec<&mut [f32]>> = (0..h).map(|_| Vec::with_capacity(planes)).collect();
        for plane in self.s.raw[..planes * n].chunks_exact_mut(n) {
            for (row, slice) in rows.iter_mut().zip(plane.chunks_exact_mut(w)) {
                row.push(slice);
            }
        }
        rows.into_par_iter().enumerate().for_each(|(y, out)| {
            let m: [&[f32]; MOMENTS] = std::array::from_fn(|i| &means[i * n + y * w..i * n + (y + 1) * w]);
            solve_row(&m, out.try_into().expect("twelve coefficient rows"), eps, w);
        });
        self.s.coeffs.resize(planes * n, 0.0);
        box_mean_planes(&self.s.raw[..planes * n], &mut self.s.coeffs, self.s.low, self.s.radius);
    }

    /// Full resolution: `q_c = A_c·I + B_c` with `A`, `B` bilinearly interpolated.
    fn apply(&mut self, full_guide: &Planes, out: &mut Planes) {
        let (fw, fh) = self.s.full;
        out.resize(fw, fh);
        let fn_ = fw * fh;
        let g = &full_guide.data;
        let (r_plane, rest) = out.data.split_at_mut(fn_);
        let (g_plane, b_plane) = rest.split_at_mut(fn_);
        self.s.for_each_row(3 * PER_CHANNEL, vec![r_plane, g_plane, b_plane], |y, coefficients, outs, i| {
            let base = y * fw;
            let guide = [&g[base..base + fw], &g[fn_ + base..fn_ + base + fw], &g[2 * fn_ + base..2 * fn_ + base + fw]];
            let [ro, go, bo] = outs else { unreachable!("three output planes") };
            let at = i * fw..(i + 1) * fw;
            apply_row(coefficients, guide, [&mut ro[at.clone()], &mut go[at.clone()], &mut bo[at]], fw);
        });
    }
}

/// The guided filter with a grey guide, for one plane: a YUV frame's luma, fitted as
/// `q = A·Y_full + B` from the luma the network saw (`low_guide`) and the luma of its output.
/// Two coefficient planes instead of twelve: a third of the colour guide's work per pixel.
#[derive(Debug, Clone)]
pub struct GreyGuidedUpsampler {
    s: Scratch,
}

impl Default for GreyGuidedUpsampler {
    fn default() -> Self {
        GreyGuidedUpsampler { s: Scratch::new(DEFAULT_RADIUS, DEFAULT_EPS) }
    }
}

impl GreyGuidedUpsampler {
    /// Upsamples `low_output` (`low`-sized, as `low_guide`) to `full` (the size of
    /// `full_guide`), guided by it, into `out`.
    pub fn upsample(
        &mut self,
        (low_guide, low_output): (&[f32], &[f32]),
        low: (usize, usize),
        full_guide: &[f32],
        full: (usize, usize),
        out: &mut Vec<f32>,
    ) {
        let (lw, lh) = low;
        let (fw, fh) = full;
        let n = lw * lh;
        assert_eq!((low_guide.len(), low_output.len(), full_guide.len()), (n, n, fw * fh));
        self.s.set_sizes(low, full);
        self.s.raw.resize(4 * n, 0.0);
        self.s.raw.par_chunks_exact_mut(n).enumerate().for_each(|(m, plane)| {
            let (g, p) = (low_guide, low_output);
            match m {
                0 => plane.copy_from_slice(g),
                1 => plane.iter_mut().zip(g).for_each(|(d, i)| *d = i * i),
                2 => plane.copy_from_slice(p),
                _ => plane.iter_mut().zip(g.iter().zip(p)).for_each(|(d, (i, v))| *d = i * v),
            }
        });
        self.s.means.resize(4 * n, 0.0);
        box_mean_planes(&self.s.raw, &mut self.s.means, low, self.s.radius);
        let eps = self.s.eps;
        let (m, (a, b)) = (&self.s.means, self.s.raw[..2 * n].split_at_mut(n));
        a.par_chunks_mut(4096).zip(b.par_chunks_mut(4096)).enumerate().for_each(|(chunk, (a, b))| {
            for (j, (a, b)) in a.iter_mut().zip(b).enumerate() {
                let k = chunk * 4096 + j;
                let (mi, mii, mp, mip) = (m[k], m[n + k], m[2 * n + k], m[3 * n + k]);
                *a = (mip - mi * mp) / (mii - mi * mi + eps);
                *b = mp - *a * mi;
            }
        });
        self.s.coeffs.resize(2 * n, 0.0);
        box_mean_planes(&self.s.raw[..2 * n], &mut self.s.coeffs, low, self.s.radius);
        // Along x, then along y fused with A·I + B.
        out.resize(fw * fh, 0.0);
        self.s.for_each_row(2, vec![&mut out[..]], |y, (top, bottom, t), outs, i| {
            let o = &mut outs[0][i * fw..(i + 1) * fw];
            let g = &full_guide[y * fw..(y + 1) * fw];
            let (ta, tb) = top.split_at(fw);
            let (ba, bb) = bottom.split_at(fw);
            for x in 0..fw {
                let a = ta[x] + (ba[x] - ta[x]) * t;
                let b = tb[x] + (bb[x] - tb[x]) * t;
                o[x] = a * g[x] + b;
            }
        });
    }
}

/// Widens row `row` of each of the first `planes` coefficient planes (`low`-sized, in `coeffs`)
/// along x into `dst` (`planes` rows of `fw`).
fn widen(
    taps: &BilinearTaps,
    runs: &[TapRun],
    rows: (&[f32], (usize, usize), usize, usize),
    dst: &mut [f32],
    fw: usize,
) {
    dispatch!(widen_avx2, widen_generic, (taps, runs, rows, dst, fw))
}

with_avx2!(widen_avx2, widen_generic, (taps: &BilinearTaps, runs: &[TapRun], rows: (&[f32], (usize, usize), usize, usize), dst: &mut [f32], fw: usize));

#[inline(always)]
fn widen_generic(
    taps: &BilinearTaps,
    runs: &[TapRun],
    (coeffs, (lw, lh), planes, row): (&[f32], (usize, usize), usize, usize),
    dst: &mut [f32],
    fw: usize,
) {
    for (p, d) in dst.chunks_exact_mut(fw).take(planes).enumerate() {
        let src = &coeffs[p * lw * lh + row * lw..p * lw * lh + (row + 1) * lw];
        taps.interpolate(runs, src, d);
    }
}

/// What [`fit_band`] reads: the low-resolution guide and network output (R, G, B planes of
/// `size`) and the regularisation.
struct FitInputs<'a> {
    guide: &'a [f32],
    output: &'a [f32],
    size: (usize, usize),
    eps: f32,
}

/// A fit task's scratch rows, kept from frame to frame by the worker threads.
#[derive(Default)]
struct FitScratch {
    /// Horizontal 3-sums of the 21 products, one block of [`MOMENTS`] rows per image row.
    hsum: Vec<f32>,
    /// One row of a product.
    row: Vec<f32>,
    /// The window means of one row.
    means: Vec<f32>,
    /// The solved (raw) coefficients, twelve rows per image row.
    coef: Vec<f32>,
    /// Horizontal 3-sums of `coef`.
    coef_hsum: Vec<f32>,
    /// `1/cx`: the reciprocal of the clamped window's width at each column.
    inv_cx: Vec<f32>,
}

/// `dst[x] = s[x−1] + s[x] + s[x+1]`, the missing neighbour left out at either end (as
/// [`box3`]'s first pass).
#[inline(always)]
fn hsum3(s: &[f32], dst: &mut [f32]) {
    let w = s.len();
    dst[0] = s[0] + s[1];
    dst[w - 1] = s[w - 2] + s[w - 1];
    dst[1..w - 1].iter_mut().zip(s.windows(3)).for_each(|(t, s)| *t = s[0] + s[1] + s[2]);
}

/// The mean of three (two at the top and bottom edges) row sums, as [`box3`]'s second pass:
/// `above`, `mid`, `below` the horizontal sums of rows y−1, y, y+1 (clamped; `three` false at
/// an edge, where `above` and `below` are the window's two rows).
#[inline(always)]
fn vmean3((above, mid, below): (&[f32], &[f32], &[f32]), three: bool, (inv_cx, inv_cy): (&[f32], f32), d: &mut [f32]) {
    if three {
        d.iter_mut().zip(above.iter().zip(mid).zip(below)).zip(inv_cx).for_each(|((d, ((a, m), b)), c)| {
            *d = (a + m + b) * c * inv_cy;
        });
    } else {
        d.iter_mut().zip(above.iter().zip(below)).zip(inv_cx).for_each(|((d, (a, b)), c)| *d = (a + b) * c * inv_cy);
    }
}

/// The rows `y0..y1` of the twelve box-averaged coefficient planes (`outs`, each the band's
/// rows of one plane), from `inputs`, for 3×3 windows.
fn fit_band(inputs: &FitInputs, rows: (usize, usize), scratch: &mut FitScratch, outs: &mut [&mut [f32]]) {
    dispatch!(fit_band_avx2, fit_band_generic, (inputs, rows, scratch, outs))
}

with_avx2!(fit_band_avx2, fit_band_generic, (inputs: &FitInputs, rows: (usize, usize), scratch: &mut FitScratch, outs: &mut [&mut [f32]]));

#[inline(always)]
fn fit_band_generic(inputs: &FitInputs, (y0, y1): (usize, usize), scratch: &mut FitScratch, outs: &mut [&mut [f32]]) {
    const COEFFS: usize = 3 * PER_CHANNEL;
    let FitInputs { guide: g, output: p, size: (w, h), eps } = *inputs;
    let n = w * h;
    let FitScratch { hsum, row, means, coef, coef_hsum, inv_cx } = scratch;
    inv_cx.clear();
    inv_cx.extend(inv_window_widths(w));
    // The clamped window rows of row y, and whether there are three.
    let window = |y: usize| (y.saturating_sub(1), (y + 1).min(h - 1));
    // Coefficient rows the second box mean reads, and product rows their means read.
    let (c0, c1) = (y0.saturating_sub(1), (y1 + 1).min(h));
    let (r0, r1) = (c0.saturating_sub(1), (c1 + 1).min(h));

    // 1. Horizontal sums of the products: I_k, I_j·I_k (j ≤ k), p_c, I_k·p_c.
    hsum.resize((r1 - r0) * MOMENTS * w, 0.0);
    row.resize(w, 0.0);
    for y in r0..r1 {
        let i = |k: usize| &g[k * n + y * w..k * n + (y + 1) * w];
        let o = |c: usize| &p[c * n + y * w..c * n + (y + 1) * w];
        let block = &mut hsum[(y - r0) * MOMENTS * w..(y - r0 + 1) * MOMENTS * w];
        for (m, dst) in block.chunks_exact_mut(w).enumerate() {
            let (a, b) = match m {
                0..3 => (i(m), None),
                3..9 => (i(UPPER[m - 3].0), Some(i(UPPER[m - 3].1))),
                9..12 => (o(m - 9), None),
                _ => (i((m - 12) % 3), Some(o((m - 12) / 3))), // I_k·p_c at 12 + 3c + k
            };
            match b {
                None => hsum3(a, dst),
                Some(b) => {
                    row.iter_mut().zip(a.iter().zip(b)).for_each(|(d, (x, y))| *d = x * y);
                    hsum3(row, dst);
                }
            }
        }
    }
    // 2. Window means and the per-pixel solve of rows c0..c1.
    // Where row `m` of image row `y` starts in scratch holding `blocks` rows per image row from
    // image row `first` on.
    let at = |blocks: usize, first: usize, y: usize, m: usize| ((y - first) * blocks + m) * w;
    means.resize(MOMENTS * w, 0.0);
    coef.resize((c1 - c0) * COEFFS * w, 0.0);
    for y in c0..c1 {
        let (ya, yb) = window(y);
        let inv_cy = 1.0 / (yb - ya + 1) as f32;
        for (m, d) in means.chunks_exact_mut(w).enumerate() {
            let slice = |yy: usize| &hsum[at(MOMENTS, r0, yy, m)..][..w];
            vmean3((slice(ya), slice(y), slice(yb)), yb - ya == 2, (inv_cx, inv_cy), d);
        }
        let m: [&[f32]; MOMENTS] = std::array::from_fn(|i| &means[i * w..(i + 1) * w]);
        let block = &mut coef[(y - c0) * COEFFS * w..(y - c0 + 1) * COEFFS * w];
        let out: Vec<&mut [f32]> = block.chunks_exact_mut(w).collect();
        solve_row(&m, out.try_into().expect("twelve coefficient rows"), eps, w);
    }
    // 3. The box mean of the coefficients, rows y0..y1.
    coef_hsum.resize(coef.len(), 0.0);
    for (s, d) in coef.chunks_exact(w).zip(coef_hsum.chunks_exact_mut(w)) {
        hsum3(s, d);
    }
    for y in y0..y1 {
        let (ya, yb) = window(y);
        let inv_cy = 1.0 / (yb - ya + 1) as f32;
        for (j, plane) in outs.iter_mut().enumerate() {
            let slice = |yy: usize| &coef_hsum[at(COEFFS, c0, yy, j)..][..w];
            let d = &mut plane[(y - y0) * w..(y - y0 + 1) * w];
            vmean3((slice(ya), slice(y), slice(yb)), yb - ya == 2, (inv_cx, inv_cy), d);
        }
    }
}

/// Pixels solved together in [`solve_row`]: fixed-size lane arrays the compiler vectorises.
const LANES: usize = 8;

/// One row of the per-pixel ridge regression: `m` the window moments (see [`MOMENTS`]), `out`
/// the twelve coefficient rows (`a_c` R, G, B and `b_c`, per output channel).
fn solve_row(m: &[&[f32]; MOMENTS], out: [&mut [f32]; 12], eps: f32, w: usize) {
    dispatch!(solve_row_avx2, solve_row_generic, (m, out, eps, w))
}

with_avx2!(solve_row_avx2, solve_row_generic, (m: &[&[f32]; MOMENTS], out: [&mut [f32]; 12], eps: f32, w: usize));

#[inline(always)]
fn solve_row_generic(m: &[&[f32]; MOMENTS], mut out: [&mut [f32]; 12], eps: f32, w: usize) {
    let mut x0 = 0;
    while x0 < w {
        let lanes = (w - x0).min(LANES);
        let mut v = [[0.0f32; LANES]; MOMENTS];
        for (i, row) in v.iter_mut().enumerate() {
            row[..lanes].copy_from_slice(&m[i][x0..x0 + lanes]);
        }
        // Padding lanes (zeros) solve eps·U a = 0: finite, and never written out.
        let mut r = [[0.0f32; LANES]; 12];
        for l in 0..LANES {
            let (mr, mg, mb) = (v[0][l], v[1][l], v[2][l]);
            // Covariance (UPPER order: 00 01 02 11 12 22) plus eps on the diagonal.
            let s00 = v[3][l] - mr * mr + eps;
            let s01 = v[4][l] - mr * mg;
            let s02 = v[5][l] - mr * mb;
            let s11 = v[6][l] - mg * mg + eps;
            let s12 = v[7][l] - mg * mb;
            let s22 = v[8][l] - mb * mb + eps;
            // Inverse of the symmetric matrix by cofactors.
            let c00 = s11 * s22 - s12 * s12;
            let c01 = s12 * s02 - s01 * s22;
            let c02 = s01 * s12 - s11 * s02;
            let inv_det = 1.0 / (s00 * c00 + s01 * c01 + s02 * c02);
            let (i00, i01, i02) = (c00 * inv_det, c01 * inv_det, c02 * inv_det);
            let i11 = (s00 * s22 - s02 * s02) * inv_det;
            let i12 = (s02 * s01 - s00 * s12) * inv_det;
            let i22 = (s00 * s11 - s01 * s01) * inv_det;
            for c in 0..3 {
                let mp = v[9 + c][l];
                let vr = v[12 + 3 * c][l] - mr * mp;
                let vg = v[13 + 3 * c][l] - mg * mp;
                let vb = v[14 + 3 * c][l] - mb * mp;
                let ar = i00 * vr + i01 * vg + i02 * vb;
                let ag = i01 * vr + i11 * vg + i12 * vb;
                let ab = i02 * vr + i12 * vg + i22 * vb;
                r[c * PER_CHANNEL][l] = ar;
                r[c * PER_CHANNEL + 1][l] = ag;
                r[c * PER_CHANNEL + 2][l] = ab;
                r[c * PER_CHANNEL + 3][l] = mp - ar * mr - ag * mg - ab * mb;
            }
        }
        for (o, r) in out.iter_mut().zip(&r) {
            o[x0..x0 + lanes].copy_from_slice(&r[..lanes]);
        }
        x0 += lanes;
    }
}

/// One output row of `q_c = A_c·I + B_c`: the twelve coefficient rows interpolated between
/// `top` and `bottom` at weight `t`, `guide` the frame's R, G, B row.
fn apply_row(coefficients: (&[f32], &[f32], f32), guide: [&[f32]; 3], out: [&mut [f32]; 3], fw: usize) {
    dispatch!(apply_row_avx2, apply_row_generic, (coefficients, guide, out, fw))
}

with_avx2!(apply_row_avx2, apply_row_generic, (coefficients: (&[f32], &[f32], f32), guide: [&[f32]; 3], out: [&mut [f32]; 3], fw: usize));

#[inline(always)]
fn apply_row_generic((top, bottom, t): (&[f32], &[f32], f32), guide: [&[f32]; 3], out: [&mut [f32]; 3], fw: usize) {
    let (gr, gg, gb) = (&guide[0][..fw], &guide[1][..fw], &guide[2][..fw]);
    for (c, o) in out.into_iter().enumerate() {
        // Each coefficient row sliced to `fw`, so the loop below runs without bounds checks.
        let at = |j: usize| (c * PER_CHANNEL + j) * fw..(c * PER_CHANNEL + j + 1) * fw;
        let (ar0, ag0, ab0, b0) = (&top[at(0)], &top[at(1)], &top[at(2)], &top[at(3)]);
        let (ar1, ag1, ab1, b1) = (&bottom[at(0)], &bottom[at(1)], &bottom[at(2)], &bottom[at(3)]);
        let o = &mut o[..fw];
        for x in 0..fw {
            let ar = ar0[x] + (ar1[x] - ar0[x]) * t;
            let ag = ag0[x] + (ag1[x] - ag0[x]) * t;
            let ab = ab0[x] + (ab1[x] - ab0[x]) * t;
            let b = b0[x] + (b1[x] - b0[x]) * t;
            o[x] = ar * gr[x] + ag * gg[x] + ab * gb[x] + b;
        }
    }
}

/// The upper triangle of the symmetric 3×3 colour covariance, in moment-plane order.
const UPPER: [(usize, usize); 6] = [(0, 0), (0, 1), (0, 2), (1, 1), (1, 2), (2, 2)];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resample::Resampler;

    fn planes_from(w: usize, h: usize, f: impl Fn(usize, usize, usize) -> f32) -> Planes {
        let mut data = vec![0.0; 3 * w * h];
        for c in 0..3 {
            for y in 0..h {
                for x in 0..w {
                    data[c * w * h + y * w + x] = f(c, x, y);
                }
            }
        }
        Planes { width: w, height: h, data }
    }

    fn resize(src: &Planes, size: (usize, usize)) -> Planes {
        let mut dst = Planes::default();
        Resampler::new((src.width, src.height), size).resample_planes(src, &mut dst);
        dst
    }

    #[test]
    fn box_mean_matches_a_direct_sum() {
        let (w, h) = (7, 5);
        let src: Vec<f32> = (0..w * h).map(|i| ((i * 37) % 11) as f32).collect();
        for r in [1, 2, 6] {
            let mut dst = vec![0.0; w * h];
            box_mean(&src, &mut dst, &mut Vec::new(), (w, h), r);
            for y in 0..h {
                for x in 0..w {
                    let (mut sum, mut count) = (0.0, 0.0);
                    for yy in y.saturating_sub(r)..=(y + r).min(h - 1) {
                        for xx in x.saturating_sub(r)..=(x + r).min(w - 1) {
                            sum += src[yy * w + xx];
                            count += 1.0;
                        }
                    }
                    assert!((dst[y * w + x] - sum / count).abs() < 1e-4, "r={r} ({x},{y})");
                }
            }
        }
    }

    /// The banded fit (3×3 windows, scratch rows per band) gives the coefficient planes of the
    /// plane-by-plane one: sizes with one and many bands, two- and three-row images, and edges.
    #[test]
    fn banded_fit_equals_the_plane_by_plane_fit() {
        for (w, h) in [(384, 216), (37, 23), (5, 2), (2, 3), (9, 4), (64, 41)] {
            let guide = planes_from(w, h, |c, x, y| ((x * (7 + c) + y * 13 + c * 50) % 256) as f32);
            let output = planes_from(w, h, |c, x, y| ((x * 3 + y * (5 + c) + (x * y) % 7) % 230) as f32 + 10.0);
            let mut banded = GuidedUpsampler::default();
            banded.s.set_sizes((w, h), (2 * w, 2 * h));
            banded.fit_coefficients_banded(&guide, &output);
            let mut planes = GuidedUpsampler::default();
            planes.s.set_sizes((w, h), (2 * w, 2 * h));
            planes.fit_coefficients(&guide, &output);
            assert_eq!(banded.s.coeffs.len(), planes.s.coeffs.len());
            for (k, (a, b)) in banded.s.coeffs.iter().zip(&planes.s.coeffs).enumerate() {
                assert!((a - b).abs() <= 1e-4 * (1.0 + b.abs()), "{w}x{h} at {k}: {a} vs {b}");
            }
        }
    }

    #[test]
    fn constant_output_stays_constant() {
        let full = planes_from(97, 61, |_, x, y| ((x * 13 + y * 7) % 200) as f32);
        let low = resize(&full, (30, 19));
        let out_low = planes_from(30, 19, |c, _, _| [10.0, 120.0, 240.0][c]);
        let mut out = Planes::default();
        GuidedUpsampler::default().upsample(&low, &out_low, &full, &mut out);
        for c in 0..3 {
            let plane = &out.data[c * 97 * 61..(c + 1) * 97 * 61];
            assert!(plane.iter().all(|v| (v - [10.0, 120.0, 240.0][c]).abs() < 1e-2), "channel {c}");
        }
    }

    /// The band-by-band application (coefficient rows widened per band, interpolated along y in
    /// the same pass as `A·I + B`) is exactly `A·I + B` with each coefficient plane bilinearly
    /// interpolated pixel by pixel, for the colour and the grey guide, at sizes whose ratio is
    /// not whole (the last band and the clamped borders included).
    #[test]
    fn banded_application_is_bilinear_coefficients_applied_per_pixel() {
        let (low, full) = ((37, 23), (101, 64));
        let guide_full = planes_from(full.0, full.1, |c, x, y| ((x * (5 + c) + y * 11 + c * 40) % 256) as f32);
        let guide_low = resize(&guide_full, low);
        let out_low = planes_from(low.0, low.1, |c, x, y| ((x * 3 + y * (7 + c)) % 200) as f32 + 20.0);
        let lerp_plane = |coeffs: &[f32], p: usize, x: usize, y: usize| {
            let (h, v) = (BilinearTaps::new(low.0, full.0), BilinearTaps::new(low.1, full.1));
            let at = |i: usize, j: usize| coeffs[p * low.0 * low.1 + j * low.0 + i];
            let top = at(h.i0[x], v.i0[y]) + (at(h.i1[x], v.i0[y]) - at(h.i0[x], v.i0[y])) * h.w[x];
            let bottom = at(h.i0[x], v.i1[y]) + (at(h.i1[x], v.i1[y]) - at(h.i0[x], v.i1[y])) * h.w[x];
            top + (bottom - top) * v.w[y]
        };
        let n = full.0 * full.1;

        let mut colour = GuidedUpsampler::default();
        let mut out = Planes::default();
        colour.upsample(&guide_low, &out_low, &guide_full, &mut out);
        for (c, (x, y)) in (0..3).flat_map(|c| (0..n).map(move |i| (c, (i % full.0, i / full.0)))) {
            let coef = |j: usize| lerp_plane(&colour.s.coeffs, c * PER_CHANNEL + j, x, y);
            let i = y * full.0 + x;
            let g = |k: usize| guide_full.data[k * n + i];
            let expected = coef(0) * g(0) + coef(1) * g(1) + coef(2) * g(2) + coef(3);
            let got = out.data[c * n + i];
            assert!(
                (got - expected).abs() <= 1e-3 * expected.abs().max(1.0),
                "channel {c} ({x}, {y}): {got} vs {expected}"
            );
        }

        let mut grey = GreyGuidedUpsampler::default();
        let mut out = Vec::new();
        let luma = |p: &Planes| p.data[..p.width * p.height].to_vec();
        grey.upsample((&luma(&guide_low), &luma(&out_low)), low, &luma(&guide_full), full, &mut out);
        for (i, got) in out.iter().enumerate() {
            let (x, y) = (i % full.0, i / full.0);
            let expected =
                lerp_plane(&grey.s.coeffs, 0, x, y) * guide_full.data[i] + lerp_plane(&grey.s.coeffs, 1, x, y);
            assert!((got - expected).abs() <= 1e-3 * expected.abs().max(1.0), "grey ({x}, {y}): {got} vs {expected}");
        }
    }

    /// A vertical step edge between two grey levels at a position that falls between
    /// low-resolution pixels; the "network" darkens the image (an affine map of the input).
    /// Guided upsampling must restore the edge at full sharpness; bilinear smears it over
    /// several pixels.
    #[test]
    fn step_edge_stays_sharp_where_bilinear_smears_it() {
        let (fw, fh) = (320, 40);
        let (lw, lh) = (96, 12);
        let edge = 161;
        let full = planes_from(fw, fh, |_, x, _| if x < edge { 40.0 } else { 200.0 });
        let ideal = |v: f32| 0.8 * v - 10.0;
        let low = resize(&full, (lw, lh));
        let mut out_low = low.clone();
        out_low.data.iter_mut().for_each(|v| *v = ideal(*v));

        let mut guided = Planes::default();
        GuidedUpsampler::default().upsample(&low, &out_low, &full, &mut guided);
        let bilinear = resize(&out_low, (fw, fh));

        let row = fh / 2;
        let profile = |p: &Planes| -> Vec<f32> { (0..fw).map(|x| p.data[row * fw + x]).collect() };
        let (g, b) = (profile(&guided), profile(&bilinear));
        let (lo, hi) = (ideal(40.0), ideal(200.0));
        // Transition width: pixels strictly between 10% and 90% of the step.
        let width = |p: &[f32]| p.iter().filter(|v| **v > lo + 0.1 * (hi - lo) && **v < lo + 0.9 * (hi - lo)).count();
        let max_err = |p: &[f32]| {
            p.iter().enumerate().map(|(x, v)| (v - ideal(full.data[row * fw + x])).abs()).fold(0.0f32, f32::max)
        };
        // Gradient energy at the true edge: the squared jump between the two edge pixels.
        let jump = |p: &[f32]| (p[edge] - p[edge - 1]).powi(2);
        assert!(width(&g) <= 1, "guided transition {} px: {:?}", width(&g), &g[edge - 5..edge + 5]);
        assert!(width(&b) >= 3, "bilinear transition only {} px", width(&b));
        assert!(jump(&g) > 0.8 * (hi - lo).powi(2), "guided edge jump {}", jump(&g).sqrt());
        assert!(jump(&g) > 4.0 * jump(&b), "guided {} vs bilinear {}", jump(&g).sqrt(), jump(&b).sqrt());
        assert!(max_err(&g) < 0.25 * max_err(&b), "max error guided {} vs bilinear {}", max_err(&g), max_err(&b));
    }

    /// An edge between two colours of the same brightness (red | blue), through a "network"
    /// that permutes and inverts channels: a luma-only guide could not see this edge; the
    /// colour guide restores it.
    #[test]
    fn grey_guide_keeps_a_luma_edge_sharp_and_a_flat_output_flat() {
        let (full, low) = ((64, 8), (16, 2));
        let edge = |x: usize| if x < 30 { 40.0 } else { 200.0 };
        let full_guide: Vec<f32> = (0..full.0 * full.1).map(|i| edge(i % full.0)).collect();
        let area = |src: &[f32]| {
            let mut r = Resampler::new(full, low);
            let mut dst = vec![0.0; low.0 * low.1];
            r.resample_plane(src, &mut dst);
            dst
        };
        let low_guide = area(&full_guide);
        // The stylized output darkens the bright side: an edge the network drew at low size.
        let low_output: Vec<f32> = low_guide.iter().map(|v| 255.0 - v).collect();
        let mut up = GreyGuidedUpsampler::default();
        let mut out = Vec::new();
        up.upsample((&low_guide, &low_output), low, &full_guide, full, &mut out);
        let row = &out[3 * full.0..4 * full.0];
        assert!((row[29] - 215.0).abs() < 12.0 && (row[30] - 55.0).abs() < 12.0, "{:?}", &row[26..34]);
        let flat = vec![90.0; low.0 * low.1];
        up.upsample((&low_guide, &flat), low, &full_guide, full, &mut out);
        assert!(out.iter().all(|v| (v - 90.0).abs() < 1e-3));
    }

    #[test]
    fn colour_edge_of_equal_brightness_stays_sharp() {
        let (fw, fh) = (320, 40);
        let edge = 161;
        let red_blue = |_c: usize, x: usize| if x < edge { [250.0, 10.0, 10.0] } else { [10.0, 10.0, 250.0] };
        let full = planes_from(fw, fh, |c, x, _| red_blue(c, x)[c]);
        let low = resize(&full, (96, 12));
        let n = 96 * 12;
        let out_low = planes_from(96, 12, |c, x, y| 255.0 - low.data[((c + 1) % 3) * n + y * 96 + x]);
        let mut guided = Planes::default();
        GuidedUpsampler::default().upsample(&low, &out_low, &full, &mut guided);
        let bilinear = resize(&out_low, (fw, fh));
        let err = |p: &Planes| {
            (0..3 * fw * fh)
                .map(|i| {
                    let (c, k) = (i / (fw * fh), i % (fw * fh));
                    (p.data[i] - (255.0 - full.data[((c + 1) % 3) * fw * fh + k])).abs()
                })
                .fold(0.0f32, f32::max)
        };
        assert!(err(&guided) < 12.0, "guided max error {}", err(&guided));
        assert!(err(&bilinear) > 60.0, "bilinear max error only {}", err(&bilinear));
    }
}
