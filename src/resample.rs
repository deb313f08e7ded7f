//! Separable resampling of planar `f32` images.
//!
//! Downscaling uses a triangle filter widened by the scale factor (area-like, no aliasing when
//! the network sees a quarter of the pixels); upscaling is plain bilinear. The weight tables
//! depend only on the sizes, so a [`Resampler`] is built once per size change and reused.

use rayon::prelude::*;

use crate::frame_io::Planes;

/// Bilinear sampling positions along one axis (half-pixel centres, edges clamped): output `o`
/// reads `(1 − w[o])·src[i0[o]] + w[o]·src[i1[o]]`. The guided upsampler and the temporal
/// filter interpolate with these; [`Resampler`] upscales with the same positions
/// ([`AxisWeights::new`]).
#[derive(Debug, Clone, Default)]
pub(crate) struct BilinearTaps {
    pub i0: Vec<usize>,
    pub i1: Vec<usize>,
    pub w: Vec<f32>,
}

/// A run of output positions `[start, end)` that interpolate between the same two input
/// positions `i0` and `i1` (bilinear taps are monotonic, so each pair is one run): within a
/// run the two source values are fixed and the interpolation is a vectorised `a + d·w`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct TapRun {
    pub i0: usize,
    pub i1: usize,
    pub start: usize,
    pub end: usize,
}

/// The width of the vector [`BilinearTaps::interpolate`] writes a short run with (one AVX
/// register, two SSE ones).
const FIXED_RUN: usize = 8;

impl BilinearTaps {
    /// The runs of these taps, in order.
    pub fn runs(&self) -> Vec<TapRun> {
        let mut runs: Vec<TapRun> = Vec::new();
        for (o, (&i0, &i1)) in self.i0.iter().zip(&self.i1).enumerate() {
            match runs.last_mut() {
                Some(run) if (run.i0, run.i1) == (i0, i1) => run.end = o + 1,
                _ => runs.push(TapRun { i0, i1, start: o, end: o + 1 }),
            }
        }
        runs
    }

    /// `dst[o] = src[i0] + (src[i1] − src[i0])·w[o]` for every output `o`, run by run (`runs`
    /// from [`Self::runs`]).
    ///
    /// Upscaling by up to 7× makes runs of at most [`FIXED_RUN`] outputs: such a run is written
    /// as one fixed-width vector of `FIXED_RUN` values (the ones past its end are garbage that
    /// the following runs, written after it, overwrite), instead of a loop of three or four
    /// iterations per run.
    #[inline(always)]
    pub fn interpolate(&self, runs: &[TapRun], src: &[f32], dst: &mut [f32]) {
        let fixed_end = self.w.len().min(dst.len());
        for run in runs {
            let (a, diff) = (src[run.i0], src[run.i1] - src[run.i0]);
            if run.end - run.start <= FIXED_RUN && run.start + FIXED_RUN <= fixed_end {
                let d: &mut [f32; FIXED_RUN] =
                    (&mut dst[run.start..run.start + FIXED_RUN]).try_into().expect("FIXED_RUN values");
                let w: &[f32; FIXED_RUN] =
                    self.w[run.start..run.start + FIXED_RUN].try_into().expect("FIXED_RUN values");
                for k in 0..FIXED_RUN {
                    d[k] = a + diff * w[k];
                }
            } else {
                let w = &self.w[run.start..run.end];
                dst[run.start..run.end].iter_mut().zip(w).for_each(|(d, w)| *d = a + diff * w);
            }
        }
    }

    pub fn new(in_len: usize, out_len: usize) -> Self {
        let scale = in_len as f32 / out_len as f32;
        let mut t = BilinearTaps::default();
        for o in 0..out_len {
            let s = ((o as f32 + 0.5) * scale - 0.5).clamp(0.0, (in_len - 1) as f32);
            let i0 = s.floor() as usize;
            t.i0.push(i0);
            t.i1.push((i0 + 1).min(in_len - 1));
            t.w.push(s - i0 as f32);
        }
        t
    }
}

/// Filter taps for one axis: output `i` reads `weights[i * taps..][..count[i]]` starting at
/// input `start[i]`.
#[derive(Debug, Clone)]
struct AxisWeights {
    start: Vec<usize>,
    count: Vec<usize>,
    weights: Vec<f32>,
    taps: usize,
}

impl AxisWeights {
    /// Upscaling (and the identity) samples at the [`BilinearTaps`]; downscaling uses a triangle
    /// filter widened by the scale factor.
    fn new(in_len: usize, out_len: usize) -> Self {
        if out_len >= in_len {
            return Self::bilinear(&BilinearTaps::new(in_len, out_len));
        }
        let scale = in_len as f32 / out_len as f32;
        let filter_scale = scale.max(1.0);
        let support = filter_scale; // triangle of radius 1 at the source sampling rate
        let taps = (support.ceil() as usize) * 2 + 1;
        let mut start = Vec::with_capacity(out_len);
        let mut count = Vec::with_capacity(out_len);
        let mut weights = vec![0.0f32; out_len * taps];
        for o in 0..out_len {
            let center = (o as f32 + 0.5) * scale;
            let lo = ((center - support).floor().max(0.0)) as usize;
            let hi = ((center + support).ceil() as usize).min(in_len);
            let w = &mut weights[o * taps..(o + 1) * taps];
            let mut n = 0;
            let mut total = 0.0;
            for (k, i) in (lo..hi).enumerate().take(taps) {
                let x = (i as f32 + 0.5 - center) / filter_scale;
                let t = (1.0 - x.abs()).max(0.0);
                w[k] = t;
                total += t;
                n = k + 1;
            }
            if total > 0.0 {
                w[..n].iter_mut().for_each(|v| *v /= total);
            } else {
                // Degenerate (1-pixel input): take the nearest pixel.
                w[0] = 1.0;
                n = 1;
            }
            start.push(lo.min(in_len - 1));
            count.push(n);
        }
        AxisWeights { start, count, weights, taps }
    }

    fn bilinear(t: &BilinearTaps) -> Self {
        let taps = 2;
        let mut weights = Vec::with_capacity(t.w.len() * taps);
        for &w in &t.w {
            weights.extend([1.0 - w, w]);
        }
        // At the last pixel both taps are the same one: read it once (and not past the end).
        let count = t.i0.iter().zip(&t.i1).map(|(i0, i1)| if i1 > i0 { 2 } else { 1 }).collect();
        AxisWeights { start: t.i0.clone(), count, weights, taps }
    }
}

/// Resamples `channels` planes of `in_size` to `out_size`; both `(width, height)`.
#[derive(Debug, Clone)]
pub struct Resampler {
    in_size: (usize, usize),
    out_size: (usize, usize),
    horizontal: AxisWeights,
    vertical: AxisWeights,
    scratch: Vec<f32>,
}

impl Resampler {
    /// The resampler in `slot` for `from → to`, rebuilt only when the sizes change.
    pub fn cached(slot: &mut Option<Resampler>, from: (usize, usize), to: (usize, usize)) -> &mut Resampler {
        if slot.as_ref().is_none_or(|r| r.in_size() != from || r.out_size() != to) {
            *slot = Some(Resampler::new(from, to));
        }
        slot.as_mut().expect("set above")
    }

    /// `src` scaled to `size` into `dst`, with the resampler in `slot` (see [`Self::cached`]).
    pub fn scale_cached(slot: &mut Option<Resampler>, src: &Planes, dst: &mut Planes, size: (usize, usize)) {
        Resampler::cached(slot, (src.width, src.height), size).resample_planes(src, dst);
    }

    /// One plane `src` (`from`-sized) scaled to `to` into `dst` (`to`-sized), with the
    /// resampler in `slot`; a plain copy when the sizes agree.
    pub fn scale_plane_cached(
        slot: &mut Option<Resampler>,
        src: &[f32],
        from: (usize, usize),
        dst: &mut [f32],
        to: (usize, usize),
    ) {
        if from == to {
            dst.copy_from_slice(src);
        } else {
            Resampler::cached(slot, from, to).resample_plane(src, dst);
        }
    }

    pub fn new(in_size: (usize, usize), out_size: (usize, usize)) -> Self {
        assert!(in_size.0 > 0 && in_size.1 > 0 && out_size.0 > 0 && out_size.1 > 0);
        Resampler {
            in_size,
            out_size,
            horizontal: AxisWeights::new(in_size.0, out_size.0),
            vertical: AxisWeights::new(in_size.1, out_size.1),
            scratch: Vec::new(),
        }
    }

    pub fn in_size(&self) -> (usize, usize) {
        self.in_size
    }

    pub fn out_size(&self) -> (usize, usize) {
        self.out_size
    }

    /// Resamples the three planes of `src` (which must be `in_size`) into `dst`, resized to
    /// `out_size`.
    pub fn resample_planes(&mut self, src: &Planes, dst: &mut Planes) {
        assert_eq!((src.width, src.height), self.in_size);
        let (ow, oh) = self.out_size;
        dst.resize(ow, oh);
        let (n_in, n_out) = (src.width * src.height, ow * oh);
        for c in 0..3 {
            self.resample_plane(&src.data[c * n_in..(c + 1) * n_in], &mut dst.data[c * n_out..(c + 1) * n_out]);
        }
    }

    /// Resamples one plane (`in_size.0 * in_size.1` values) into `dst` (`out_size` values).
    ///
    /// The two passes are separable, so either order gives the same image (up to rounding);
    /// the vertical pass (whole rows at a time, vectorised) goes first when it removes rows,
    /// so that the horizontal pass (a short dot product per output pixel) runs on fewer rows:
    /// at 1280×720 → 384×216 that is 216 rows instead of 720.
    pub fn resample_plane(&mut self, src: &[f32], dst: &mut [f32]) {
        let (iw, ih) = self.in_size;
        let (ow, oh) = self.out_size;
        assert_eq!(src.len(), iw * ih);
        assert_eq!(dst.len(), ow * oh);
        if oh < ih {
            self.scratch.resize(iw * oh, 0.0);
            vertical_pass(&self.vertical, src, iw, &mut self.scratch);
            horizontal_pass(&self.horizontal, &self.scratch, (iw, ow), dst);
        } else {
            self.scratch.resize(ow * ih, 0.0);
            horizontal_pass(&self.horizontal, src, (iw, ow), &mut self.scratch);
            vertical_pass(&self.vertical, &self.scratch, ow, dst);
        }
    }
}

/// Every row of `src` (rows of `iw`) resampled along x into the rows of `dst` (rows of `ow`).
fn horizontal_pass(hw: &AxisWeights, src: &[f32], (iw, ow): (usize, usize), dst: &mut [f32]) {
    src.par_chunks_exact(iw).zip(dst.par_chunks_exact_mut(ow)).for_each(|(src_row, dst_row)| {
        for (o, out) in dst_row.iter_mut().enumerate() {
            let s = hw.start[o];
            let w = &hw.weights[o * hw.taps..o * hw.taps + hw.count[o]];
            *out = src_row[s..s + w.len()].iter().zip(w).map(|(a, b)| a * b).sum();
        }
    });
}

/// `src` (rows of `w`) resampled along y into `dst` (rows of `w`), a whole row at a time so the
/// inner loop vectorises.
fn vertical_pass(vw: &AxisWeights, src: &[f32], w: usize, dst: &mut [f32]) {
    dst.par_chunks_exact_mut(w).enumerate().for_each(|(o, dst_row)| {
        let s = vw.start[o];
        let weights = &vw.weights[o * vw.taps..o * vw.taps + vw.count[o]];
        dst_row.fill(0.0);
        for (k, weight) in weights.iter().enumerate() {
            let row = &src[(s + k) * w..(s + k + 1) * w];
            dst_row.iter_mut().zip(row).for_each(|(d, r)| *d += weight * r);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Vertical-first (rows removed) and horizontal-first give the same image: the passes are
    /// separable, only the order of the sums differs.
    #[test]
    fn either_pass_order_gives_the_same_image() {
        for (i, o) in [((97, 61), (30, 19)), ((1280, 720), (384, 216)), ((40, 30), (64, 12)), ((30, 19), (97, 61))] {
            let src: Vec<f32> = (0..i.0 * i.1).map(|k| ((k * 37 % 251) as f32).sin() * 100.0 + 128.0).collect();
            let mut fast = vec![0.0; o.0 * o.1];
            let mut r = Resampler::new(i, o);
            r.resample_plane(&src, &mut fast);
            // Horizontal first, as written out by hand.
            let mut tmp = vec![0.0; o.0 * i.1];
            horizontal_pass(&r.horizontal, &src, (i.0, o.0), &mut tmp);
            let mut reference = vec![0.0; o.0 * o.1];
            vertical_pass(&r.vertical, &tmp, o.0, &mut reference);
            for (k, (a, b)) in fast.iter().zip(&reference).enumerate() {
                assert!((a - b).abs() < 1e-3, "{i:?}->{o:?} at {k}: {a} vs {b}");
            }
        }
    }

    #[test]
    fn identity_size_is_exact() {
        let src: Vec<f32> = (0..12).map(|v| v as f32).collect();
        let mut dst = vec![0.0; 12];
        Resampler::new((4, 3), (4, 3)).resample_plane(&src, &mut dst);
        for (a, b) in src.iter().zip(&dst) {
            assert!((a - b).abs() < 1e-5);
        }
    }

    #[test]
    fn constant_stays_constant_both_ways() {
        for (i, o) in [((37, 23), (8, 5)), ((8, 5), (37, 23)), ((1, 1), (7, 3)), ((1280, 720), (384, 216))] {
            let src = vec![42.0f32; i.0 * i.1];
            let mut dst = vec![0.0; o.0 * o.1];
            Resampler::new(i, o).resample_plane(&src, &mut dst);
            assert!(dst.iter().all(|v| (v - 42.0).abs() < 1e-3), "{i:?}->{o:?}");
        }
    }

    #[test]
    fn downscale_averages_fine_detail() {
        // A 1-pixel checkerboard must become flat grey, not aliased stripes.
        let (w, h) = (64, 64);
        let src: Vec<f32> = (0..w * h).map(|i| if (i % w + i / w) % 2 == 0 { 0.0 } else { 255.0 }).collect();
        let mut dst = vec![0.0; 16 * 16];
        Resampler::new((w, h), (16, 16)).resample_plane(&src, &mut dst);
        assert!(dst.iter().all(|v| (v - 127.5).abs() < 8.0), "{dst:?}");
    }

    #[test]
    fn upscale_samples_at_the_bilinear_taps() {
        let src: Vec<f32> = (0..8).map(|v| ((v * 37) % 11) as f32 * 10.0).collect();
        let mut dst = vec![0.0; 29];
        Resampler::new((8, 1), (29, 1)).resample_plane(&src, &mut dst);
        let t = BilinearTaps::new(8, 29);
        for (o, v) in dst.iter().enumerate() {
            let expect = (1.0 - t.w[o]) * src[t.i0[o]] + t.w[o] * src[t.i1[o]];
            assert!((v - expect).abs() < 1e-4, "{o}: {v} vs {expect}");
        }
        assert_eq!((t.i0[0], t.w[0]), (0, 0.0), "the first output sits on the first input");
        assert_eq!((t.i0[28], t.i1[28], t.w[28]), (7, 7, 0.0), "edges are clamped");
    }

    /// Run by run (short runs written as one fixed-width vector, whose tail the next runs
    /// overwrite) equals the bilinear formula output by output: ratios with runs shorter and
    /// longer than the fixed width, a tail shorter than it, and a destination longer than the
    /// taps (its extra values untouched).
    #[test]
    fn run_interpolation_equals_the_formula_per_output() {
        for (i, o) in [(384, 1280), (384, 1920), (216, 720), (8, 29), (3, 40), (5, 9), (1, 6), (7, 7)] {
            let t = BilinearTaps::new(i, o);
            let src: Vec<f32> = (0..i).map(|k| ((k * 53 % 97) as f32).cos() * 50.0).collect();
            let mut dst = vec![f32::NAN; o + 5];
            t.interpolate(&t.runs(), &src, &mut dst);
            for (k, v) in dst[..o].iter().enumerate() {
                let expect = src[t.i0[k]] + (src[t.i1[k]] - src[t.i0[k]]) * t.w[k];
                assert!((v - expect).abs() < 1e-4, "{i}->{o} at {k}: {v} vs {expect}");
            }
            assert!(dst[o..].iter().all(|v| v.is_nan()), "{i}->{o}: wrote past the taps");
        }
    }

    #[test]
    fn upscale_of_ramp_is_monotonic_and_bounded() {
        let src: Vec<f32> = (0..8).map(|v| v as f32 * 10.0).collect();
        let mut dst = vec![0.0; 32];
        Resampler::new((8, 1), (32, 1)).resample_plane(&src, &mut dst);
        assert!(dst.windows(2).all(|p| p[1] >= p[0] - 1e-4));
        assert!(dst[0] >= 0.0 && dst[31] <= 70.0);
    }
}
