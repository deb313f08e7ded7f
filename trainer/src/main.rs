//! `animestyle-train`: command-line front end. It only parses arguments and calls the library.

use std::path::PathBuf;
use std::process::ExitCode;

use animestyle_train::config::{Backend, LossWeights, Mode, TrainConfig};
use animestyle_train::model::spec::GeneratorConfig;
use animestyle_train::run::{self, RunOptions};
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
    ///            discriminator as fake; starts with a content-only warm-up. The content and
    ///            style losses use pretrained VGG16 with --perceptual (run `make weights`), VGG19
    ///            with --vgg19, or else a weight-free fallback.
    ///
    /// A run directory holds config.json, data-summary.json, losses.csv, loss-curve.png,
    /// samples/step-N.png (held-out photos: input | output [| teacher]) and checkpoint/.
    /// Ctrl-C saves a checkpoint before exiting; --resume continues exactly where it stopped.
    Train(Box<TrainArgs>),
    /// Export a run's generator to ONNX, with the metadata the animestyle element reads.
    Export(ExportArgs),
    /// Show or change an ONNX model's metadata (the keys the element reads, e.g. the look a
    /// model asks for), keeping every other byte of the file.
    ///
    /// Example: animestyle-train metadata my-style.onnx --set animestyle.line_strength=1
    Metadata(MetadataArgs),
    /// Parameter count and GFLOPs per frame of a generator configuration.
    Info(ArchArgs),
    /// Apply the teacher filter to images (preview of what `teacher` mode distils).
    Teacher(TeacherArgs),
    /// Measure how anime models look, through the animestyle element as users run them, and
    /// write a report folder (report.md, report.json, charts.png, grid.png, crops.png).
    ///
    /// Per model: the look signature on held-out photos (structure, sharpness, flatness,
    /// colourfulness, edge darkness vs the input), LPIPS-VGG to the input, FD-VGG16 and KID to a
    /// style set (needs --perceptual; FD-VGG16 is not comparable with published FID), flicker and
    /// warping error on synthetic static/pan/zoom sequences (smoothing as set vs off), the
    /// element's ms per frame. The unstylized input is always the first row.
    ///
    /// Example: animestyle-train evaluate --embedded --model new=runs/x.onnx --teacher
    ///   --photos data/held-out --style data/style-held-out --perceptual data/weights/vgg16.safetensors
    ///   --video /usr/share/doc/opencv-doc/examples/data/vtest.avi --out report
    Evaluate(Box<EvaluateArgs>),
}

#[derive(Args)]
struct EvaluateArgs {
    /// An ONNX model, as FILE or LABEL=FILE (repeatable); run through the element. FILE
    /// `embedded` is the element's embedded model (no `model` property), so the same model
    /// can be compared under different --set-for properties.
    #[arg(long = "model", value_name = "[LABEL=]FILE")]
    models: Vec<String>,
    /// Also evaluate the element's embedded default model (no `model` property).
    #[arg(long)]
    embedded: bool,
    /// Also evaluate the teacher filter, applied at frame size.
    #[arg(long)]
    teacher: bool,
    /// Folder of held-out photos (recursive; repeatable).
    #[arg(long = "photos")]
    photos: Vec<PathBuf>,
    /// Folder of style images (e.g. held-out drawn art) for FD-VGG16 and KID.
    #[arg(long)]
    style: Option<PathBuf>,
    /// Training photos (e.g. data/photos) for the photo-vs-drawing probe: a linear classifier
    /// on VGG16 features, fit on these and --probe-drawings, that scores each model's outputs
    /// with the probability they are drawings. Needs --perceptual.
    #[arg(long, value_name = "DIR", requires = "probe_drawings")]
    probe_photos: Option<PathBuf>,
    /// Training drawings (e.g. data/style) for the photo-vs-drawing probe (with --probe-photos).
    #[arg(long, value_name = "DIR", requires = "probe_photos")]
    probe_drawings: Option<PathBuf>,
    /// At most this many images of each probe folder, evenly spaced over its sorted files
    /// (VGG16 features cost seconds an image on a CPU); 0 = all.
    #[arg(long, default_value_t = 200)]
    probe_limit: usize,
    /// A video clip: stills for the image measures and a run of frames for background flicker.
    #[arg(long)]
    video: Option<PathBuf>,
    /// Stills taken from --video, evenly spaced.
    #[arg(long, default_value_t = 2)]
    video_stills: usize,
    /// VGG16 + LPIPS weights (`make weights` writes data/weights/vgg16.safetensors); without
    /// them LPIPS, FD and KID are left out.
    #[arg(long, value_name = "PATH")]
    perceptual: Option<PathBuf>,
    /// An element property for every model, as gst-launch-1.0 takes it (repeatable), e.g.
    /// --set strength=0.8 --set inference-size=512.
    #[arg(long = "set", value_name = "PROPERTY=VALUE")]
    set: Vec<String>,
    /// An element property for one --model, by its label (repeatable; after --set), e.g.
    /// --model "no lines=embedded" --set-for "no lines:line-strength=0".
    #[arg(long = "set-for", value_name = "LABEL:PROPERTY=VALUE")]
    set_for: Vec<String>,
    /// Frame size the element is given, WIDTHxHEIGHT.
    #[arg(long, default_value = "1280x720", value_parser = parse_size)]
    frame: (u32, u32),
    /// Frames per synthetic temporal sequence (0 = no temporal measures).
    #[arg(long, default_value_t = 24)]
    temporal_frames: usize,
    /// Pan speed of the synthetic pan, px per frame.
    #[arg(long, default_value_t = 4.0)]
    pan: f32,
    /// Measure the --model with this label on the stills only, without the temporal sequences
    /// (repeatable): for slow models, e.g. a full-size third-party network.
    #[arg(long = "stills-only", value_name = "LABEL")]
    stills_only: Vec<String>,
    /// Also write every output frame as OUT/frames/<model>/<image>.png (large; for blind panels).
    #[arg(long)]
    save_frames: bool,
    /// Report folder (created).
    #[arg(long)]
    out: PathBuf,
}

fn parse_pair(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .ok_or_else(|| format!("'{s}' is not NAME=VALUE"))
}

fn parse_size(s: &str) -> Result<(u32, u32), String> {
    let (w, h) = s.split_once(['x', 'X']).ok_or_else(|| format!("'{s}' is not WIDTHxHEIGHT (e.g. 1280x720)"))?;
    let parse = |v: &str| v.trim().parse::<u32>().map_err(|_| format!("'{s}' is not WIDTHxHEIGHT (e.g. 1280x720)"));
    Ok((parse(w)?, parse(h)?))
}

fn evaluate(args: EvaluateArgs) -> anyhow::Result<()> {
    use animestyle_train::evaluate::element::ElementConfig;
    use animestyle_train::evaluate::{Candidate, EvaluateOptions, ModelSpec};
    let property = |flag: &str, s: &str| {
        parse_pair(s).map_err(|_| anyhow::anyhow!("{flag} {s}: expected PROPERTY=VALUE, e.g. strength=0.8"))
    };
    let properties = args.set.iter().map(|s| property("--set", s)).collect::<anyhow::Result<Vec<_>>>()?;
    // Each --model as (label, file); `embedded` = no `model` property.
    let labelled: Vec<(String, PathBuf)> = args
        .models
        .iter()
        .map(|m| match m.split_once('=') {
            Some((l, p)) if !l.is_empty() => (l.to_string(), PathBuf::from(p)),
            _ => {
                let p = PathBuf::from(m);
                (p.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| m.clone()), p)
            }
        })
        .collect();
    // A flag naming a --model by its label (`given` is the flag's whole value, for the message).
    let known_label = |flag: &str, given: &str, label: &str| {
        if labelled.iter().any(|(l, _)| l == label) {
            Ok(())
        } else {
            Err(anyhow::anyhow!("{flag} {given}: no --model is labelled '{label}' (use --model '{label}=FILE')"))
        }
    };
    let mut per_model: Vec<(String, (String, String))> = Vec::new();
    for s in &args.set_for {
        let (label, rest) = s.split_once(':').ok_or_else(|| {
            anyhow::anyhow!("--set-for {s}: expected LABEL:PROPERTY=VALUE, e.g. \"no lines:line-strength=0\"")
        })?;
        known_label("--set-for", s, label)?;
        per_model.push((label.to_string(), property("--set-for", rest)?));
    }
    for label in &args.stills_only {
        known_label("--stills-only", label, label)?;
    }
    let element = |label: &str, model: Option<PathBuf>| {
        let mut properties = properties.clone();
        properties.extend(per_model.iter().filter(|(l, _)| l == label).map(|(_, p)| p.clone()));
        Candidate::Element(ElementConfig { model, properties })
    };
    let mut models = vec![ModelSpec { label: "input".into(), candidate: Candidate::Identity }];
    if args.embedded {
        models.push(ModelSpec { label: "embedded default".into(), candidate: element("embedded default", None) });
    }
    for (label, path) in labelled {
        let path = (path != std::path::Path::new("embedded")).then_some(path);
        models.push(ModelSpec { candidate: element(&label, path), label });
    }
    if args.teacher {
        models.push(ModelSpec { label: "teacher".into(), candidate: Candidate::Teacher });
    }
    if models.len() == 1 {
        anyhow::bail!("nothing to evaluate: pass --model FILE.onnx (repeatable), --embedded and/or --teacher");
    }
    animestyle_train::evaluate::evaluate(EvaluateOptions {
        models,
        photos: args.photos,
        style: args.style,
        probe: args.probe_photos.zip(args.probe_drawings),
        probe_limit: args.probe_limit,
        video: args.video,
        video_stills: args.video_stills,
        perceptual: args.perceptual,
        out: args.out,
        frame: args.frame,
        temporal_frames: args.temporal_frames,
        stills_only: args.stills_only,
        save_frames: args.save_frames,
        pan: args.pan,
        command_line: std::env::args().collect::<Vec<_>>().join(" "),
    })
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
    /// 2 or 4: the space-to-depth layout (the frame folded into 3·r² channels at 1/r
    /// resolution, c3 channels in the blocks, no full-resolution convs; c1, c2 unused); 0 =
    /// the plain layout.
    #[arg(long)]
    space_to_depth: Option<usize>,
}

impl ArchArgs {
    fn any_set(&self) -> bool {
        self.c1.is_some()
            || self.c2.is_some()
            || self.c3.is_some()
            || self.blocks.is_some()
            || self.expand.is_some()
            || self.space_to_depth.is_some()
    }

    fn apply(&self, base: GeneratorConfig) -> GeneratorConfig {
        GeneratorConfig {
            c1: self.c1.unwrap_or(base.c1),
            c2: self.c2.unwrap_or(base.c2),
            c3: self.c3.unwrap_or(base.c3),
            blocks: self.blocks.unwrap_or(base.blocks),
            expand: self.expand.unwrap_or(base.expand),
            space_to_depth: self.space_to_depth.unwrap_or(base.space_to_depth),
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
    /// Square crop size: a multiple of 4, at least 16.
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
    /// Pretrained VGG16 for the perceptual losses (anime mode): `make weights` writes
    /// data/weights/vgg16.safetensors (torchvision ImageNet VGG16). Content loss on relu4_3,
    /// Gram style loss on relu1_2, relu2_2, relu3_3, relu4_3. Without it (and without --vgg19)
    /// a weaker weight-free fallback is used. CPU step time ~2.4–3.4× the fallback's (batch
    /// 4 × 128², standard generator: 3.9 s vs 1.4 s). Exclusive with --vgg19.
    #[arg(long, value_name = "PATH", conflicts_with = "vgg19")]
    perceptual: Option<PathBuf>,
    /// VGG19 weights (torchvision .pth or safetensors) for the perceptual losses: content and
    /// style on conv4_4, as AnimeGANv2.
    #[arg(long, value_name = "PATH")]
    vgg19: Option<PathBuf>,
    /// Weight of the temporal stability loss |shift(G(x)) − G(shift(x) + noise)| (0 = off;
    /// 10 matches the teacher L1 term). Less flicker in video, ~1.5× the step time.
    #[arg(long)]
    stability: Option<f64>,
    /// A loss weight, NAME=VALUE, repeatable; 0 switches a term off. Names: adversarial,
    /// content, style, color, tv, teacher_l1, stability, teacher_edges, teacher_content. Unset weights keep the
    /// mode's defaults (anime: adversarial 1, content 1.5, style 25, color 10, tv 0.1; teacher:
    /// teacher_l1 10, adversarial 1). In anime mode `teacher_l1` > 0 adds L1 to the teacher
    /// filter's output. `teacher_edges` adds the gradient difference to the teacher's output
    /// (steeper region borders; 0 by default; in anime mode it needs `teacher_l1` > 0).
    /// `teacher_content` adds the VGG content loss toward the teacher's output instead of the
    /// photo (needs `--perceptual`; in anime mode `teacher_l1` > 0).
    #[arg(long = "weight", value_name = "NAME=VALUE", value_parser = parse_weight)]
    weights: Vec<(String, f64)>,
    /// A parameter of the teacher filter, NAME=VALUE, repeatable (names as in
    /// `trainer/src/teacher.rs`, e.g. region_mix=0.5, xdog_phi=0 for no lines). Recorded in
    /// the run's config.json; a resumed run keeps the parameters it started with.
    #[arg(long = "teacher-param", value_name = "NAME=VALUE", value_parser = parse_pair)]
    teacher_params: Vec<(String, String)>,
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
    /// Held-out style art (e.g. data/style-held-out): at every sample step, FD-VGG16 and KID of
    /// the generator's outputs on --eval-photos to it, and their look signature, go to
    /// eval.csv, eval-curve.png and look-curve.png. Needs --perceptual.
    #[arg(long, requires = "eval_photos")]
    eval_style: Option<PathBuf>,
    /// Held-out photos for --eval-style (e.g. data/held-out), shown to the generator at 512x288.
    #[arg(long, requires = "eval_style")]
    eval_photos: Option<PathBuf>,
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
    /// The element's ink lines this look is made with (its `line-strength=-1`), 0 to 2; stored
    /// as `animestyle.line_strength`. 0 for a style that draws its own lines.
    #[arg(long, default_value_t = 1.0, value_parser = parse_line_strength)]
    line_strength: f32,
    /// The element's cel shading this look is made with (its `cel-shading=-1`), 0 to 1; stored
    /// as `animestyle.cel_shading`. 0 for a style that shades itself.
    #[arg(long, default_value_t = 1.0, value_parser = parse_cel_shading)]
    cel_shading: f32,
}

#[derive(Args)]
struct MetadataArgs {
    /// The ONNX model.
    model: PathBuf,
    /// Set KEY to VALUE (repeatable); an existing entry of KEY is replaced.
    #[arg(long = "set", value_name = "KEY=VALUE", value_parser = parse_pair)]
    set: Vec<(String, String)>,
    /// Remove KEY's entry (repeatable).
    #[arg(long = "remove", value_name = "KEY")]
    remove: Vec<String>,
    /// Write the changed model here instead of replacing MODEL.
    #[arg(long)]
    out: Option<PathBuf>,
}

fn parse_cel_shading(s: &str) -> Result<f32, String> {
    let max = animestyle_model::contract::MAX_CEL_SHADING;
    animestyle_model::contract::parse_cel_shading(s)
        .ok_or_else(|| format!("a cel-shading amount is a number from 0 to {max} (0 = no cel shading), got `{s}`"))
}

fn parse_line_strength(s: &str) -> Result<f32, String> {
    let max = animestyle_model::contract::MAX_LINE_STRENGTH;
    animestyle_model::contract::parse_line_strength(s)
        .ok_or_else(|| format!("a line strength is a number from 0 to {max} (0 = no ink lines), got `{s}`"))
}

#[derive(Args)]
struct TeacherArgs {
    /// Images to filter.
    #[arg(required = true)]
    images: Vec<PathBuf>,
    /// A parameter of the teacher filter, NAME=VALUE (repeatable), as for `train`.
    #[arg(long = "teacher-param", value_name = "NAME=VALUE", value_parser = parse_pair)]
    teacher_params: Vec<(String, String)>,
    /// Output folder (created).
    #[arg(long)]
    out: PathBuf,
}

/// Where one loss weight lives in `LossWeights`.
type WeightSlot = fn(&mut LossWeights) -> &mut f64;

/// The losses `--weight` sets, by name, in the order `LossWeights` lists them: one table for
/// parsing, applying and the error messages.
const WEIGHTS: [(&str, WeightSlot); 9] = [
    ("adversarial", |w| &mut w.adversarial),
    ("content", |w| &mut w.content),
    ("style", |w| &mut w.style),
    ("color", |w| &mut w.color),
    ("tv", |w| &mut w.tv),
    ("teacher_l1", |w| &mut w.teacher_l1),
    ("stability", |w| &mut w.stability),
    ("teacher_edges", |w| &mut w.teacher_edges),
    ("teacher_content", |w| &mut w.teacher_content),
];

fn weight_names() -> String {
    WEIGHTS.iter().map(|(name, _)| *name).collect::<Vec<_>>().join(", ")
}

/// Parses `--weight NAME=VALUE`: a known name and a finite value ≥ 0.
fn parse_weight(arg: &str) -> Result<(String, f64), String> {
    let (name, value) = arg
        .split_once('=')
        .ok_or_else(|| format!("`{arg}` is not NAME=VALUE (e.g. --weight color=2); names: {}", weight_names()))?;
    let name = name.trim();
    if !WEIGHTS.iter().any(|(n, _)| *n == name) {
        return Err(format!("unknown loss `{name}`; the losses are {}", weight_names()));
    }
    let value: f64 =
        value.trim().parse().map_err(|_| format!("the weight of `{name}` must be a number, got `{value}`"))?;
    if !value.is_finite() || value < 0.0 {
        return Err(format!("the weight of `{name}` must be finite and ≥ 0 (0 switches it off), got {value}"));
    }
    Ok((name.to_string(), value))
}

/// `weights` with each `--weight` applied (the last one of a name wins, as for other flags).
/// Names were checked by [`parse_weight`].
fn apply_weights(mut weights: LossWeights, given: &[(String, f64)]) -> LossWeights {
    for (name, value) in given {
        if let Some((_, slot)) = WEIGHTS.iter().find(|(n, _)| n == name) {
            *slot(&mut weights) = *value;
        }
    }
    weights
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
        perceptual: args.perceptual.clone(),
        backend: args.backend,
        weights: apply_weights(
            LossWeights { stability: args.stability.unwrap_or(0.0), ..defaults.weights },
            &args.weights,
        ),
        init_from: args.init_from.clone(),
        ..defaults
    };
    let options = RunOptions {
        teacher: animestyle_train::teacher::TeacherParams::with_overrides(&args.teacher_params)?,
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
        eval_style: args.eval_style,
        eval_photos: args.eval_photos,
    };
    run::train(config, options)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Train(args) => train(*args),
        Command::Export(args) => {
            let look = run::ExportLook {
                inference_size: args.inference_size,
                line_strength: args.line_strength,
                cel_shading: args.cel_shading,
            };
            run::export(&args.run, &args.out, &args.style, look)
        }
        Command::Metadata(args) => run::metadata(&args.model, &args.set, &args.remove, args.out.as_deref()),
        Command::Info(arch) => {
            run::print_info(&arch.apply(GeneratorConfig::default()));
            Ok(())
        }
        Command::Teacher(args) => animestyle_train::teacher::TeacherParams::with_overrides(&args.teacher_params)
            .and_then(|params| run::teacher_preview(&args.images, &args.out, &params)),
        Command::Evaluate(args) => evaluate(*args),
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
