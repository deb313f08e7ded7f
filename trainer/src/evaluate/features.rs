//! Pretrained VGG16 features for `evaluate`: embeddings for FD-VGG16 / KID and LPIPS-VGG,
//! from one load of `data/weights/vgg16.safetensors` (`make weights`).

use std::path::Path;

use anyhow::Context;
use burn::tensor::{Device, Tensor, TensorData};
use image::RgbImage;
use image::imageops::{self, FilterType};

use crate::data::to_nchw;
use crate::model::lpips::Lpips;
use crate::model::vgg::imagenet_normalize;

/// Side of the square crops the embedding is computed on (VGG16's ImageNet input size).
pub const EMBED_CROP: u32 = 224;
/// Crops per image, spread along its long side (a 16:9 frame resized to 224 high is 398 wide:
/// left, centre and right crops cover it with some overlap).
pub const EMBED_CROPS: u32 = 3;
/// LPIPS is computed with the long side resized to this (the element's network size; LPIPS
/// on a full 1280×720 frame costs ~15× more and says the same about content).
pub const LPIPS_LONG_SIDE: u32 = 384;

pub struct Perceptual {
    lpips: Lpips,
    device: Device,
}

impl Perceptual {
    pub fn load(path: &Path) -> anyhow::Result<Perceptual> {
        let device = Device::flex();
        let lpips = Lpips::load(path, &device).context("perceptual weights for evaluate")?;
        Ok(Perceptual { lpips, device })
    }

    /// One 512-d vector per crop: VGG16 relu5_3 averaged over the crop. The image's short
    /// side is resized to [`EMBED_CROP`]; [`EMBED_CROPS`] crops are taken along the long side
    /// (one when it is square).
    pub fn embed(&self, img: &RgbImage) -> anyhow::Result<Vec<Vec<f32>>> {
        let (w, h) = img.dimensions();
        let s = EMBED_CROP as f64 / w.min(h).max(1) as f64;
        let (nw, nh) =
            (((w as f64 * s).round() as u32).max(EMBED_CROP), ((h as f64 * s).round() as u32).max(EMBED_CROP));
        let resized = imageops::resize(img, nw, nh, FilterType::Triangle);
        let slack = nw.max(nh) - EMBED_CROP;
        let count = if slack == 0 { 1 } else { EMBED_CROPS };
        let mut batch = Vec::new();
        for k in 0..count {
            let offset = if count == 1 { 0 } else { slack * k / (count - 1) };
            let (x, y) = if nw >= nh { (offset, 0) } else { (0, offset) };
            batch.extend(to_nchw(&imageops::crop_imm(&resized, x, y, EMBED_CROP, EMBED_CROP).to_image()));
        }
        let n = count as usize;
        let side = EMBED_CROP as usize;
        let x = Tensor::<4>::from_data(TensorData::new(batch, [n, 3, side, side]), &self.device);
        let [.., relu5_3] = self.lpips.vgg.forward_taps(imagenet_normalize(x));
        let [_, c, fh, fw] = relu5_3.dims();
        let pooled = relu5_3.reshape([n, c, fh * fw]).mean_dim(2).reshape([n, c]);
        let values: Vec<f32> =
            pooled.into_data().try_to_vec::<f32>().map_err(|e| anyhow::anyhow!("VGG16 features: {e:?}"))?;
        Ok(values.chunks_exact(c).map(|v| v.to_vec()).collect())
    }

    /// LPIPS-VGG between two images of the same size, both resized to a long side of
    /// [`LPIPS_LONG_SIDE`].
    pub fn lpips(&self, a: &RgbImage, b: &RgbImage) -> anyhow::Result<f64> {
        let (w, h) = a.dimensions();
        let s = (LPIPS_LONG_SIDE as f64 / w.max(h).max(1) as f64).min(1.0);
        let (nw, nh) = (((w as f64 * s).round() as u32).max(16), ((h as f64 * s).round() as u32).max(16));
        let small = |i: &RgbImage| imageops::resize(i, nw, nh, FilterType::Triangle);
        self.lpips.distance_rgb8(&small(a), &small(b))
    }
}
