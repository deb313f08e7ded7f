//! The feature network behind the perceptual losses ([`crate::loss::content`],
//! [`crate::loss::style`]).
//!
//! * **VGG16** (`TrainConfig.perceptual = Some(path)`, `make weights`): content on relu4_3,
//!   style on the Gram matrices of relu1_2, relu2_2, relu3_3 and relu4_3 (mean over the four
//!   layers, Gatys et al. 2016's multi-layer style), of the ImageNet-normalised input; one VGG
//!   pass serves both and stops at relu4_3 ([`crate::model::vgg::Vgg16`]). The style term is
//!   multiplied by [`VGG16_STYLE_SCALE`] so the default style weight keeps its meaning.
//! * **VGG19** (`TrainConfig.vgg19 = Some(path)`): conv4_4 features for both content and style,
//!   as AnimeGANv2 does ([`crate::model::vgg`]).
//! * **Fallback** (no weight file): *content* features are the image itself, 4×4
//!   average-pooled — an L1 on them keeps layout and low-frequency colour while leaving the
//!   texture free to change; *style* features are the LeakyReLU responses of two fixed,
//!   seeded random convs (3→16 3×3, then 16→32 3×3 stride 2), whose Gram matrices capture
//!   local texture statistics (random-feature Gram matrices are a known, weaker stand-in for
//!   VGG's; Ustyuzhaninov et al. 2017 "What does it take to generate natural textures?").
//!   Seeded from the run's seed, so deterministic. Nothing here requires gradients.

use burn::module::Module;
use burn::tensor::module::avg_pool2d;
use burn::tensor::ops::AvgPoolOptions;
use burn::tensor::{Device, Tensor, activation};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::model::generator::{Conv, ConvGeometry};
use crate::model::spec::LEAKY_SLOPE;
use crate::model::vgg::{Vgg16, Vgg19, imagenet_normalize};

/// Fixed random convs for the fallback style features.
#[derive(Module, Debug)]
pub struct RandomFeatures {
    pub convs: Vec<Conv>,
}

impl RandomFeatures {
    pub fn new(seed: u64, device: &Device) -> RandomFeatures {
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0xfea7_0000_0000_0003);
        let convs = vec![
            Conv::kaiming(&mut rng, ConvGeometry::dense(3, 16, 3, 1, 1), 1.0, device),
            Conv::kaiming(&mut rng, ConvGeometry::dense(16, 32, 3, 2, 1), 1.0, device),
        ];
        RandomFeatures { convs }.no_grad()
    }

    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let mut x = x;
        for c in &self.convs {
            x = activation::leaky_relu(c.forward(x), LEAKY_SLOPE);
        }
        x
    }
}

/// Multiplier of the VGG16 style term (see [`FeatureNet::style_scale`]): 1, i.e. the default
/// style weight ([`crate::config::LossWeights::anime`], 25) applies unchanged. Measured on
/// `make data`'s photos and style frames, standard generator, unweighted Gram L1 (mean over
/// layers for VGG16):
///
/// | | VGG16 | fallback |
/// |---|---|---|
/// | generator at init vs grayscale style, 4 × 128² / 4 × 96² / 2 × 128² / 8 × 64² | 0.0107 / 0.0119 / 0.0127 / 0.0175 | 0.0074 / 0.0074 / 0.0072 / 0.0069 |
/// | photo (≈ the generator after warm-up) vs grayscale style, 4 × 128² / 8 × 64² | 0.0044 / 0.0097 | 0.0075 / 0.0085 |
///
/// so VGG16's term is 0.6–2.5× the fallback's for which the default weight was chosen, and the
/// content L1 (relu4_3 vs 4× average-pooled image: 0.59 vs 0.61 at init, 4 × 128²) is as close:
/// no rescaling is needed. Per layer (photo vs grayscale style, 4 × 128²) relu1_2, relu2_2 and
/// relu3_3 contribute alike (0.0051, 0.0062, 0.0053) and relu4_3 ~7× less (0.00075).
pub const VGG16_STYLE_SCALE: f64 = 1.0;

/// VGG16 taps used by the losses: relu1_2 … relu4_3 (relu5_3 is never computed for training).
const VGG16_LOSS_TAPS: usize = 4;

/// VGG16, VGG19 or the fallback (see the module docs).
#[derive(Debug)]
pub enum FeatureNet {
    Vgg16(Vgg16),
    Vgg19(Vgg19),
    Fallback(RandomFeatures),
}

impl FeatureNet {
    /// Which network this is, for logs.
    pub fn name(&self) -> &'static str {
        match self {
            FeatureNet::Vgg16(_) => "vgg16 (content relu4_3, style Gram relu1_2..relu4_3 of grayscale style)",
            FeatureNet::Vgg19(_) => "vgg19-conv4_4",
            FeatureNet::Fallback(_) => "fallback (avgpool4 content, random-conv Gram style)",
        }
    }

    /// Factor the style loss is multiplied by (on top of the style weight): 1 for VGG19 and the
    /// fallback; [`VGG16_STYLE_SCALE`] for VGG16.
    pub fn style_scale(&self) -> f64 {
        match self {
            FeatureNet::Vgg16(_) => VGG16_STYLE_SCALE,
            FeatureNet::Vgg19(_) | FeatureNet::Fallback(_) => 1.0,
        }
    }

    /// Features compared by the content loss.
    pub fn content_features(&self, x: Tensor<4>) -> Tensor<4> {
        match self {
            FeatureNet::Vgg16(v) => v.forward_taps_upto(imagenet_normalize(x), VGG16_LOSS_TAPS).pop().expect("relu4_3"),
            FeatureNet::Vgg19(v) => v.forward(x),
            FeatureNet::Fallback(_) => avg_pool2d(x, AvgPoolOptions::new([4, 4])),
        }
    }

    /// Feature maps whose Gram matrices the style loss compares (one per layer).
    pub fn style_features(&self, x: Tensor<4>) -> Vec<Tensor<4>> {
        match self {
            FeatureNet::Vgg16(v) => v.forward_taps_upto(imagenet_normalize(x), VGG16_LOSS_TAPS),
            FeatureNet::Vgg19(v) => vec![v.forward(x)],
            FeatureNet::Fallback(r) => vec![r.forward(x)],
        }
    }

    /// Both at once (one VGG pass when they share it).
    pub fn content_and_style(&self, x: Tensor<4>) -> (Tensor<4>, Vec<Tensor<4>>) {
        match self {
            FeatureNet::Vgg16(v) => {
                let taps = v.forward_taps_upto(imagenet_normalize(x), VGG16_LOSS_TAPS);
                (taps[VGG16_LOSS_TAPS - 1].clone(), taps)
            }
            FeatureNet::Vgg19(v) => {
                let f = v.forward(x);
                (f.clone(), vec![f])
            }
            FeatureNet::Fallback(_) => (self.content_features(x.clone()), self.style_features(x)),
        }
    }
}
