//! Temporal stability: motion-adaptive, optionally motion-compensated, recursive smoothing of
//! the network's output, and scene-cut detection.
//!
//! The decisions are made at the network's resolution, on the image the network saw: scene cut,
//! block motion, and per pixel how much history to keep. That is cheap (at the default inference
//! size, 1/11 of a 720p frame's pixels) and reliable: the area-downscaled input has ~3× less
//! sensor noise than the frame, so motion is told from noise well. The blend itself is applied
//! to the final stylized image at frame size (after guided upsampling), because flicker has two
//! sources: the network reacting to noise, and guided upsampling carrying the frame's own noise
//! into the result along edges and texture; only smoothing the final image removes both.
//! The weight map is upsampled bilinearly and the block vectors are scaled to the frame.
//!
//! Per pixel, with `d` the 3×3-averaged absolute colour difference between the current input
//! and the previous input (motion-compensated if enabled), both at network size:
//!
//! `out = k·prev_out + (1 − k)·new`, `k = smoothing · 0.97 · exp(−(d / noise_level)²)`
//!
//! Where the input did not change beyond noise, the output keeps its history (time constant
//! `1 / (1 − smoothing)` frames); where it changed, `k → 0` and the new result is taken at once,
//! so moving objects leave no trails. A mean change above `scene_cut` resets the history.

use rayon::prelude::*;

use crate::frame_io::Planes;
use crate::guided::box_mean;
use crate::motion::{BLOCK, Vector, bilinear, estimate_motion, warp};
use crate::resample::{BilinearTaps, TapRun};
use crate::yuv::{Plane, YuvPlanes};

/// Largest history weight: even at `temporal-smoothing=1` a static pixel still takes 3% of each
/// new result, so the output follows slow changes (lighting) and never freezes.
pub const MAX_WEIGHT: f32 = 0.97;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TemporalSettings {
    /// 0 = off … 1 = strongest.
    pub smoothing: f32,
    /// Input change (8-bit levels) treated as noise rather than motion.
    pub noise_level: f32,
    /// Mean input change (8-bit levels) that counts as a scene cut and resets the history.
    pub scene_cut: f32,
    pub motion_compensation: bool,
}

/// What [`TemporalFilter::process`] did with a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Smoothing is off.
    Off,
    /// No usable history (first frame, after a reset, a size change): output unchanged.
    Started,
    /// The input changed too much: history reset, output unchanged.
    SceneCut,
    /// Blended with the history.
    Smoothed,
}

/// Mean over pixels of the absolute colour difference (mean of the channels), in 8-bit levels.
pub fn mean_abs_diff(a: &Planes, b: &Planes) -> f32 {
    assert_eq!((a.width, a.height), (b.width, b.height));
    let sum: f64 = a
        .data
        .par_chunks(4096)
        .zip(b.data.par_chunks(4096))
        .map(|(x, y)| x.iter().zip(y).map(|(p, q)| (p - q).abs() as f64).sum::<f64>())
        .sum();
    (sum / a.data.len().max(1) as f64) as f32
}

/// Bilinear taps from one size to another: `((from, to), horizontal, vertical, horizontal runs)`.
type SizedTaps = (((usize, usize), (usize, usize)), BilinearTaps, BilinearTaps, Vec<TapRun>);

/// The smoothing state of one stream.
#[derive(Debug, Clone, Default)]
pub struct TemporalFilter {
    /// Network input of the previous frame.
    prev_in: Planes,
    /// Smoothed output of the previous frame, plane by plane (at the sizes it was delivered:
    /// usually the frame's, or a YUV frame's luma and chroma sizes).
    prev_out: Vec<Plane>,
    has_history: bool,
    warped_in: Planes,
    diff: Vec<f32>,
    /// Per network pixel, the weight of the history.
    weights: Vec<f32>,
    tmp: Vec<f32>,
    /// Interpolation taps from network size to each output size in use (luma and chroma).
    taps: Vec<SizedTaps>,
}

impl TemporalFilter {
    /// Forgets the history (flushing seek, caps change, scene cut).
    pub fn reset(&mut self) {
        self.has_history = false;
    }

    fn remember(&mut self, input: &Planes, output: &[PlaneMut]) {
        self.prev_in.clone_from(input);
        self.prev_out.resize_with(output.len(), Plane::default);
        for (prev, out) in self.prev_out.iter_mut().zip(output) {
            prev.resize(out.size.0, out.size.1);
            // Frame-sized planes (11 MB at 720p): copied in parallel chunks, not by one core.
            prev.data.par_chunks_mut(1 << 16).zip(out.data.par_chunks(1 << 16)).for_each(|(d, s)| d.copy_from_slice(s));
        }
        self.has_history = true;
    }

    /// Smooths `output` (R, G, B at one size) in place against the history, and makes `input`
    /// / `output` the history. `input` is what the network saw; `output` the stylized image, at
    /// the network's size or larger (the frame's, after upsampling), same aspect.
    pub fn process(&mut self, input: &Planes, output: &mut Planes, s: &TemporalSettings) -> Outcome {
        let size = (output.width, output.height);
        let n = size.0 * size.1;
        let (r, rest) = output.data.split_at_mut(n);
        let (g, b) = rest.split_at_mut(n);
        self.process_planes(
            input,
            &mut [PlaneMut { data: r, size }, PlaneMut { data: g, size }, PlaneMut { data: b, size }],
            s,
        )
    }

    /// [`Self::process`] for a YUV frame's stylized planes: Y at the frame's size, U and V at
    /// the chroma size. The decisions are the same (made on `input` at network size); each
    /// plane is blended at its own size.
    pub fn process_yuv(&mut self, input: &Planes, output: &mut YuvPlanes, s: &TemporalSettings) -> Outcome {
        let [y, u, v] = output.planes_mut();
        self.process_planes(
            input,
            &mut [
                PlaneMut { size: y.size(), data: &mut y.data },
                PlaneMut { size: u.size(), data: &mut u.data },
                PlaneMut { size: v.size(), data: &mut v.data },
            ],
            s,
        )
    }

    fn process_planes(&mut self, input: &Planes, output: &mut [PlaneMut], s: &TemporalSettings) -> Outcome {
        if s.smoothing <= 0.0 {
            self.has_history = false;
            return Outcome::Off;
        }
        let low = (input.width, input.height);
        let comparable = self.has_history
            && (self.prev_in.width, self.prev_in.height) == low
            && self.prev_out.len() == output.len()
            && self.prev_out.iter().zip(output.iter()).all(|(p, o)| p.size() == o.size);
        if !comparable {
            self.remember(input, output);
            return Outcome::Started;
        }
        if mean_abs_diff(input, &self.prev_in) > s.scene_cut {
            self.remember(input, output);
            return Outcome::SceneCut;
        }
        let motion = if s.motion_compensation {
            let (bw, vectors) = estimate_motion(&self.prev_in, input);
            vectors.iter().any(|v| *v != (0.0, 0.0)).then_some((bw, vectors))
        } else {
            None
        };
        let prev_in = match &motion {
            Some((bw, vectors)) => {
                warp(&self.prev_in, &mut self.warped_in, *bw, vectors);
                &self.warped_in
            }
            None => &self.prev_in,
        };
        history_weights(&mut self.diff, &mut self.weights, &mut self.tmp, input, prev_in, s);
        // Planes of one size are blended together (one weight interpolation per pixel).
        let mut i = 0;
        while i < output.len() {
            let size = output[i].size;
            let count = output[i..].iter().take_while(|p| p.size == size).count();
            self.blend(&mut output[i..i + count], i, motion.as_ref());
            i += count;
        }
        self.remember(input, output);
        Outcome::Smoothed
    }

    /// `plane += k·(warped prev_out − plane)` for `planes` (one size; history planes from
    /// `first` on), `k` and the block vectors taken from network size to that size.
    fn blend(&mut self, planes: &mut [PlaneMut], first: usize, motion: Option<&(usize, Vec<Vector>)>) {
        let low = (self.prev_in.width, self.prev_in.height);
        let full = planes[0].size;
        let at = match self.taps.iter().position(|(sizes, ..)| *sizes == (low, full)) {
            Some(at) => at,
            None => {
                // Sizes change with the caps: keep the few in use (luma and chroma).
                if self.taps.len() >= 4 {
                    self.taps.clear();
                }
                let horizontal = BilinearTaps::new(low.0, full.0);
                let runs = horizontal.runs();
                self.taps.push(((low, full), horizontal, BilinearTaps::new(low.1, full.1), runs));
                self.taps.len() - 1
            }
        };
        let (_, hz, vt, hz_runs) = &self.taps[at];
        let (lw, (fw, fh)) = (low.0, full);
        let (sx, sy) = (fw as f32 / low.0 as f32, fh as f32 / low.1 as f32);
        // The row is cut into runs of one block column: within a run the motion is one offset,
        // so the history is read as a contiguous slice and the blend vectorises.
        let mut runs: Vec<(usize, usize, usize)> = Vec::new(); // (x0, x1, block column)
        for x in 0..fw {
            let column = (((x as f32 + 0.5) / sx) as usize).min(lw - 1) / BLOCK;
            match runs.last_mut() {
                Some(run) if run.2 == column => run.1 = x + 1,
                _ => runs.push((x, x + 1, column)),
            }
        }
        // Per block, its motion in output pixels: a whole part and a fraction.
        let offsets: Vec<BlockOffset> = motion.map_or_else(Vec::new, |(_, vectors)| {
            let split = |v: f32| (v.floor() as isize, v - v.floor());
            vectors.iter().map(|&(dx, dy)| (split(dx * sx), split(dy * sy))).collect()
        });
        let bw = motion.map_or(0, |(bw, _)| *bw);
        let weights = &self.weights;
        let prev: Vec<&[f32]> = self.prev_out[first..first + planes.len()].iter().map(|p| &p.data[..]).collect();
        let mut rows: Vec<Vec<&mut [f32]>> = (0..fh).map(|_| Vec::with_capacity(planes.len())).collect();
        for plane in planes.iter_mut() {
            for (row, slice) in rows.iter_mut().zip(plane.data.chunks_exact_mut(fw)) {
                row.push(slice);
            }
        }
        rows.into_par_iter().enumerate().for_each_init(
            || (vec![0.0f32; lw], vec![0.0f32; fw]),
            |(k_low, k), (y, mut out)| {
                // This row's history weights: vertical lerp at network width, then horizontal.
                let (y0, y1, t) = (vt.i0[y], vt.i1[y], vt.w[y]);
                let (k0, k1) = (&weights[y0 * lw..(y0 + 1) * lw], &weights[y1 * lw..(y1 + 1) * lw]);
                k_low.iter_mut().zip(k0.iter().zip(k1)).for_each(|(d, (a, b))| *d = a + (b - a) * t);
                hz.interpolate(hz_runs, k_low, k);
                let block_row = (((y as f32 + 0.5) / sy) as usize).min(low.1 - 1) / BLOCK;
                let offsets = if offsets.is_empty() { &[][..] } else { &offsets[block_row * bw..(block_row + 1) * bw] };
                let row = RowBlend { y, size: full, k, prev: &prev, runs: &runs, offsets };
                blend_row(&row, &mut out);
            },
        );
    }
}

/// A block's motion in output pixels along x and y: a whole part and a fraction.
type BlockOffset = ((isize, f32), (isize, f32));

/// One output row of [`TemporalFilter::blend`]: the row `y` of planes of `size`, their history
/// planes `prev`, the per-pixel weights `k`, the row cut into runs of one block column
/// `(x0, x1, column)` and the block row's offsets (whole output pixels and a fraction; empty:
/// no motion).
struct RowBlend<'a> {
    y: usize,
    size: (usize, usize),
    k: &'a [f32],
    prev: &'a [&'a [f32]],
    runs: &'a [(usize, usize, usize)],
    offsets: &'a [BlockOffset],
}

fn blend_row(r: &RowBlend, out: &mut [&mut [f32]]) {
    dispatch!(blend_row_avx2, blend_row_generic, (r, out))
}

with_avx2!(blend_row_avx2, blend_row_generic, (r: &RowBlend, out: &mut [&mut [f32]]));

#[inline(always)]
fn blend_row_generic(r: &RowBlend, out: &mut [&mut [f32]]) {
    let (y, (fw, fh), k) = (r.y, r.size, r.k);
    for &(x0, x1, column) in r.runs {
        let ((ix, ax), (iy, ay)) = if r.offsets.is_empty() { ((0, 0.0), (0, 0.0)) } else { r.offsets[column] };
        let row = |dy: isize| (y as isize + iy + dy).clamp(0, fh as isize - 1) as usize;
        let (py0, py1) = (row(0), row(1));
        // The part of the run whose source pixels (x + ix and x + ix + 1) are inside the frame
        // reads contiguous slices; the rest is clamped one by one.
        let lo = (x0 as isize).max(-ix).min(x1 as isize) as usize;
        let hi = ((x1 as isize).min(fw as isize - 1 - ix)).max(lo as isize) as usize;
        for (o, p) in out.iter_mut().zip(r.prev) {
            for x in (x0..lo).chain(hi..x1) {
                let sx = (x as isize + ix) as f32 + ax;
                let v = bilinear(p, (fw, fh), sx, y as f32 + iy as f32 + ay);
                o[x] += k[x] * (v - o[x]);
            }
            let at = |py: usize, shift: isize| {
                let start = py * fw;
                &p[start + (lo as isize + ix + shift) as usize..start + (hi as isize + ix + shift) as usize]
            };
            if ax == 0.0 && ay == 0.0 {
                blend_run(&mut o[lo..hi], at(py0, 0), &k[lo..hi]);
            } else {
                let quad = [at(py0, 0), at(py0, 1), at(py1, 0), at(py1, 1)];
                blend_run_bilinear(&mut o[lo..hi], quad, (ax, ay), &k[lo..hi]);
            }
        }
    }
}

/// `o += k·(p − o)` with `p` bilinear between four shifted slices (top-left, top-right,
/// bottom-left, bottom-right) at fraction `(ax, ay)` (vectorised).
#[inline(always)]
fn blend_run_bilinear(o: &mut [f32], [tl, tr, bl, br]: [&[f32]; 4], (ax, ay): (f32, f32), k: &[f32]) {
    let n = o.len();
    let (tl, tr, bl, br, k) = (&tl[..n], &tr[..n], &bl[..n], &br[..n], &k[..n]);
    for i in 0..n {
        let top = tl[i] + (tr[i] - tl[i]) * ax;
        let bottom = bl[i] + (br[i] - bl[i]) * ax;
        let p = top + (bottom - top) * ay;
        o[i] += k[i] * (p - o[i]);
    }
}

/// `o += k·(p − o)` over equal-length slices (vectorised).
#[inline(always)]
fn blend_run(o: &mut [f32], p: &[f32], k: &[f32]) {
    for ((o, p), k) in o.iter_mut().zip(p).zip(k) {
        *o += k * (p - *o);
    }
}

/// One plane of an output being smoothed.
struct PlaneMut<'a> {
    data: &'a mut [f32],
    size: (usize, usize),
}

/// `weights` = the history weight of every network pixel.
fn history_weights(
    diff: &mut Vec<f32>,
    weights: &mut Vec<f32>,
    tmp: &mut Vec<f32>,
    input: &Planes,
    prev_in: &Planes,
    s: &TemporalSettings,
) {
    let (w, h) = (input.width, input.height);
    let n = w * h;
    diff.resize(n, 0.0);
    diff.par_chunks_mut(4096).enumerate().for_each(|(chunk, d)| {
        let base = chunk * 4096;
        for (i, v) in d.iter_mut().enumerate() {
            let k = base + i;
            *v = ((input.data[k] - prev_in.data[k]).abs()
                + (input.data[n + k] - prev_in.data[n + k]).abs()
                + (input.data[2 * n + k] - prev_in.data[2 * n + k]).abs())
                / 3.0;
        }
    });
    weights.resize(n, 0.0);
    box_mean(diff, weights, tmp, (w, h), 1);
    let k_max = s.smoothing.min(1.0) * MAX_WEIGHT;
    let inv_noise = 1.0 / s.noise_level.max(0.01);
    weights.par_iter_mut().for_each(|d| {
        let m = *d * inv_noise;
        *d = k_max * (-m * m).exp();
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> TemporalSettings {
        TemporalSettings { smoothing: 0.9, noise_level: 6.0, scene_cut: 30.0, motion_compensation: true }
    }

    /// Integer noise in −3..=3, independent per pixel and frame (a hash, not a pattern that
    /// could look like motion).
    fn noise(x: usize, y: usize, t: usize) -> f32 {
        let mut z = (x as u64) << 40 ^ (y as u64) << 20 ^ t as u64;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58476d1ce4e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d049bb133111eb);
        ((z ^ (z >> 31)) % 7) as f32 - 3.0
    }

    #[test]
    fn static_noisy_input_is_smoothed_and_motion_is_not() {
        let (w, h) = (64, 48);
        let mut f = TemporalFilter::default();
        let mut last = Planes::default();
        let mut diffs = Vec::new();
        for t in 0..20 {
            let input = Planes::from_fn(w, h, |_, x, y| 100.0 + noise(x, y, t));
            // A "network" that doubles the noise.
            let mut out = Planes::from_fn(w, h, |_, x, y| 150.0 + 2.0 * noise(x, y, t));
            let outcome = f.process(&input, &mut out, &settings());
            assert_eq!(outcome, if t == 0 { Outcome::Started } else { Outcome::Smoothed });
            if t > 0 {
                diffs.push(mean_abs_diff(&out, &last));
            }
            last = out;
        }
        // Unsmoothed, consecutive outputs differ by E|2n − 2n'| ≈ 4.6 levels.
        let unsmoothed = mean_abs_diff(
            &Planes::from_fn(w, h, |_, x, y| 2.0 * noise(x, y, 0)),
            &Planes::from_fn(w, h, |_, x, y| 2.0 * noise(x, y, 1)),
        );
        let late: f32 = diffs[10..].iter().sum::<f32>() / diffs[10..].len() as f32;
        assert!(late < 0.25 * unsmoothed, "consecutive difference {late}, unsmoothed {unsmoothed}");

        // Now a bright object appears on the right half: taken at once there, no blend.
        let input = Planes::from_fn(w, h, |_, x, y| if x >= 32 { 240.0 } else { 100.0 + noise(x, y, 20) });
        let mut out = Planes::from_fn(w, h, |_, x, _| if x >= 32 { 10.0 } else { 150.0 });
        f.process(&input, &mut out, &settings());
        for y in 0..h {
            for x in 34..w {
                assert!((out.data[y * w + x] - 10.0).abs() < 0.5, "({x},{y}) = {}", out.data[y * w + x]);
            }
        }
    }

    #[test]
    fn yuv_planes_of_two_sizes_are_each_smoothed_at_their_own_size() {
        let (w, h) = (64, 48);
        let mut f = TemporalFilter::default();
        let plane = |w: usize, h: usize, v: f32| Plane { width: w, height: h, data: vec![v; w * h] };
        let frame = |v: f32| YuvPlanes { y: plane(w, h, v), u: plane(w / 2, h / 2, v), v: plane(w / 2, h / 2, v) };
        let input = Planes::from_fn(32, 24, |_, _, _| 100.0);
        let mut first = frame(100.0);
        assert_eq!(f.process_yuv(&input, &mut first, &settings()), Outcome::Started);
        // The same input, a different output: every plane keeps most of its history.
        let mut second = frame(200.0);
        assert_eq!(f.process_yuv(&input, &mut second, &settings()), Outcome::Smoothed);
        let k = settings().smoothing * MAX_WEIGHT;
        for p in second.planes() {
            assert!(
                p.data.iter().all(|v| (v - (200.0 - k * 100.0)).abs() < 0.5),
                "{} x {}: {}",
                p.width,
                p.height,
                p.data[0]
            );
        }
        // Chroma at another size than before is no history to blend with.
        let mut resized = YuvPlanes { u: plane(w, h, 50.0), v: plane(w, h, 50.0), ..frame(200.0) };
        assert_eq!(f.process_yuv(&input, &mut resized, &settings()), Outcome::Started);
    }

    #[test]
    fn scene_cut_resets_history() {
        let (w, h) = (32, 32);
        let mut f = TemporalFilter::default();
        let mut out = Planes::from_fn(w, h, |_, _, _| 50.0);
        f.process(&Planes::from_fn(w, h, |_, _, _| 20.0), &mut out, &settings());
        let mut out = Planes::from_fn(w, h, |_, _, _| 200.0);
        assert_eq!(f.process(&Planes::from_fn(w, h, |_, _, _| 220.0), &mut out, &settings()), Outcome::SceneCut);
        assert!(out.data.iter().all(|v| *v == 200.0));
    }
}
