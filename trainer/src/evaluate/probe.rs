//! `train --eval-style DIR`: the FD-VGG16 / KID to held-out style art and the look signature of
//! the generator on held-out photos, measured while training (every `--sample-every` steps) so
//! a run shows whether it is moving toward the style — `eval.csv` and `eval-curve.png` in the
//! run folder. This is the bare generator at a fixed 512×288, not the element's frame path;
//! `animestyle-train evaluate` on an exported model measures that.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use gstanimestyle::metrics::{Rgb8, look_signature};
use image::RgbImage;

use super::features::Perceptual;
use super::inputs;
use super::report::Look;
use super::stats;
use crate::data::{from_nchw, to_nchw};
use crate::plot;

/// Frame the held-out photos are shown to the generator at (16:9, a multiple of 4).
pub const PROBE_FRAME: (u32, u32) = (512, 288);
const CSV: &str = "eval.csv";
const HEADER: &str = "step,fd_vgg16,kid,kid_se,structure,sharpness,flatness,colourfulness,edge_darkness";

/// One measurement.
#[derive(Debug, Clone, Copy)]
pub struct ProbeRow {
    pub step: u64,
    pub fd_vgg16: f64,
    pub kid: (f64, f64),
    pub look: Look,
}

pub struct Probe {
    perceptual: Perceptual,
    style: Vec<Vec<f32>>,
    photos: Vec<RgbImage>,
    dir: PathBuf,
}

impl Probe {
    /// Loads the weights, embeds the style set and frames the photos. `run_dir/eval.csv` keeps
    /// the rows of earlier sessions (a resumed run continues its curve) up to `start`.
    pub fn open(
        weights: &Path,
        style_dir: &Path,
        photo_dir: &Path,
        run_dir: &Path,
        start: u64,
    ) -> anyhow::Result<Probe> {
        let perceptual = Perceptual::load(weights)?;
        let mut style = Vec::new();
        for (_, img) in inputs::load_folder(style_dir, "style", true)? {
            style.extend(perceptual.embed(&img)?);
        }
        if style.len() < 3 {
            bail!("--eval-style {} gives {} feature vectors; KID needs at least 3", style_dir.display(), style.len());
        }
        let photos = inputs::load_folder(photo_dir, "photo", false)?
            .into_iter()
            .map(|(_, img)| inputs::frame_to(&img, PROBE_FRAME))
            .collect();
        let probe = Probe { perceptual, style, photos, dir: run_dir.to_path_buf() };
        probe.truncate_after(start)?;
        Ok(probe)
    }

    fn truncate_after(&self, start: u64) -> anyhow::Result<()> {
        let path = self.dir.join(CSV);
        let kept: Vec<String> = match fs::read_to_string(&path) {
            Ok(text) => text
                .lines()
                .skip(1)
                .filter(|l| l.split(',').next().and_then(|s| s.parse::<u64>().ok()).is_some_and(|s| s <= start))
                .map(str::to_string)
                .collect(),
            Err(_) => Vec::new(),
        };
        let mut text = format!("{HEADER}\n");
        for l in kept {
            text.push_str(&l);
            text.push('\n');
        }
        Ok(crate::files::write_atomic(&path, text.as_bytes())?)
    }

    /// Runs `generate` (NCHW `[-1, 1]` in and out, `n, h, w`) on the held-out photos, measures,
    /// appends to `eval.csv` and redraws `eval-curve.png`.
    pub fn measure(
        &self,
        step: u64,
        generate: impl Fn(&[f32], usize, usize, usize) -> Vec<f32>,
    ) -> anyhow::Result<ProbeRow> {
        let (w, h) = (PROBE_FRAME.0 as usize, PROBE_FRAME.1 as usize);
        let mut features = Vec::new();
        let mut looks = Vec::new();
        for photo in &self.photos {
            let out = from_nchw(&generate(&to_nchw(photo), 1, h, w), w, h);
            looks.push(look_signature(Rgb8::new(w, h, photo.as_raw()), Rgb8::new(w, h, out.as_raw())).into());
            features.extend(self.perceptual.embed(&out)?);
        }
        let row = ProbeRow {
            step,
            fd_vgg16: stats::frechet_distance(&features, &self.style)?,
            kid: stats::kid(&features, &self.style)?,
            look: Look::mean(&looks),
        };
        let path = self.dir.join(CSV);
        let l = row.look;
        let mut f = fs::OpenOptions::new().append(true).open(&path).with_context(|| format!("{}", path.display()))?;
        writeln!(
            f,
            "{},{:.4},{:.6},{:.6},{:.4},{:.4},{:.4},{:.4},{:.3}",
            step,
            row.fd_vgg16,
            row.kid.0,
            row.kid.1,
            l.structure,
            l.sharpness,
            l.flatness,
            l.colourfulness,
            l.edge_darkness
        )?;
        self.plot()?;
        Ok(row)
    }

    fn plot(&self) -> anyhow::Result<()> {
        let text = fs::read_to_string(self.dir.join(CSV))?;
        let rows: Vec<Vec<f64>> =
            text.lines().skip(1).map(|l| l.split(',').filter_map(|v| v.parse().ok()).collect()).collect();
        let series = |col: usize| -> Vec<(u64, f64)> {
            rows.iter().filter(|r| r.len() > col).map(|r| (r[0] as u64, r[col])).collect()
        };
        plot::curve_png(&self.dir.join("eval-curve.png"), "FD-VGG16", &[("FD-VGG16 to held-out art", series(1))])?;
        plot::curve_png(
            &self.dir.join("look-curve.png"),
            "look",
            &[
                ("structure", series(4)),
                ("sharpness", series(5)),
                ("flatness", series(6)),
                ("colourfulness", series(7)),
            ],
        )
    }
}
