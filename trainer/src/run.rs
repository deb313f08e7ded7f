//! The training run the CLI drives: run directory, data, the step loop with progress, loss log,
//! samples, checkpoints (periodic and on Ctrl-C), resume, export and info.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

use crate::config::{Backend, Mode, TrainConfig};
use crate::data::Dataset;
use crate::evaluate::probe::Probe;
use crate::files::write_atomic;
use crate::model::spec::GeneratorConfig;
use crate::teacher::TeacherParams;
use crate::train::{StepLosses, Trainer};
use crate::{export, plot, teacher};

/// How a run is driven (what does not change the trained weights).
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub run_dir: PathBuf,
    /// The teacher filter's parameters for a new run (a resumed run keeps its own).
    pub teacher: TeacherParams,
    pub resume: bool,
    /// The architecture the user asked for explicitly, to check against a resumed checkpoint.
    pub explicit_architecture: Option<GeneratorConfig>,
    /// Where to train (may differ from the run's first session).
    pub backend: Backend,
    pub steps: u64,
    pub photo_dirs: Vec<PathBuf>,
    pub style_dirs: Vec<PathBuf>,
    pub held_out: usize,
    pub sample_every: u64,
    pub checkpoint_every: u64,
    pub progress: bool,
    pub command_line: String,
    /// Held-out style art and photos for FD-VGG16 / look measurements at every sample step
    /// ([`crate::evaluate::probe`]); needs the run's `--perceptual` weights.
    pub eval_style: Option<PathBuf>,
    pub eval_photos: Option<PathBuf>,
}

/// `config.json` in a run directory.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunRecord {
    pub config: TrainConfig,
    pub teacher: TeacherParams,
    pub photo_dirs: Vec<PathBuf>,
    pub style_dirs: Vec<PathBuf>,
    pub held_out: usize,
    pub command_line: String,
    pub git_commit: String,
}

const CONFIG_FILE: &str = "config.json";
const SUMMARY_FILE: &str = "data-summary.json";
const LOSSES_FILE: &str = "losses.csv";
const CURVE_FILE: &str = "loss-curve.png";
const CHECKPOINT_DIR: &str = "checkpoint";
const INTERRUPTED: &str = "interrupted: checkpoint saved";

/// True when `e` is the orderly stop after Ctrl-C (the CLI exits 130 without "error:").
pub fn is_interrupted(e: &anyhow::Error) -> bool {
    e.to_string().starts_with(INTERRUPTED)
}

fn git_commit() -> String {
    std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".to_string())
}

fn read_record(run_dir: &Path) -> anyhow::Result<RunRecord> {
    let path = run_dir.join(CONFIG_FILE);
    let text = fs::read_to_string(&path).with_context(|| {
        format!(
            "{} is not a run directory (no {CONFIG_FILE}); pass the --out folder of a `train` run",
            run_dir.display()
        )
    })?;
    serde_json::from_str(&text).with_context(|| format!("{} is corrupt", path.display()))
}

/// The loss log: `step,generator,discriminator,<terms…>`. A term that first appears later
/// (the adversarial term after warm-up) adds a column, and the file is rewritten so every row
/// lines up with the header (earlier rows leave it empty). On resume, rows at or after the
/// resumed step (written after the last checkpoint, before a kill) are dropped.
struct LossLog {
    path: PathBuf,
    header: Vec<String>,
    rows: Vec<(u64, Vec<Option<f64>>)>,
}

impl LossLog {
    fn open(path: PathBuf, keep_before: u64) -> anyhow::Result<Self> {
        let mut log = LossLog { path, header: Vec::new(), rows: Vec::new() };
        if let Ok(text) = fs::read_to_string(&log.path) {
            let mut lines = text.lines();
            if let Some(h) = lines.next() {
                log.header = h.split(',').skip(1).map(str::to_string).collect();
            }
            for line in lines {
                let mut fields = line.split(',');
                let Some(step) = fields.next().and_then(|s| s.parse::<u64>().ok()) else { continue };
                if step < keep_before {
                    let mut values: Vec<Option<f64>> = fields.map(|f| f.parse().ok()).collect();
                    values.resize(log.header.len(), None);
                    log.rows.push((step, values));
                }
            }
        }
        log.rewrite()?;
        Ok(log)
    }

    fn row_text(step: u64, values: &[Option<f64>]) -> String {
        let v: Vec<String> = values.iter().map(|x| x.map_or(String::new(), |x| format!("{x:.6}"))).collect();
        format!("{step},{}\n", v.join(","))
    }

    fn rewrite(&self) -> anyhow::Result<()> {
        let mut out = String::new();
        if !self.header.is_empty() {
            out.push_str(&format!("step,{}\n", self.header.join(",")));
        }
        for (step, values) in &self.rows {
            out.push_str(&Self::row_text(*step, values));
        }
        write_atomic(&self.path, out.as_bytes()).with_context(|| format!("cannot write {}", self.path.display()))
    }

    fn push(&mut self, step: u64, losses: &StepLosses) -> anyhow::Result<()> {
        let named = [("generator", losses.generator), ("discriminator", losses.discriminator)]
            .into_iter()
            .chain(losses.terms.iter().copied());
        let mut values = vec![None; self.header.len()];
        let mut new_column = false;
        for (name, value) in named {
            let i = match self.header.iter().position(|h| h == name) {
                Some(i) => i,
                None => {
                    self.header.push(name.to_string());
                    values.push(None);
                    new_column = true;
                    self.header.len() - 1
                }
            };
            values[i] = Some(value);
        }
        self.rows.push((step, values));
        if new_column {
            let columns = self.header.len();
            self.rows.iter_mut().for_each(|(_, v)| v.resize(columns, None));
            return self.rewrite();
        }
        let mut file = fs::OpenOptions::new()
            .append(true)
            .open(&self.path)
            .with_context(|| format!("cannot append to {}", self.path.display()))?;
        let (step, values) = self.rows.last().expect("just pushed");
        file.write_all(Self::row_text(*step, values).as_bytes())?;
        Ok(())
    }

    fn series(&self) -> Vec<(String, Vec<(u64, f64)>)> {
        self.header
            .iter()
            .enumerate()
            .map(|(i, name)| {
                (
                    name.clone(),
                    self.rows.iter().filter_map(|(s, v)| v.get(i).copied().flatten().map(|x| (*s, x))).collect(),
                )
            })
            .collect()
    }
}

fn write_samples(run_dir: &Path, step: u64, trainer: &Trainer, dataset: &Dataset, log: &LossLog) -> anyhow::Result<()> {
    let rows = dataset.sample_rows(|input, n, h, w| trainer.generate(input, n, h, w));
    let samples = run_dir.join("samples");
    fs::create_dir_all(&samples)?;
    plot::sample_grid_png(&samples.join(format!("step-{step:06}.png")), &rows)?;
    let series = log.series();
    let borrowed: Vec<(&str, Vec<(u64, f64)>)> = series.iter().map(|(n, s)| (n.as_str(), s.clone())).collect();
    plot::loss_curve_png(&run_dir.join(CURVE_FILE), &borrowed)
}

fn format_losses(l: &StepLosses) -> String {
    let mut s = format!("G {:.4} D {:.4}", l.generator, l.discriminator);
    for (name, v) in &l.terms {
        s.push_str(&format!(" {name} {v:.4}"));
    }
    s
}

/// Trains (or resumes) a run as `options` says.
pub fn train(config: TrainConfig, options: RunOptions) -> anyhow::Result<()> {
    let run_dir = &options.run_dir;
    let checkpoint = run_dir.join(CHECKPOINT_DIR);
    let (record, resumed) = if options.resume {
        let record = read_record(run_dir)?;
        if !checkpoint.exists() {
            bail!("{} has no checkpoint to resume; start it again without --resume", run_dir.display());
        }
        let (trainer, step) = Trainer::load_checkpoint_on(&checkpoint, options.backend)?;
        if let Some(asked) = options.explicit_architecture
            && asked != trainer.config().generator
        {
            bail!(
                "checkpoint {} holds a generator of another architecture ({:?}) than the one asked for ({asked:?}); \
                 resume without the architecture flags or start a new run in another --out folder",
                checkpoint.display(),
                trainer.config().generator
            );
        }
        (record, Some((trainer, step)))
    } else {
        if run_dir.join(CONFIG_FILE).exists() {
            bail!(
                "{} already holds a run; pass --resume to continue it, or choose another --out folder",
                run_dir.display()
            );
        }
        let record = RunRecord {
            config: config.clone(),
            teacher: options.teacher.clone(),
            photo_dirs: options.photo_dirs.clone(),
            style_dirs: options.style_dirs.clone(),
            held_out: options.held_out,
            command_line: options.command_line.clone(),
            git_commit: git_commit(),
        };
        (record, None)
    };
    let config = record.config.clone();
    config.validate()?;
    if config.mode == Mode::Anime && record.style_dirs.is_empty() {
        bail!("anime mode needs style frames: pass --style DIR (or use --mode teacher, which needs none)");
    }

    // Data first: a bad folder must fail before anything is written.
    eprintln!("loading data…");
    let (mut dataset, mut summary) = Dataset::open(
        &record.photo_dirs,
        &record.style_dirs,
        config.mode,
        &record.teacher,
        record.held_out,
        config.seed,
    )?;
    if config.mode == Mode::Anime && config.weights.teacher_l1 > 0.0 {
        dataset.enable_teacher(&record.teacher, &mut summary);
    }
    let (mut trainer, start) = match resumed {
        Some(t) => t,
        None => {
            let mut trainer = Trainer::new(config.clone())?;
            if let Some(from) = &config.init_from {
                trainer.init_networks_from(&from.join(CHECKPOINT_DIR))?;
            }
            (trainer, 0)
        }
    };
    fs::create_dir_all(run_dir).with_context(|| format!("cannot create run directory {}", run_dir.display()))?;
    if start == 0 {
        let path = run_dir.join(CONFIG_FILE);
        write_atomic(&path, serde_json::to_string_pretty(&record)?.as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    let path = run_dir.join(SUMMARY_FILE);
    write_atomic(&path, serde_json::to_string_pretty(&summary)?.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))?;
    let mut log = LossLog::open(run_dir.join(LOSSES_FILE), start)?;

    let interrupted = Arc::new(AtomicBool::new(false));
    {
        let flag = interrupted.clone();
        // A second handler cannot be installed in the same process (tests); the first one serves.
        let _ = ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst));
    }

    let total = options.steps;
    eprintln!(
        "{} mode: {} photos{}, {} steps from step {start}, batch {} × {}², generator {:?} ({} parameters); run dir {}",
        match config.mode {
            Mode::Anime => "anime",
            Mode::Teacher => "teacher",
        },
        summary.photos_used(),
        if config.mode == Mode::Anime { format!(", {} style frames", summary.style_used()) } else { String::new() },
        total,
        config.batch,
        config.crop,
        config.generator,
        config.generator.parameters(),
        run_dir.display()
    );
    if let Some(net) = trainer.feature_net_name() {
        eprintln!("perceptual features: {net}");
    }
    let probe = match (&options.eval_style, &options.eval_photos, &config.perceptual) {
        (None, None, _) => None,
        (Some(style), Some(photos), Some(weights)) => Some(Probe::open(weights, style, photos, run_dir, start)?),
        (Some(_), Some(_), None) => bail!("--eval-style needs --perceptual (VGG16 weights: `make weights`)"),
        _ => bail!("--eval-style and --eval-photos go together (held-out art and held-out photos)"),
    };
    // A run that starts from another run's networks gets a baseline row at step 0, so its
    // curves show what the fine-tune changed.
    if let (Some(probe), 0, Some(_)) = (&probe, start, &config.init_from) {
        let r = probe.measure(0, |input, n, h, w| trainer.generate(input, n, h, w))?;
        eprintln!("step 0 (from --init-from): FD-VGG16 {:.1}, KID {:.4} ± {:.4}", r.fd_vgg16, r.kid.0, r.kid.1);
    }
    let bar = if options.progress && start < total {
        let bar = indicatif::ProgressBar::new(total);
        bar.set_position(start);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} step {pos}/{len} [{elapsed_precise} < {eta_precise}] {per_sec} {msg}",
            )
            .expect("valid template"),
        );
        Some(bar)
    } else {
        None
    };
    let started = Instant::now();
    for step in start..total {
        let batch = dataset.batch(config.seed, step, config.batch, config.crop);
        let losses = trainer.step(step, &batch)?;
        if !losses.generator.is_finite() {
            bail!("the generator loss became {} at step {step}: lower --lr-g or the loss weights", losses.generator);
        }
        log.push(step, &losses)?;
        let done = step + 1;
        if let Some(bar) = &bar {
            bar.set_position(done);
            bar.set_message(format_losses(&losses));
        }
        if done % options.sample_every == 0 || done == total {
            write_samples(run_dir, done, &trainer, &dataset, &log)?;
            if let Some(probe) = &probe {
                let r = probe.measure(done, |input, n, h, w| trainer.generate(input, n, h, w))?;
                let l = r.look;
                eprintln!(
                    "step {done}: FD-VGG16 {:.1}, KID {:.4} ± {:.4}; structure {:.3} sharpness {:.2} flatness {:.2}",
                    r.fd_vgg16, r.kid.0, r.kid.1, l.structure, l.sharpness, l.flatness
                );
            }
            if bar.is_none() {
                let rate = (done - start) as f64 / started.elapsed().as_secs_f64();
                eprintln!("step {done}/{total} ({rate:.2} steps/s): {}", format_losses(&losses));
            }
        }
        if done % options.checkpoint_every == 0 || done == total {
            trainer.save_checkpoint(&checkpoint, done)?;
        }
        if interrupted.load(Ordering::SeqCst) && done < total {
            trainer.save_checkpoint(&checkpoint, done)?;
            if let Some(bar) = &bar {
                bar.abandon();
            }
            bail!(
                "{INTERRUPTED} at step {done} in {}; continue with the same command plus --resume",
                checkpoint.display()
            );
        }
    }
    if let Some(bar) = bar {
        bar.finish();
    }
    eprintln!(
        "done: {total} steps; export with `animestyle-train export --run {} --out model.onnx`",
        run_dir.display()
    );
    Ok(())
}

/// Exports the generator of `run_dir`'s checkpoint to `out` with provenance metadata and, if
/// given, the inference size the element should use by default.
/// What an exported model asks the element for by default (its metadata).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExportLook {
    /// `animestyle.recommended_inference_size`; `None`: the frame's own size.
    pub inference_size: Option<u32>,
    /// `animestyle.line_strength`: the element's ink lines this look is made with.
    pub line_strength: f32,
    /// `animestyle.cel_shading`: the element's cel shading this look is made with.
    pub cel_shading: f32,
}

pub fn export(run_dir: &Path, out: &Path, style: &str, look: ExportLook) -> anyhow::Result<()> {
    let record = read_record(run_dir)?;
    let (trainer, step) = Trainer::load_checkpoint(&run_dir.join(CHECKPOINT_DIR))?;
    let summary: serde_json::Value = fs::read_to_string(run_dir.join(SUMMARY_FILE))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(serde_json::Value::Null);
    let provenance = vec![
        ("trainer".to_string(), format!("animestyle-train {}", env!("CARGO_PKG_VERSION"))),
        ("mode".to_string(), format!("{:?}", record.config.mode).to_lowercase()),
        ("steps".to_string(), step.to_string()),
        ("seed".to_string(), record.config.seed.to_string()),
        ("generator".to_string(), serde_json::to_string(&record.config.generator)?),
        ("train_config".to_string(), serde_json::to_string(&record.config)?),
        ("data".to_string(), serde_json::to_string(&summary)?),
        ("git_commit".to_string(), record.git_commit.clone()),
        ("command_line".to_string(), record.command_line.clone()),
    ];
    let contract = animestyle_model::ModelContract {
        recommended_inference_size: look.inference_size,
        line_strength: Some(look.line_strength),
        cel_shading: Some(look.cel_shading),
        ..export::contract(style)
    };
    export::export_onnx(&trainer.generator_weights(), &provenance, &contract, out)?;
    eprintln!("wrote {} (step {step}); run it with: animestyle model={}", out.display(), out.display());
    Ok(())
}

/// `animestyle-train metadata`: prints `model`'s metadata, or with `set` / `remove` writes the
/// model with those entries changed (atomically, to `out` or over `model`) and prints the result.
/// The changed model must still load as a generator the element can drive.
pub fn metadata(model: &Path, set: &[(String, String)], remove: &[String], out: Option<&Path>) -> anyhow::Result<()> {
    use animestyle_model::onnx;
    let bytes = fs::read(model).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", model.display()))?;
    let fail = |why: String| anyhow::anyhow!("{}: {why}", model.display());
    let bytes = if set.is_empty() && remove.is_empty() {
        bytes
    } else {
        let edited = onnx::edit_metadata(&bytes, set, remove).map_err(fail)?;
        let md: std::collections::HashMap<String, String> =
            onnx::read_metadata(&edited).map_err(fail)?.into_iter().collect();
        check_look_metadata(&md)?;
        let target = out.unwrap_or(model);
        write_atomic(target, &edited)
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}; choose a writable path", target.display()))?;
        eprintln!("wrote {}", target.display());
        edited
    };
    for (key, value) in onnx::read_metadata(&bytes).map_err(fail)? {
        println!("{key}={value}");
    }
    Ok(())
}

/// Refuses look metadata the element would refuse to load.
fn check_look_metadata(md: &std::collections::HashMap<String, String>) -> anyhow::Result<()> {
    animestyle_model::contract::line_strength_from_metadata(md)
        .and_then(|_| animestyle_model::contract::cel_shading_from_metadata(md))
        .map(|_| ())
        .map_err(|e| anyhow::anyhow!("{e}; nothing was written"))
}

/// Prints parameters and GFLOPs of `config` at common inference sizes.
pub fn print_info(config: &GeneratorConfig) {
    println!("generator {config:?}");
    println!("parameters: {}", config.parameters());
    for (w, h) in [(384, 216), (512, 288), (640, 360), (1280, 720)] {
        println!("{w}x{h}: {:.2} GFLOPs per frame", 2.0 * config.macs(w, h) as f64 / 1e9);
    }
}

/// Writes the teacher filter's output for each image into `out`.
pub fn teacher_preview(images: &[PathBuf], out: &Path, params: &TeacherParams) -> anyhow::Result<()> {
    fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    for path in images {
        let img = image::open(path).with_context(|| format!("cannot read {}", path.display()))?.to_rgb8();
        let started = Instant::now();
        let filtered = teacher::apply_rgb8(&img, params);
        let name = path.file_stem().and_then(|s| s.to_str()).unwrap_or("image");
        let target = out.join(format!("{name}-teacher.png"));
        filtered.save(&target).with_context(|| format!("cannot write {}", target.display()))?;
        eprintln!("{} -> {} ({:.0} ms)", path.display(), target.display(), started.elapsed().as_secs_f64() * 1000.0);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loss_log_drops_rows_after_the_resumed_step() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("losses.csv");
        fs::write(&path, "step,generator,discriminator\n0,1.0,2.0\n1,0.5,2.0\n2,0.25,2.0\n").unwrap();
        let log = LossLog::open(path.clone(), 2).unwrap();
        assert_eq!(log.rows.len(), 2);
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            "step,generator,discriminator\n0,1.000000,2.000000\n1,0.500000,2.000000\n"
        );
        assert_eq!(log.series()[0].1, vec![(0, 1.0), (1, 0.5)]);
    }
}
