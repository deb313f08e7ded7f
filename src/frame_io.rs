//! Frame I/O: packed 8-bit video frames (RGBx, BGRA, RGB, …) ↔ our planar RGB images.
//!
//! Planes hold pixel values in `0.0..=255.0` so resampling, smoothing and blending happen in one
//! well-defined unit; the model's tensor layout, channel order and range are [`crate::tensor_io`]'s
//! business. The frame path is: frame → [`unpack_frame`] → (resample) → tensor → network → tensor →
//! (resample) → [`write_output`].

use rayon::prelude::*;

/// Where the colour bytes sit inside one packed pixel (RGBx, BGRA, RGB, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PackedLayout {
    /// Bytes per pixel: 3 or 4.
    pub pixel_stride: usize,
    /// Byte offsets of red, green and blue.
    pub rgb_offsets: [usize; 3],
}

/// Three planes (R, G, B) of `width × height` pixel values in `0.0..=255.0`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Planes {
    pub width: usize,
    pub height: usize,
    pub data: Vec<f32>,
}

impl Planes {
    /// `width × height` planes with value `f(channel, x, y)` at each sample (test images,
    /// synthetic frames).
    pub fn from_fn(width: usize, height: usize, f: impl Fn(usize, usize, usize) -> f32) -> Planes {
        let data = (0..3)
            .flat_map(|c| (0..height).flat_map(move |y| (0..width).map(move |x| (c, x, y))))
            .map(|(c, x, y)| f(c, x, y))
            .collect();
        Planes { width, height, data }
    }

    pub fn resize(&mut self, width: usize, height: usize) {
        self.width = width;
        self.height = height;
        self.data.resize(width * height * 3, 0.0);
    }

    pub fn plane(&self, c: usize) -> &[f32] {
        let n = self.width * self.height;
        &self.data[c * n..(c + 1) * n]
    }

    pub fn plane_mut(&mut self, c: usize) -> &mut [f32] {
        let n = self.width * self.height;
        &mut self.data[c * n..(c + 1) * n]
    }
}

/// Reads the colour of a `width × height` packed frame into `dst`.
pub fn unpack_frame(src: &[u8], stride: usize, layout: PackedLayout, width: usize, height: usize, dst: &mut Planes) {
    match layout.pixel_stride {
        4 => unpack_rows::<4>(src, stride, layout.rgb_offsets, (width, height), dst),
        3 => unpack_rows::<3>(src, stride, layout.rgb_offsets, (width, height), dst),
        other => unreachable!("packed RGB formats have 3 or 4 bytes per pixel, not {other}"),
    }
}

/// [`unpack_frame`] monomorphised on the pixel stride, so the per-pixel loop has constant
/// offsets.
fn unpack_rows<const PS: usize>(
    src: &[u8],
    stride: usize,
    [ro, go, bo]: [usize; 3],
    (width, height): (usize, usize),
    dst: &mut Planes,
) {
    dst.resize(width, height);
    let n = width * height;
    let (r_plane, rest) = dst.data.split_at_mut(n);
    let (g_plane, b_plane) = rest.split_at_mut(n);
    r_plane
        .par_chunks_exact_mut(width)
        .zip(g_plane.par_chunks_exact_mut(width))
        .zip(b_plane.par_chunks_exact_mut(width))
        .enumerate()
        .for_each(|(y, ((r, g), b))| {
            let row = &src[y * stride..y * stride + width * PS];
            if PS == 4 {
                unpack_row4(row, [ro, go, bo], [r, g, b]);
                return;
            }
            for (x, px) in row.chunks_exact(PS).enumerate() {
                r[x] = px[ro] as f32;
                g[x] = px[go] as f32;
                b[x] = px[bo] as f32;
            }
        });
}

/// One row of 4-byte pixels into three planes. Each pixel is read as one little-endian `u32`
/// and a channel is a shift by the same amount for every pixel, so the loop vectorises (byte
/// offsets differing per format would not).
fn unpack_row4(row: &[u8], offsets: [usize; 3], planes: [&mut [f32]; 3]) {
    dispatch!(unpack_row4_avx2, unpack_row4_generic, (row, offsets, planes))
}

with_avx2!(unpack_row4_avx2, unpack_row4_generic, (row: &[u8], offsets: [usize; 3], planes: [&mut [f32]; 3]));

#[inline(always)]
fn unpack_row4_generic(row: &[u8], offsets: [usize; 3], [r, g, b]: [&mut [f32]; 3]) {
    let [sr, sg, sb] = offsets.map(|o| 8 * o as u32);
    let w = row.len() / 4;
    let (r, g, b) = (&mut r[..w], &mut g[..w], &mut b[..w]);
    for (x, px) in row.chunks_exact(4).enumerate() {
        let v = u32::from_le_bytes([px[0], px[1], px[2], px[3]]);
        r[x] = ((v >> sr) & 0xff) as f32;
        g[x] = ((v >> sg) & 0xff) as f32;
        b[x] = ((v >> sb) & 0xff) as f32;
    }
}

/// One output row of 4-byte pixels at `strength` ≥ 1: each pixel is the original's `u32` with
/// the three colour bytes replaced by the rounded, clamped stylized values (alpha and padding
/// kept). Shifts by the same amount for every pixel, so the loop vectorises.
fn write_row4(dst: &mut [u8], src: &[u8], offsets: [usize; 3], planes: [&[f32]; 3]) {
    dispatch!(write_row4_avx2, write_row4_generic, (dst, src, offsets, planes))
}

with_avx2!(write_row4_avx2, write_row4_generic, (dst: &mut [u8], src: &[u8], offsets: [usize; 3], planes: [&[f32]; 3]));

#[inline(always)]
fn write_row4_generic(dst: &mut [u8], src: &[u8], offsets: [usize; 3], [r, g, b]: [&[f32]; 3]) {
    let [sr, sg, sb] = offsets.map(|o| 8 * o as u32);
    let keep = !((0xffu32 << sr) | (0xff << sg) | (0xff << sb));
    let w = dst.len() / 4;
    let (r, g, b, src) = (&r[..w], &g[..w], &b[..w], &src[..w * 4]);
    // `as u8` saturates, so +0.5 then a cast rounds and clamps to 0..=255.
    let byte = |v: f32| (v + 0.5) as u8 as u32;
    for (x, (d, s)) in dst.chunks_exact_mut(4).zip(src.chunks_exact(4)).enumerate() {
        let o = u32::from_le_bytes([s[0], s[1], s[2], s[3]]);
        let v = (o & keep) | (byte(r[x]) << sr) | (byte(g[x]) << sg) | (byte(b[x]) << sb);
        d.copy_from_slice(&v.to_le_bytes());
    }
}

/// Copies `src` into `dst` row by row (`src_stride` and `dst_stride` bytes apart), each row
/// as far as both strides reach: a plane copied whole, padding included, when the strides agree.
pub fn copy_rows(src: &[u8], src_stride: usize, dst: &mut [u8], dst_stride: usize) {
    if src_stride == dst_stride {
        let n = src.len().min(dst.len());
        dst[..n].copy_from_slice(&src[..n]);
        return;
    }
    for (s, d) in src.chunks(src_stride).zip(dst.chunks_mut(dst_stride)) {
        let n = s.len().min(d.len());
        d[..n].copy_from_slice(&s[..n]);
    }
}

/// A packed 8-bit frame, read in place.
#[derive(Debug, Clone, Copy)]
pub struct PackedFrame<'a> {
    pub data: &'a [u8],
    pub stride: usize,
    pub layout: PackedLayout,
    pub width: usize,
    pub height: usize,
}

/// Writes `stylized` over `original` into `out`: each colour is
/// `original + strength × (stylized − original)`; every other byte (alpha, padding) is copied
/// from `original` unchanged.
pub fn write_frame(
    stylized: &Planes,
    original: &[u8],
    in_stride: usize,
    out: &mut [u8],
    out_stride: usize,
    layout: PackedLayout,
    strength: f32,
) {
    let rows = Rows { stylized, original, in_stride, out_stride, offsets: layout.rgb_offsets, strength };
    match layout.pixel_stride {
        4 => rows.write::<4>(out),
        3 => rows.write::<3>(out),
        other => unreachable!("packed RGB formats have 3 or 4 bytes per pixel, not {other}"),
    }
}

/// Split view: copies the left half of `original` over `out` (RGB bytes only; alpha and
/// padding stay as written) and draws a 2-pixel white divider at the middle.
pub fn split_view(
    original: &[u8],
    in_stride: usize,
    out: &mut [u8],
    out_stride: usize,
    layout: PackedLayout,
    (width, height): (usize, usize),
) {
    let ps = layout.pixel_stride;
    let middle = width / 2;
    out.par_chunks_mut(out_stride).take(height).enumerate().for_each(|(y, row)| {
        let src = &original[y * in_stride..][..width * ps];
        for x in 0..middle.min(width) {
            for &o in &layout.rgb_offsets {
                row[x * ps + o] = src[x * ps + o];
            }
        }
        for x in middle.saturating_sub(1)..(middle + 1).min(width) {
            for &o in &layout.rgb_offsets {
                row[x * ps + o] = 255;
            }
        }
    });
}

/// The output stage: `stylized` blended over `original` by `strength` into `out`
/// ([`write_frame`]), then, for the split view, the original's left half over it
/// ([`split_view`]).
pub fn write_output(
    stylized: &Planes,
    original: &PackedFrame,
    out: &mut [u8],
    out_stride: usize,
    strength: f32,
    split: bool,
) {
    write_frame(stylized, original.data, original.stride, out, out_stride, original.layout, strength);
    if split {
        split_view(original.data, original.stride, out, out_stride, original.layout, (original.width, original.height));
    }
}

struct Rows<'a> {
    stylized: &'a Planes,
    original: &'a [u8],
    in_stride: usize,
    out_stride: usize,
    offsets: [usize; 3],
    strength: f32,
}

impl Rows<'_> {
    /// Monomorphised on the pixel stride so the per-pixel loop has constant offsets.
    fn write<const PS: usize>(&self, out: &mut [u8]) {
        let (w, h) = (self.stylized.width, self.stylized.height);
        let n = w * h;
        let data = &self.stylized.data;
        let (r_plane, g_plane, b_plane) = (&data[..n], &data[n..2 * n], &data[2 * n..3 * n]);
        let [ro, go, bo] = self.offsets;
        let k = self.strength;
        out.par_chunks_mut(self.out_stride).take(h).enumerate().for_each(|(y, dst_row)| {
            let src_row = &self.original[y * self.in_stride..][..w * PS];
            let dst_row = &mut dst_row[..w * PS];
            let (r, g, b) = (&r_plane[y * w..][..w], &g_plane[y * w..][..w], &b_plane[y * w..][..w]);
            // `as u8` saturates, so +0.5 then a cast rounds and clamps to 0..=255.
            if k >= 1.0 && PS == 4 {
                write_row4(dst_row, src_row, [ro, go, bo], [r, g, b]);
            } else if k >= 1.0 {
                for (x, (d, s)) in dst_row.chunks_exact_mut(PS).zip(src_row.chunks_exact(PS)).enumerate() {
                    d.copy_from_slice(s);
                    d[ro] = (r[x] + 0.5) as u8;
                    d[go] = (g[x] + 0.5) as u8;
                    d[bo] = (b[x] + 0.5) as u8;
                }
            } else {
                let blend = |o: u8, v: f32| {
                    let o = o as f32;
                    (o + k * (v - o) + 0.5) as u8
                };
                for (x, (d, s)) in dst_row.chunks_exact_mut(PS).zip(src_row.chunks_exact(PS)).enumerate() {
                    d.copy_from_slice(s);
                    d[ro] = blend(s[ro], r[x]);
                    d[go] = blend(s[go], g[x]);
                    d[bo] = blend(s[bo], b[x]);
                }
            }
        });
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) const RGBX: PackedLayout = PackedLayout { pixel_stride: 4, rgb_offsets: [0, 1, 2] };

    #[test]
    fn planes_from_fn_are_channel_major_rows() {
        let p = Planes::from_fn(3, 2, |c, x, y| (100 * c + 10 * y + x) as f32);
        assert_eq!((p.width, p.height), (3, 2));
        assert_eq!(p.plane(0), &[0.0, 1.0, 2.0, 10.0, 11.0, 12.0]);
        assert_eq!(p.plane(2), &[200.0, 201.0, 202.0, 210.0, 211.0, 212.0]);
    }

    pub(crate) fn test_frame(w: usize, h: usize, stride: usize) -> Vec<u8> {
        let mut f = vec![0u8; stride * h];
        for y in 0..h {
            for x in 0..w {
                let p = &mut f[y * stride + x * 4..][..4];
                p.copy_from_slice(&[(x * 10) as u8, (y * 20) as u8, (x + y) as u8, 200]);
            }
        }
        f
    }

    #[test]
    fn output_is_blended_then_split() {
        let (w, h, stride) = (6, 2, 24);
        let frame = test_frame(w, h, stride);
        let original = PackedFrame { data: &frame, stride, layout: RGBX, width: w, height: h };
        let stylized = Planes { width: w, height: h, data: vec![40.0; w * h * 3] };
        let mut out = vec![0u8; stride * h];
        write_output(&stylized, &original, &mut out, stride, 1.0, false);
        assert!(out.chunks(4).take(w).all(|p| p[..3] == [40, 40, 40]));
        write_output(&stylized, &original, &mut out, stride, 1.0, true);
        for y in 0..h {
            let px = |x: usize| &out[y * stride + x * 4..][..4];
            let src = |x: usize| &frame[y * stride + x * 4..][..4];
            assert_eq!(px(0), src(0), "left of the divider: the original");
            assert_eq!(px(1), src(1));
            assert_eq!(px(2)[..3], [255, 255, 255], "divider");
            assert_eq!(px(3)[..3], [255, 255, 255], "divider");
            assert_eq!(px(4)[..3], [40, 40, 40], "right: stylized");
            assert_eq!(px(5)[3], src(5)[3], "alpha kept");
        }
    }

    #[test]
    fn strength_blends_and_keeps_alpha() {
        let frame = vec![100u8, 100, 100, 7];
        let planes = Planes { width: 1, height: 1, data: vec![200.0, 0.0, 300.0] };
        let mut out = vec![0u8; 4];
        write_frame(&planes, &frame, 4, &mut out, 4, RGBX, 0.5);
        assert_eq!(out, vec![150, 50, 200, 7]);
        write_frame(&planes, &frame, 4, &mut out, 4, RGBX, 0.0);
        assert_eq!(out, frame);
    }

    /// Every packed layout (3- and 4-byte pixels, colour bytes at any offsets) reads each colour
    /// byte into its plane and writes it back rounded and clamped, the other bytes kept: the
    /// 4-byte rows go through whole-pixel shifts, checked here against byte-by-byte indexing.
    #[test]
    fn every_layout_reads_and_writes_its_own_bytes() {
        let layouts = [[0, 1, 2], [2, 1, 0], [1, 2, 3], [3, 2, 1]]
            .map(|o| PackedLayout { pixel_stride: 4, rgb_offsets: o })
            .into_iter()
            .chain([[0, 1, 2], [2, 1, 0]].map(|o| PackedLayout { pixel_stride: 3, rgb_offsets: o }));
        let (w, h) = (37, 5);
        for layout in layouts {
            let ps = layout.pixel_stride;
            let stride = w * ps + 8;
            let frame: Vec<u8> = (0..stride * h).map(|i| (i * 73 % 256) as u8).collect();
            let mut planes = Planes::default();
            unpack_frame(&frame, stride, layout, w, h, &mut planes);
            for (c, &o) in layout.rgb_offsets.iter().enumerate() {
                for y in 0..h {
                    for x in 0..w {
                        assert_eq!(planes.plane(c)[y * w + x], frame[y * stride + x * ps + o] as f32, "{layout:?}");
                    }
                }
            }
            // Out of range and fractional values: clamped to 0..=255 and rounded.
            let stylized = Planes::from_fn(w, h, |c, x, y| (x * 9 + y * 5 + c * 31) as f32 - 40.3);
            let mut out = vec![0u8; stride * h];
            write_frame(&stylized, &frame, stride, &mut out, stride, layout, 1.0);
            for y in 0..h {
                for x in 0..w {
                    for b in 0..ps {
                        let at = y * stride + x * ps + b;
                        let expect = match layout.rgb_offsets.iter().position(|&o| o == b) {
                            Some(c) => (stylized.plane(c)[y * w + x] + 0.5).clamp(0.0, 255.0) as u8,
                            None => frame[at],
                        };
                        assert_eq!(out[at], expect, "{layout:?} at ({x}, {y}) byte {b}");
                    }
                }
            }
        }
    }
}
