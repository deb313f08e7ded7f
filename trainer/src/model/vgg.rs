//! VGG19 (Simonyan & Zisserman 2015) feature extractor up to `conv4_4` **before** its ReLU
//! (AnimeGANv2's `conv4_4_no_activation`), for the perceptual content and style losses.
//!
//! Weights: torchvision's `vgg19` state dict, as a PyTorch `.pth`/`.pt` file (read with
//! burn-store's PyTorch reader) or a `.safetensors` file with the same key names
//! (`features.{0,2,5,7,10,12,14,16,19,21,23,25}.{weight,bias}`; the classifier and deeper
//! layers are ignored). Input is `[-1, 1]` RGB; it is mapped to `[0, 1]` and normalised with
//! the ImageNet mean/std torchvision's weights expect. Weights never require gradients.

use std::path::Path;

use anyhow::{Context, bail};
use burn::module::Module;
use burn::store::{ModuleSnapshot, PytorchStore, SafetensorsStore};
use burn::tensor::module::max_pool2d;
use burn::tensor::ops::MaxPoolOptions;
use burn::tensor::{Device, Tensor, TensorData, activation};

use crate::model::generator::Conv;

/// Output channels of the 12 convs up to conv4_4; a 2×2 max-pool follows convs 1, 3 and 7.
const CHANNELS: [usize; 12] = [64, 64, 128, 128, 256, 256, 256, 256, 512, 512, 512, 512];
/// Index of each of those convs in torchvision's `vgg19().features`.
const TORCHVISION_INDEX: [usize; 12] = [0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25];
const POOL_AFTER: [usize; 3] = [1, 3, 7];
const MEAN: [f32; 3] = [0.485, 0.456, 0.406];
const STD: [f32; 3] = [0.229, 0.224, 0.225];

/// VGG19 convs `conv1_1` … `conv4_4`.
#[derive(Module, Debug)]
pub struct Vgg19 {
    pub convs: Vec<Conv>,
}

impl Vgg19 {
    /// Zero-initialised structure (weights are overwritten by [`Vgg19::load`]).
    fn empty(device: &Device) -> Vgg19 {
        let mut convs = Vec::new();
        let mut cin = 3;
        for &c in &CHANNELS {
            convs.push(Conv::from_weights(vec![0.0; c * cin * 9], [c, cin, 3, 3], vec![0.0; c], 1, 1, 1, device));
            cin = c;
        }
        Vgg19 { convs }
    }

    /// Loads torchvision `vgg19` weights from a `.pth`/`.pt` or `.safetensors` file.
    pub fn load(path: &Path, device: &Device) -> anyhow::Result<Vgg19> {
        if !path.is_file() {
            bail!("VGG19 weight file {} does not exist", path.display());
        }
        let mut vgg = Vgg19::empty(device);
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
        // torchvision numbers its Sequential with ReLU/pool gaps: map each conv index explicitly.
        let result = if ext == "safetensors" {
            let mut store = SafetensorsStore::from_file(path).map_indices_contiguous(false).allow_partial(true);
            for (j, i) in TORCHVISION_INDEX.iter().enumerate() {
                store = store.with_key_remapping(format!(r"^features\.{i}\."), format!("convs.{j}."));
            }
            vgg.load_from(&mut store).map_err(|e| anyhow::anyhow!("{e}"))
        } else {
            let mut store = PytorchStore::from_file(path).map_indices_contiguous(false).allow_partial(true);
            for (j, i) in TORCHVISION_INDEX.iter().enumerate() {
                store = store.with_key_remapping(format!(r"^features\.{i}\."), format!("convs.{j}."));
            }
            vgg.load_from(&mut store).map_err(|e| anyhow::anyhow!("{e}"))
        }
        .with_context(|| format!("cannot read VGG19 weights from {}", path.display()))?;
        if !result.missing.is_empty() {
            bail!(
                "{} is not a torchvision vgg19 state dict: missing {:?}",
                path.display(),
                result.missing.iter().map(|m| m.0.as_str()).take(4).collect::<Vec<_>>()
            );
        }
        Ok(vgg.no_grad())
    }

    /// `[-1, 1]` RGB → conv4_4 features (pre-ReLU), `[n, 512, h/8, w/8]`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let device = x.device();
        let mean = Tensor::<4>::from_data(TensorData::new(MEAN.to_vec(), [1, 3, 1, 1]), &device);
        let std = Tensor::<4>::from_data(TensorData::new(STD.to_vec(), [1, 3, 1, 1]), &device);
        let mut x = (x.add_scalar(1.0).mul_scalar(0.5) - mean) / std;
        let last = self.convs.len() - 1;
        for (i, conv) in self.convs.iter().enumerate() {
            x = conv.forward(x);
            if i < last {
                x = activation::relu(x);
            }
            if POOL_AFTER.contains(&i) {
                x = max_pool2d(x, MaxPoolOptions::new([2, 2]));
            }
        }
        x
    }
}
