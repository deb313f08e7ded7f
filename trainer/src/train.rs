//! One training step of the GAN (or of teacher distillation); checkpoints are in
//! [`crate::checkpoint`], the run's configuration in [`crate::config`].

use std::path::Path;

use anyhow::bail;
use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, Tensor, TensorData};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::config::{LossWeights, Mode, TrainConfig};
use crate::data::Batch;
use crate::loss;
use crate::model::discriminator::Discriminator;
use crate::model::features::{FeatureNet, RandomFeatures};
use crate::model::generator::Generator;
use crate::model::spec::{GeneratorWeights, SIZE_MULTIPLE};
use crate::model::vgg::{Vgg16, Vgg19};

/// Stability term: the crop is shifted by 0..=this many pixels in x and y (not a multiple of the
/// generator's stride, so it also teaches shift-equivariance), with Gaussian noise of
/// [`STABILITY_NOISE`] added (in `[-1, 1]` units: 0.03 ≈ 4 levels of 8-bit sensor noise), and
/// compared away from a [`STABILITY_MARGIN`]-pixel border (zero padding differs there).
pub const STABILITY_SHIFT: usize = 4;
pub const STABILITY_NOISE: f32 = 0.03;
pub const STABILITY_MARGIN: usize = 8;

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

/// The networks, their optimisers and the feature network of one run.
pub struct Trainer {
    pub(crate) config: TrainConfig,
    device: Device,
    /// The same device without autodiff, for inference.
    base_device: Device,
    pub(crate) generator: Generator,
    pub(crate) discriminator: Discriminator,
    pub(crate) opt_g: ModuleOptimizer,
    pub(crate) opt_d: ModuleOptimizer,
    features: Option<FeatureNet>,
}

pub(crate) fn adam() -> ModuleOptimizer {
    AdamConfig::new().with_beta_1(ADAM_BETA1).with_beta_2(ADAM_BETA2).with_epsilon(1e-8).init()
}

/// The terms against the teacher's output, each when its weight is above 0: VGG content
/// (`teacher_content`, with `features`: the feature net and the output's content features
/// when the caller has them already), the gradient difference (`teacher_edges`), then L1
/// (`teacher_l1`). Shared by teacher mode and anime mode with a teacher term.
fn teacher_terms(
    fake: &Tensor<4>,
    teacher: Tensor<4>,
    (w, features): (&LossWeights, Option<(&FeatureNet, Option<Tensor<4>>)>),
    terms: &mut Vec<(&'static str, Tensor<1>)>,
) {
    if w.teacher_content > 0.0 {
        let (net, fake_c) = features.expect("teacher_content has a feature net (validated)");
        let fake_c = fake_c.unwrap_or_else(|| net.content_features(fake.clone()));
        let target = net.content_features(teacher.clone()).detach();
        let content = loss::content(fake_c, target);
        terms.push(("teacher_content", content.mul_scalar(w.teacher_content)));
    }
    if w.teacher_edges > 0.0 {
        let edges = loss::gradient_difference(fake.clone(), teacher.clone());
        terms.push(("teacher_edges", edges.mul_scalar(w.teacher_edges)));
    }
    if w.teacher_l1 > 0.0 {
        terms.push(("teacher_l1", loss::l1(fake.clone(), teacher).mul_scalar(w.teacher_l1)));
    }
}

fn scalar(t: &Tensor<1>) -> f64 {
    t.clone().into_scalar::<f32>() as f64
}

impl Trainer {
    /// A fresh run: weights initialised from `config.seed` on the flex CPU backend (+ autodiff).
    pub fn new(config: TrainConfig) -> anyhow::Result<Trainer> {
        config.validate()?;
        let base_device = config.backend.device()?;
        let device = base_device.clone().autodiff();
        let generator = Generator::new(config.generator, config.seed, &device);
        let discriminator = Discriminator::new(config.seed, &device);
        // Anime mode always has a feature net; teacher mode only for `teacher_content` (which
        // `validate` lets through only with VGG weights).
        let needs_features = config.mode == Mode::Anime || config.weights.teacher_content > 0.0;
        let features = match (needs_features, &config.perceptual, &config.vgg19) {
            (false, ..) => None,
            (true, Some(path), _) => Some(FeatureNet::Vgg16(Vgg16::load(path, &device)?)),
            (true, None, Some(path)) => Some(FeatureNet::Vgg19(Vgg19::load(path, &device)?)),
            (true, None, None) => Some(FeatureNet::Fallback(RandomFeatures::new(config.seed, &device))),
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
                let features = self.features.as_ref().map(|net| (net, None));
                teacher_terms(&fake, teacher.expect("teacher tensor"), (&w, features), &mut terms);
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
                    terms.push(("content", loss::content(fake_c.clone(), photo_c).mul_scalar(content_w)));
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
                    // The output's content features are shared with the content term.
                    teacher_terms(&fake, t, (&w, Some((features, Some(fake_c)))), &mut terms);
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
}
