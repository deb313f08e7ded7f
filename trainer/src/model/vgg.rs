//! Pretrained VGG feature extractors (Simonyan & Zisserman 2015) for the perceptual losses and
//! LPIPS ([`crate::model::lpips`]).
//!
//! * [`Vgg19`] up to `conv4_4` **before** its ReLU (AnimeGANv2's `conv4_4_no_activation`).
//!   Weights: torchvision's `vgg19` state dict (`features.{0,2,5,7,10,12,14,16,19,21,23,25}`).
//! * [`Vgg16`] `conv1_1` … `conv5_3` with the five LPIPS taps `relu1_2`, `relu2_2`, `relu3_3`,
//!   `relu4_3`, `relu5_3`. Weights: torchvision's `vgg16` state dict
//!   (`features.{0,2,5,7,10,12,14,17,19,21,24,26,28}`), e.g. `data/weights/vgg16.safetensors`
//!   written by `make weights` (scripts/fetch-vgg16.sh: the ImageNet VGG16 the official LPIPS uses).
//!
//! Both read a PyTorch `.pth`/`.pt` file (burn-store's PyTorch reader) or a `.safetensors` file
//! with those key names (other keys, e.g. the classifier, are ignored) through one loader,
//! [`load_torchvision`]. Weights never require gradients. Input normalisation:
//! [`imagenet_normalize`] (`[-1, 1]` RGB → ImageNet mean/std, what the weights were trained
//! on; perceptual losses) or [`lpips_scale`] (LPIPS's ScalingLayer).

use std::path::Path;

use anyhow::{anyhow, bail};
use burn::module::Module;
use burn::store::{ApplyError, ApplyResult, ModuleSnapshot, PytorchStore, SafetensorsStore};
use burn::tensor::module::max_pool2d;
use burn::tensor::ops::MaxPoolOptions;
use burn::tensor::{Device, Tensor, TensorData, activation};

use crate::model::generator::Conv;

/// ImageNet mean / std of `[0, 1]` RGB (torchvision's normalisation).
const IMAGENET_MEAN: [f32; 3] = [0.485, 0.456, 0.406];
const IMAGENET_STD: [f32; 3] = [0.229, 0.224, 0.225];
/// LPIPS ScalingLayer (Zhang et al. 2018, `lpips/pretrained_networks`): applied to `[-1, 1]` RGB
/// as `(x − shift) / scale`; the ImageNet normalisation rewritten for `[-1, 1]` input.
const LPIPS_SHIFT: [f32; 3] = [-0.030, -0.088, -0.188];
const LPIPS_SCALE: [f32; 3] = [0.458, 0.448, 0.450];

/// VGG19: output channels of the 12 convs up to conv4_4; a 2×2 max-pool follows convs 1, 3, 7.
const VGG19_CHANNELS: [usize; 12] = [64, 64, 128, 128, 256, 256, 256, 256, 512, 512, 512, 512];
/// Index of each of those convs in torchvision's `vgg19().features`.
const VGG19_INDEX: [usize; 12] = [0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25];
const VGG19_POOL_AFTER: [usize; 3] = [1, 3, 7];

/// VGG16: output channels of its 13 convs, conv1_1 … conv5_3.
const VGG16_CHANNELS: [usize; 13] = [64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512];
/// Index of each of those convs in torchvision's `vgg16().features`.
pub const VGG16_INDEX: [usize; 13] = [0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28];
/// The convs whose ReLU output is a tap (relu1_2, relu2_2, relu3_3, relu4_3, relu5_3); a 2×2
/// max-pool follows each tap but the last.
const VGG16_TAP_AFTER: [usize; 5] = [1, 3, 6, 9, 12];
/// Names of the [`Vgg16::forward_taps`] outputs, in order.
pub const VGG16_TAPS: [&str; 5] = ["relu1_2", "relu2_2", "relu3_3", "relu4_3", "relu5_3"];
/// Channels of each tap.
pub const VGG16_TAP_CHANNELS: [usize; 5] = [64, 128, 256, 512, 512];

/// What `make weights` writes (the fix named by load errors).
pub const VGG16_DEFAULT_PATH: &str = "data/weights/vgg16.safetensors";

/// A `[1, 3, 1, 1]` per-channel constant.
fn channel_constant(values: [f32; 3], device: &Device) -> Tensor<4> {
    Tensor::<4>::from_data(TensorData::new(values.to_vec(), [1, 3, 1, 1]), device)
}

/// `[-1, 1]` RGB → `[0, 1]` → ImageNet mean/std normalised: the input torchvision's VGG weights
/// expect. For the perceptual losses (and feature statistics such as FD).
pub fn imagenet_normalize(x: Tensor<4>) -> Tensor<4> {
    let device = x.device();
    (x.add_scalar(1.0).mul_scalar(0.5) - channel_constant(IMAGENET_MEAN, &device))
        / channel_constant(IMAGENET_STD, &device)
}

/// `[-1, 1]` RGB → LPIPS's ScalingLayer `(x − shift) / scale` (for [`crate::model::lpips`]).
pub fn lpips_scale(x: Tensor<4>) -> Tensor<4> {
    let device = x.device();
    (x - channel_constant(LPIPS_SHIFT, &device)) / channel_constant(LPIPS_SCALE, &device)
}

/// Zero-initialised 3×3 convs (padding 1) with these output channels, from 3 input channels.
fn empty_convs(channels: &[usize], device: &Device) -> Vec<Conv> {
    let mut convs = Vec::with_capacity(channels.len());
    let mut cin = 3;
    for &c in channels {
        convs.push(Conv::from_weights(vec![0.0; c * cin * 9], [c, cin, 3, 3], vec![0.0; c], 1, 1, 1, device));
        cin = c;
    }
    convs
}

/// `(file key prefix, module path prefix)` of each conv: `features.{i}.` ↔ `{module}convs.{j}.`.
pub(crate) fn conv_prefixes(torchvision_index: &[usize], module: &str) -> Vec<(String, String)> {
    torchvision_index
        .iter()
        .enumerate()
        .map(|(j, i)| (format!("features.{i}."), format!("{module}convs.{j}.")))
        .collect()
}

/// Reads `module`'s tensors from a torchvision-named `.pth`/`.pt` or `.safetensors` file.
/// `prefixes` maps each file key prefix to the module path prefix that receives it (torchvision
/// numbers its Sequential with gaps for ReLUs and pools, so every conv is mapped explicitly);
/// other file keys are ignored. Every module tensor must be found, with its shape: errors name
/// the file keys that are missing or mismatched, what the file should be (`what`) and `fix`.
pub(crate) fn load_torchvision<M: Module>(
    module: &mut M,
    path: &Path,
    what: &str,
    prefixes: &[(String, String)],
    fix: &str,
) -> anyhow::Result<()> {
    if !path.is_file() {
        bail!("{what} weight file {} does not exist; {fix}", path.display());
    }
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    let pattern = |file: &str| format!("^{}", file.replace('.', r"\."));
    let result: ApplyResult = if ext == "safetensors" {
        let mut store =
            SafetensorsStore::from_file(path).map_indices_contiguous(false).allow_partial(true).validate(false);
        for (file, m) in prefixes {
            store = store.with_key_remapping(pattern(file), m.clone());
        }
        module.load_from(&mut store).map_err(|e| e.to_string())
    } else {
        let mut store = PytorchStore::from_file(path).map_indices_contiguous(false).allow_partial(true).validate(false);
        for (file, m) in prefixes {
            store = store.with_key_remapping(pattern(file), m.clone());
        }
        module.load_from(&mut store).map_err(|e| e.to_string())
    }
    .map_err(|e| anyhow!("cannot read {what} weights from {}: {e}; {fix}", path.display()))?;
    // Module path → the file key it was looked up under.
    let file_key = |module_path: &str| {
        prefixes
            .iter()
            .find_map(|(file, m)| module_path.strip_prefix(m.as_str()).map(|rest| format!("{file}{rest}")))
            .unwrap_or_else(|| module_path.to_string())
    };
    if !result.missing.is_empty() {
        let keys: Vec<String> = result.missing.iter().map(|(p, _)| file_key(p)).collect();
        let shown = keys.iter().take(6).cloned().collect::<Vec<_>>().join(", ");
        let more = if keys.len() > 6 { format!(" and {} more", keys.len() - 6) } else { String::new() };
        bail!("{} is not a {what} file: missing {shown}{more}; {fix}", path.display());
    }
    if let Some(e) = result.errors.first() {
        let detail = match e {
            ApplyError::ShapeMismatch { path: p, expected, found } => {
                format!("{} has shape {:?}, expected {:?}", file_key(p), found.as_slice(), expected.as_slice())
            }
            ApplyError::DTypeMismatch { path: p, expected, found } => {
                format!("{} has dtype {found:?}, expected {expected:?}", file_key(p))
            }
            other => other.to_string(),
        };
        bail!("{} is not a {what} file: {detail}; {fix}", path.display());
    }
    Ok(())
}

/// Conv → ReLU through `convs[..=last]`, with a 2×2 max-pool after the convs in `pool_after`
/// (except `last`); returns the ReLU outputs of the convs in `taps`.
fn run_convs(convs: &[Conv], mut x: Tensor<4>, last: usize, pool_after: &[usize], taps: &[usize]) -> Vec<Tensor<4>> {
    let mut out = Vec::with_capacity(taps.len());
    for (i, conv) in convs.iter().enumerate().take(last + 1) {
        x = activation::relu(conv.forward(x));
        if taps.contains(&i) {
            out.push(x.clone());
        }
        if i < last && pool_after.contains(&i) {
            x = max_pool2d(x, MaxPoolOptions::new([2, 2]));
        }
    }
    out
}

/// VGG19 convs `conv1_1` … `conv4_4`.
#[derive(Module, Debug)]
pub struct Vgg19 {
    pub convs: Vec<Conv>,
}

impl Vgg19 {
    /// Loads torchvision `vgg19` weights from a `.pth`/`.pt` or `.safetensors` file.
    pub fn load(path: &Path, device: &Device) -> anyhow::Result<Vgg19> {
        let mut vgg = Vgg19 { convs: empty_convs(&VGG19_CHANNELS, device) };
        let fix = "pass a torchvision vgg19 state dict (.pth or .safetensors)";
        load_torchvision(&mut vgg, path, "torchvision VGG19", &conv_prefixes(&VGG19_INDEX, ""), fix)?;
        Ok(vgg.no_grad())
    }

    /// `[-1, 1]` RGB → conv4_4 features (pre-ReLU), `[n, 512, h/8, w/8]`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let mut x = imagenet_normalize(x);
        let last = self.convs.len() - 1;
        for (i, conv) in self.convs.iter().enumerate() {
            x = conv.forward(x);
            if i < last {
                x = activation::relu(x);
            }
            if VGG19_POOL_AFTER.contains(&i) {
                x = max_pool2d(x, MaxPoolOptions::new([2, 2]));
            }
        }
        x
    }
}

/// VGG16 convs `conv1_1` … `conv5_3` (torchvision `vgg16().features`, ImageNet weights).
#[derive(Module, Debug)]
pub struct Vgg16 {
    pub convs: Vec<Conv>,
}

impl Vgg16 {
    /// Zero-initialised structure, for [`load_torchvision`].
    pub(crate) fn empty(device: &Device) -> Vgg16 {
        Vgg16 { convs: empty_convs(&VGG16_CHANNELS, device) }
    }

    /// Loads torchvision `vgg16` weights (`features.{0,2,…,28}`) from a `.safetensors` or
    /// `.pth`/`.pt` file, e.g. [`VGG16_DEFAULT_PATH`] (`make weights`).
    pub fn load(path: &Path, device: &Device) -> anyhow::Result<Vgg16> {
        let mut vgg = Vgg16::empty(device);
        load_torchvision(&mut vgg, path, "torchvision VGG16", &conv_prefixes(&VGG16_INDEX, ""), &vgg16_fix())?;
        Ok(vgg.no_grad())
    }

    /// The five LPIPS taps relu1_2, relu2_2, relu3_3, relu4_3, relu5_3 (`[n, 64, h, w]` …
    /// `[n, 512, h/16, w/16]`) of an **already normalised** input ([`imagenet_normalize`] or
    /// [`lpips_scale`]).
    pub fn forward_taps(&self, x: Tensor<4>) -> [Tensor<4>; 5] {
        let taps = self.forward_taps_upto(x, 5);
        taps.try_into().expect("five taps")
    }

    /// The first `n_taps` (1..=5) of [`Vgg16::forward_taps`], running only the convs they need
    /// (e.g. 4 stops at relu4_3 and skips conv5's ~20 % of the FLOPs).
    pub fn forward_taps_upto(&self, x: Tensor<4>, n_taps: usize) -> Vec<Tensor<4>> {
        assert!((1..=5).contains(&n_taps), "VGG16 has 5 taps, {n_taps} requested");
        let taps = &VGG16_TAP_AFTER[..n_taps];
        run_convs(&self.convs, x, taps[n_taps - 1], &VGG16_TAP_AFTER, taps)
    }
}

/// The fix load errors name.
pub(crate) fn vgg16_fix() -> String {
    format!("run `make weights` to fetch {VGG16_DEFAULT_PATH} (VGG16 + LPIPS heads, scripts/fetch-vgg16.sh)")
}
