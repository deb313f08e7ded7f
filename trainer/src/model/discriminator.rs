//! PatchGAN discriminator with **spectral normalisation** (Miyato et al. 2018, as in AnimeGANv2).
//!
//! | layer | kernel | stride | pad | in → out | after |
//! |---|---|---|---|---|---|
//! | `conv0` | 4 | 2 | 1 | 3 → 32 | LeakyReLU(0.2) |
//! | `conv1` | 4 | 2 | 1 | 32 → 64 | LeakyReLU(0.2) |
//! | `conv2` | 4 | 1 | 1 | 64 → 128 | LeakyReLU(0.2) |
//! | `conv3` | 3 | 1 | 1 | 128 → 1 | none (logit map) |
//!
//! Every conv weight `W` is used as `W / σ(W)`, σ estimated with one power iteration per
//! discriminator update on `W` reshaped to `[out, in·k·k]`: `v = norm(Wᵀu)`, `u = norm(W v)`
//! (no gradient), `σ = uᵀ W v` (gradient flows through `W`). The vectors `u` are module
//! parameters that never require a gradient, so they are saved in checkpoints and a resumed run
//! continues bit-identically. Power iteration runs only in [`Discriminator::power_iteration`],
//! which the trainer calls once per D step; `forward` reads `u` and never changes it.

use burn::module::{Module, Param};
use burn::tensor::{Device, Tensor, TensorData, activation};
use rand::Rng;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::model::generator::{Conv, ConvGeometry};
use crate::model::spec::LEAKY_SLOPE;

/// Channels of the three hidden layers.
pub const CHANNELS: [usize; 3] = [32, 64, 128];

/// A spectrally normalised conv.
#[derive(Module, Debug)]
pub struct SnConv {
    pub conv: Conv,
    /// Left singular vector estimate, `[out, 1]`; never requires a gradient.
    pub u: Param<Tensor<2>>,
}

fn normalize(x: Tensor<2>) -> Tensor<2> {
    let norm = x.clone().square().sum().sqrt().add_scalar(1e-12);
    x / norm.unsqueeze::<2>()
}

impl SnConv {
    fn new(rng: &mut ChaCha8Rng, i: usize, o: usize, k: usize, s: usize, device: &Device) -> SnConv {
        let conv = Conv::kaiming(rng, ConvGeometry::dense(i, o, k, s, 1), 1.0, device);
        let u: Vec<f32> = (0..o).map(|_| rng.random_range(-1.0f32..1.0)).collect();
        let u = normalize(Tensor::from_data(TensorData::new(u, [o, 1]), device));
        SnConv { conv, u: Param::from_tensor(u).set_require_grad(false) }
    }

    fn matrix(&self) -> Tensor<2> {
        let [o, i, kh, kw] = self.conv.weight.dims();
        self.conv.weight.val().reshape([o, i * kh * kw])
    }

    /// One power-iteration step on the (detached) weight; updates `u`.
    fn power_iteration(&mut self) {
        let w = self.matrix().detach();
        let u = self.u.val().detach();
        let v = normalize(w.clone().transpose().matmul(u));
        let u = normalize(w.matmul(v)).detach();
        let id = self.u.id;
        self.u = Param::initialized(id, u).set_require_grad(false);
    }

    fn sigma(&self) -> Tensor<1> {
        let w = self.matrix();
        let u = self.u.val().detach();
        let v = normalize(w.clone().detach().transpose().matmul(u.clone())).detach();
        // σ = uᵀ W v, a [1, 1] tensor
        u.transpose().matmul(w.matmul(v)).reshape([1])
    }

    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let sigma = self.sigma();
        let w = self.conv.weight.val() / sigma.reshape([1, 1, 1, 1]);
        self.conv.forward_with_weight(x, w)
    }
}

/// The PatchGAN discriminator (see the module docs).
#[derive(Module, Debug)]
pub struct Discriminator {
    pub layers: Vec<SnConv>,
}

impl Discriminator {
    /// A freshly initialised discriminator; `seed` fully determines the weights.
    pub fn new(seed: u64, device: &Device) -> Discriminator {
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0xd15c_0000_0000_0001);
        let [c0, c1, c2] = CHANNELS;
        let layers = vec![
            SnConv::new(&mut rng, 3, c0, 4, 2, device),
            SnConv::new(&mut rng, c0, c1, 4, 2, device),
            SnConv::new(&mut rng, c1, c2, 4, 1, device),
            SnConv::new(&mut rng, c2, 1, 3, 1, device),
        ];
        Discriminator { layers }
    }

    /// One power-iteration step for every layer (call once per D update).
    pub fn power_iteration(&mut self) {
        for l in &mut self.layers {
            l.power_iteration();
        }
    }

    /// `x`: NCHW RGB in `[-1, 1]`. Returns the patch logit map `[n, 1, h', w']`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let last = self.layers.len() - 1;
        let mut x = x;
        for (i, l) in self.layers.iter().enumerate() {
            x = l.forward(x);
            if i < last {
                x = activation::leaky_relu(x, LEAKY_SLOPE);
            }
        }
        x
    }
}
