//! Conversions between packed 8-bit video frames, planar `f32` images and model tensors.
//!
//! The frame path is: frame → [`unpack_frame`] → (resample) → [`pack_tensor`] → network →
//! [`unpack_tensor`] → (resample) → [`write_frame`]. Planes hold pixel values in `0.0..=255.0`
//! so resampling happens in one well-defined unit; the contract's range is applied only when a
//! tensor is written or read.

use animestyle_model::{ChannelOrder, Layout, ModelContract};
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
#[derive(Debug, Clone, Default)]
pub struct Planes {
    pub width: usize,
    pub height: usize,
    pub data: Vec<f32>,
}

impl Planes {
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

/// Element types a model tensor may have.
pub trait TensorElement: Copy + Default + Send + Sync + 'static {
    fn from_f32(v: f32) -> Self;
    fn to_f32(self) -> f32;
}

impl TensorElement for f32 {
    #[inline(always)]
    fn from_f32(v: f32) -> Self {
        v
    }
    #[inline(always)]
    fn to_f32(self) -> f32 {
        self
    }
}

impl TensorElement for u8 {
    #[inline(always)]
    fn from_f32(v: f32) -> Self {
        v.round().clamp(0.0, 255.0) as u8
    }
    #[inline(always)]
    fn to_f32(self) -> f32 {
        self as f32
    }
}

/// Index of colour `c` (0 = R, 1 = G, 2 = B) along the tensor's channel axis.
fn tensor_channel(order: ChannelOrder, c: usize) -> usize {
    match order {
        ChannelOrder::Rgb => c,
        ChannelOrder::Bgr => 2 - c,
    }
}

/// Reads the colour of a `width × height` packed frame into `dst`.
pub fn unpack_frame(src: &[u8], stride: usize, layout: PackedLayout, width: usize, height: usize, dst: &mut Planes) {
    dst.resize(width, height);
    let n = width * height;
    let (r_plane, rest) = dst.data.split_at_mut(n);
    let (g_plane, b_plane) = rest.split_at_mut(n);
    let [ro, go, bo] = layout.rgb_offsets;
    r_plane
        .par_chunks_exact_mut(width)
        .zip(g_plane.par_chunks_exact_mut(width))
        .zip(b_plane.par_chunks_exact_mut(width))
        .enumerate()
        .for_each(|(y, ((r, g), b))| {
            let row = &src[y * stride..y * stride + width * layout.pixel_stride];
            for (x, px) in row.chunks_exact(layout.pixel_stride).enumerate() {
                r[x] = px[ro] as f32;
                g[x] = px[go] as f32;
                b[x] = px[bo] as f32;
            }
        });
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

/// What [`pack_tensor`] reads: planes (after resampling) or, when the network sees the frame
/// at its own size, the packed frame itself (one pass fewer over the pixels).
#[derive(Debug, Clone, Copy)]
pub enum RgbSource<'a> {
    Planes(&'a Planes),
    Frame(PackedFrame<'a>),
}

impl RgbSource<'_> {
    pub fn size(&self) -> (usize, usize) {
        match self {
            RgbSource::Planes(p) => (p.width, p.height),
            RgbSource::Frame(f) => (f.width, f.height),
        }
    }

    /// Converts the first `rows[c].len()` pixels of row `y`: `rows[c][x] = T(colour c * scale + offset)`.
    #[inline]
    fn convert_row<T: TensorElement>(&self, y: usize, rows: [&mut [T]; 3], scale: f32, offset: f32) {
        let [r, g, b] = rows;
        match self {
            RgbSource::Planes(p) => {
                for (c, out) in [r, g, b].into_iter().enumerate() {
                    let row = &p.plane(c)[y * p.width..][..out.len()];
                    for (o, v) in out.iter_mut().zip(row) {
                        *o = T::from_f32(v * scale + offset);
                    }
                }
            }
            RgbSource::Frame(f) => {
                let ps = f.layout.pixel_stride;
                let [ro, go, bo] = f.layout.rgb_offsets;
                let row = &f.data[y * f.stride..][..r.len() * ps];
                for (x, px) in row.chunks_exact(ps).enumerate() {
                    r[x] = T::from_f32(px[ro] as f32 * scale + offset);
                    g[x] = T::from_f32(px[go] as f32 * scale + offset);
                    b[x] = T::from_f32(px[bo] as f32 * scale + offset);
                }
            }
        }
    }

    #[inline]
    fn pixel(&self, x: usize, y: usize) -> [f32; 3] {
        match self {
            RgbSource::Planes(p) => {
                let i = y * p.width + x;
                let n = p.width * p.height;
                [p.data[i], p.data[n + i], p.data[2 * n + i]]
            }
            RgbSource::Frame(f) => {
                let px = &f.data[y * f.stride + x * f.layout.pixel_stride..];
                f.layout.rgb_offsets.map(|o| px[o] as f32)
            }
        }
    }
}

/// Writes `src` into a `[1, 3, H, W]` / `[1, H, W, 3]` tensor of size `canvas` (`(W, H)`),
/// replicating the last row and column where the canvas is larger than the image.
pub fn pack_tensor<T: TensorElement>(
    src: &RgbSource,
    contract: &ModelContract,
    canvas: (usize, usize),
    dst: &mut Vec<T>,
) {
    let (cw, ch) = canvas;
    let (w, h) = src.size();
    debug_assert!(w <= cw && h <= ch && w > 0 && h > 0);
    let (scale, offset) = contract.input_range.from_pixel();
    dst.clear();
    dst.resize(cw * ch * 3, T::default());
    match contract.layout {
        Layout::Nchw => {
            let (p0, rest) = dst.split_at_mut(cw * ch);
            let (p1, p2) = rest.split_at_mut(cw * ch);
            p0.par_chunks_exact_mut(cw)
                .zip(p1.par_chunks_exact_mut(cw))
                .zip(p2.par_chunks_exact_mut(cw))
                .enumerate()
                .for_each(|(y, ((t0, t1), t2))| {
                    let mut rows = [t0, t1, t2];
                    {
                        let [a, b, c] = &mut rows;
                        let by_colour: [&mut [T]; 3] = match contract.channel_order {
                            ChannelOrder::Rgb => [&mut a[..w], &mut b[..w], &mut c[..w]],
                            ChannelOrder::Bgr => [&mut c[..w], &mut b[..w], &mut a[..w]],
                        };
                        src.convert_row(y.min(h - 1), by_colour, scale, offset);
                    }
                    for row in rows {
                        let last = row[w - 1];
                        row[w..].fill(last);
                    }
                });
        }
        Layout::Nhwc => {
            let t: [usize; 3] = std::array::from_fn(|c| tensor_channel(contract.channel_order, c));
            for (y, out_row) in dst.chunks_exact_mut(cw * 3).enumerate() {
                for (x, px) in out_row.chunks_exact_mut(3).enumerate() {
                    let rgb = src.pixel(x.min(w - 1), y.min(h - 1));
                    for c in 0..3 {
                        px[t[c]] = T::from_f32(rgb[c] * scale + offset);
                    }
                }
            }
        }
    }
}

/// Reads the top-left `content` (`(W, H)`) region of an output tensor of size `canvas` into
/// `dst`, converting the contract's output range to pixel values and clamping to `0..=255`.
pub fn unpack_tensor<T: TensorElement>(
    src: &[T],
    contract: &ModelContract,
    canvas: (usize, usize),
    content: (usize, usize),
    dst: &mut Planes,
) {
    let (cw, ch) = canvas;
    let (w, h) = content;
    debug_assert_eq!(src.len(), cw * ch * 3);
    let (scale, offset) = contract.output_range.to_pixel();
    dst.resize(w, h);
    let convert = |v: T| (v.to_f32() * scale + offset).clamp(0.0, 255.0);
    match contract.layout {
        Layout::Nchw => {
            for c in 0..3 {
                let t = tensor_channel(contract.channel_order, c);
                let in_plane = &src[t * cw * ch..(t + 1) * cw * ch];
                dst.plane_mut(c).chunks_exact_mut(w).enumerate().for_each(|(y, out_row)| {
                    for (o, v) in out_row.iter_mut().zip(&in_plane[y * cw..y * cw + w]) {
                        *o = convert(*v);
                    }
                });
            }
        }
        Layout::Nhwc => {
            let n = w * h;
            let t: [usize; 3] = std::array::from_fn(|c| tensor_channel(contract.channel_order, c));
            for y in 0..h {
                let in_row = &src[y * cw * 3..(y * cw + w) * 3];
                for (x, px) in in_row.chunks_exact(3).enumerate() {
                    for c in 0..3 {
                        dst.data[c * n + y * w + x] = convert(px[t[c]]);
                    }
                }
            }
        }
    }
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
            if k >= 1.0 {
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
mod tests {
    use super::*;
    use animestyle_model::{ModelDescription, TensorType, ValueRange};

    fn contract(layout: Layout, order: ChannelOrder, range: ValueRange) -> ModelContract {
        let shape = match layout {
            Layout::Nchw => vec![Some(1), Some(3), None, None],
            Layout::Nhwc => vec![Some(1), None, None, Some(3)],
        };
        let desc = ModelDescription {
            input_shape: shape.clone(),
            output_shape: shape,
            input_type: Some(TensorType::F32),
            output_type: Some(TensorType::F32),
            ..Default::default()
        };
        let mut c = ModelContract::resolve(&desc, &Default::default()).unwrap();
        c.channel_order = order;
        c.input_range = range;
        c.output_range = range;
        c
    }

    const RGBX: PackedLayout = PackedLayout { pixel_stride: 4, rgb_offsets: [0, 1, 2] };

    fn test_frame(w: usize, h: usize, stride: usize) -> Vec<u8> {
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
    fn round_trip_through_every_tensor_variant_is_lossless() {
        let (w, h, stride) = (5, 3, 24);
        let frame = test_frame(w, h, stride);
        let mut planes = Planes::default();
        unpack_frame(&frame, stride, RGBX, w, h, &mut planes);
        for layout in [Layout::Nchw, Layout::Nhwc] {
            for order in [ChannelOrder::Rgb, ChannelOrder::Bgr] {
                for range in [ValueRange::MinusOneToOne, ValueRange::ZeroToOne, ValueRange::ZeroTo255] {
                    let c = contract(layout, order, range);
                    let mut t: Vec<f32> = Vec::new();
                    pack_tensor(&RgbSource::Planes(&planes), &c, (8, 4), &mut t);
                    let mut direct: Vec<f32> = Vec::new();
                    let packed = PackedFrame { data: &frame, stride, layout: RGBX, width: w, height: h };
                    pack_tensor(&RgbSource::Frame(packed), &c, (8, 4), &mut direct);
                    assert_eq!(t, direct, "frame and planes sources agree");
                    let mut back = Planes::default();
                    unpack_tensor(&t, &c, (8, 4), (w, h), &mut back);
                    let mut out = vec![0u8; stride * h];
                    write_frame(&back, &frame, stride, &mut out, stride, RGBX, 1.0);
                    assert_eq!(out, frame, "{layout} {order} {range}");
                }
            }
        }
    }

    #[test]
    fn padding_replicates_edges_and_order_is_honoured() {
        let planes = Planes { width: 2, height: 1, data: vec![10.0, 20.0, 30.0, 40.0, 50.0, 60.0] };
        let c = contract(Layout::Nchw, ChannelOrder::Bgr, ValueRange::ZeroTo255);
        let mut t: Vec<u8> = Vec::new();
        pack_tensor(&RgbSource::Planes(&planes), &c, (3, 2), &mut t);
        // Channel 0 is blue.
        assert_eq!(&t[0..6], &[50, 60, 60, 50, 60, 60]);
        assert_eq!(&t[12..18], &[10, 20, 20, 10, 20, 20]);
        let c = contract(Layout::Nhwc, ChannelOrder::Rgb, ValueRange::ZeroTo255);
        pack_tensor(&RgbSource::Planes(&planes), &c, (3, 1), &mut t);
        assert_eq!(t, vec![10, 30, 50, 20, 40, 60, 20, 40, 60]);
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
}
