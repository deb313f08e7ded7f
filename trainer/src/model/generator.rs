//! The burn generator, built layer by layer from [`GeneratorConfig::layers`] (see
//! [`crate::model::spec`] for the table). Every conv is a plain 2-D convolution with bias,
//! zero padding `kernel / 2`, followed by LeakyReLU(0.2), a residual add (block `project`)
//! or tanh (`head`); a nearest ×2 upsample precedes `up1` and `up2`.
//!
//! Weights are created from a ChaCha8 stream seeded by the caller, so a seed fully determines
//! the initial generator (burn's global RNG is never used). Init: Kaiming-uniform for a
//! LeakyReLU(0.2) fan-in, bias 0; the residual `project` convs are scaled by 0.1 so every block
//! starts close to the identity, and the `head` by 0.5 so tanh starts unsaturated.

use burn::module::{Module, Param};
use burn::tensor::module::{conv2d, interpolate};
use burn::tensor::ops::{ConvOptions, InterpolateMode, InterpolateOptions};
use burn::tensor::{Device, Tensor, TensorData, activation};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::model::spec::{Activation, ConvSpec, ConvWeights, GeneratorConfig, GeneratorWeights, LEAKY_SLOPE};

/// One 2-D convolution with bias; weight in burn's (= ONNX's) `[out, in / groups, k, k]` layout.
#[derive(Module, Debug)]
pub struct Conv {
    pub weight: Param<Tensor<4>>,
    pub bias: Param<Tensor<1>>,
    pub stride: usize,
    pub padding: usize,
    pub groups: usize,
}

/// Shape of a 2-D convolution with a square kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConvGeometry {
    pub in_channels: usize,
    pub out_channels: usize,
    pub kernel: usize,
    pub stride: usize,
    pub padding: usize,
    pub groups: usize,
}

impl ConvGeometry {
    /// An ungrouped conv with `padding` on every side.
    pub fn dense(in_channels: usize, out_channels: usize, kernel: usize, stride: usize, padding: usize) -> Self {
        ConvGeometry { in_channels, out_channels, kernel, stride, padding, groups: 1 }
    }
}

impl Conv {
    /// A conv from explicit OIHW weights and bias.
    pub fn from_weights(
        weight: Vec<f32>,
        shape: [usize; 4],
        bias: Vec<f32>,
        stride: usize,
        padding: usize,
        groups: usize,
        device: &Device,
    ) -> Conv {
        let out = shape[0];
        Conv {
            weight: Param::from_data(TensorData::new(weight, shape), device),
            bias: Param::from_data(TensorData::new(bias, [out]), device),
            stride,
            padding,
            groups,
        }
    }

    /// Kaiming-uniform init (LeakyReLU slope `LEAKY_SLOPE`), scaled by `scale`, bias 0.
    pub fn kaiming(rng: &mut ChaCha8Rng, geometry: ConvGeometry, scale: f32, device: &Device) -> Conv {
        let ConvGeometry { in_channels, out_channels, kernel, stride, padding, groups } = geometry;
        let fan_in = (in_channels / groups) * kernel * kernel;
        let gain = (2.0 / (1.0 + LEAKY_SLOPE * LEAKY_SLOPE)).sqrt() as f32;
        let bound = gain * (3.0 / fan_in as f32).sqrt() * scale;
        let n = out_channels * (in_channels / groups) * kernel * kernel;
        let weight: Vec<f32> = (0..n).map(|_| rng.random_range(-bound..bound)).collect();
        Conv::from_weights(
            weight,
            [out_channels, in_channels / groups, kernel, kernel],
            vec![0.0; out_channels],
            stride,
            padding,
            groups,
            device,
        )
    }

    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        self.forward_with_weight(x, self.weight.val())
    }

    /// The conv with an explicit (e.g. spectrally normalised) weight.
    pub fn forward_with_weight(&self, x: Tensor<4>, weight: Tensor<4>) -> Tensor<4> {
        let p = self.padding;
        conv2d(
            x,
            weight,
            Some(self.bias.val()),
            ConvOptions::new([self.stride, self.stride], [p, p], [1, 1], self.groups),
        )
    }
}

/// ONNX `SpaceToDepth` (blocksize `b`): output channel `(by·b + bx)·C + c` at `(y, x)` holds
/// input channel `c` at `(y·b + by, x·b + bx)`.
pub fn space_to_depth(x: Tensor<4>, b: usize) -> Tensor<4> {
    let [n, c, h, w] = x.dims();
    x.reshape([n, c, h / b, b, w / b, b]).permute([0, 3, 5, 1, 2, 4]).reshape([n, c * b * b, h / b, w / b])
}

/// ONNX `DepthToSpace` in `DCR` mode (blocksize `b`), the inverse of [`space_to_depth`].
pub fn depth_to_space(x: Tensor<4>, b: usize) -> Tensor<4> {
    let [n, c, h, w] = x.dims();
    x.reshape([n, b, b, c / (b * b), h, w]).permute([0, 3, 4, 1, 5, 2]).reshape([n, c / (b * b), h * b, w * b])
}

/// Nearest-neighbour ×2 upsample (`out[y][x] = in[y / 2][x / 2]`).
pub fn upsample_nearest2(x: Tensor<4>) -> Tensor<4> {
    let [_, _, h, w] = x.dims();
    interpolate(x, InterpolateOptions::new(InterpolateMode::Nearest).with_output_size([2 * h, 2 * w]))
}

/// The generator of [`crate::model::spec`].
#[derive(Module, Debug)]
pub struct Generator {
    /// One conv per [`GeneratorConfig::layers`] entry, same order.
    pub convs: Vec<Conv>,
    #[module(skip)]
    pub config: GeneratorConfig,
}

impl Generator {
    /// A freshly initialised generator; `seed` fully determines the weights.
    pub fn new(config: GeneratorConfig, seed: u64, device: &Device) -> Generator {
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x9e37_79b9_7f4a_7c15);
        let convs = config
            .layers()
            .iter()
            .map(|l| {
                let scale = match l.activation {
                    Activation::ResidualAdd => 0.1,
                    Activation::Tanh => 0.5,
                    Activation::LeakyRelu => 1.0,
                };
                let geometry = ConvGeometry {
                    in_channels: l.in_channels,
                    out_channels: l.out_channels,
                    kernel: l.kernel,
                    stride: l.stride,
                    padding: l.kernel / 2,
                    groups: l.groups,
                };
                Conv::kaiming(&mut rng, geometry, scale, device)
            })
            .collect();
        Generator { convs, config }
    }

    /// A generator holding exactly `weights` (e.g. to test the exporter's layout).
    pub fn from_weights(weights: &GeneratorWeights, device: &Device) -> Generator {
        let convs = weights
            .convs
            .iter()
            .map(|c| {
                let s = &c.spec;
                Conv::from_weights(
                    c.weight.clone(),
                    [s.out_channels, s.in_channels / s.groups, s.kernel, s.kernel],
                    c.bias.clone(),
                    s.stride,
                    s.kernel / 2,
                    s.groups,
                    device,
                )
            })
            .collect();
        Generator { convs, config: weights.config }
    }

    /// `x`: NCHW RGB in `[-1, 1]`, H and W multiples of 4. Output: same shape, `[-1, 1]`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let layers = self.config.layers();
        let mut x = x;
        let mut block_input: Option<Tensor<4>> = None;
        for (spec, conv) in layers.iter().zip(&self.convs) {
            if spec.upsample_before {
                x = upsample_nearest2(x);
            }
            if spec.space_to_depth_before > 0 {
                x = space_to_depth(x, spec.space_to_depth_before);
            }
            if spec.name.ends_with(".expand") {
                block_input = Some(x.clone());
            }
            let mut y = conv.forward(x);
            if spec.depth_to_space_after > 0 {
                y = depth_to_space(y, spec.depth_to_space_after);
            }
            x = match spec.activation {
                Activation::LeakyRelu => activation::leaky_relu(y, LEAKY_SLOPE),
                Activation::Tanh => y.tanh(),
                Activation::ResidualAdd => y + block_input.take().expect("project without a block input"),
            };
        }
        x
    }

    /// All weights in ONNX layout (`[out, in / groups, k, k]` row-major + bias), in
    /// [`GeneratorConfig::layers`] order.
    pub fn to_weights(&self) -> GeneratorWeights {
        let convs = self
            .config
            .layers()
            .into_iter()
            .zip(&self.convs)
            .map(|(spec, conv): (ConvSpec, &Conv)| ConvWeights {
                weight: conv.weight.val().into_data().convert::<f32>().try_to_vec::<f32>().unwrap(),
                bias: conv.bias.val().into_data().convert::<f32>().try_to_vec::<f32>().unwrap(),
                spec,
            })
            .collect();
        GeneratorWeights { config: self.config, convs }
    }
}
