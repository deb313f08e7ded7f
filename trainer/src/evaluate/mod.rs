//! `animestyle-train evaluate`: how anime a model looks, how much content it keeps, how close
//! it is to a style set and how stable it is in video — measured on what users see, i.e. the
//! model run through the `animestyle` element (see [`element`]), next to other models, the
//! teacher filter and the unstylized input.
//!
//! Measures (definitions in `report.md`'s notes): the look signature
//! (`gstanimestyle::metrics::look_signature`), LPIPS-VGG to the input, FD-VGG16 and KID to the
//! style set ([`stats`], on [`features`]), flicker and warping error on synthetic sequences
//! (`gstanimestyle::metrics::temporal`, shared with `cargo bench --bench temporal`), and the
//! element's own time per frame.

pub mod element;
pub mod features;
pub mod inputs;
pub mod probe;
pub mod report;
pub mod stats;

use std::path::PathBuf;

use anyhow::{Context, bail};
use gstanimestyle::metrics::temporal::{self, Motion};
use gstanimestyle::metrics::{Rgb8, look_signature};
use image::RgbImage;

use crate::teacher::{self, TeacherParams};
use element::ElementConfig;
use features::Perceptual;
use inputs::Still;
use report::{Drawn, ImageScore, Look, ModelReport, Report, Temporal};
use stats::LinearProbe;

/// What produces the stylized frames of one report row.
#[derive(Debug, Clone)]
pub enum Candidate {
    /// The `animestyle` element with a model file (or the embedded default) and properties.
    Element(ElementConfig),
    /// The classical cel filter `teacher` mode distils, applied at frame size.
    Teacher,
    /// The input itself: the reference row (structure 1, LPIPS 0, the photos' own FD).
    Identity,
}

/// One report row.
#[derive(Debug, Clone)]
pub struct ModelSpec {
    pub label: String,
    pub candidate: Candidate,
}

/// Everything `evaluate` needs.
#[derive(Debug, Clone)]
pub struct EvaluateOptions {
    pub models: Vec<ModelSpec>,
    /// Held-out photo folders (searched recursively).
    pub photos: Vec<PathBuf>,
    /// Style images (e.g. held-out drawn art) for FD-VGG16 and KID.
    pub style: Option<PathBuf>,
    /// Training photos and training drawings the photo-vs-drawing probe is fit on (VGG16
    /// features; needs `perceptual`).
    pub probe: Option<(PathBuf, PathBuf)>,
    /// At most this many images of each probe set, evenly spaced over the sorted files (VGG16
    /// costs ~2 s an image on two cores; 0 = all).
    pub probe_limit: usize,
    /// A video clip: stills for the image measures and a run of frames for background flicker.
    pub video: Option<PathBuf>,
    pub video_stills: usize,
    /// VGG16 + LPIPS weights (`make weights`): FD, KID and LPIPS need them.
    pub perceptual: Option<PathBuf>,
    pub out: PathBuf,
    /// Frame size the element is given (photos are centre-cropped to its aspect).
    pub frame: (u32, u32),
    /// Frames per synthetic temporal sequence (0 = no temporal measures).
    pub temporal_frames: usize,
    /// Labels of models measured on the stills only (no temporal sequences): slow third-party
    /// models at full frame size would take hours over them.
    pub stills_only: Vec<String>,
    /// Also write every output frame as `frames/<model>/<image>.png` under `out` (for blind
    /// panels and close looks; large, so off by default).
    pub save_frames: bool,
    /// Pan speed of the synthetic pan, px per frame.
    pub pan: f32,
    pub command_line: String,
}

/// Zoom per frame of the synthetic zoom sequence (1%).
const ZOOM: f32 = 1.01;
/// Sensor-like noise of the static sequence, σ in levels.
const NOISE_SIGMA: f32 = 3.0;
/// Frames left out of the time per frame (ONNX Runtime's first runs are slow).
const WARMUP_FRAMES: usize = 3;
/// Video background: pixels whose input changed by less than this many levels.
const STILL_LEVELS: u32 = 3;

pub fn evaluate(o: EvaluateOptions) -> anyhow::Result<()> {
    if o.models.is_empty() {
        bail!("nothing to evaluate: pass --model FILE.onnx (repeatable), --embedded or --teacher");
    }
    if o.photos.is_empty() && o.video.is_none() {
        bail!("no images to evaluate on: pass --photos DIR (held-out photos) and/or --video FILE");
    }
    if o.frame.0 < 16 || o.frame.1 < 16 {
        bail!("frame size {}x{} is too small; use at least 16x16 (e.g. 1280x720)", o.frame.0, o.frame.1);
    }
    // Fail on a bad model or property before any slow work.
    for m in &o.models {
        if let Candidate::Element(config) = &m.candidate {
            element::make_element(config).with_context(|| format!("model '{}'", m.label))?;
        }
    }
    let mut stills: Vec<Still> = Vec::new();
    let mut input_lines = Vec::new();
    for dir in &o.photos {
        let loaded = inputs::load_folder(dir, "photo", false)?;
        input_lines.push(format!("{} photos from `{}`", loaded.len(), dir.display()));
        stills.extend(loaded.into_iter().map(|(name, img)| Still { name, frame: inputs::frame_to(&img, o.frame) }));
    }
    let mut video_run = Vec::new();
    if let Some(video) = &o.video {
        let run = if o.temporal_frames > 0 { o.temporal_frames } else { 0 };
        let (picked, seq) = inputs::video_frames(video, o.video_stills, run, o.frame)?;
        input_lines.push(format!(
            "{} stills from `{}` (evenly spaced) and {} consecutive frames from its middle for background flicker",
            picked.len(),
            video.display(),
            seq.len()
        ));
        stills.extend(picked);
        video_run = seq;
    }
    input_lines.push(format!(
        "every image is centre-cropped to the frame's aspect and resized to a {}x{} frame (Catmull-Rom)",
        o.frame.0, o.frame.1
    ));
    let perceptual = match &o.perceptual {
        Some(path) => Some(Perceptual::load(path)?),
        None => None,
    };
    if o.style.is_some() && perceptual.is_none() {
        bail!("--style needs --perceptual (VGG16 weights: `make weights`)");
    }
    let style_images = match &o.style {
        Some(dir) => {
            let style = inputs::load_folder(dir, "style", true)?;
            input_lines.push(format!("style set: {} images from `{}`", style.len(), dir.display()));
            style.into_iter().map(|(_, img)| img).collect()
        }
        None => Vec::new(),
    };
    let style_features = match &perceptual {
        Some(p) if !style_images.is_empty() => Some(embed_all(p, &style_images)?),
        _ => None,
    };
    let probe = match (&o.probe, &perceptual) {
        (Some((photos, drawings)), Some(p)) => {
            let photo_set = evenly_spaced(inputs::load_folder(photos, "probe photo", false)?, o.probe_limit);
            let drawing_set = evenly_spaced(inputs::load_folder(drawings, "probe drawing", true)?, o.probe_limit);
            eprintln!(
                "evaluate: fitting the photo-vs-drawing probe on {} photos and {} drawings …",
                photo_set.len(),
                drawing_set.len()
            );
            let embed =
                |set: Vec<(String, RgbImage)>| embed_all(p, &set.into_iter().map(|(_, i)| i).collect::<Vec<_>>());
            let (pf, df) = (embed(photo_set)?, embed(drawing_set)?);
            input_lines.push(format!(
                "photo-vs-drawing probe fit on {} crops of training photos (`{}`) and {} of training drawings (`{}`)",
                pf.len(),
                photos.display(),
                df.len(),
                drawings.display()
            ));
            Some(LinearProbe::fit(&pf, &df)?)
        }
        (Some(_), None) => bail!("--probe-photos/--probe-drawings need --perceptual (VGG16 weights: `make weights`)"),
        _ => None,
    };
    // The style set itself, measured as the models are: the scale of each drawn-ness measure.
    let reference_drawn = if style_images.is_empty() {
        None
    } else {
        let framed: Vec<RgbImage> = style_images.iter().map(|i| inputs::short_side_to(i, o.frame.1)).collect();
        let p_drawing = match (&probe, &style_features) {
            (Some(probe), Some(f)) => Some(probe.mean_probability(f)?),
            _ => None,
        };
        Some(Drawn::measure(&framed, p_drawing))
    };
    if let Some(path) = &o.perceptual {
        input_lines
            .push(format!("perceptual weights: `{}` (torchvision ImageNet VGG16, LPIPS v0.1 heads)", path.display()));
    }

    let frames: Vec<RgbImage> = stills.iter().map(|s| s.frame.clone()).collect();
    let temporal_source = frames.first().map(|f| {
        let big = (o.frame.0 * 6 / 5, o.frame.1 * 6 / 5);
        inputs::frame_to(f, big)
    });
    let mut models = Vec::new();
    let mut all_outputs = Vec::new();
    for spec in &o.models {
        eprintln!("evaluate: {} …", spec.label);
        let outputs = stylize_all(&spec.candidate, &frames).with_context(|| format!("model '{}'", spec.label))?;
        let mut images = Vec::new();
        for ((still, input), output) in stills.iter().zip(&frames).zip(&outputs) {
            let (w, h) = (input.width() as usize, input.height() as usize);
            let look: Look = look_signature(Rgb8::new(w, h, input.as_raw()), Rgb8::new(w, h, output.as_raw())).into();
            let lpips = match &perceptual {
                Some(p) => Some(p.lpips(input, output)?),
                None => None,
            };
            images.push(ImageScore { image: still.name.clone(), look, lpips });
        }
        let features = match &perceptual {
            Some(p) if style_features.is_some() || probe.is_some() => Some(embed_all(p, &outputs)?),
            _ => None,
        };
        let (fd_vgg16, kid) = match (&features, &style_features) {
            (Some(f), Some(style)) => (Some(stats::frechet_distance(f, style)?), Some(stats::kid(f, style)?)),
            _ => (None, None),
        };
        let p_drawing = match (&probe, &features) {
            (Some(probe), Some(f)) => Some(probe.mean_probability(f)?),
            _ => None,
        };
        let drawn = Drawn::measure(&outputs, p_drawing);
        let (temporal, ms) = match (&spec.candidate, &temporal_source) {
            (Candidate::Element(config), Some(src))
                if o.temporal_frames > 1 && !o.stills_only.contains(&spec.label) =>
            {
                let (t, ms) = measure_temporal(config, src, o.frame, o.temporal_frames, o.pan, &video_run)
                    .with_context(|| format!("model '{}'", spec.label))?;
                (Some(t), Some(ms))
            }
            _ => (None, None),
        };
        let lpips_values: Vec<f64> = images.iter().filter_map(|i| i.lpips).collect();
        models.push(ModelReport {
            label: spec.label.clone(),
            description: describe(&spec.candidate),
            look: Look::mean(&images.iter().map(|i| i.look).collect::<Vec<_>>()),
            lpips: (!lpips_values.is_empty()).then(|| lpips_values.iter().sum::<f64>() / lpips_values.len() as f64),
            images,
            fd_vgg16,
            kid,
            drawn,
            temporal,
            ms_per_frame: ms,
        });
        if o.save_frames {
            save_frames(&o.out, models.len() - 1, &spec.label, &stills, &outputs)?;
        }
        // The input is already the grids' first column.
        if !matches!(spec.candidate, Candidate::Identity) {
            all_outputs.push(outputs);
        }
    }
    let report = Report {
        command_line: o.command_line.clone(),
        frame: o.frame,
        inputs: input_lines,
        notes: notes(&o),
        reference_drawn,
        models,
    };
    report::write(&o.out, &report, &frames, &all_outputs)?;
    eprintln!("evaluate: wrote {}", o.out.join("report.md").display());
    Ok(())
}

/// A name safe in any file system: ASCII letters, digits, `-` and `.` kept, the rest `_`.
fn safe_name(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '.' { c } else { '_' }).collect()
}

/// `out/frames/NN-<label>/<image>.png`, one per still.
fn save_frames(
    out: &std::path::Path,
    index: usize,
    label: &str,
    stills: &[Still],
    outputs: &[RgbImage],
) -> anyhow::Result<()> {
    let dir = out.join("frames").join(format!("{index:02}-{}", safe_name(label)));
    std::fs::create_dir_all(&dir)
        .map_err(|e| anyhow::anyhow!("cannot create {}: {e}; choose a writable --out", dir.display()))?;
    for (still, frame) in stills.iter().zip(outputs) {
        let stem = std::path::Path::new(&still.name).with_extension("");
        crate::plot::save_png(&dir.join(format!("{}.png", safe_name(&stem.to_string_lossy()))), frame)?;
    }
    Ok(())
}

/// At most `limit` items of `all` (0 = all), evenly spaced: a sorted folder of several sources
/// keeps every source.
fn evenly_spaced<T>(all: Vec<T>, limit: usize) -> Vec<T> {
    let n = all.len();
    if limit == 0 || n <= limit {
        return all;
    }
    all.into_iter().enumerate().filter(|(i, _)| (i * limit / n) != ((i + 1) * limit / n)).map(|(_, v)| v).collect()
}

/// VGG16 features of every crop of every image.
fn embed_all(p: &Perceptual, images: &[RgbImage]) -> anyhow::Result<Vec<Vec<f32>>> {
    let mut f = Vec::new();
    for img in images {
        f.extend(p.embed(img)?);
    }
    Ok(f)
}

/// Every still through `candidate`, each in a fresh element (no history carried between
/// unrelated photos).
fn stylize_all(candidate: &Candidate, frames: &[RgbImage]) -> anyhow::Result<Vec<RgbImage>> {
    match candidate {
        Candidate::Identity => Ok(frames.to_vec()),
        Candidate::Teacher => {
            let p = TeacherParams::default();
            Ok(frames.iter().map(|f| teacher::apply_rgb8(f, &p)).collect())
        }
        Candidate::Element(config) => {
            let mut out = Vec::with_capacity(frames.len());
            for f in frames {
                out.extend(element::run_sequence(config, std::slice::from_ref(f))?.outputs);
            }
            Ok(out)
        }
    }
}

fn with_smoothing_off(config: &ElementConfig) -> ElementConfig {
    let mut c = config.clone();
    c.properties.retain(|(k, _)| k != "temporal-smoothing");
    c.properties.push(("temporal-smoothing".into(), "0".into()));
    c
}

/// Flicker on a static noisy view, warping error on a pan and a zoom of `src` (each as
/// configured and with smoothing off), background flicker on `video_run`, and the element's
/// median time per frame through the element on the pan (every frame differs, so every frame
/// is inferred).
fn measure_temporal(
    config: &ElementConfig,
    src: &RgbImage,
    frame: (u32, u32),
    n: usize,
    pan: f32,
    video_run: &[RgbImage],
) -> anyhow::Result<(Temporal, f64)> {
    let size = (frame.0 as usize, frame.1 as usize);
    let src8 = Rgb8::new(src.width() as usize, src.height() as usize, src.as_raw());
    let start = (src.width() as f32 / 2.0, src.height() as f32 / 2.0);
    let settle = n / 3;
    let to_images = |seq: Vec<Vec<u8>>| -> Vec<RgbImage> {
        seq.into_iter().filter_map(|f| RgbImage::from_raw(frame.0, frame.1, f)).collect()
    };
    let raw = |imgs: Vec<RgbImage>| -> Vec<Vec<u8>> { imgs.into_iter().map(|i| i.into_raw()).collect() };
    let off = with_smoothing_off(config);
    let statics = to_images(temporal::synthetic_sequence(src8, size, start, Motion::Static, n, NOISE_SIGMA));
    let pan_motion = Motion::pan(pan);
    let pans = to_images(temporal::synthetic_sequence(src8, size, start, pan_motion, n, 0.0));
    let zoom_motion = Motion::Zoom { factor: ZOOM };
    let zooms = to_images(temporal::synthetic_sequence(src8, size, start, zoom_motion, n, 0.0));
    let mut result = [0.0f64; 6];
    let mut ms = f64::NAN;
    for (k, c) in [config, &off].into_iter().enumerate() {
        result[k] = temporal::flicker(&raw(element::run_sequence(c, &statics)?.outputs), None, settle);
        let run = element::run_sequence(c, &pans)?;
        if k == 0 {
            ms = run.median_ms(WARMUP_FRAMES);
        }
        let p = raw(run.outputs);
        result[2 + k] = temporal::warping_error(&p, size, settle, |x, y| pan_motion.previous(x, y, size));
        let z = raw(element::run_sequence(c, &zooms)?.outputs);
        result[4 + k] = temporal::warping_error(&z, size, settle, |x, y| zoom_motion.previous(x, y, size));
    }
    let (video_flicker, video_flicker_unsmoothed) = if video_run.len() > 2 {
        let masks = temporal::still_pixel_masks(&raw(video_run.to_vec()), STILL_LEVELS);
        let on = raw(element::run_sequence(config, video_run)?.outputs);
        let o = raw(element::run_sequence(&off, video_run)?.outputs);
        (
            Some(temporal::flicker(&on, Some(&masks), video_run.len() / 3)),
            Some(temporal::flicker(&o, Some(&masks), video_run.len() / 3)),
        )
    } else {
        (None, None)
    };
    let t = Temporal {
        flicker: result[0],
        flicker_unsmoothed: result[1],
        warp_pan: result[2],
        warp_pan_unsmoothed: result[3],
        warp_zoom: result[4],
        warp_zoom_unsmoothed: result[5],
        video_flicker,
        video_flicker_unsmoothed,
    };
    Ok((t, ms))
}

fn describe(c: &Candidate) -> String {
    match c {
        Candidate::Identity => "The unstylized input frames: the reference row.".into(),
        Candidate::Teacher => "The teacher filter (`animestyle-train teacher`) applied at frame size.".into(),
        Candidate::Element(config) => {
            let model = config
                .model
                .as_ref()
                .map(|m| format!("`{}`", m.display()))
                .unwrap_or_else(|| "the embedded default model".into());
            let props = if config.properties.is_empty() {
                "default properties".to_string()
            } else {
                config.properties.iter().map(|(k, v)| format!("`{k}={v}`")).collect::<Vec<_>>().join(", ")
            };
            format!("`animestyle` element with {model}, {props}.")
        }
    }
}

fn notes(o: &EvaluateOptions) -> Vec<String> {
    let mut n = vec![
        "Luma is BT.601; gradients are Sobel magnitudes; \"strongest edges\" are the input's top 10% gradient pixels."
            .into(),
        "*structure*: SSIM of output luma vs input luma (1 = same drawing). *sharpness*: mean output gradient / \
         mean input gradient at the strongest edges (below 1 = blurred lines). *flatness*: median 5×5 local std \
         of output luma / the input's (below 1 = flatter shading). *colourfulness*: Hasler–Süsstrunk M, output / \
         input. *edge darkness*: mean output minus input luma at the strongest edges, in levels (negative = dark \
         lines)."
            .into(),
        "*LPIPS to input*: LPIPS-VGG v0.1 (Zhang et al. 2018) between the output and its input, both resized to \
         the LPIPS evaluation size; how much content survives (0 = identical)."
            .into(),
        "*FD-VGG16*: Fréchet distance between VGG16 relu5_3 features (global average over 224×224 crops) of the \
         outputs and of the style set. It is **not comparable with published FID**, which uses InceptionV3 \
         features (not obtainable offline); compare rows of the same report only. With small sets FD is biased \
         upwards by the set sizes; KID (Bińkowski et al. 2018, unbiased, cubic polynomial kernel) is not, and \
         its ± is a delete-one jackknife standard error."
            .into(),
        format!(
            "*Drawn-ness* (issue #25), measured on the output alone: *strong / weak edges* is the count of pixels \
             whose luma Sobel magnitude is ≥ {} over those in [{}, {}) — crisp borders against soft ramps; *thin \
             dark strokes* is the share of pixels more than {} levels darker than the brightest pixel within {} px \
             on both sides along a row or column (ink lines up to 5 px wide); *P(drawing)* is a logistic \
             regression on VGG16 relu5_3 crop features fit on training photos vs training drawings (never on \
             held-out images), averaged over the crops. The *held-out drawings* row is the style set measured the \
             same way (short side resized to the frame's height, transparent sprites on white): the scale a \
             drawing reaches. The input row is the photos' own scale.",
            gstanimestyle::metrics::drawn::STRONG_GRADIENT,
            gstanimestyle::metrics::drawn::WEAK_GRADIENT.0,
            gstanimestyle::metrics::drawn::WEAK_GRADIENT.1,
            gstanimestyle::metrics::drawn::INK_DEPTH,
            gstanimestyle::metrics::drawn::INK_REACH
        ),
    ];
    if o.temporal_frames > 1 {
        n.push(format!(
            "Temporal: {} frames each; the first third is left out to let the history settle. Static: the first \
             image with fresh Gaussian noise (σ {NOISE_SIGMA} levels) every frame; pan: {} px per frame; zoom: \
             {:.0}% per frame; warping error is the mean squared difference (levels²) between frame t and frame \
             t−1 moved by the exact motion (Lai et al. 2018). *ms per frame* is the median wall time of \
             a frame through the element during the pan, the first {WARMUP_FRAMES} frames left out (a shared \
             machine is noisy; compare rows of one report).",
            o.temporal_frames,
            o.pan,
            (ZOOM - 1.0) * 100.0
        ));
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evenly_spaced_keeps_the_limit_and_both_ends_of_the_range() {
        let picked = evenly_spaced((0..1075).collect::<Vec<_>>(), 200);
        assert_eq!(picked.len(), 200);
        assert!(picked[0] < 6 && *picked.last().unwrap() > 1068, "{picked:?}");
        assert!(picked.windows(2).all(|w| w[1] - w[0] >= 5 && w[1] - w[0] <= 6));
        assert_eq!(evenly_spaced(vec![1, 2, 3], 0), vec![1, 2, 3]);
        assert_eq!(evenly_spaced(vec![1, 2, 3], 5), vec![1, 2, 3]);
    }
}
