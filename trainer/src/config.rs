//! What defines a run: the mode, the loss weights, the networks' sizes, the crop and batch, the
//! backend ([`TrainConfig`]), and the one place its values are checked ([`TrainConfig::validate`]).
//! Data, training loop, checkpoints and CLI all read it; it imports none of them.

use std::path::PathBuf;

use anyhow::bail;
use serde::{Deserialize, Serialize};

use crate::model::spec::{GeneratorConfig, SIZE_MULTIPLE};

/// The smallest crop: the PatchGAN discriminator downsamples by 4, so a 16² crop still gives it
/// a few patches to judge.
pub const MIN_CROP: usize = 16;

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
    /// [`crate::train::STABILITY_SHIFT`]); 0 = off.
    #[serde(default)]
    pub stability: f64,
    /// Gradient difference to the teacher's output ([`crate::loss::gradient_difference`]): keeps
    /// the teacher's region borders steep; 0 = off. Needs the teacher (teacher mode, or anime
    /// mode with `teacher_l1` > 0).
    #[serde(default)]
    pub teacher_edges: f64,
    /// VGG content (relu4_3 features, as `content`) of the output against the teacher's output
    /// instead of the photo: a loss toward the teacher that does not average, where L1 alone
    /// learns the mean of what it cannot predict (a blur); 0 = off. Needs VGG weights
    /// (`--perceptual` or `--vgg19`) and the teacher (teacher mode, or anime mode with
    /// `teacher_l1` > 0).
    #[serde(default)]
    pub teacher_content: f64,
}

/// Everything that defines a run; saved in the run directory and checkpoints.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    pub mode: Mode,
    pub generator: GeneratorConfig,
    pub batch: usize,
    /// Square crop size fed to the networks (see [`TrainConfig::validate`]).
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

impl Backend {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Backend::Flex => "flex",
            Backend::Cuda => "cuda",
            Backend::Wgpu => "wgpu",
            Backend::Vulkan => "vulkan",
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
            teacher_edges: 0.0,
            teacher_content: 0.0,
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
            teacher_edges: 0.0,
            teacher_content: 0.0,
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

    /// Checks what a run needs before anything is loaded or written; the error says which value
    /// to change.
    pub fn validate(&self) -> anyhow::Result<()> {
        let multiple = SIZE_MULTIPLE as usize;
        if self.crop < MIN_CROP || !self.crop.is_multiple_of(multiple) {
            bail!("--crop {} must be a multiple of {multiple} and at least {MIN_CROP} (e.g. 128)", self.crop);
        }
        if self.batch == 0 {
            bail!("batch must be at least 1");
        }
        if self.perceptual.is_some() && self.vgg19.is_some() {
            bail!("pass either VGG16 (--perceptual) or VGG19 (--vgg19) weights, not both");
        }
        if self.weights.teacher_content > 0.0 && self.perceptual.is_none() && self.vgg19.is_none() {
            bail!(
                "--weight teacher_content compares VGG features of the output and the teacher: pass the \
                 weights with --perceptual data/weights/vgg16.safetensors (make weights), or set teacher_content=0"
            );
        }
        if self.mode == Mode::Anime && self.weights.teacher_l1 <= 0.0 {
            let w = &self.weights;
            // Terms toward the teacher other than its L1, which anime mode loads the teacher for.
            for (name, weight) in [("teacher_edges", w.teacher_edges), ("teacher_content", w.teacher_content)] {
                if weight > 0.0 {
                    bail!(
                        "--weight {name} needs the teacher, which anime mode loads only with a teacher \
                         term: add --weight teacher_l1=W (W > 0), or set {name}=0"
                    );
                }
            }
        }
        if self.mode == Mode::Teacher {
            let w = &self.weights;
            let ignored: Vec<&str> = [("content", w.content), ("style", w.style), ("color", w.color), ("tv", w.tv)]
                .into_iter()
                .filter(|(_, v)| *v > 0.0)
                .map(|(name, _)| name)
                .collect();
            if !ignored.is_empty() {
                bail!(
                    "teacher mode trains on the teacher (teacher_l1, teacher_edges, teacher_content), adversarial \
                     and stability terms only, so --weight {} would be ignored: set it to 0, or use --mode anime \
                     with --weight teacher_l1=W to combine the teacher with perceptual terms",
                    ignored.join(", ")
                );
            }
        }
        let g = &self.generator;
        if !matches!(g.space_to_depth, 0 | 2 | 4) {
            bail!("--space-to-depth must be 0 (the plain layout), 2 or 4, not {}", g.space_to_depth);
        }
        // The space-to-depth layout has no c1/c2 stages.
        let plain_channels = g.space_to_depth > 0 || (g.c1 > 0 && g.c2 > 0);
        if !plain_channels || g.c3 == 0 || g.expand == 0 {
            bail!("generator channels and expansion must be positive: {g:?}");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_crop_rule() {
        for crop in [16, 20, 128] {
            assert!(TrainConfig { crop, ..TrainConfig::default() }.validate().is_ok(), "{crop}");
        }
        for crop in [0, 4, 8, 12, 18, 130] {
            let e = TrainConfig { crop, ..TrainConfig::default() }.validate().unwrap_err().to_string();
            assert_eq!(e, format!("--crop {crop} must be a multiple of 4 and at least 16 (e.g. 128)"));
        }
    }

    #[test]
    fn batch_weights_and_channels_are_checked() {
        let e = |c: TrainConfig| c.validate().unwrap_err().to_string();
        assert_eq!(e(TrainConfig { batch: 0, ..TrainConfig::default() }), "batch must be at least 1");
        let both = TrainConfig {
            perceptual: Some("a.safetensors".into()),
            vgg19: Some("b.pth".into()),
            ..TrainConfig::default()
        };
        assert!(e(both).contains("not both"));
        // Teacher mode has no perceptual terms: a weight for one is refused, not dropped.
        let mut perceptual = TrainConfig { mode: Mode::Teacher, ..TrainConfig::default() };
        perceptual.weights = LossWeights::teacher();
        assert!(perceptual.validate().is_ok());
        perceptual.weights.content = 1.0;
        perceptual.weights.tv = 0.5;
        let refused = e(perceptual);
        assert!(refused.contains("--weight content, tv would be ignored"), "{refused}");
        assert!(refused.contains("--mode anime with --weight teacher_l1=W"), "{refused}");
        let mut anime = TrainConfig { mode: Mode::Anime, ..TrainConfig::default() };
        anime.weights = LossWeights::anime();
        assert!(anime.weights.content > 0.0 && anime.validate().is_ok());
        let mut narrow = TrainConfig::default();
        narrow.generator.c2 = 0;
        assert!(e(narrow).starts_with("generator channels and expansion must be positive"));
        let mut folded = TrainConfig::default();
        folded.generator.space_to_depth = 3;
        assert!(e(folded.clone()).contains("--space-to-depth must be 0 (the plain layout), 2 or 4"));
        folded.generator.space_to_depth = 4;
        folded.generator.c1 = 0;
        assert!(folded.validate().is_ok(), "c1 is not used by the space-to-depth layout");
        let mut edges = TrainConfig { mode: Mode::Anime, ..TrainConfig::default() };
        edges.weights = LossWeights { teacher_edges: 2.0, ..LossWeights::anime() };
        assert!(e(edges.clone()).contains("add --weight teacher_l1=W"), "{}", e(edges.clone()));
        edges.weights.teacher_l1 = 5.0;
        assert!(edges.validate().is_ok());
        // The feature loss toward the teacher needs VGG weights, and in anime mode the teacher.
        let mut features = TrainConfig { mode: Mode::Teacher, ..TrainConfig::default() };
        features.weights = LossWeights { teacher_content: 1.0, ..LossWeights::teacher() };
        let refused = e(features.clone());
        assert!(refused.contains("pass the weights with --perceptual"), "{refused}");
        features.perceptual = Some("vgg16.safetensors".into());
        assert!(features.validate().is_ok());
        features.mode = Mode::Anime;
        features.weights = LossWeights { teacher_content: 1.0, ..LossWeights::anime() };
        assert!(e(features.clone()).contains("add --weight teacher_l1=W"), "{}", e(features.clone()));
        features.weights.teacher_l1 = 5.0;
        assert!(features.validate().is_ok());
    }
}
