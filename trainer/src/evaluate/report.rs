//! The report folder `evaluate` writes: `report.md` (tables), `report.json` (the same numbers
//! for scripts), `charts.png` (a bar chart per measure, goal lines dashed), `grid.png` (input |
//! each model, whole frames) and `crops.png` (the same at 1:1, on each image's busiest region).

use std::fmt::Write as _;
use std::path::Path;

use image::imageops::{self, FilterType};
use image::{Rgb, RgbImage};
use serde::Serialize;

use crate::files::write_atomic;
use crate::plot;

/// Look-signature goals for the next model (issue #15): (measure, goal, "at least" = true).
pub const GOALS: [(&str, f64, bool); 5] = [
    ("structure", 0.82, true),
    ("sharpness", 1.0, true),
    ("flatness", 0.55, false),
    ("colourfulness", 1.0, true),
    ("edge darkness", -8.0, false),
];

/// The five look-signature measures of one image (see `gstanimestyle::metrics::LookSignature`).
#[derive(Debug, Clone, Copy, Serialize, Default)]
pub struct Look {
    pub structure: f64,
    pub sharpness: f64,
    pub flatness: f64,
    pub colourfulness: f64,
    pub edge_darkness: f64,
}

impl From<gstanimestyle::metrics::LookSignature> for Look {
    fn from(l: gstanimestyle::metrics::LookSignature) -> Look {
        Look {
            structure: l.structure,
            sharpness: l.sharpness,
            flatness: l.flatness,
            colourfulness: l.colourfulness,
            edge_darkness: l.edge_darkness,
        }
    }
}

impl Look {
    pub fn values(&self) -> [f64; 5] {
        [self.structure, self.sharpness, self.flatness, self.colourfulness, self.edge_darkness]
    }

    pub fn mean(all: &[Look]) -> Look {
        let n = all.len().max(1) as f64;
        let sum = |f: fn(&Look) -> f64| all.iter().map(f).sum::<f64>() / n;
        Look {
            structure: sum(|l| l.structure),
            sharpness: sum(|l| l.sharpness),
            flatness: sum(|l| l.flatness),
            colourfulness: sum(|l| l.colourfulness),
            edge_darkness: sum(|l| l.edge_darkness),
        }
    }
}

/// How drawn a set of images reads, on the images alone (issue #25): means over the set of
/// `gstanimestyle::metrics::drawn`'s measures, and the photo-vs-drawing probe's mean
/// probability when a probe was fit.
#[derive(Debug, Clone, Copy, Serialize, Default)]
pub struct Drawn {
    /// Strong-edge pixels per weak-gradient pixel.
    pub crispness: f64,
    /// Share of pixels on thin dark strokes (0–1).
    pub ink_share: f64,
    /// Mean probability (0–1) the VGG16 probe gives to "drawing".
    pub p_drawing: Option<f64>,
}

impl Drawn {
    pub fn measure(images: &[RgbImage], p_drawing: Option<f64>) -> Drawn {
        let n = images.len().max(1) as f64;
        let (mut crispness, mut ink_share) = (0.0, 0.0);
        for img in images {
            let d = gstanimestyle::metrics::drawn::drawnness(gstanimestyle::metrics::Rgb8::new(
                img.width() as usize,
                img.height() as usize,
                img.as_raw(),
            ));
            crispness += d.crispness / n;
            ink_share += d.ink_share / n;
        }
        Drawn { crispness, ink_share, p_drawing }
    }
}

/// One image's measures for one model.
#[derive(Debug, Clone, Serialize)]
pub struct ImageScore {
    pub image: String,
    pub look: Look,
    /// LPIPS-VGG of the output to the input (0 = identical); `None` without perceptual weights.
    pub lpips: Option<f64>,
}

/// Temporal measures of one model: each with smoothing as configured, and the same model with
/// `temporal-smoothing=0` for the ratio.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Temporal {
    pub flicker: f64,
    pub flicker_unsmoothed: f64,
    pub warp_pan: f64,
    pub warp_pan_unsmoothed: f64,
    pub warp_zoom: f64,
    pub warp_zoom_unsmoothed: f64,
    /// Flicker over the static background of the video clip (if one was given).
    pub video_flicker: Option<f64>,
    pub video_flicker_unsmoothed: Option<f64>,
}

/// Everything measured for one model.
#[derive(Debug, Clone, Serialize)]
pub struct ModelReport {
    pub label: String,
    pub description: String,
    pub images: Vec<ImageScore>,
    pub look: Look,
    pub lpips: Option<f64>,
    /// Fréchet distance of VGG16 features to the style set.
    pub fd_vgg16: Option<f64>,
    /// KID (unbiased MMD², cubic polynomial kernel) and its standard error.
    pub kid: Option<(f64, f64)>,
    /// Drawn-ness of the outputs.
    pub drawn: Drawn,
    pub temporal: Option<Temporal>,
    /// Median wall time of a frame through the element at the report's frame size.
    pub ms_per_frame: Option<f64>,
}

/// The whole report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub command_line: String,
    pub frame: (u32, u32),
    pub inputs: Vec<String>,
    pub notes: Vec<String>,
    /// Drawn-ness of the style set itself (when one was given): the scale of a drawing.
    pub reference_drawn: Option<Drawn>,
    pub models: Vec<ModelReport>,
}

fn opt(v: Option<f64>, digits: usize) -> String {
    v.filter(|v| v.is_finite()).map(|v| format!("{v:.digits$}")).unwrap_or_else(|| "–".into())
}

fn ratio(a: f64, b: f64) -> String {
    if b > 0.0 { format!("{:.2}×", a / b) } else { "–".into() }
}

/// `report.md`.
pub fn markdown(r: &Report) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# animestyle-train evaluate\n");
    let _ = writeln!(s, "Command: `{}`\n", r.command_line);
    for line in &r.inputs {
        let _ = writeln!(s, "- {line}");
    }
    let _ = writeln!(s, "\n## Look, content and style (means over the images)\n");
    let _ = writeln!(
        s,
        "| model | structure | sharpness | flatness | colourfulness | edge darkness | LPIPS to input | FD-VGG16 to style | KID ×10³ (± s.e.) |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|---|---|---|");
    let _ = writeln!(
        s,
        "| *goal (next model)* | ≥ 0.82 | ≥ 1.00 | ≤ 0.55 | ≥ 1.00× | ≤ −8 | | ≥ 25% below the old default | |"
    );
    for m in &r.models {
        let l = m.look;
        let kid = m.kid.map(|(k, e)| format!("{:.2} ± {:.2}", k * 1e3, e * 1e3)).unwrap_or_else(|| "–".into());
        let _ = writeln!(
            s,
            "| {} | {:.3} | {:.2} | {:.2} | {:.2}× | {:+.1} | {} | {} | {} |",
            m.label,
            l.structure,
            l.sharpness,
            l.flatness,
            l.colourfulness,
            l.edge_darkness,
            opt(m.lpips, 3),
            opt(m.fd_vgg16, 1),
            kid
        );
    }
    let _ = writeln!(s, "\n## Drawn-ness (means over the images)\n");
    let _ = writeln!(
        s,
        "| | KID ×10³ to the style set (± s.e.) | P(drawing), VGG16 probe | strong / weak edges | thin dark strokes |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|");
    let drawn_row = |s: &mut String, label: &str, kid: Option<(f64, f64)>, d: &Drawn| {
        let kid = kid.map(|(k, e)| format!("{:.1} ± {:.1}", k * 1e3, e * 1e3)).unwrap_or_else(|| "–".into());
        let _ = writeln!(
            s,
            "| {label} | {kid} | {} | {:.3} | {:.2}% |",
            opt(d.p_drawing, 3),
            d.crispness,
            d.ink_share * 100.0
        );
    };
    if let Some(d) = &r.reference_drawn {
        drawn_row(&mut s, "*held-out drawings (the style set)*", None, d);
    }
    for m in &r.models {
        drawn_row(&mut s, &m.label, m.kid, &m.drawn);
    }
    if r.models.iter().any(|m| m.temporal.is_some() || m.ms_per_frame.is_some()) {
        let _ = writeln!(s, "\n## Temporal and speed\n");
        let _ = writeln!(
            s,
            "Each temporal figure is the model as configured, then in brackets the ratio to the same model with \
             `temporal-smoothing=0` (below 1 = smoothing helps).\n"
        );
        let _ = writeln!(
            s,
            "| model | flicker, static noisy scene | warping error, pan | warping error, zoom | video background flicker | ms per frame (element) |"
        );
        let _ = writeln!(s, "|---|---|---|---|---|---|");
        for m in &r.models {
            let t = |v: f64, off: f64| format!("{v:.3} ({})", ratio(v, off));
            let (fl, pan, zoom, video) = match &m.temporal {
                Some(t0) => (
                    t(t0.flicker, t0.flicker_unsmoothed),
                    t(t0.warp_pan, t0.warp_pan_unsmoothed),
                    t(t0.warp_zoom, t0.warp_zoom_unsmoothed),
                    match (t0.video_flicker, t0.video_flicker_unsmoothed) {
                        (Some(a), Some(b)) => t(a, b),
                        _ => "–".into(),
                    },
                ),
                None => ("–".into(), "–".into(), "–".into(), "–".into()),
            };
            let _ = writeln!(s, "| {} | {fl} | {pan} | {zoom} | {video} | {} |", m.label, opt(m.ms_per_frame, 1));
        }
    }
    let _ = writeln!(
        s,
        "\n![bar charts](charts.png)\n\n![input and each model](grid.png)\n\n![1:1 crops](crops.png)\n\n\
             `gallery.png` holds both side by side.\n"
    );
    let _ = writeln!(s, "## Per image\n");
    for m in &r.models {
        let _ = writeln!(s, "### {}\n\n{}\n", m.label, m.description);
        let _ = writeln!(s, "| image | structure | sharpness | flatness | colourfulness | edge darkness | LPIPS |");
        let _ = writeln!(s, "|---|---|---|---|---|---|---|");
        for i in &m.images {
            let l = i.look;
            let _ = writeln!(
                s,
                "| {} | {:.3} | {:.2} | {:.2} | {:.2}× | {:+.1} | {} |",
                i.image,
                l.structure,
                l.sharpness,
                l.flatness,
                l.colourfulness,
                l.edge_darkness,
                opt(i.lpips, 3)
            );
        }
        let _ = writeln!(s);
    }
    let _ = writeln!(s, "## Notes\n");
    for n in &r.notes {
        let _ = writeln!(s, "- {n}");
    }
    s
}

/// `charts.png`: a legend, then one bar chart per measure (3 per row).
pub fn charts(r: &Report) -> RgbImage {
    let labels: Vec<&str> = r.models.iter().map(|m| m.label.as_str()).collect();
    let series = |f: &dyn Fn(&ModelReport) -> Option<f64>| -> Vec<(&str, f64)> {
        r.models.iter().map(|m| (m.label.as_str(), f(m).unwrap_or(f64::NAN))).collect()
    };
    let mut charts = Vec::new();
    for (k, (name, goal, _)) in GOALS.iter().enumerate() {
        charts.push(plot::bar_chart_image(name, &series(&|m| Some(m.look.values()[k])), Some(*goal)));
    }
    charts.push(plot::bar_chart_image("LPIPS to input", &series(&|m| m.lpips), None));
    charts.push(plot::bar_chart_image("FD-VGG16 to style set", &series(&|m| m.fd_vgg16), None));
    charts.push(plot::bar_chart_image("KID x1000", &series(&|m| m.kid.map(|k| k.0 * 1e3)), None));
    let reference = r.reference_drawn;
    charts.push(plot::bar_chart_image(
        "strong / weak edges",
        &series(&|m| Some(m.drawn.crispness)),
        reference.map(|d| d.crispness),
    ));
    charts.push(plot::bar_chart_image(
        "thin dark strokes %",
        &series(&|m| Some(m.drawn.ink_share * 100.0)),
        reference.map(|d| d.ink_share * 100.0),
    ));
    if r.models.iter().any(|m| m.drawn.p_drawing.is_some()) {
        charts.push(plot::bar_chart_image(
            "P(drawing), VGG16 probe",
            &series(&|m| m.drawn.p_drawing),
            reference.and_then(|d| d.p_drawing),
        ));
    }
    if r.models.iter().any(|m| m.temporal.is_some()) {
        charts.push(plot::bar_chart_image(
            "flicker / unsmoothed",
            &series(&|m| m.temporal.map(|t| t.flicker / t.flicker_unsmoothed)),
            Some(0.2),
        ));
        charts.push(plot::bar_chart_image(
            "warp error pan / unsmoothed",
            &series(&|m| m.temporal.map(|t| t.warp_pan / t.warp_pan_unsmoothed)),
            Some(1.0),
        ));
        charts.push(plot::bar_chart_image("ms per frame", &series(&|m| m.ms_per_frame), None));
    }
    let rows: Vec<Vec<RgbImage>> = charts.chunks(3).map(|c| c.to_vec()).collect();
    let grid = plot::sample_grid_image(&rows);
    let legend = plot::legend_image(&labels, grid.width());
    let mut out = RgbImage::from_pixel(grid.width(), grid.height() + legend.height(), Rgb([255, 255, 255]));
    imageops::replace(&mut out, &legend, 0, 0);
    imageops::replace(&mut out, &grid, 0, legend.height() as i64);
    out
}

/// `grid.png`: one row per image, `input | each model`, each frame shrunk to `tile_width`.
pub fn grid(inputs: &[RgbImage], outputs: &[Vec<RgbImage>], tile_width: u32) -> RgbImage {
    let rows: Vec<Vec<RgbImage>> = inputs
        .iter()
        .enumerate()
        .map(|(i, input)| {
            std::iter::once(input)
                .chain(outputs.iter().map(|o| &o[i]))
                .map(|f| {
                    let h = (f.height() as u64 * tile_width as u64 / f.width().max(1) as u64).max(1) as u32;
                    imageops::resize(f, tile_width, h, FilterType::Triangle)
                })
                .collect()
        })
        .collect();
    plot::sample_grid_image(&rows)
}

/// `crops.png`: one row per image, `input | each model` at 1:1 (`crop` pixels), taken where the
/// input has the most edges (hair, eyes, foliage: where blur shows).
pub fn crops(inputs: &[RgbImage], outputs: &[Vec<RgbImage>], crop: (u32, u32)) -> RgbImage {
    let rows: Vec<Vec<RgbImage>> = inputs
        .iter()
        .enumerate()
        .map(|(i, input)| {
            let (cw, ch) = (crop.0.min(input.width()), crop.1.min(input.height()));
            let (x, y) = busiest(input, (cw, ch));
            std::iter::once(input)
                .chain(outputs.iter().map(|o| &o[i]))
                .map(|f| imageops::crop_imm(f, x, y, cw, ch).to_image())
                .collect()
        })
        .collect();
    plot::sample_grid_image(&rows)
}

/// Top-left corner of the `crop` window with the most luma gradient, on a coarse grid.
fn busiest(img: &RgbImage, (cw, ch): (u32, u32)) -> (u32, u32) {
    let (w, h) = img.dimensions();
    let luma = |x: u32, y: u32| {
        let p = img.get_pixel(x, y).0;
        0.299 * p[0] as f32 + 0.587 * p[1] as f32 + 0.114 * p[2] as f32
    };
    let step = (cw.min(ch) / 4).max(1);
    let mut best = (0.0f32, (w - cw) / 2, (h - ch) / 2);
    for y in (0..=h - ch).step_by(step as usize) {
        for x in (0..=w - cw).step_by(step as usize) {
            let mut e = 0.0;
            for yy in (y + 1..y + ch).step_by(2) {
                for xx in (x + 1..x + cw).step_by(2) {
                    e += (luma(xx, yy) - luma(xx - 1, yy)).abs() + (luma(xx, yy) - luma(xx, yy - 1)).abs();
                }
            }
            if e > best.0 {
                best = (e, x, y);
            }
        }
    }
    (best.1, best.2)
}

/// Writes the report folder.
pub fn write(dir: &Path, r: &Report, inputs: &[RgbImage], outputs: &[Vec<RgbImage>]) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)
        .map_err(|e| anyhow::anyhow!("cannot create report folder {}: {e}; choose a writable path", dir.display()))?;
    write_atomic(&dir.join("report.md"), markdown(r).as_bytes())?;
    write_atomic(&dir.join("report.json"), serde_json::to_string_pretty(r)?.as_bytes())?;
    plot::save_png(&dir.join("charts.png"), &charts(r))?;
    let (whole, detail) = (grid(inputs, outputs, 256), crops(inputs, outputs, (192, 144)));
    plot::save_png(&dir.join("gallery.png"), &side_by_side(&whole, &detail, 12))?;
    plot::save_png(&dir.join("grid.png"), &whole)?;
    plot::save_png(&dir.join("crops.png"), &detail)?;
    Ok(())
}

/// `gallery.png`: the whole frames and the 1:1 crops of each image side by side (both have one
/// row per image, the input first, then each model), `gap` white pixels apart.
pub fn side_by_side(left: &RgbImage, right: &RgbImage, gap: u32) -> RgbImage {
    let height = left.height().max(right.height());
    let mut out = RgbImage::from_pixel(left.width() + gap + right.width(), height, image::Rgb([255, 255, 255]));
    imageops::replace(&mut out, left, 0, 0);
    imageops::replace(&mut out, right, (left.width() + gap) as i64, 0);
    out
}
