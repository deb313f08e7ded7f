//! Block motion between two images at network size, and warping by it: the temporal filter
//! warps its history with it (`motion-compensation`), and `realtime-policy=latest` moves a
//! reused stylization onto the current frame with [`align`].

use rayon::prelude::*;

use crate::frame_io::Planes;

/// Block size and search radius (network pixels) of the motion estimation. ±8 network pixels
/// is 13 px/frame at 640×360 and 27 at 720p with the default 384-wide network: real camera pans.
pub const BLOCK: usize = 8;
pub const SEARCH: i32 = 8;

/// One block's motion in network pixels, sub-pixel: the content at `(x, y)` now was at
/// `(x + dx, y + dy)` in the previous image.
pub type Vector = (f32, f32);

fn luma(p: &Planes) -> Vec<f32> {
    let n = p.width * p.height;
    (0..n).map(|i| 0.25 * (p.data[i] + p.data[2 * n + i]) + 0.5 * p.data[n + i]).collect()
}

/// The fraction of a pixel to add to the whole-pixel offset `(dx, dy)` of the block
/// `[x0, x1) × [y0, y1)` of `cur` (one Lucas–Kanade step: least squares on the gradients of
/// `prev` at the matched block), within ±1.5 in each axis; zero where the block is too flat
/// to tell.
fn fraction(
    cur: &[f32],
    prev: &[f32],
    (w, h): (usize, usize),
    (x0, y0, x1, y1): (usize, usize, usize, usize),
    (dx, dy): (i32, i32),
) -> (f32, f32) {
    let at = |x: i32, y: i32| prev[y.clamp(0, h as i32 - 1) as usize * w + x.clamp(0, w as i32 - 1) as usize];
    let (mut gxx, mut gxy, mut gyy, mut gxr, mut gyr) = (0.0f32, 0.0f32, 0.0f32, 0.0f32, 0.0f32);
    for y in y0..y1 {
        for x in x0..x1 {
            let (px, py) = (x as i32 + dx, y as i32 + dy);
            let gx = 0.5 * (at(px + 1, py) - at(px - 1, py));
            let gy = 0.5 * (at(px, py + 1) - at(px, py - 1));
            let r = at(px, py) - cur[y * w + x];
            (gxx, gxy, gyy) = (gxx + gx * gx, gxy + gx * gy, gyy + gy * gy);
            (gxr, gyr) = (gxr + gx * r, gyr + gy * r);
        }
    }
    let det = gxx * gyy - gxy * gxy;
    if det <= 1e-3 * (gxx + gyy).powi(2) || gxx + gyy < 1.0 {
        return (0.0, 0.0);
    }
    let fx = -(gyy * gxr - gxy * gyr) / det;
    let fy = -(gxx * gyr - gxy * gxr) / det;
    (fx.clamp(-1.5, 1.5), fy.clamp(-1.5, 1.5))
}

/// The whole-pixel match `(dx, dy)` refined to a fraction: Lucas–Kanade steps, moving the whole
/// part when a step says the match is nearer another pixel (the every-other-row search can be
/// off by one), at most three times.
fn refine(
    cur: &[f32],
    prev: &[f32],
    size: (usize, usize),
    block: (usize, usize, usize, usize),
    (mut dx, mut dy): (i32, i32),
) -> Vector {
    let mut f = fraction(cur, prev, size, block, (dx, dy));
    for _ in 0..3 {
        let step = (f.0.round() as i32, f.1.round() as i32);
        if step == (0, 0) || (dx + step.0).abs() > SEARCH || (dy + step.1).abs() > SEARCH {
            break;
        }
        (dx, dy) = (dx + step.0, dy + step.1);
        f = fraction(cur, prev, size, block, (dx, dy));
    }
    (dx as f32 + f.0.clamp(-0.5, 0.5), dy as f32 + f.1.clamp(-0.5, 0.5))
}

/// `luma` (`w × h`) averaged over 2×2 pixels: `(⌊w/2⌋ × ⌊h/2⌋)`.
fn halve(luma: &[f32], (w, h): (usize, usize)) -> Vec<f32> {
    let (hw, hh) = (w / 2, h / 2);
    (0..hw * hh)
        .map(|i| {
            let (x, y) = (2 * (i % hw), 2 * (i / hw));
            0.25 * (luma[y * w + x] + luma[y * w + x + 1] + luma[(y + 1) * w + x] + luma[(y + 1) * w + x + 1])
        })
        .collect()
}

/// Sum of absolute differences between the block `[x0, x1) × [y0, y1)` of `cur` and the same
/// block moved by `(dx, dy)` in `prev` (both `w × h`), every `row_step`-th row, scaled to all
/// rows; `None` when the moved block leaves the image.
#[allow(clippy::too_many_arguments)]
fn sad(
    cur: &[f32],
    prev: &[f32],
    w: usize,
    h: usize,
    (x0, y0, x1, y1): (usize, usize, usize, usize),
    (dx, dy): (i32, i32),
    row_step: usize,
) -> Option<f32> {
    let (sx0, sy0) = (x0 as i32 + dx, y0 as i32 + dy);
    let (sx1, sy1) = (x1 as i32 + dx, y1 as i32 + dy);
    if sx0 < 0 || sy0 < 0 || sx1 > w as i32 || sy1 > h as i32 {
        return None;
    }
    let mut s = 0.0;
    for y in (y0..y1).step_by(row_step) {
        let sy = (y as i32 + dy) as usize;
        let cur_row = &cur[y * w + x0..y * w + x1];
        let prev_row = &prev[sy * w + sx0 as usize..sy * w + sx1 as usize];
        s += cur_row.iter().zip(prev_row).map(|(a, b)| (a - b).abs()).sum::<f32>();
    }
    Some(row_step as f32 * s)
}

/// Per-block motion: block content at `(x, y)` now was at `(x + dx, y + dy)` in `prev`, to a
/// fraction of a pixel, within ±[`SEARCH`]. Coarse to fine: the sum of absolute luma
/// differences is searched at half resolution (±[`SEARCH`]/2 there), then at full resolution
/// around twice the coarse best and around zero (±2, so small motions are never lost to a
/// coarse mistake). Zero motion wins ties within noise, so static blocks are never "moved" by
/// noise. A Lucas–Kanade step at the match gives the fraction, so a pan that is not a whole number of network pixels warps the history where it
/// belongs at frame size.
pub fn estimate_motion(prev: &Planes, cur: &Planes) -> (usize, Vec<Vector>) {
    let (w, h) = (cur.width, cur.height);
    let (lp, lc) = (luma(prev), luma(cur));
    let (hp, hc) = (halve(&lp, (w, h)), halve(&lc, (w, h)));
    let (hw, hh) = (w / 2, h / 2);
    let bw = w.div_ceil(BLOCK);
    let bh = h.div_ceil(BLOCK);
    let block_of = |b: usize| {
        let (x0, y0) = ((b % bw) * BLOCK, (b / bw) * BLOCK);
        (x0, y0, (x0 + BLOCK).min(w), (y0 + BLOCK).min(h))
    };
    let cost = |b: usize, v: (i32, i32)| sad(&lc, &lp, w, h, block_of(b), v, 2);
    // Pass 1, per block: the best whole-pixel offset and its cost.
    let first: Vec<((i32, i32), f32)> = (0..bw * bh)
        .into_par_iter()
        .map(|b| {
            let (x0, y0, x1, y1) = block_of(b);
            // Half resolution: the whole range, all rows of the 4×4 block.
            let half = (x0 / 2, y0 / 2, (x1 / 2).min(hw), (y1 / 2).min(hh));
            let mut coarse = ((0, 0), f32::MAX);
            if half.2 > half.0 && half.3 > half.1 {
                let r = SEARCH / 2;
                for dy in -r..=r {
                    for dx in -r..=r {
                        if let Some(s) = sad(&hc, &hp, hw, hh, half, (dx, dy), 1)
                            && s < coarse.1
                        {
                            coarse = ((dx, dy), s);
                        }
                    }
                }
            }
            let pixels = ((x1 - x0) * (y1 - y0)) as f32;
            // Prefer no motion unless another offset is better by more than ~1 level a pixel.
            let mut best = ((0, 0), cost(b, (0, 0)).unwrap_or(f32::MAX) - pixels);
            let around =
                |(cx, cy): (i32, i32), r: i32| (-r..=r).flat_map(move |dy| (-r..=r).map(move |dx| (cx + dx, cy + dy)));
            for v in around((2 * coarse.0.0, 2 * coarse.0.1), 1).chain(around((0, 0), 2)) {
                if v.0.abs() <= SEARCH
                    && v.1.abs() <= SEARCH
                    && let Some(s) = cost(b, v)
                    && s < best.1
                {
                    best = (v, s);
                }
            }
            best
        })
        .collect();
    // Then, twice, each block also tries its neighbours' offsets: where the coarse level misled
    // some blocks of a moving surface, their neighbours found the motion, and it spreads.
    let mut best = first;
    for _ in 0..2 {
        best = (0..bw * bh)
            .into_par_iter()
            .map(|b| {
                let (bx, by) = (b % bw, b / bw);
                let mut mine = best[b];
                let neighbours = [
                    (bx > 0, b.wrapping_sub(1)),
                    (bx + 1 < bw, b + 1),
                    (by > 0, b.wrapping_sub(bw)),
                    (by + 1 < bh, b + bw),
                ];
                for (exists, n) in neighbours {
                    if exists
                        && best[n].0 != mine.0
                        && let Some(s) = cost(b, best[n].0)
                        && s < mine.1
                    {
                        mine = (best[n].0, s);
                    }
                }
                mine
            })
            .collect();
    }
    // The fraction of a pixel, from the gradients at the match.
    let vectors = (0..bw * bh)
        .into_par_iter()
        .map(|b| {
            let ((dx, dy), _) = best[b];
            if (dx, dy) == (0, 0) {
                return (0.0, 0.0);
            }
            let at = cost(b, (dx, dy)).unwrap_or(f32::MAX);
            let (x0, y0, x1, y1) = block_of(b);
            if at < 0.25 * ((x1 - x0) * (y1 - y0)) as f32 {
                // A whole-pixel match within a quarter level a pixel: no fraction to find.
                return (dx as f32, dy as f32);
            }
            refine(&lc, &lp, (w, h), (x0, y0, x1, y1), (dx, dy))
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
    if vectors.iter().all(|v| *v == (0.0, 0.0)) {
        return false;
    }
    warp(prev_in, aligned_in, bw, &vectors);
    warp(prev_out, aligned_out, bw, &vectors);
    true
}

/// `src` warped by per-block vectors: `dst(x, y) = src(x + dx, y + dy)`, bilinear between the
/// four nearest pixels, clamped to the image.
pub(crate) fn warp(src: &Planes, dst: &mut Planes, bw: usize, vectors: &[Vector]) {
    let (w, h) = (src.width, src.height);
    let n = w * h;
    dst.resize(w, h);
    dst.data.par_chunks_exact_mut(w).enumerate().for_each(|(row, out)| {
        let (c, y) = (row / h, row % h);
        let plane = &src.data[c * n..(c + 1) * n];
        // Block by block along the row: one offset a block, so its inside is read as slices.
        for (column, chunk) in out.chunks_mut(BLOCK).enumerate() {
            let x0 = column * BLOCK;
            let (dx, dy) = vectors[(y / BLOCK) * bw + column];
            let (ix, ax) = (dx.floor() as isize, dx - dx.floor());
            let (iy, ay) = (dy.floor() as isize, dy - dy.floor());
            let (y0, y1) = (y as isize + iy, y as isize + iy + 1);
            let (first, last) = (x0 as isize + ix, (x0 + chunk.len()) as isize + ix);
            if y0 >= 0 && y1 < h as isize && first >= 0 && last < w as isize {
                let at = |sy: isize, shift: isize| &plane[sy as usize * w + (first + shift) as usize..][..chunk.len()];
                let (tl, tr, bl, br) = (at(y0, 0), at(y0, 1), at(y1, 0), at(y1, 1));
                for (i, o) in chunk.iter_mut().enumerate() {
                    let top = tl[i] + (tr[i] - tl[i]) * ax;
                    let bottom = bl[i] + (br[i] - bl[i]) * ax;
                    *o = top + (bottom - top) * ay;
                }
            } else {
                for (i, o) in chunk.iter_mut().enumerate() {
                    *o = bilinear(plane, (w, h), (x0 + i) as f32 + dx, y as f32 + dy);
                }
            }
        }
    });
}

/// `plane` (`w × h`) at `(x, y)`, bilinear, clamped to the image.
#[inline]
pub(crate) fn bilinear(plane: &[f32], (w, h): (usize, usize), x: f32, y: f32) -> f32 {
    let x = x.clamp(0.0, (w - 1) as f32);
    let y = y.clamp(0.0, (h - 1) as f32);
    let (x0, y0) = (x as usize, y as usize);
    let (x1, y1) = ((x0 + 1).min(w - 1), (y0 + 1).min(h - 1));
    let (ax, ay) = (x - x0 as f32, y - y0 as f32);
    let top = plane[y0 * w + x0] + (plane[y0 * w + x1] - plane[y0 * w + x0]) * ax;
    let bottom = plane[y1 * w + x0] + (plane[y1 * w + x1] - plane[y1 * w + x0]) * ax;
    top + (bottom - top) * ay
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
        assert!(inner.iter().all(|(_, v)| **v == (3.0, 2.0)), "{v:?}");
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
    fn a_pan_of_a_fraction_of_a_pixel_is_found_to_a_tenth() {
        let (w, h) = (96, 64);
        // A smooth scene (as the network's downscaled input is), moved 2.5 px left, 6.25 px up.
        let scene =
            |x: f32, y: f32| 120.0 + 60.0 * (x * 0.21).sin() * (y * 0.17).cos() + 30.0 * (x * 0.05 + y * 0.08).sin();
        let prev = Planes::from_fn(w, h, |_, x, y| scene(x as f32, y as f32));
        let cur = Planes::from_fn(w, h, |_, x, y| scene(x as f32 + 2.5, y as f32 + 6.25));
        let (bw, v) = estimate_motion(&prev, &cur);
        let bh = h / BLOCK;
        // Blocks whose source stays inside the image.
        for by in 0..bh - 1 {
            for bx in 0..bw - 1 {
                let (dx, dy) = v[by * bw + bx];
                assert!((dx - 2.5).abs() <= 0.1 && (dy - 6.25).abs() <= 0.1, "block ({bx},{by}): {:?}", (dx, dy));
            }
        }
        // Beyond ±4 (the old search) and up to ±8 network pixels.
        let far = Planes::from_fn(w, h, |_, x, y| scene(x as f32 - 7.0, y as f32));
        let (bw, v) = estimate_motion(&prev, &far);
        assert!(v[2 * bw + 5] == (-7.0, 0.0), "{:?}", v[2 * bw + 5]);
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
