//! One training step of the GAN (or of teacher distillation), and checkpoints.

use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow, bail};
use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::store::{ApplyError, BurnpackStore, ModuleSnapshot};
use burn::tensor::{Device, Tensor, TensorData};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::data::Batch;
use crate::loss;
use crate::model::discriminator::Discriminator;
use crate::model::features::{FeatureNet, RandomFeatures};
use crate::model::generator::Generator;
use crate::model::spec::{GeneratorConfig, GeneratorWeights, SIZE_MULTIPLE};
use crate::model::vgg::{Vgg16, Vgg19};

/// What the generator learns from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Unpaired photos + style frames, AnimeGAN recipe.
    Anime,
    /// Paired distillation of the built-in classical cel filter; needs no style data.
    Teacher,
}

/// Weights of each loss term; 0 disables a term.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LossWeights {
    pub adversarial: f64,
    pub content: f64,
    pub style: f64,
    pub color: f64,
    pub tv: f64,
    /// L1 to the teacher filter's output: the main term of `teacher` mode; in `anime` mode an
    /// optional extra term (0 by default).
    pub teacher_l1: f64,
    /// Either mode: flow-free temporal stability, `|shift(G(x)) − G(shift(x) + n)|` (see
    /// [`STABILITY_SHIFT`]); 0 = off.
    #[serde(default)]
    pub stability: f64,
}

/// Stability term: the crop is shifted by 0..=this many pixels in x and y (not a multiple of the
/// generator's stride, so it also teaches shift-equivariance), with Gaussian noise of
/// [`STABILITY_NOISE`] added (in `[-1, 1]` units: 0.03 ≈ 4 levels of 8-bit sensor noise), and
/// compared away from a [`STABILITY_MARGIN`]-pixel border (zero padding differs there).
pub const STABILITY_SHIFT: usize = 4;
pub const STABILITY_NOISE: f32 = 0.03;
pub const STABILITY_MARGIN: usize = 8;

/// Everything that defines a run; saved in the run directory and checkpoints.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    pub mode: Mode,
    pub generator: GeneratorConfig,
    pub batch: usize,
    /// Square crop size fed to the networks (multiple of 4).
    pub crop: usize,
    pub seed: u64,
    pub lr_generator: f64,
    pub lr_discriminator: f64,
    /// Steps of content-only (anime) / L1-only (teacher) warm-up before adversarial training.
    pub warmup_steps: u64,
    pub weights: LossWeights,
    /// Optional VGG19 weights (torchvision `.pth` / safetensors) for perceptual losses.
    pub vgg19: Option<PathBuf>,
    /// Optional VGG16 weights (`make weights`: `data/weights/vgg16.safetensors`) for the
    /// perceptual losses: content on relu4_3, style on relu1_2…relu4_3 (see
    /// [`crate::model::features`]). Exclusive with `vgg19`. Absent in older config files.
    #[serde(default)]
    pub perceptual: Option<PathBuf>,
    /// Where the networks run. Not part of what a run *is*: `--resume` may switch it.
    #[serde(default)]
    pub backend: Backend,
    /// The run whose trained networks this one started from (fine-tuning), if any.
    #[serde(default)]
    pub init_from: Option<PathBuf>,
}

/// The burn backend the networks run on. `flex` (pure-Rust CPU) is always built in; the GPU
/// backends need the cargo feature of the same name and their driver at run time only
/// (CUDA through NVRTC, wgpu/Vulkan through the system's graphics driver).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    #[default]
    Flex,
    Cuda,
    Wgpu,
    Vulkan,
}

/// Runs a tiny computation on a GPU `device`: the GPU runtimes panic (in their own threads)
/// when no adapter or driver is found, which must become an error that says what to do.
#[allow(dead_code)] // only the GPU features call it
fn probe(device: Device, backend: Backend) -> anyhow::Result<Device> {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _ = Tensor::<1>::zeros([1], &device).into_data();
    }));
    std::panic::set_hook(hook);
    match result {
        Ok(()) => Ok(device),
        Err(payload) => {
            let why = payload
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| payload.downcast_ref::<&str>().copied())
                .unwrap_or("no details");
            bail!(
                "the {} backend has no usable device ({why}); install the GPU driver (and for cuda the CUDA \
                 runtime), or train on the CPU with --backend flex",
                backend.name()
            )
        }
    }
}

impl Backend {
    fn name(self) -> &'static str {
        match self {
            Backend::Flex => "flex",
            Backend::Cuda => "cuda",
            Backend::Wgpu => "wgpu",
            Backend::Vulkan => "vulkan",
        }
    }

    /// The device (without autodiff) of this backend, or why it is not available.
    pub fn device(self) -> anyhow::Result<Device> {
        match self {
            Backend::Flex => Ok(Device::flex()),
            #[cfg(feature = "cuda")]
            Backend::Cuda => probe(Device::cuda(0), self),
            #[cfg(feature = "wgpu")]
            Backend::Wgpu => probe(Device::wgpu(Default::default()), self),
            #[cfg(feature = "vulkan")]
            Backend::Vulkan => probe(Device::vulkan(Default::default()), self),
            #[allow(unreachable_patterns)]
            other => bail!(
                "this animestyle-train was built without the {0} backend; rebuild it with \
                 `cargo build --release -p animestyle-train --features {0}` or use --backend flex",
                other.name()
            ),
        }
    }
}

impl LossWeights {
    /// Teacher-mode defaults: `teacher_l1` 10, adversarial 1, everything else 0 (pix2pix's
    /// 100:1 L1:adversarial ratio, softened because our LSGAN term is a plain mean).
    pub fn teacher() -> LossWeights {
        LossWeights {
            adversarial: 1.0,
            content: 0.0,
            style: 0.0,
            color: 0.0,
            tv: 0.0,
            teacher_l1: 10.0,
            stability: 0.0,
        }
    }

    /// Anime-mode defaults, adapted from AnimeGANv2 "Hayao" (adv 300, content 1.5, style 2.5,
    /// colour 15, TV 1). AnimeGANv2's 300 on the adversarial term compensates for its VGG
    /// feature magnitudes and its TV term is scaled by 1/size; our terms are all plain means of
    /// `[-1, 1]` images or fallback features of similar magnitude, so adversarial is 1 and the
    /// rest keep Hayao's ratios: content 1.5, style 2.5 (×10: Gram entries are ~10× smaller
    /// than the content L1 at init), colour 10, TV 0.1.
    pub fn anime() -> LossWeights {
        LossWeights {
            adversarial: 1.0,
            content: 1.5,
            style: 25.0,
            color: 10.0,
            tv: 0.1,
            teacher_l1: 0.0,
            stability: 0.0,
        }
    }
}

/// Defaults: teacher mode, [`GeneratorConfig::default`], batch 4, 128² crops, seed 0,
/// Adam lr G 2e-4 / D 4e-4 (constant; AnimeGANv2 drops to 2e-5/4e-5 after warm-up for its
/// 2 M-parameter generator and batch 12 — our runs are short and the generator small, so we keep
/// the warm-up rate; the run loop may lower them), 50 warm-up steps, [`LossWeights::teacher`].
impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            mode: Mode::Teacher,
            generator: GeneratorConfig::default(),
            batch: 4,
            crop: 128,
            seed: 0,
            lr_generator: 2e-4,
            lr_discriminator: 4e-4,
            warmup_steps: 50,
            weights: LossWeights::teacher(),
            vgg19: None,
            perceptual: None,
            backend: Backend::Flex,
            init_from: None,
        }
    }
}

impl TrainConfig {
    /// The default loss weights of `mode` ([`LossWeights::teacher`] / [`LossWeights::anime`]).
    pub fn default_weights(mode: Mode) -> LossWeights {
        match mode {
            Mode::Teacher => LossWeights::teacher(),
            Mode::Anime => LossWeights::anime(),
        }
    }
}

/// Loss values of one step.
#[derive(Debug, Clone, PartialEq)]
pub struct StepLosses {
    /// The generator's total loss (sum of `terms`).
    pub generator: f64,
    /// The discriminator's loss; 0.0 during warm-up (no D update).
    pub discriminator: f64,
    /// Each weighted generator loss term by name: `adversarial`, `content`, `style`, `color`,
    /// `tv` (anime mode), `teacher_l1` (teacher mode). Terms with weight 0 are left out; the
    /// adversarial term is left out during warm-up.
    pub terms: Vec<(&'static str, f64)>,
}

/// Adam β1 for both networks (AnimeGAN, DCGAN: 0.5).
pub const ADAM_BETA1: f32 = 0.5;
/// Adam β2.
pub const ADAM_BETA2: f32 = 0.999;
/// AnimeGANv2's discriminator loss weights: real, fake, grayscale style (fake), edge-smoothed
/// style (fake).
pub const D_WEIGHTS_ANIME: [f64; 4] = [1.7, 1.7, 1.7, 1.0];

const CHECKPOINT_VERSION: u32 = 1;
const META_FILE: &str = "checkpoint.json";
const G_FILE: &str = "generator.bpk";
const D_FILE: &str = "discriminator.bpk";
const OPT_G_FILE: &str = "optimizer_generator.bpk";
const OPT_D_FILE: &str = "optimizer_discriminator.bpk";

#[derive(Serialize, Deserialize)]
struct CheckpointMeta {
    version: u32,
    step: u64,
    config: TrainConfig,
}

/// The networks, their optimisers and the feature network of one run.
pub struct Trainer {
    config: TrainConfig,
    device: Device,
    /// The same device without autodiff, for inference.
    base_device: Device,
    generator: Generator,
    discriminator: Discriminator,
    opt_g: ModuleOptimizer,
    opt_d: ModuleOptimizer,
    features: Option<FeatureNet>,
}

fn adam() -> ModuleOptimizer {
    AdamConfig::new().with_beta_1(ADAM_BETA1).with_beta_2(ADAM_BETA2).with_epsilon(1e-8).init()
}

fn scalar(t: &Tensor<1>) -> f64 {
    t.clone().into_scalar::<f32>() as f64
}

impl Trainer {
    /// A fresh run: weights initialised from `config.seed` on the flex CPU backend (+ autodiff).
    pub fn new(config: TrainConfig) -> anyhow::Result<Trainer> {
        if config.crop == 0 || !config.crop.is_multiple_of(SIZE_MULTIPLE as usize) {
            bail!("crop {} must be a positive multiple of {SIZE_MULTIPLE}", config.crop);
        }
        if config.batch == 0 {
            bail!("batch must be at least 1");
        }
        if config.perceptual.is_some() && config.vgg19.is_some() {
            bail!("pass either VGG16 (--perceptual) or VGG19 (--vgg19) weights, not both");
        }
        let g = &config.generator;
        if g.c1 == 0 || g.c2 == 0 || g.c3 == 0 || g.expand == 0 {
            bail!("generator channels and expansion must be positive: {g:?}");
        }
        let base_device = config.backend.device()?;
        let device = base_device.clone().autodiff();
        let generator = Generator::new(config.generator, config.seed, &device);
        let discriminator = Discriminator::new(config.seed, &device);
        let features = match config.mode {
            Mode::Teacher => None,
            Mode::Anime => Some(match (&config.perceptual, &config.vgg19) {
                (Some(path), _) => FeatureNet::Vgg16(Vgg16::load(path, &device)?),
                (None, Some(path)) => FeatureNet::Vgg19(Vgg19::load(path, &device)?),
                (None, None) => FeatureNet::Fallback(RandomFeatures::new(config.seed, &device)),
            }),
        };
        Ok(Trainer { config, device, base_device, generator, discriminator, opt_g: adam(), opt_d: adam(), features })
    }

    pub fn config(&self) -> &TrainConfig {
        &self.config
    }

    /// The factor the style term is scaled by on top of its weight (1 unless VGG16, see
    /// [`FeatureNet::style_scale`]); 1 in teacher mode.
    pub fn style_scale(&self) -> f64 {
        self.features.as_ref().map_or(1.0, |f| f.style_scale())
    }

    /// Name of the feature network used by the perceptual losses (anime mode), for logs.
    pub fn feature_net_name(&self) -> Option<&'static str> {
        self.features.as_ref().map(|f| f.name())
    }

    fn tensor(&self, data: &[f32], n: usize, size: usize, what: &str) -> anyhow::Result<Tensor<4>> {
        let len = n * 3 * size * size;
        if data.len() != len {
            bail!("batch {what}: {} values, expected {n}×3×{size}×{size} = {len}", data.len());
        }
        Ok(Tensor::from_data(TensorData::new(data.to_vec(), [n, 3, size, size]), &self.device))
    }

    /// One D update (skipped during warm-up, `step < warmup_steps`) then one G update.
    pub fn step(&mut self, step: u64, batch: &Batch) -> anyhow::Result<StepLosses> {
        let (n, size) = (batch.n, batch.size);
        if n == 0 || size == 0 || size % SIZE_MULTIPLE as usize != 0 {
            bail!("batch of {n} images of {size}² (size must be a positive multiple of {SIZE_MULTIPLE})");
        }
        let w = self.config.weights;
        let adversarial = step >= self.config.warmup_steps && w.adversarial > 0.0;
        let photos = self.tensor(&batch.photos, n, size, "photos")?;
        let (teacher, style, smoothed) = match self.config.mode {
            Mode::Teacher => (Some(self.tensor(&batch.teacher, n, size, "teacher")?), None, None),
            Mode::Anime => (
                // Anime mode may also learn from the teacher (`teacher_l1` > 0).
                (w.teacher_l1 > 0.0).then(|| self.tensor(&batch.teacher, n, size, "teacher")).transpose()?,
                Some(self.tensor(&batch.style, n, size, "style")?),
                Some(self.tensor(&batch.style_smoothed, n, size, "style_smoothed")?),
            ),
        };

        // ---- discriminator ----
        let mut d_loss_value = 0.0;
        if adversarial {
            self.discriminator.power_iteration();
            let fake = self.generator.forward(photos.clone()).detach();
            let d = &self.discriminator;
            let d_loss = match self.config.mode {
                Mode::Teacher => {
                    let real = teacher.clone().expect("teacher tensor");
                    loss::lsgan_real(d.forward(real)) + loss::lsgan_fake(d.forward(fake))
                }
                Mode::Anime => {
                    let style = style.clone().expect("style tensor");
                    let smoothed = smoothed.clone().expect("smoothed tensor");
                    let [wr, wf, wg, ws] = D_WEIGHTS_ANIME;
                    loss::lsgan_real(d.forward(style.clone())).mul_scalar(wr)
                        + loss::lsgan_fake(d.forward(fake)).mul_scalar(wf)
                        + loss::lsgan_fake(d.forward(loss::grayscale(style))).mul_scalar(wg)
                        + loss::lsgan_fake(d.forward(smoothed)).mul_scalar(ws)
                }
            };
            d_loss_value = scalar(&d_loss);
            let grads = GradientsParams::from_grads(d_loss.backward(), &self.discriminator);
            let d = self.discriminator.clone();
            self.discriminator = self.opt_d.step(self.config.lr_discriminator, d, grads);
        }

        // ---- generator ----
        let fake = self.generator.forward(photos.clone());
        let mut terms: Vec<(&'static str, Tensor<1>)> = Vec::new();
        if adversarial {
            let adv = loss::lsgan_generator(self.discriminator.forward(fake.clone()));
            terms.push(("adversarial", adv.mul_scalar(w.adversarial)));
        }
        match self.config.mode {
            Mode::Teacher => {
                if w.teacher_l1 > 0.0 {
                    let t = teacher.expect("teacher tensor");
                    terms.push(("teacher_l1", loss::l1(fake.clone(), t).mul_scalar(w.teacher_l1)));
                }
            }
            Mode::Anime => {
                let features = self.features.as_ref().expect("anime mode has a feature net");
                // Warm-up (AnimeGAN's init phase) trains on the content loss alone.
                let warm = step < self.config.warmup_steps;
                let content_w = if warm && w.content <= 0.0 { 1.0 } else { w.content };
                let need_style = !warm && w.style > 0.0;
                let (fake_c, fake_s) = if need_style {
                    let (c, s) = features.content_and_style(fake.clone());
                    (c, Some(s))
                } else {
                    (features.content_features(fake.clone()), None)
                };
                if content_w > 0.0 {
                    let photo_c = features.content_features(photos.clone()).detach();
                    terms.push(("content", loss::content(fake_c, photo_c).mul_scalar(content_w)));
                }
                if let Some(fake_s) = fake_s {
                    let gray = loss::grayscale(style.expect("style tensor"));
                    let style_s = features.style_features(gray).into_iter().map(|f| f.detach()).collect();
                    let weight = w.style * features.style_scale();
                    terms.push(("style", loss::style(fake_s, style_s).mul_scalar(weight)));
                }
                if !warm && w.color > 0.0 {
                    terms.push(("color", loss::color(fake.clone(), photos.clone()).mul_scalar(w.color)));
                }
                if !warm && w.tv > 0.0 {
                    terms.push(("tv", loss::total_variation(fake.clone()).mul_scalar(w.tv)));
                }
                // The teacher term, when asked for, applies from the first step (as in teacher
                // mode's warm-up): flat regions and lines the adversarial term then refines.
                if let Some(t) = teacher {
                    terms.push(("teacher_l1", loss::l1(fake.clone(), t).mul_scalar(w.teacher_l1)));
                }
            }
        }
        if w.stability > 0.0 {
            let size = batch.size;
            if size <= STABILITY_SHIFT + 2 * STABILITY_MARGIN {
                bail!("the stability loss needs crops larger than {}", STABILITY_SHIFT + 2 * STABILITY_MARGIN);
            }
            terms.push(("stability", self.stability_loss(&photos, &fake, step).mul_scalar(w.stability)));
        }
        if terms.is_empty() {
            bail!("step {step}: every generator loss term has weight 0");
        }
        let values: Vec<(&'static str, f64)> = terms.iter().map(|(k, t)| (*k, scalar(t))).collect();
        let total = terms.into_iter().map(|(_, t)| t).reduce(|a, b| a + b).expect("non-empty");
        let g_value = scalar(&total);
        if !g_value.is_finite() || !d_loss_value.is_finite() {
            bail!("step {step}: loss is not finite (generator {g_value}, discriminator {d_loss_value})");
        }
        let grads = GradientsParams::from_grads(total.backward(), &self.generator);
        let g = self.generator.clone();
        self.generator = self.opt_g.step(self.config.lr_generator, g, grads);

        Ok(StepLosses { generator: g_value, discriminator: d_loss_value, terms: values })
    }

    /// `|shift(G(x)) − G(shift(x) + n)|` (ReReVST / Gupta et al. 2017, flow-free): the same
    /// content, moved and re-noised, must be stylized the same. Shift and noise are a pure
    /// function of (seed, step), so runs stay reproducible and resumable.
    fn stability_loss(&self, photos: &Tensor<4>, fake: &Tensor<4>, step: u64) -> Tensor<1> {
        let [n, c, size, _] = photos.dims();
        let inner = size - STABILITY_SHIFT;
        let mut rng =
            ChaCha8Rng::seed_from_u64(self.config.seed ^ 0x0057_AB1E ^ step.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let dx = rng.random_range(0..=STABILITY_SHIFT);
        let dy = rng.random_range(0..=STABILITY_SHIFT);
        let noise: Vec<f32> = (0..n * c * inner * inner)
            .map(|_| {
                // Box–Muller.
                let (u1, u2): (f32, f32) = (rng.random_range(f32::EPSILON..1.0), rng.random());
                (-2.0 * u1.ln()).sqrt() * (std::f32::consts::TAU * u2).cos() * STABILITY_NOISE
            })
            .collect();
        let noise = Tensor::<4>::from_data(TensorData::new(noise, [n, c, inner, inner]), &self.device);
        let window = [0..n, 0..c, dy..dy + inner, dx..dx + inner];
        let moved = self.generator.forward(photos.clone().slice(window.clone()) + noise);
        let m = STABILITY_MARGIN;
        let core = [0..n, 0..c, m..inner - m, m..inner - m];
        loss::l1(fake.clone().slice(window).slice(core.clone()), moved.slice(core))
    }

    /// Starts from the networks (not the optimiser state) of another run's checkpoint: fine-tuning
    /// with other losses, e.g. adding the stability term to a trained model.
    pub fn init_networks_from(&mut self, checkpoint: &Path) -> anyhow::Result<()> {
        let (other, step) = Trainer::load_checkpoint_on(checkpoint, self.config.backend)?;
        if other.config.generator != self.config.generator {
            bail!(
                "--init-from {}: its generator {:?} differs from this run's {:?}; pass the same architecture",
                checkpoint.display(),
                other.config.generator,
                self.config.generator
            );
        }
        self.generator = Generator::from_weights(&other.generator_weights(), &self.device);
        self.discriminator = other.discriminator.clone();
        eprintln!("initialised the networks from {} (step {step})", checkpoint.display());
        Ok(())
    }

    /// Inference without an autodiff graph: NCHW `[-1, 1]` in and out, `n` images of `h × w`
    /// (multiples of 4), one image at a time to bound memory.
    pub fn generate(&self, images: &[f32], n: usize, h: usize, w: usize) -> Vec<f32> {
        assert_eq!(images.len(), n * 3 * h * w, "generate: {n}×3×{h}×{w} values expected");
        let device = &self.base_device;
        let g = self.generator.valid();
        let per = 3 * h * w;
        let mut out = Vec::with_capacity(images.len());
        for i in 0..n {
            let x =
                Tensor::<4>::from_data(TensorData::new(images[i * per..(i + 1) * per].to_vec(), [1, 3, h, w]), device);
            let y = g.forward(x).into_data().convert::<f32>().try_to_vec::<f32>().expect("f32 output");
            out.extend_from_slice(&y);
        }
        out
    }

    pub fn generator_forward_for_test(&self, images: &[f32], n: usize, h: usize, w: usize) -> Vec<f32> {
        self.generate(images, n, h, w)
    }

    /// The generator's weights in ONNX layout (for the exporter).
    pub fn generator_weights(&self) -> GeneratorWeights {
        self.generator.to_weights()
    }

    /// Saves G, D, both Adam states, the config and `step` into `dir`, atomically: everything is
    /// written into a temporary directory beside `dir`, which is then renamed into place (an
    /// older checkpoint at `dir` is moved aside first and deleted after). A kill at any point
    /// leaves either the old or the new checkpoint complete ([`Trainer::load_checkpoint`] also
    /// looks at the moved-aside copy if `dir` itself is missing).
    pub fn save_checkpoint(&self, dir: &Path, step: u64) -> anyhow::Result<()> {
        let (parent, name) = split_dir(dir)?;
        std::fs::create_dir_all(&parent).with_context(|| format!("cannot create {}", parent.display()))?;
        let tmp = parent.join(format!(".{name}.tmp-{}", std::process::id()));
        let old = aside_path(dir)?;
        if tmp.exists() {
            std::fs::remove_dir_all(&tmp).with_context(|| format!("cannot remove {}", tmp.display()))?;
        }
        std::fs::create_dir(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
        let write = || -> anyhow::Result<()> {
            save_module(&self.generator, &tmp.join(G_FILE))?;
            save_module(&self.discriminator, &tmp.join(D_FILE))?;
            self.opt_g.save(tmp.join(OPT_G_FILE)).map_err(|e| anyhow!("generator optimiser: {e:?}"))?;
            self.opt_d.save(tmp.join(OPT_D_FILE)).map_err(|e| anyhow!("discriminator optimiser: {e:?}"))?;
            let meta = CheckpointMeta { version: CHECKPOINT_VERSION, step, config: self.config.clone() };
            std::fs::write(tmp.join(META_FILE), serde_json::to_vec_pretty(&meta)?)?;
            for f in [G_FILE, D_FILE, OPT_G_FILE, OPT_D_FILE, META_FILE] {
                std::fs::File::open(tmp.join(f))?.sync_all()?;
            }
            Ok(())
        };
        if let Err(e) = write() {
            let _ = std::fs::remove_dir_all(&tmp);
            return Err(e.context(format!("cannot write checkpoint {}", dir.display())));
        }
        if dir.exists() {
            if old.exists() {
                std::fs::remove_dir_all(&old).with_context(|| format!("cannot remove {}", old.display()))?;
            }
            std::fs::rename(dir, &old).with_context(|| format!("cannot move {} aside", dir.display()))?;
        }
        std::fs::rename(&tmp, dir).with_context(|| format!("cannot move {} to {}", tmp.display(), dir.display()))?;
        if old.exists() {
            let _ = std::fs::remove_dir_all(&old);
        }
        if let Ok(d) = std::fs::File::open(&parent) {
            let _ = d.sync_all();
        }
        Ok(())
    }

    /// Restores a run saved by [`Trainer::save_checkpoint`] on the CPU; returns it and its step.
    pub fn load_checkpoint(dir: &Path) -> anyhow::Result<(Trainer, u64)> {
        Self::load_checkpoint_on(dir, Backend::Flex)
    }

    /// Restores a run saved by [`Trainer::save_checkpoint`] onto `backend`.
    pub fn load_checkpoint_on(dir: &Path, backend: Backend) -> anyhow::Result<(Trainer, u64)> {
        let mut dir = dir.to_path_buf();
        if !dir.is_dir() {
            let old = aside_path(&dir)?;
            if old.join(META_FILE).is_file() {
                dir = old; // killed between the two renames of save_checkpoint
            } else {
                bail!("checkpoint {} does not exist", dir.display());
            }
        }
        let shown = dir.display();
        let meta_path = dir.join(META_FILE);
        let meta_bytes = std::fs::read(&meta_path)
            .with_context(|| format!("checkpoint {shown} is incomplete: cannot read {META_FILE}"))?;
        let meta: CheckpointMeta = serde_json::from_slice(&meta_bytes)
            .map_err(|e| anyhow!("checkpoint {shown} is corrupt: {META_FILE}: {e}"))?;
        if meta.version != CHECKPOINT_VERSION {
            bail!("checkpoint {shown} has format version {}, this trainer reads {CHECKPOINT_VERSION}", meta.version);
        }
        let mut t = Trainer::new(TrainConfig { backend, ..meta.config.clone() })
            .with_context(|| format!("checkpoint {shown}: cannot rebuild its run"))?;
        for f in [G_FILE, D_FILE, OPT_G_FILE, OPT_D_FILE] {
            if !dir.join(f).is_file() {
                bail!("checkpoint {shown} is incomplete: {f} is missing");
            }
        }
        load_module(&mut t.generator, &dir.join(G_FILE)).map_err(|e| match e {
            LoadError::Shape(detail) => anyhow!(
                "checkpoint {shown} holds a generator of another architecture than its config {:?} ({detail})",
                meta.config.generator
            ),
            LoadError::Other(detail) => anyhow!("checkpoint {shown} is corrupt: {G_FILE}: {detail}"),
        })?;
        load_module(&mut t.discriminator, &dir.join(D_FILE)).map_err(|e| match e {
            LoadError::Shape(detail) => {
                anyhow!("checkpoint {shown} holds a discriminator of another architecture ({detail})")
            }
            LoadError::Other(detail) => anyhow!("checkpoint {shown} is corrupt: {D_FILE}: {detail}"),
        })?;
        t.opt_g = std::mem::replace(&mut t.opt_g, adam())
            .load(dir.join(OPT_G_FILE))
            .map_err(|e| anyhow!("checkpoint {shown} is corrupt: {OPT_G_FILE}: {e:?}"))?;
        t.opt_d = std::mem::replace(&mut t.opt_d, adam())
            .load(dir.join(OPT_D_FILE))
            .map_err(|e| anyhow!("checkpoint {shown} is corrupt: {OPT_D_FILE}: {e:?}"))?;
        Ok((t, meta.step))
    }
}

fn split_dir(dir: &Path) -> anyhow::Result<(PathBuf, String)> {
    let name = dir
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| anyhow!("checkpoint path {} has no usable final component", dir.display()))?
        .to_string();
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    Ok((parent, name))
}

fn aside_path(dir: &Path) -> anyhow::Result<PathBuf> {
    let (parent, name) = split_dir(dir)?;
    Ok(parent.join(format!(".{name}.old")))
}

fn save_module<M: Module>(m: &M, path: &Path) -> anyhow::Result<()> {
    let mut store = BurnpackStore::from_file(path).overwrite(true).auto_extension(false);
    m.save_into(&mut store).map_err(|e| anyhow!("cannot write {}: {e}", path.display()))
}

enum LoadError {
    Shape(String),
    Other(String),
}

fn load_module<M: Module>(m: &mut M, path: &Path) -> Result<(), LoadError> {
    let mut store = BurnpackStore::from_file(path).auto_extension(false).validate(false);
    let result = m.load_from(&mut store).map_err(|e| LoadError::Other(e.to_string()))?;
    if let Some(e) = result.errors.first() {
        return Err(match e {
            ApplyError::ShapeMismatch { path, expected, found } => {
                LoadError::Shape(format!("{path}: expected shape {expected:?}, found {found:?}"))
            }
            other => LoadError::Other(format!("{other:?}")),
        });
    }
    if !result.missing.is_empty() || !result.unused.is_empty() {
        let missing: Vec<&str> = result.missing.iter().map(|m| m.0.as_str()).take(3).collect();
        let unused: Vec<&str> = result.unused.iter().map(|s| s.as_str()).take(3).collect();
        return Err(LoadError::Shape(format!("missing tensors {missing:?}, unexpected tensors {unused:?}")));
    }
    Ok(())
}
