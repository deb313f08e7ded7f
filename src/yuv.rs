//! Frame I/O for YUV frames (YUY2, UYVY, NV12, NV21, I420, YV12): the frame's own planes ↔ our
//! float planes, and YUV ↔ RGB by the frame's colorimetry.
//!
//! A YUV frame is never converted to RGB at its own size. It is read as three float planes, luma
//! at the frame's size and the two chroma planes at theirs ([`YuvPlanes`]); those are scaled to
//! the network's size and only there converted to RGB ([`yuv_to_rgb`]); the network's output is
//! converted back at that size ([`rgb_to_yuv`]) and brought to the frame's luma and chroma sizes
//! by the pipeline; the result is blended and written into the frame's planes ([`write_yuv`]).
//!
//! Formats are described, as GStreamer describes them, per component (Y, U, V): which plane it
//! lives in, its byte offset inside a pixel group and the bytes from one sample to the next
//! ([`YuvLayout`]). That one description covers packed 4:2:2 and planar and semi-planar 4:2:0.
//! Chroma samples are taken as centred on their luma samples.

use rayon::prelude::*;

use crate::frame_io::Planes;

/// Where one component (Y, U or V) of a YUV format lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Component {
    /// Index of the frame plane holding it.
    pub plane: usize,
    /// Byte offset of the first sample inside a row.
    pub offset: usize,
    /// Bytes from one sample of this component to the next along a row.
    pub step: usize,
}

/// An 8-bit YUV format: its components and chroma subsampling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct YuvLayout {
    /// Y, U (Cb), V (Cr).
    pub components: [Component; 3],
    /// Chroma subsampling as shifts: `(1, 0)` is 4:2:2, `(1, 1)` 4:2:0.
    pub chroma_shift: (u32, u32),
}

const fn comp(plane: usize, offset: usize, step: usize) -> Component {
    Component { plane, offset, step }
}

impl YuvLayout {
    pub const YUY2: YuvLayout =
        YuvLayout { components: [comp(0, 0, 2), comp(0, 1, 4), comp(0, 3, 4)], chroma_shift: (1, 0) };
    pub const UYVY: YuvLayout =
        YuvLayout { components: [comp(0, 1, 2), comp(0, 0, 4), comp(0, 2, 4)], chroma_shift: (1, 0) };
    pub const NV12: YuvLayout =
        YuvLayout { components: [comp(0, 0, 1), comp(1, 0, 2), comp(1, 1, 2)], chroma_shift: (1, 1) };
    pub const NV21: YuvLayout =
        YuvLayout { components: [comp(0, 0, 1), comp(1, 1, 2), comp(1, 0, 2)], chroma_shift: (1, 1) };
    pub const I420: YuvLayout =
        YuvLayout { components: [comp(0, 0, 1), comp(1, 0, 1), comp(2, 0, 1)], chroma_shift: (1, 1) };
    /// YV12 as GStreamer maps it: plane 1 holds V, plane 2 holds U.
    pub const YV12: YuvLayout =
        YuvLayout { components: [comp(0, 0, 1), comp(2, 0, 1), comp(1, 0, 1)], chroma_shift: (1, 1) };

    /// The chroma planes' size for a `width × height` frame (odd sizes round up).
    pub fn chroma_size(&self, (width, height): (usize, usize)) -> (usize, usize) {
        let (sx, sy) = self.chroma_shift;
        (width.div_ceil(1 << sx), height.div_ceil(1 << sy))
    }

    /// `(width, height)` of component `c`'s samples for a `frame`-sized frame.
    fn size_of(&self, c: usize, frame: (usize, usize)) -> (usize, usize) {
        if c == 0 { frame } else { self.chroma_size(frame) }
    }

    /// The number of frame planes the format uses.
    pub fn plane_count(&self) -> usize {
        self.components.iter().map(|c| c.plane).max().unwrap_or(0) + 1
    }
}

/// How YUV code values relate to RGB: the luma coefficients of the colour matrix and the range.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct YuvMatrix {
    pub kr: f32,
    pub kb: f32,
    /// Full range (0–255) instead of limited (Y 16–235, chroma 16–240).
    pub full_range: bool,
}

impl YuvMatrix {
    pub const BT601: YuvMatrix = YuvMatrix { kr: 0.299, kb: 0.114, full_range: false };
    pub const BT709: YuvMatrix = YuvMatrix { kr: 0.2126, kb: 0.0722, full_range: false };
    pub const BT2020: YuvMatrix = YuvMatrix { kr: 0.2627, kb: 0.0593, full_range: false };

    /// What GStreamer assumes when caps do not say (`gst_video_info_set_format`'s default
    /// colorimetry for YUV): BT.2020 from 2160 lines, BT.709 above 576 lines, else BT.601;
    /// limited range.
    pub fn default_for_height(height: u32) -> YuvMatrix {
        match height {
            2160.. => YuvMatrix::BT2020,
            577.. => YuvMatrix::BT709,
            _ => YuvMatrix::BT601,
        }
    }

    /// The luma codes of black and white.
    pub fn luma_levels(&self) -> (f32, f32) {
        let (black, scale, _) = self.code_scales();
        (black, black + scale)
    }

    /// `(offset, scale)` of luma and the scale of chroma, in code values per unit signal.
    fn code_scales(&self) -> (f32, f32, f32) {
        if self.full_range { (0.0, 255.0, 255.0) } else { (16.0, 219.0, 224.0) }
    }

    /// The coefficients of RGB (0–255) → YUV code values and back.
    fn coefficients(&self) -> Coefficients {
        let (kr, kb) = (self.kr, self.kb);
        let kg = 1.0 - kr - kb;
        let (y_off, y_scale, c_scale) = self.code_scales();
        let (ys, cs) = (y_scale / 255.0, c_scale / 255.0);
        Coefficients {
            y_off,
            to_y: [kr * ys, kg * ys, kb * ys],
            // Cb = (B − Y) / (2 (1 − kb)), Cr = (R − Y) / (2 (1 − kr)), scaled to codes.
            to_u: [-kr * cs / (2.0 * (1.0 - kb)), -kg * cs / (2.0 * (1.0 - kb)), cs / 2.0],
            to_v: [cs / 2.0, -kg * cs / (2.0 * (1.0 - kr)), -kb * cs / (2.0 * (1.0 - kr))],
            from_y: 1.0 / ys,
            v_to_r: 2.0 * (1.0 - kr) / cs,
            u_to_g: -2.0 * (1.0 - kb) * kb / (kg * cs),
            v_to_g: -2.0 * (1.0 - kr) * kr / (kg * cs),
            u_to_b: 2.0 * (1.0 - kb) / cs,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Coefficients {
    y_off: f32,
    to_y: [f32; 3],
    to_u: [f32; 3],
    to_v: [f32; 3],
    from_y: f32,
    v_to_r: f32,
    u_to_g: f32,
    v_to_g: f32,
    u_to_b: f32,
}

impl Coefficients {
    #[inline(always)]
    fn encode(self, [r, g, b]: [f32; 3]) -> [f32; 3] {
        let dot = |k: [f32; 3]| k[0] * r + k[1] * g + k[2] * b;
        [self.y_off + dot(self.to_y), 128.0 + dot(self.to_u), 128.0 + dot(self.to_v)]
    }

    #[inline(always)]
    fn decode(self, [y, u, v]: [f32; 3]) -> [f32; 3] {
        let (y, u, v) = ((y - self.y_off) * self.from_y, u - 128.0, v - 128.0);
        [y + self.v_to_r * v, y + self.u_to_g * u + self.v_to_g * v, y + self.u_to_b * u]
    }
}

/// `yuv` (three planes of one size: Y, U, V code values) → RGB 0–255 in `rgb`, clamped, as the
/// network's input must be a colour that exists.
pub fn yuv_to_rgb(yuv: &Planes, matrix: &YuvMatrix, rgb: &mut Planes) {
    let k = matrix.coefficients();
    rgb.resize(yuv.width, yuv.height);
    convert(yuv, rgb, |p| k.decode(p).map(|v| v.clamp(0.0, 255.0)));
}

/// `rgb` (0–255) → Y, U, V code values in `yuv` (three planes of the same size, not clamped:
/// blending and writing clamp once, at the end).
pub fn rgb_to_yuv(rgb: &Planes, matrix: &YuvMatrix, yuv: &mut Planes) {
    let k = matrix.coefficients();
    yuv.resize(rgb.width, rgb.height);
    convert(rgb, yuv, |p| k.encode(p));
}

fn convert(src: &Planes, dst: &mut Planes, f: impl Fn([f32; 3]) -> [f32; 3] + Sync) {
    let n = src.width * src.height;
    let (d0, rest) = dst.data.split_at_mut(n);
    let (d1, d2) = rest.split_at_mut(n);
    let (s0, s1, s2) = (src.plane(0), src.plane(1), src.plane(2));
    const CHUNK: usize = 4096;
    d0.par_chunks_mut(CHUNK).zip(d1.par_chunks_mut(CHUNK)).zip(d2.par_chunks_mut(CHUNK)).enumerate().for_each(
        |(i, ((a, b), c))| {
            let base = i * CHUNK;
            for j in 0..a.len() {
                let k = base + j;
                let [x, y, z] = f([s0[k], s1[k], s2[k]]);
                (a[j], b[j], c[j]) = (x, y, z);
            }
        },
    );
}

/// The luma plane averaged over each chroma sample's luma samples (2×2 for 4:2:0, 2×1 for
/// 4:2:2; a missing last column or row at odd sizes is left out of the mean): the luma at
/// chroma size, as a guide for chroma.
pub fn luma_at_chroma(y: &Plane, (sx, sy): (u32, u32), out: &mut Vec<f32>) {
    let (w, h) = y.size();
    let (cw, ch) = (w.div_ceil(1 << sx), h.div_ceil(1 << sy));
    out.resize(cw * ch, 0.0);
    let (fx, fy) = (1usize << sx, 1usize << sy);
    out.par_chunks_exact_mut(cw).enumerate().for_each(|(cy, row)| {
        let rows = (cy * fy..((cy + 1) * fy).min(h)).map(|r| &y.data[r * w..(r + 1) * w]);
        let n_rows = rows.len();
        row.fill(0.0);
        for line in rows {
            if fx == 2 {
                let (pairs, rest) = line.as_chunks::<2>();
                row.iter_mut().zip(pairs).for_each(|(d, [a, b])| *d += 0.5 * (a + b));
                if let (Some(d), [last]) = (row.last_mut(), rest) {
                    *d += last;
                }
            } else {
                row.iter_mut().zip(line).for_each(|(d, v)| *d += v);
            }
        }
        let inv = 1.0 / n_rows as f32;
        row.iter_mut().for_each(|d| *d *= inv);
    });
}

/// A YUV frame's float planes: Y at the frame's size, U and V at the chroma size, code values.
#[derive(Debug, Clone, Default)]
pub struct YuvPlanes {
    pub y: Plane,
    pub u: Plane,
    pub v: Plane,
}

/// One plane of float samples.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plane {
    pub width: usize,
    pub height: usize,
    pub data: Vec<f32>,
}

impl Plane {
    pub fn resize(&mut self, width: usize, height: usize) {
        self.width = width;
        self.height = height;
        self.data.resize(width * height, 0.0);
    }

    pub fn size(&self) -> (usize, usize) {
        (self.width, self.height)
    }
}

impl YuvPlanes {
    pub fn planes(&self) -> [&Plane; 3] {
        [&self.y, &self.u, &self.v]
    }

    pub fn planes_mut(&mut self) -> [&mut Plane; 3] {
        [&mut self.y, &mut self.u, &mut self.v]
    }
}

/// A YUV frame, read in place: its planes and their strides.
#[derive(Debug, Clone, Copy)]
pub struct YuvFrame<'a> {
    pub planes: [&'a [u8]; 3],
    pub strides: [usize; 3],
    pub layout: YuvLayout,
    pub matrix: YuvMatrix,
    pub width: usize,
    pub height: usize,
}

/// Where a YUV frame is written: its planes (unused ones empty) and strides.
pub struct YuvFrameMut<'a> {
    pub planes: [&'a mut [u8]; 3],
    pub strides: [usize; 3],
}

/// Reads every component of `frame` into `dst` (Y at frame size, U and V at chroma size).
pub fn unpack_yuv(frame: &YuvFrame, dst: &mut YuvPlanes) {
    let size = (frame.width, frame.height);
    for (c, plane) in dst.planes_mut().into_iter().enumerate() {
        let (w, h) = frame.layout.size_of(c, size);
        let Component { plane: p, offset, step } = frame.layout.components[c];
        let (src, stride) = (frame.planes[p], frame.strides[p]);
        plane.resize(w, h);
        plane.data.par_chunks_exact_mut(w).enumerate().for_each(|(y, row)| {
            let line = &src[y * stride + offset..];
            match step {
                1 => row.iter_mut().zip(line).for_each(|(d, s)| *d = *s as f32),
                _ => row.iter_mut().zip(line.iter().step_by(step)).for_each(|(d, s)| *d = *s as f32),
            }
        });
    }
}

/// Writes `stylized` over `original` into `out` (same layout and size): each sample is
/// `original + strength × (stylized − original)`, rounded and clamped to 0–255; bytes no
/// component covers (padding) are copied from `original`. With `split`, the left half keeps
/// the original and a 2-pixel white divider marks the middle.
pub fn write_yuv(stylized: &YuvPlanes, original: &YuvFrame, out: &mut YuvFrameMut, strength: f32, split: bool) {
    let layout = original.layout;
    let size = (original.width, original.height);
    let (_, white) = original.matrix.luma_levels();
    let k = strength.clamp(0.0, 1.0);
    for p in 0..layout.plane_count() {
        // The components stored in this plane share its rows (same vertical subsampling).
        let comps: Vec<(usize, Component)> =
            layout.components.iter().copied().enumerate().filter(|(_, c)| c.plane == p).collect();
        let Some(&(first, _)) = comps.first() else { continue };
        let rows = layout.size_of(first, size).1;
        let (src, in_stride, out_stride) = (original.planes[p], original.strides[p], out.strides[p]);
        out.planes[p].par_chunks_mut(out_stride).take(rows).enumerate().for_each(|(y, dst)| {
            let line = &src[y * in_stride..];
            let used = dst.len().min(line.len()).min(out_stride).min(in_stride);
            dst[..used].copy_from_slice(&line[..used]);
            for &(c, Component { offset, step, .. }) in &comps {
                let plane = stylized.planes()[c];
                let w = plane.width;
                let values = &plane.data[y * w..(y + 1) * w];
                // The split's columns in this component's samples.
                let shift = if c == 0 { 0 } else { layout.chroma_shift.0 };
                let middle = size.0 / 2;
                // Samples left of `keep` stay the original's; `divider` (first, last) is drawn.
                let (keep, divider) = if split {
                    (middle >> shift, (middle.saturating_sub(1) >> shift, middle.min(size.0 - 1) >> shift))
                } else {
                    (0, (usize::MAX, 0))
                };
                let divider_value = if c == 0 { white } else { 128.0 };
                for (x, v) in values.iter().enumerate() {
                    let at = offset + x * step;
                    let o = line[at] as f32;
                    let value = if (divider.0..=divider.1).contains(&x) {
                        divider_value
                    } else if x < keep {
                        continue;
                    } else {
                        o + k * (v - o)
                    };
                    // `as u8` saturates: +0.5 then a cast rounds and clamps to 0..=255.
                    dst[at] = (value + 0.5) as u8;
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A frame of `layout` with Y = 3x + 5y + 16, U = 100 + x, V = 150 − y (in each component's
    /// own coordinates), strides padded by 3 bytes, padding bytes 7.
    fn frame(layout: YuvLayout, (w, h): (usize, usize)) -> (Vec<Vec<u8>>, [usize; 3]) {
        let mut planes = vec![Vec::new(); 3];
        let mut strides = [0; 3];
        for (c, comp) in layout.components.iter().enumerate() {
            let (cw, ch) = layout.size_of(c, (w, h));
            let row_bytes = comp.offset + (cw - 1) * comp.step + 1;
            let stride = (strides[comp.plane]).max(row_bytes.div_ceil(4) * 4 + 3);
            strides[comp.plane] = stride;
            let p = &mut planes[comp.plane];
            p.resize(p.len().max(stride * ch), 7);
            for y in 0..ch {
                for x in 0..cw {
                    p[y * stride + comp.offset + x * comp.step] = match c {
                        0 => (3 * x + 5 * y + 16) as u8,
                        1 => (100 + x) as u8,
                        _ => (150 - y) as u8,
                    };
                }
            }
        }
        (planes, strides)
    }

    const LAYOUTS: [(&str, YuvLayout); 6] = [
        ("YUY2", YuvLayout::YUY2),
        ("UYVY", YuvLayout::UYVY),
        ("NV12", YuvLayout::NV12),
        ("NV21", YuvLayout::NV21),
        ("I420", YuvLayout::I420),
        ("YV12", YuvLayout::YV12),
    ];

    fn yuv_frame<'a>(
        layout: YuvLayout,
        planes: &'a [Vec<u8>],
        strides: [usize; 3],
        size: (usize, usize),
    ) -> YuvFrame<'a> {
        YuvFrame {
            planes: [&planes[0], &planes[1], &planes[2]],
            strides,
            layout,
            matrix: YuvMatrix::BT601,
            width: size.0,
            height: size.1,
        }
    }

    #[test]
    fn every_layout_reads_its_components_at_their_sizes() {
        for (name, layout) in LAYOUTS {
            for size in [(7, 5), (1, 1), (8, 4)] {
                let (planes, strides) = frame(layout, size);
                let mut yuv = YuvPlanes::default();
                unpack_yuv(&yuv_frame(layout, &planes, strides, size), &mut yuv);
                assert_eq!(yuv.y.size(), size, "{name}");
                assert_eq!(yuv.u.size(), layout.chroma_size(size), "{name}");
                let (cw, ch) = layout.chroma_size(size);
                assert_eq!(
                    yuv.y.data[size.0 * (size.1 - 1) + size.0 - 1],
                    (3 * (size.0 - 1) + 5 * (size.1 - 1) + 16) as f32
                );
                assert_eq!(yuv.u.data[cw * ch - 1], (100 + cw - 1) as f32, "{name} {size:?}");
                assert_eq!(yuv.v.data[cw * ch - 1], (150 - (ch - 1)) as f32, "{name} {size:?}");
            }
        }
    }

    #[test]
    fn full_strength_writes_the_stylized_planes_and_keeps_padding() {
        for (name, layout) in LAYOUTS {
            let size = (7, 5);
            let (planes, strides) = frame(layout, size);
            let original = yuv_frame(layout, &planes, strides, size);
            let mut stylized = YuvPlanes::default();
            unpack_yuv(&original, &mut stylized);
            for p in stylized.planes_mut() {
                p.data.iter_mut().for_each(|v| *v = 255.0 - *v);
            }
            let mut out: Vec<Vec<u8>> = planes.iter().map(|p| vec![0; p.len()]).collect();
            let [a, b, c] = &mut out[..] else { unreachable!() };
            write_yuv(&stylized, &original, &mut YuvFrameMut { planes: [a, b, c], strides }, 1.0, false);
            let written = yuv_frame(layout, &out, strides, size);
            let mut back = YuvPlanes::default();
            unpack_yuv(&written, &mut back);
            assert_eq!(back.planes().map(|p| p.data.clone()), stylized.planes().map(|p| p.data.clone()), "{name}");
            // Padding at the end of the first row is the original's.
            let p0 = layout.components[0].plane;
            assert_eq!(out[p0][strides[p0] - 1], 7, "{name}");
        }
    }

    #[test]
    fn half_strength_blends_and_split_keeps_the_left_half() {
        let layout = YuvLayout::NV12;
        let size = (8, 4);
        let (planes, strides) = frame(layout, size);
        let original = yuv_frame(layout, &planes, strides, size);
        let mut source = YuvPlanes::default();
        unpack_yuv(&original, &mut source);
        let mut stylized = source.clone();
        stylized.y.data.fill(200.0);
        let mut out: Vec<Vec<u8>> = planes.iter().map(|p| vec![0; p.len()]).collect();
        let [a, b, c] = &mut out[..] else { unreachable!() };
        write_yuv(&stylized, &original, &mut YuvFrameMut { planes: [a, b, c], strides }, 0.5, true);
        let row = &out[0][..8];
        assert_eq!(row[..3], planes[0][..3], "left of the divider: the original");
        assert_eq!(row[3..5], [235, 235], "divider: limited-range white");
        let half = ((planes[0][7] as f32 + 200.0) / 2.0 + 0.5) as u8;
        assert_eq!(row[7], half, "right: half way");
    }

    #[test]
    fn luma_at_chroma_averages_each_chroma_samples_luma() {
        let y = Plane { width: 5, height: 3, data: (0..15).map(|v| v as f32).collect() };
        let mut out = Vec::new();
        luma_at_chroma(&y, (1, 1), &mut out);
        // 2×2 means; the odd last column and row average what exists.
        assert_eq!(out, vec![3.0, 5.0, 6.5, 10.5, 12.5, 14.0]);
        luma_at_chroma(&y, (1, 0), &mut out);
        assert_eq!(out[..3], [0.5, 2.5, 4.0]);
    }

    impl YuvMatrix {
        /// One colour, RGB 0–255 → YUV code values (not rounded or clamped).
        fn rgb_to_yuv(&self, rgb: [f32; 3]) -> [f32; 3] {
            self.coefficients().encode(rgb)
        }

        /// One colour, YUV code values → RGB 0–255 (not clamped).
        fn yuv_to_rgb(&self, yuv: [f32; 3]) -> [f32; 3] {
            self.coefficients().decode(yuv)
        }
    }

    #[test]
    fn matrices_map_white_black_and_primaries_to_their_codes() {
        for m in [YuvMatrix::BT601, YuvMatrix::BT709, YuvMatrix::BT2020] {
            let white = m.rgb_to_yuv([255.0; 3]);
            assert!(
                (white[0] - 235.0).abs() < 1e-3 && (white[1] - 128.0).abs() < 1e-3 && (white[2] - 128.0).abs() < 1e-3
            );
            let black = m.rgb_to_yuv([0.0; 3]);
            assert!((black[0] - 16.0).abs() < 1e-3);
            // Blue and red reach the chroma extremes (16 and 240).
            assert!((m.rgb_to_yuv([0.0, 0.0, 255.0])[1] - 240.0).abs() < 1e-3);
            assert!((m.rgb_to_yuv([255.0, 0.0, 0.0])[2] - 240.0).abs() < 1e-3);
            for rgb in [[10.0, 200.0, 90.0], [255.0, 0.0, 128.0], [3.0, 4.0, 250.0]] {
                let back = m.yuv_to_rgb(m.rgb_to_yuv(rgb));
                assert!((0..3).all(|c| (back[c] - rgb[c]).abs() < 1e-3), "{m:?} {rgb:?} -> {back:?}");
            }
        }
        // BT.709's red has less luma than BT.601's.
        assert!(YuvMatrix::BT709.rgb_to_yuv([255.0, 0.0, 0.0])[0] < YuvMatrix::BT601.rgb_to_yuv([255.0, 0.0, 0.0])[0]);
        let full = YuvMatrix { full_range: true, ..YuvMatrix::BT709 };
        assert_eq!(full.rgb_to_yuv([255.0; 3])[0], 255.0);
        assert_eq!(YuvMatrix::default_for_height(720), YuvMatrix::BT709);
        assert_eq!(YuvMatrix::default_for_height(480), YuvMatrix::BT601);
    }
}
