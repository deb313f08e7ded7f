//! The feature network behind the perceptual losses ([`crate::loss::content`],
//! [`crate::loss::style`]).
//!
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
use crate::model::vgg::Vgg19;

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

/// VGG19 or the fallback (see the module docs).
#[derive(Debug)]
pub enum FeatureNet {
    Vgg19(Vgg19),
    Fallback(RandomFeatures),
}

impl FeatureNet {
    /// Which network this is, for logs.
    pub fn name(&self) -> &'static str {
        match self {
            FeatureNet::Vgg19(_) => "vgg19-conv4_4",
            FeatureNet::Fallback(_) => "fallback (avgpool4 content, random-conv Gram style)",
        }
    }

    /// Features compared by the content loss.
    pub fn content_features(&self, x: Tensor<4>) -> Tensor<4> {
        match self {
            FeatureNet::Vgg19(v) => v.forward(x),
            FeatureNet::Fallback(_) => avg_pool2d(x, AvgPoolOptions::new([4, 4])),
        }
    }

    /// Features whose Gram matrices the style loss compares.
    pub fn style_features(&self, x: Tensor<4>) -> Tensor<4> {
        match self {
            FeatureNet::Vgg19(v) => v.forward(x),
            FeatureNet::Fallback(r) => r.forward(x),
        }
    }

    /// Both at once (one VGG pass when they coincide).
    pub fn content_and_style(&self, x: Tensor<4>) -> (Tensor<4>, Tensor<4>) {
        match self {
            FeatureNet::Vgg19(v) => {
                let f = v.forward(x);
                (f.clone(), f)
            }
            FeatureNet::Fallback(_) => (self.content_features(x.clone()), self.style_features(x)),
        }
    }
}
