//! Block motion between two images at network size, and warping by it: the temporal filter
//! warps its history with it (`motion-compensation`), and `realtime-policy=latest` moves a
//! reused stylization onto the current frame with [`align`].

use rayon::prelude::*;

use crate::frame_io::Planes;

/// Block size and search radius (network pixels) of the motion estimation.
pub const BLOCK: usize = 8;
pub const SEARCH: i32 = 4;
fn luma(p: &Planes) -> Vec<f32> {
    let n = p.width * p.height;
    (0..n).map(|i| 0.25 * (p.data[i] + p.data[2 * n + i]) + 0.5 * p.data[n + i]).collect()
}

/// Per-block motion `(dx, dy)`: block content at `(x, y)` now was at `(x + dx, y + dy)` in
/// `prev`. Full search within ±[`SEARCH`] by sum of absolute luma differences; zero motion wins
/// ties within noise, so static blocks are never "moved" by noise.
pub fn estimate_motion(prev: &Planes, cur: &Planes) -> (usize, Vec<(i32, i32)>) {
    let (w, h) = (cur.width, cur.height);
    let (lp, lc) = (luma(prev), luma(cur));
    let bw = w.div_ceil(BLOCK);
    let bh = h.div_ceil(BLOCK);
    let vectors = (0..bw * bh)
        .into_par_iter()
        .map(|b| {
            let (x0, y0) = ((b % bw) * BLOCK, (b / bw) * BLOCK);
            let (x1, y1) = ((x0 + BLOCK).min(w), (y0 + BLOCK).min(h));
            let sad = |dx: i32, dy: i32| -> Option<f32> {
                let (sx0, sy0) = (x0 as i32 + dx, y0 as i32 + dy);
                let (sx1, sy1) = (x1 as i32 + dx, y1 as i32 + dy);
                if sx0 < 0 || sy0 < 0 || sx1 > w as i32 || sy1 > h as i32 {
                    return None;
                }
                // Every other row: a quarter of the work, plenty for a smooth, downscaled image.
                let mut s = 0.0;
                for y in (y0..y1).step_by(2) {
                    let sy = (y as i32 + dy) as usize;
                    let cur_row = &lc[y * w + x0..y * w + x1];
                    let prev_row = &lp[sy * w + sx0 as usize..sy * w + sx1 as usize];
                    s += cur_row.iter().zip(prev_row).map(|(a, b)| (a - b).abs()).sum::<f32>();
                }
                Some(2.0 * s)
            };
            let pixels = ((x1 - x0) * (y1 - y0)) as f32;
            let zero = sad(0, 0).unwrap_or(f32::MAX);
            // Prefer no motion unless another offset is better by more than ~1 level a pixel.
            let mut best = ((0, 0), zero - pixels);
            for dy in -SEARCH..=SEARCH {
                for dx in -SEARCH..=SEARCH {
                    if let Some(s) = sad(dx, dy)
                        && s < best.1
                    {
                        best = ((dx, dy), s);
                    }
                }
            }
            best.0
        })
        .collect();
    (bw, vectors)
}

/// Moves an earlier stylization onto a later frame: block motion from `prev_in` (what the
/// network saw then) to `cur_in` (the later frame at the same size) warps both `prev_in` and
/// `prev_out` into `aligned_in` / `aligned_out`. `realtime-policy=latest` does this before
/// reusing a stylization, so what moved since is not fitted with the old frame's colours.
/// Returns false (and leaves the outputs alone) when nothing moved.
pub fn align(
    prev_in: &Planes,
    prev_out: &Planes,
    cur_in: &Planes,
    aligned_in: &mut Planes,
    aligned_out: &mut Planes,
) -> bool {
    let (bw, vectors) = estimate_motion(prev_in, cur_in);
    if vectors.iter().all(|v| *v == (0, 0)) {
        return false;
    }
    warp(prev_in, aligned_in, bw, &vectors);
    warp(prev_out, aligned_out, bw, &vectors);
    true
}

/// `src` warped by per-block vectors: `dst(x, y) = src(x + dx, y + dy)` (clamped to the image).
pub(crate) fn warp(src: &Planes, dst: &mut Planes, bw: usize, vectors: &[(i32, i32)]) {
    let (w, h) = (src.width, src.height);
    let n = w * h;
    dst.resize(w, h);
    dst.data.par_chunks_exact_mut(w).enumerate().for_each(|(row, out)| {
        let (c, y) = (row / h, row % h);
        for (x, o) in out.iter_mut().enumerate() {
            let (dx, dy) = vectors[(y / BLOCK) * bw + x / BLOCK];
            let sx = (x as i32 + dx).clamp(0, w as i32 - 1) as usize;
            let sy = (y as i32 + dy).clamp(0, h as i32 - 1) as usize;
            *o = src.data[c * n + sy * w + sx];
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn motion_estimation_finds_a_pan() {
        let (w, h) = (64, 48);
        let tex = |x: i32, y: i32| (((x * 37) ^ (y * 53)) % 97) as f32 * 2.0;
        let prev = Planes::from_fn(w, h, |_, x, y| tex(x as i32, y as i32));
        // The scene moved 3 px left and 2 px up: content now at (x, y) was at (x + 3, y + 2).
        let cur = Planes::from_fn(w, h, |_, x, y| tex(x as i32 + 3, y as i32 + 2));
        let (bw, v) = estimate_motion(&prev, &cur);
        let inner: Vec<_> = v.iter().enumerate().filter(|(i, _)| i % bw < bw - 1 && i / bw < h / BLOCK - 1).collect();
        assert!(inner.iter().all(|(_, v)| **v == (3, 2)), "{v:?}");
        let mut warped = Planes::default();
        warp(&prev, &mut warped, bw, &v);
        // Away from the right and bottom borders (where the content came from outside), the
        // warped previous frame is the current one.
        for y in 0..h - BLOCK {
            for x in 0..w - BLOCK {
                assert_eq!(warped.data[y * w + x], cur.data[y * w + x], "({x},{y})");
            }
        }
    }

    #[test]
    fn align_moves_a_stylization_with_the_scene() {
        let (w, h) = (64, 48);
        let tex = |x: i32, y: i32| (((x * 37) ^ (y * 53)) % 97) as f32 * 2.0;
        let prev_in = Planes::from_fn(w, h, |_, x, y| tex(x as i32, y as i32));
        // A "stylization" that depends on position: each pixel's own coordinates.
        let prev_out = Planes::from_fn(w, h, |c, x, y| if c == 0 { x as f32 } else { y as f32 });
        let cur_in = Planes::from_fn(w, h, |_, x, y| tex(x as i32 + 3, y as i32 + 2));
        let (mut aligned_in, mut aligned_out) = (Planes::default(), Planes::default());
        assert!(align(&prev_in, &prev_out, &cur_in, &mut aligned_in, &mut aligned_out));
        let n = w * h;
        for (x, y) in [(10, 10), (40, 30)] {
            assert_eq!(aligned_in.data[y * w + x], cur_in.data[y * w + x]);
            // The stylized pixel now at (x, y) is the one made for (x + 3, y + 2).
            assert_eq!(
                (aligned_out.data[y * w + x], aligned_out.data[n + y * w + x]),
                ((x + 3) as f32, (y + 2) as f32)
            );
        }
        assert!(!align(&prev_in, &prev_out, &prev_in, &mut aligned_in, &mut aligned_out), "nothing moved");
    }
}
