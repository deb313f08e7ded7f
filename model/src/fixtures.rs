//! Test models with exactly known behaviour, for the element's tests and the trainer's.
//!
//! - [`PermuteInvert`]: a "generator" that maps every pixel `(r, g, b)` to
//!   `(255 - g, 255 - b, 255 - r)` ([`permute_invert_pixel`]) in any contract variant (layout,
//!   channel order, value range, element type, fixed or dynamic size, with or without contract
//!   metadata). The pixel-level behaviour is the same for every variant, so a test can run one
//!   frame through each and expect the same output; because channels are permuted, reading an
//!   RGB tensor as BGR (or using the wrong range) gives visibly wrong pixels.
//! - [`flat_colour`]: one flat colour for any input, optionally slow (for real-time policies and
//!   hot-swapping).
//! - Broken models for error paths: [`rank3_input`], [`one_channel`], [`int64_input`],
//!   [`fails_at_run`] and [`not_onnx`].
//!
//! Every model has one input named [`INPUT_NAME`] and one output named [`OUTPUT_NAME`].

use crate::contract::{ChannelOrder, Layout, ModelContract, TensorType, ValueRange};
use crate::onnx::{DataType, Dim, GraphBuilder, attr};

/// Name of every fixture's input tensor.
pub const INPUT_NAME: &str = "input";
/// Name of every fixture's output tensor.
pub const OUTPUT_NAME: &str = "output";
/// Style name written into the permute-invert models' metadata (when they have metadata).
pub const PERMUTE_INVERT_STYLE: &str = "permute-invert";

/// What [`PermuteInvert`] does to one RGB pixel: `R' = 255 - G`, `G' = 255 - B`,
/// `B' = 255 - R`.
///
/// The models compute this exactly in their tensor range; after the element's conversions
/// (pixel to float and back) expect it to within ±1 for float models, exactly for uint8 ones.
pub fn permute_invert_pixel(rgb: [u8; 3]) -> [u8; 3] {
    let [r, g, b] = rgb;
    [255 - g, 255 - b, 255 - r]
}

/// Input size of a fixture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FixtureSize {
    /// Symbolic batch, height and width. With `Some(m)` (m > 1) the graph fails at run time
    /// unless height and width are multiples of `m`, and the metadata (if written) declares it;
    /// with `None` any size works and the metadata declares a multiple of 1.
    Dynamic { size_multiple: Option<u32> },
    /// Batch 1 and exactly this size.
    Fixed { width: u32, height: u32 },
}

/// The permute-invert generator in one contract variant; see the [module docs](self).
///
/// `Default` is NCHW, RGB, `[-1, 1]`, float32, dynamic size without a multiple, with metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PermuteInvert {
    pub layout: Layout,
    pub channel_order: ChannelOrder,
    /// Range of both input and output. Must be [`ValueRange::ZeroTo255`] for uint8.
    pub range: ValueRange,
    /// Element type of both input and output.
    pub tensor_type: TensorType,
    pub size: FixtureSize,
    /// Write the contract (`ModelContract::to_metadata()`) into `metadata_props`. Without it the
    /// element infers layout from the shapes, RGB, and `[-1, 1]` for float / `[0, 255]` for
    /// uint8, so a BGR or `[0, 1]`/`[0, 255]` float variant without metadata needs overrides.
    pub with_metadata: bool,
}

impl Default for PermuteInvert {
    fn default() -> Self {
        PermuteInvert {
            layout: Layout::Nchw,
            channel_order: ChannelOrder::Rgb,
            range: ValueRange::MinusOneToOne,
            tensor_type: TensorType::F32,
            size: FixtureSize::Dynamic { size_multiple: None },
            with_metadata: true,
        }
    }
}

impl PermuteInvert {
    /// Every variant: 2 layouts × 2 channel orders × 4 (type, range) pairs × 3 sizes (dynamic,
    /// dynamic with multiple 16, fixed 64×48) × with/without metadata = 96 models.
    pub fn all() -> Vec<PermuteInvert> {
        let mut all = Vec::new();
        for layout in [Layout::Nchw, Layout::Nhwc] {
            for channel_order in [ChannelOrder::Rgb, ChannelOrder::Bgr] {
                for (tensor_type, range) in [
                    (TensorType::F32, ValueRange::MinusOneToOne),
                    (TensorType::F32, ValueRange::ZeroToOne),
                    (TensorType::F32, ValueRange::ZeroTo255),
                    (TensorType::U8, ValueRange::ZeroTo255),
                ] {
                    for size in [
                        FixtureSize::Dynamic { size_multiple: None },
                        FixtureSize::Dynamic { size_multiple: Some(16) },
                        FixtureSize::Fixed { width: 64, height: 48 },
                    ] {
                        for with_metadata in [true, false] {
                            all.push(PermuteInvert { layout, channel_order, range, tensor_type, size, with_metadata });
                        }
                    }
                }
            }
        }
        all
    }

    /// A file-name-friendly description, e.g. `permute-invert_nhwc_bgr_f32_0-1_dyn16_meta`.
    pub fn name(&self) -> String {
        let range = match self.range {
            ValueRange::MinusOneToOne => "m1-1",
            ValueRange::ZeroToOne => "0-1",
            ValueRange::ZeroTo255 => "0-255",
        };
        let ty = match self.tensor_type {
            TensorType::F32 => "f32",
            TensorType::U8 => "u8",
        };
        let size = match self.size {
            FixtureSize::Dynamic { size_multiple: None } => "dyn".to_string(),
            FixtureSize::Dynamic { size_multiple: Some(m) } => format!("dyn{m}"),
            FixtureSize::Fixed { width, height } => format!("{width}x{height}"),
        };
        format!(
            "permute-invert_{}_{}_{ty}_{range}_{size}_{}",
            self.layout.to_string().to_ascii_lowercase(),
            self.channel_order.to_string().to_ascii_lowercase(),
            if self.with_metadata { "meta" } else { "nometa" }
        )
    }

    /// The true contract of this model (what metadata says when it is written; what the element
    /// should end up with, possibly through overrides, when it is not).
    pub fn contract(&self) -> ModelContract {
        let (size_multiple, fixed_size) = match self.size {
            FixtureSize::Dynamic { size_multiple } => (size_multiple.unwrap_or(1).max(1), None),
            FixtureSize::Fixed { width, height } => (1, Some((width, height))),
        };
        ModelContract {
            layout: self.layout,
            channel_order: self.channel_order,
            input_range: self.range,
            output_range: self.range,
            input_type: self.tensor_type,
            output_type: self.tensor_type,
            size_multiple,
            min_size: size_multiple,
            fixed_size,
            style: Some(PERMUTE_INVERT_STYLE.to_string()),
            recommended_inference_size: None,
            line_strength: None,
            cel_shading: None,
        }
    }

    /// The declared input (and output) shape.
    pub fn dims(&self) -> Vec<Dim> {
        let (n, h, w) = match self.size {
            FixtureSize::Dynamic { .. } => (Dim::sym("batch"), Dim::sym("height"), Dim::sym("width")),
            FixtureSize::Fixed { width, height } => {
                (Dim::Fixed(1), Dim::Fixed(height.into()), Dim::Fixed(width.into()))
            }
        };
        match self.layout {
            Layout::Nchw => vec![n, Dim::Fixed(3), h, w],
            Layout::Nhwc => vec![n, h, w, Dim::Fixed(3)],
        }
    }

    /// The serialized ONNX model.
    ///
    /// Panics for a uint8 variant whose range is not `[0, 255]`.
    pub fn model(&self) -> Vec<u8> {
        let elem = match self.tensor_type {
            TensorType::F32 => DataType::Float,
            TensorType::U8 => {
                assert_eq!(self.range, ValueRange::ZeroTo255, "a uint8 tensor has the range [0, 255]");
                DataType::Uint8
            }
        };
        let dims = self.dims();
        let mut g = GraphBuilder::new(self.name());
        g.doc(
            "animestyle test fixture: pixel (r, g, b) -> (255-g, 255-b, 255-r), computed as \
             white - x in the tensor's own range",
        );
        g.input(INPUT_NAME, elem, &dims);

        // Work in NCHW.
        let mut x = INPUT_NAME.to_string();
        if self.layout == Layout::Nhwc {
            x = g.op("Transpose", &[&x], vec![attr::ints("perm", &[0, 3, 1, 2])]);
        }
        if let FixtureSize::Dynamic { size_multiple: Some(m @ 2..) } = self.size {
            // An exact no-op that fails in Run unless height and width are multiples of m.
            let blocks = g.op("SpaceToDepth", &[&x], vec![attr::int("blocksize", m.into())]);
            x = g.op("DepthToSpace", &[&blocks], vec![attr::int("blocksize", m.into()), attr::string("mode", "DCR")]);
        }
        // Output channel k (in the tensor's own order) takes input channel indices[k].
        // RGB: R' <- G, G' <- B, B' <- R. BGR (tensor B, G, R): B' <- R, G' <- B, R' <- G.
        let indices: [i64; 3] = match self.channel_order {
            ChannelOrder::Rgb => [1, 2, 0],
            ChannelOrder::Bgr => [2, 0, 1],
        };
        let indices = g.const_i64(&[3], &indices);
        let permuted = g.op("Gather", &[&x, &indices], vec![attr::int("axis", 1)]);
        let white = match self.tensor_type {
            TensorType::F32 => {
                let (lo, hi) = self.range.bounds();
                g.scalar_f32(hi + lo)
            }
            TensorType::U8 => g.const_u8(&[], &[255]),
        };
        let mut y = g.op("Sub", &[&white, &permuted], vec![]);
        if self.layout == Layout::Nhwc {
            y = g.op("Transpose", &[&y], vec![attr::ints("perm", &[0, 2, 3, 1])]);
        }
        g.node("Identity", &[&y], &[OUTPUT_NAME], vec![]);
        g.output(OUTPUT_NAME, elem, &dims);
        if self.with_metadata {
            g.metadata_all(self.contract().to_metadata());
        }
        g.to_bytes()
    }
}

fn nchw_dynamic(channels: i64) -> Vec<Dim> {
    vec![Dim::sym("batch"), Dim::Fixed(channels), Dim::sym("height"), Dim::sym("width")]
}

fn identity_model(name: &str, elem: DataType, dims: &[Dim]) -> Vec<u8> {
    let mut g = GraphBuilder::new(name);
    g.input(INPUT_NAME, elem, dims);
    g.node("Identity", &[INPUT_NAME], &[OUTPUT_NAME], vec![]);
    g.output(OUTPUT_NAME, elem, dims);
    g.to_bytes()
}

/// A valid model whose input (and output) is the rank-3 float tensor `[3, height, width]`.
pub fn rank3_input() -> Vec<u8> {
    identity_model("bad-rank3", DataType::Float, &[Dim::Fixed(3), Dim::sym("height"), Dim::sym("width")])
}

/// A valid model with a 1-channel input and output `[batch, 1, height, width]` (float).
pub fn one_channel() -> Vec<u8> {
    identity_model("bad-one-channel", DataType::Float, &nchw_dynamic(1))
}

/// A valid model whose input and output are int64 `[batch, 3, height, width]`.
pub fn int64_input() -> Vec<u8> {
    identity_model("bad-int64", DataType::Int64, &nchw_dynamic(3))
}

/// The only input size [`fails_at_run`] accepts, `(width, height)`.
pub const FAILS_AT_RUN_ACCEPTED_SIZE: (u32, u32) = (16, 16);

/// A valid model that loads fine and looks like a dynamic NCHW float `[-1, 1]` generator (with
/// contract metadata: RGB, size multiple 1; input and output `[batch, 3, height, width]`) but
/// reshapes its input to `[1, 3, 16, 16]`, so ONNX Runtime's `Run` fails for every input size
/// except 16×16 (the session itself loads without complaint).
pub fn fails_at_run() -> Vec<u8> {
    let dims = nchw_dynamic(3);
    let mut g = GraphBuilder::new("bad-fails-at-run");
    g.input(INPUT_NAME, DataType::Float, &dims);
    let (w, h) = FAILS_AT_RUN_ACCEPTED_SIZE;
    // shape = Shape(input) * 0 + [1, 3, 16, 16]: the same constant, but computed from the input
    // so that load-time shape inference cannot see it and the declared output shape stays
    // dynamic; only Run finds out.
    let input_shape = g.op("Shape", &[INPUT_NAME], vec![]);
    let zero = g.const_i64(&[], &[0]);
    let zeros = g.op("Mul", &[&input_shape, &zero], vec![]);
    let target = g.const_i64(&[4], &[1, 3, h.into(), w.into()]);
    let shape = g.op("Add", &[&zeros, &target], vec![]);
    let y = g.op("Reshape", &[INPUT_NAME, &shape], vec![]);
    g.node("Identity", &[&y], &[OUTPUT_NAME], vec![]);
    g.output(OUTPUT_NAME, DataType::Float, &dims);
    let contract = ModelContract::float_nchw_rgb(1, "fails-at-run");
    g.metadata_all(contract.to_metadata());
    g.to_bytes()
}

/// Bytes that are not an ONNX model (nor any protobuf message).
pub fn not_onnx() -> Vec<u8> {
    b"this is not an ONNX model, just some text\n".to_vec()
}

/// A generator that returns one flat colour `rgb` for any input, after `work` 3×3
/// convolutions of 64 channels whose result it then ignores (they run on the image tiled 4×4,
/// and the last convolution's weights are nearly zero and its bias is the colour). ONNX Runtime
/// still runs every layer, so `work` sets how slow it is: a stand-in for a model slower than
/// the camera (about 12 ms per layer at a 96×54 network size on this project's 2-core CI
/// machine). NCHW float `[-1, 1]` RGB, dynamic size, with contract metadata.
///
/// The flat output survives upsampling and smoothing unchanged, so every output pixel of a
/// frame that went through the model is `rgb` (±1), whatever the frame showed.
pub fn flat_colour(rgb: [u8; 3], work: usize) -> Vec<u8> {
    const TILES: i64 = 4;
    let dims = nchw_dynamic(3);
    let mut g = GraphBuilder::new("flat-colour");
    g.doc("animestyle test fixture: a flat colour, after `work` ignored 64-channel convolutions");
    g.input(INPUT_NAME, DataType::Float, &dims);
    let mut x = INPUT_NAME.to_string();
    let mut channels = 3i64;
    let mut stride = 1;
    if work > 0 {
        let repeats = g.const_i64(&[4], &[1, 1, TILES, TILES]);
        x = g.op("Tile", &[&x, &repeats], vec![]);
        stride = TILES;
    }
    for _ in 0..work {
        let n = (64 * channels * 9) as usize;
        // Each output is about the mean of its inputs, so activations stay in [0, 1].
        let w = g.const_f32(&[64, channels, 3, 3], &vec![1.0 / (channels * 9) as f32; n]);
        let b = g.const_f32(&[64], &[0.0; 64]);
        let conv = g.op("Conv", &[&x, &w, &b], vec![attr::ints("pads", &[1, 1, 1, 1])]);
        x = g.op("Relu", &[&conv], vec![]);
        channels = 64;
    }
    // Nearly zero rather than zero, so no optimiser can prove the convolutions unused; the
    // output moves by at most 64e-6 of the range. The stride undoes the tiling.
    let last = if work > 0 { 1e-6 } else { 0.0 };
    let w = g.const_f32(&[3, channels, 1, 1], &vec![last; 3 * channels as usize]);
    let colour: Vec<f32> = rgb.iter().map(|&v| v as f32 / 127.5 - 1.0).collect();
    let b = g.const_f32(&[3], &colour);
    let y = g.op("Conv", &[&x, &w, &b], vec![attr::ints("strides", &[stride, stride])]);
    g.node("Identity", &[&y], &[OUTPUT_NAME], vec![]);
    g.output(OUTPUT_NAME, DataType::Float, &dims);
    let contract = ModelContract::float_nchw_rgb(1, "flat-colour");
    g.metadata_all(contract.to_metadata());
    g.to_bytes()
}

/// A plain convolutional image-to-image net of generator-like cost, with deterministic
/// pseudo-random weights, for benchmarks: 3×3 convolutions `3 → widths… → 3` with LeakyRelu
/// between and tanh at the end; NCHW float `[-1, 1]` RGB, dynamic size, with contract metadata.
/// `&[16, 16]` is the 3→16→16→3 net whose ONNX Runtime cost this project's notes measured.
pub fn reference_conv_net(widths: &[usize]) -> Vec<u8> {
    let dims = nchw_dynamic(3);
    let mut g = GraphBuilder::new("reference-conv-net");
    g.input(INPUT_NAME, DataType::Float, &dims);
    let mut x = INPUT_NAME.to_string();
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut channels = 3usize;
    let layers: Vec<usize> = widths.iter().copied().chain([3]).collect();
    for (i, &out) in layers.iter().enumerate() {
        let n = out * channels * 9;
        let scale = (2.0 / (channels * 9) as f32).sqrt();
        let weights: Vec<f32> = (0..n)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                ((seed >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 2.0 * scale
            })
            .collect();
        let w = g.const_f32(&[out as i64, channels as i64, 3, 3], &weights);
        let b = g.const_f32(&[out as i64], &vec![0.0; out]);
        let conv = g.op("Conv", &[&x, &w, &b], vec![attr::ints("pads", &[1, 1, 1, 1])]);
        x = if i + 1 == layers.len() {
            g.op("Tanh", &[&conv], vec![])
        } else {
            g.op("LeakyRelu", &[&conv], vec![attr::float("alpha", 0.2)])
        };
        channels = out;
    }
    g.node("Identity", &[&x], &[OUTPUT_NAME], vec![]);
    g.output(OUTPUT_NAME, DataType::Float, &dims);
    let contract = ModelContract::float_nchw_rgb(1, "reference-conv-net");
    g.metadata_all(contract.to_metadata());
    g.to_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::keys;
    use crate::onnx::{Message, ModelProto};
    use std::collections::{HashMap, HashSet};

    fn metadata(bytes: &[u8]) -> HashMap<String, String> {
        ModelProto::decode(bytes)
            .unwrap()
            .metadata_props
            .into_iter()
            .map(|e| (e.key().to_string(), e.value().to_string()))
            .collect()
    }

    #[test]
    fn pixel_rule() {
        assert_eq!(permute_invert_pixel([10, 20, 30]), [235, 225, 245]);
        assert_eq!(permute_invert_pixel([0, 255, 0]), [0, 255, 255]);
    }

    #[test]
    fn all_variants_build_with_unique_names_and_metadata_resolves_to_contract() {
        let all = PermuteInvert::all();
        assert_eq!(all.len(), 96);
        let names: HashSet<String> = all.iter().map(|v| v.name()).collect();
        assert_eq!(names.len(), all.len());
        for v in all {
            let bytes = v.model();
            let md = metadata(&bytes);
            if !v.with_metadata {
                assert!(md.is_empty());
                continue;
            }
            let to_dim = |d: &Dim| match d {
                Dim::Fixed(n) => Some(*n),
                Dim::Symbolic(_) => None,
            };
            let desc = crate::ModelDescription {
                input_shape: v.dims().iter().map(to_dim).collect(),
                output_shape: v.dims().iter().map(to_dim).collect(),
                input_type: Some(v.tensor_type),
                output_type: Some(v.tensor_type),
                input_type_name: v.tensor_type.to_string(),
                output_type_name: v.tensor_type.to_string(),
                metadata: md.clone(),
            };
            let resolved = ModelContract::resolve(&desc, &Default::default()).unwrap();
            assert_eq!(resolved, v.contract(), "{}", v.name());
            assert_eq!(md[keys::STYLE], PERMUTE_INVERT_STYLE);
        }
    }

    #[test]
    fn bad_models_build_and_not_onnx_does_not_decode() {
        for bytes in [rank3_input(), one_channel(), int64_input(), fails_at_run()] {
            assert!(ModelProto::decode(bytes.as_slice()).unwrap().graph.is_some());
        }
        assert!(ModelProto::decode(not_onnx().as_slice()).is_err());
    }
}
