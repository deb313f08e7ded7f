//! `animestyle-train`: command-line front end. It only parses arguments and calls the library.

use std::path::PathBuf;
use std::process::ExitCode;

use animestyle_train::model::spec::GeneratorConfig;
use animestyle_train::run::{self, RunOptions};
use animestyle_train::train::{Backend, LossWeights, Mode, TrainConfig};
use clap::{Args, Parser, Subcommand};

#[derive(Parser)]
#[command(name = "animestyle-train", version, about = "Train animestyle generators and export them to ONNX")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Train a generator (or continue a run with --resume).
    ///
    /// Modes:
    ///
    ///   teacher  Paired distillation: the target for each photo is the built-in classical cel
    ///            filter (edge-preserving smoothing, region flattening, dark XDoG lines; see
    ///            `animestyle-train teacher`). L1 to the teacher + an adversarial loss with teacher
    ///            outputs as "real". Needs only photos: this is how the bundled model is made.
    ///
    ///   anime    Unpaired, the AnimeGAN recipe: photos + a folder of style frames. LSGAN
    ///            adversarial loss, content loss, Gram style loss against grayscale style frames,
    ///            YUV colour loss, total variation; edge-smoothed style frames are shown to the
    ///            discriminator as fake; starts with a content-only warm-up.
    ///
    /// A run directory holds config.json, data-summary.json, losses.csv, loss-curve.png,
    /// samples/step-N.png (held-out photos: input | output [| teacher]) and checkpoint/.
    /// Ctrl-C saves a checkpoint before exiting; --resume continues exactly where it stopped.
    Train(Box<TrainArgs>),
    /// Export a run's generator to ONNX, with the metadata the animestyle element reads.
    Export(ExportArgs),
    /// Parameter count and GFLOPs per frame of a generator configuration.
    Info(ArchArgs),
    /// Apply the teacher filter to images (preview of what `teacher` mode distils).
    Teacher(TeacherArgs),
}

/// Generator width and depth (defaults: the standard configuration).
#[derive(Args, Clone, Default)]
struct ArchArgs {
    /// Channels at full resolution.
    #[arg(long)]
    c1: Option<usize>,
    /// Channels at 1/2 resolution.
    #[arg(long)]
    c2: Option<usize>,
    /// Channels at 1/4 resolution (residual blocks).
    #[arg(long)]
    c3: Option<usize>,
    /// Number of inverted-residual blocks.
    #[arg(long)]
    blocks: Option<usize>,
    /// Expansion factor inside the blocks.
    #[arg(long)]
    expand: Option<usize>,
}

impl ArchArgs {
    fn any_set(&self) -> bool {
        self.c1.is_some() || self.c2.is_some() || self.c3.is_some() || self.blocks.is_some() || self.expand.is_some()
    }

    fn apply(&self, base: GeneratorConfig) -> GeneratorConfig {
        GeneratorConfig {
            c1: self.c1.unwrap_or(base.c1),
            c2: self.c2.unwrap_or(base.c2),
            c3: self.c3.unwrap_or(base.c3),
            blocks: self.blocks.unwrap_or(base.blocks),
            expand: self.expand.unwrap_or(base.expand),
        }
    }
}

#[derive(Args)]
struct TrainArgs {
    /// Run directory (created; must not already hold a run unless --resume).
    #[arg(long)]
    out: PathBuf,
    /// Continue the run in --out from its last checkpoint.
    #[arg(long)]
    resume: bool,
    #[arg(long, value_enum, default_value = "teacher")]
    mode: Mode,
    /// Folder of photos (searched recursively for JPEG/PNG/WebP); repeatable.
    #[arg(long = "photos", required = true)]
    photos: Vec<PathBuf>,
    /// Folder of style frames (anime mode); repeatable.
    #[arg(long = "style")]
    style: Vec<PathBuf>,
    /// Total training steps (one discriminator and one generator update each).
    #[arg(long, default_value_t = 2000)]
    steps: u64,
    #[arg(long)]
    batch: Option<usize>,
    /// Square crop size, a multiple of 4.
    #[arg(long)]
    crop: Option<usize>,
    #[arg(long)]
    seed: Option<u64>,
    /// Generator learning rate.
    #[arg(long)]
    lr_g: Option<f64>,
    /// Discriminator learning rate.
    #[arg(long)]
    lr_d: Option<f64>,
    /// Steps before the adversarial loss is switched on.
    #[arg(long)]
    warmup: Option<u64>,
    /// VGG19 weights (torchvision .pth or safetensors) for the perceptual losses.
    #[arg(long)]
    vgg19: Option<PathBuf>,
    /// Weight of the temporal stability loss |shift(G(x)) − G(shift(x) + noise)| (0 = off;
    /// 10 matches the teacher L1 term). Less flicker in video, ~1.5× the step time.
    #[arg(long)]
    stability: Option<f64>,
    /// Start from the generator and discriminator of another run's checkpoint (fine-tuning,
    /// e.g. adding --stability to a trained model). The architecture must match.
    #[arg(long)]
    init_from: Option<PathBuf>,
    /// Where to train: flex (CPU, always available) or a GPU backend built in with the cargo
    /// feature of the same name (cuda, wgpu, vulkan).
    #[arg(long, value_enum, default_value = "flex")]
    backend: Backend,
    #[command(flatten)]
    arch: ArchArgs,
    /// Write samples and the loss curve every N steps.
    #[arg(long, default_value_t = 100)]
    sample_every: u64,
    /// Write a checkpoint every N steps.
    #[arg(long, default_value_t = 100)]
    checkpoint_every: u64,
    /// Photos held out of training for the sample grids.
    #[arg(long, default_value_t = 4)]
    held_out: usize,
    /// No progress bar (one line per sample interval instead).
    #[arg(long)]
    quiet: bool,
}

#[derive(Args)]
struct ExportArgs {
    /// Run directory written by `train`.
    #[arg(long)]
    run: PathBuf,
    /// Output .onnx path.
    #[arg(long)]
    out: PathBuf,
    /// Style name stored in the model (shown by the element).
    #[arg(long, default_value = "anime")]
    style: String,
    /// Long side the element should run the network at by default (its `inference-size=-1`);
    /// stored as `animestyle.recommended_inference_size`. Omit to run at the frame's own size.
    #[arg(long, value_parser = clap::value_parser!(u32).range(4..=16384))]
    inference_size: Option<u32>,
}

#[derive(Args)]
struct TeacherArgs {
    /// Images to filter.
    #[arg(required = true)]
    images: Vec<PathBuf>,
    /// Output folder (created).
    #[arg(long)]
    out: PathBuf,
}

fn train(args: TrainArgs) -> anyhow::Result<()> {
    let defaults = TrainConfig { mode: args.mode, ..TrainConfig::default() };
    let defaults = TrainConfig { weights: TrainConfig::default_weights(args.mode), ..defaults };
    let config = TrainConfig {
        generator: args.arch.apply(defaults.generator),
        batch: args.batch.unwrap_or(defaults.batch),
        crop: args.crop.unwrap_or(defaults.crop),
        seed: args.seed.unwrap_or(defaults.seed),
        lr_generator: args.lr_g.unwrap_or(defaults.lr_generator),
        lr_discriminator: args.lr_d.unwrap_or(defaults.lr_discriminator),
        warmup_steps: args.warmup.unwrap_or(defaults.warmup_steps),
        vgg19: args.vgg19.clone(),
        backend: args.backend,
        weights: LossWeights { stability: args.stability.unwrap_or(0.0), ..defaults.weights },
        init_from: args.init_from.clone(),
        ..defaults
    };
    let options = RunOptions {
        run_dir: args.out,
        resume: args.resume,
        explicit_architecture: args.arch.any_set().then_some(config.generator),
        backend: args.backend,
        steps: args.steps,
        photo_dirs: args.photos,
        style_dirs: args.style,
        held_out: args.held_out,
        sample_every: args.sample_every.max(1),
        checkpoint_every: args.checkpoint_every.max(1),
        progress: !args.quiet,
        command_line: std::env::args().collect::<Vec<_>>().join(" "),
    };
    run::train(config, options)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Train(args) => train(*args),
        Command::Export(args) => run::export(&args.run, &args.out, &args.style, args.inference_size),
        Command::Info(arch) => {
            run::print_info(&arch.apply(GeneratorConfig::default()));
            Ok(())
        }
        Command::Teacher(args) => run::teacher_preview(&args.images, &args.out),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if run::is_interrupted(&e) => {
            eprintln!("{e}");
            ExitCode::from(130)
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
