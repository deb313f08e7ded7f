//! LPIPS (Zhang et al. 2018, "The Unreasonable Effectiveness of Deep Features as a Perceptual
//! Metric"), VGG variant, v0.1: the learned perceptual distance between two images.
//!
//! `d(a, b) = Σ_l mean_hw( w_l · (û_l(a) − û_l(b))² )`, where `û_l` are the VGG16 taps relu1_2,
//! relu2_2, relu3_3, relu4_3, relu5_3 ([`Vgg16::forward_taps`]) of the ScalingLayer-normalised
//! input ([`lpips_scale`]), each unit-normalised along channels (eps 1e-10), and `w_l ≥ 0` the
//! v0.1 linear heads (1×1 convs without bias, `lin{l}.weight` `[1, C, 1, 1]` as in the official
//! `lpips` package). Weights: `data/weights/vgg16.safetensors` from `make weights`, which also
//! writes reference values computed in numpy (`lpips-reference.json`, checked by
//! trainer/tests/perceptual.rs). 0 for identical images; ~0.1–0.7 for clearly different ones.

use std::path::Path;

use anyhow::bail;
use burn::module::{Module, Param};
use burn::tensor::{Device, Tensor, TensorData};

use crate::model::vgg::{
    VGG16_INDEX, VGG16_TAP_CHANNELS, Vgg16, conv_prefixes, load_torchvision, lpips_scale, vgg16_fix,
};

/// Smallest side LPIPS accepts: relu5_3 is at 1/16 resolution.
pub const LPIPS_MIN_SIZE: u32 = 16;
const EPS: f64 = 1e-10;

/// One LPIPS v0.1 linear head: a bias-free 1×1 conv from `C` channels to 1.
#[derive(Module, Debug)]
pub struct LinHead {
    /// `[1, C, 1, 1]`.
    pub weight: Param<Tensor<4>>,
}

/// VGG16 + the five LPIPS v0.1 heads.
#[derive(Module, Debug)]
pub struct Lpips {
    pub vgg: Vgg16,
    pub lins: Vec<LinHead>,
}

impl Lpips {
    /// Loads VGG16 (`features.*`) and the heads (`lin{0..4}.weight`) from one `.safetensors` /
    /// `.pth` file (`make weights` writes `data/weights/vgg16.safetensors`).
    pub fn load(path: &Path, device: &Device) -> anyhow::Result<Lpips> {
        let lins = VGG16_TAP_CHANNELS
            .iter()
            .map(|&c| LinHead { weight: Param::from_data(TensorData::new(vec![0f32; c], [1, c, 1, 1]), device) })
            .collect();
        let mut lpips = Lpips { vgg: Vgg16::empty(device), lins };
        let mut prefixes = conv_prefixes(&VGG16_INDEX, "vgg.");
        prefixes.extend((0..VGG16_TAP_CHANNELS.len()).map(|l| (format!("lin{l}."), format!("lins.{l}."))));
        load_torchvision(&mut lpips, path, "VGG16 + LPIPS v0.1", &prefixes, &vgg16_fix())?;
        Ok(lpips.no_grad())
    }

    /// LPIPS per image of two `[n, 3, h, w]` batches of `[-1, 1]` RGB (h, w ≥ 16): `[n]`.
    pub fn distance(&self, a: Tensor<4>, b: Tensor<4>) -> Tensor<1> {
        let [n, _, _, _] = a.dims();
        assert_eq!(a.dims(), b.dims(), "LPIPS of batches of different shapes");
        let ta = self.vgg.forward_taps(lpips_scale(a));
        let tb = self.vgg.forward_taps(lpips_scale(b));
        let mut total: Option<Tensor<1>> = None;
        for ((fa, fb), lin) in ta.into_iter().zip(tb).zip(&self.lins) {
            let [_, _, h, w] = fa.dims();
            let d = (unit(fa) - unit(fb)).square();
            let layer = (d * lin.weight.val()).sum_dim(1).reshape([n, h * w]).mean_dim(1).reshape([n]);
            total = Some(match total {
                Some(t) => t + layer,
                None => layer,
            });
        }
        total.expect("five layers")
    }

    /// LPIPS of two 8-bit RGB images of the same size (each side ≥ [`LPIPS_MIN_SIZE`]); `v` maps
    /// to `v / 127.5 − 1` as in the official `lpips.im2tensor`.
    pub fn distance_rgb8(&self, a: &image::RgbImage, b: &image::RgbImage) -> anyhow::Result<f64> {
        if a.dimensions() != b.dimensions() {
            bail!("LPIPS of images of different sizes: {:?} and {:?}", a.dimensions(), b.dimensions());
        }
        let (w, h) = a.dimensions();
        if w < LPIPS_MIN_SIZE || h < LPIPS_MIN_SIZE {
            bail!("LPIPS needs images of at least {LPIPS_MIN_SIZE}×{LPIPS_MIN_SIZE}, got {w}×{h}");
        }
        let device = self.lins[0].weight.val().device();
        let d = self.distance(rgb8_tensor(a, &device), rgb8_tensor(b, &device));
        Ok(d.into_scalar::<f32>() as f64)
    }
}

/// Unit length along channels: `f / (‖f‖₂ + eps)`.
fn unit(f: Tensor<4>) -> Tensor<4> {
    let norm = f.clone().square().sum_dim(1).sqrt().add_scalar(EPS);
    f / norm
}

/// An 8-bit RGB image as a `[1, 3, h, w]` `[-1, 1]` tensor.
fn rgb8_tensor(img: &image::RgbImage, device: &Device) -> Tensor<4> {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let mut v = vec![0f32; 3 * h * w];
    for (i, p) in img.as_raw().chunks_exact(3).enumerate() {
        for c in 0..3 {
            v[c * h * w + i] = p[c] as f32 / 127.5 - 1.0;
        }
    }
    Tensor::<4>::from_data(TensorData::new(v, [1, 3, h, w]), device)
}
