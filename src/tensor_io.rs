//! Tensor I/O: our planar RGB images (or a packed frame read in place) ↔ the model's input and
//! output tensors, as the model contract says: layout (NCHW / NHWC), channel order (RGB / BGR),
//! value range and element type (`f32` / `u8`).
//!
//! Planes are in `0.0..=255.0`; the contract's range is applied only here, when a tensor is
//! written ([`pack_tensor`]) or read ([`unpack_tensor`]).

use animestyle_model::{ChannelOrder, Layout, ModelContract};
use rayon::prelude::*;

use crate::frame_io::{PackedFrame, Planes};

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame_io::tests::{RGBX, test_frame};
    use crate::frame_io::{unpack_frame, write_frame};
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
}
