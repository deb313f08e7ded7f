//! Loss curves and sample grids as PNG files, with no plotting dependency: lines are drawn
//! with Bresenham and labels with an embedded 5×7 bitmap font.
//!
//! Both writers are atomic: the PNG is encoded in memory, written to a temporary file beside
//! `path`, then renamed over it.

use std::io::Cursor;
use std::path::Path;

use anyhow::Context;
use image::{ImageFormat, Rgb, RgbImage};

use crate::files::write_atomic;

const WIDTH: u32 = 800;
const HEIGHT: u32 = 400;
const MARGIN_LEFT: i32 = 84;
const MARGIN_RIGHT: i32 = 16;
const MARGIN_TOP: i32 = 28;
const MARGIN_BOTTOM: i32 = 36;

const BACKGROUND: Rgb<u8> = Rgb([255, 255, 255]);
const AXIS: Rgb<u8> = Rgb([40, 40, 40]);
const GRID: Rgb<u8> = Rgb([228, 228, 228]);
const TEXT: Rgb<u8> = Rgb([20, 20, 20]);

/// Distinct, colour-blind-friendly colours (Okabe–Ito), cycled.
const PALETTE: [[u8; 3]; 8] = [
    [0, 114, 178],
    [213, 94, 0],
    [0, 158, 115],
    [204, 121, 167],
    [230, 159, 0],
    [86, 180, 233],
    [0, 0, 0],
    [240, 228, 66],
];

/// Draws each series (`(name, [(step, value)])`) against the step into an 800×400 PNG at `path`:
/// axes, min/max labels of both axes, a legend with each series' last (smoothed) value. Noisy
/// series are smoothed with a centred moving average (the raw values are drawn faintly behind).
/// When all values are positive and span more than two decades the y axis is logarithmic.
/// Non-finite values are skipped.
pub fn loss_curve_png(path: &Path, series: &[(&str, Vec<(u64, f64)>)]) -> anyhow::Result<()> {
    curve_png(path, "LOSS", series)
}

/// [`loss_curve_png`] for any measure: the title reads "`what` VS STEP".
pub fn curve_png(path: &Path, what: &str, series: &[(&str, Vec<(u64, f64)>)]) -> anyhow::Result<()> {
    write_png(path, &curve_image(what, series))
}

/// The image [`loss_curve_png`] writes.
pub fn loss_curve_image(series: &[(&str, Vec<(u64, f64)>)]) -> RgbImage {
    curve_image("LOSS", series)
}

/// The image [`curve_png`] writes.
pub fn curve_image(what: &str, series: &[(&str, Vec<(u64, f64)>)]) -> RgbImage {
    let mut img = RgbImage::from_pixel(WIDTH, HEIGHT, BACKGROUND);
    let clean: Vec<(&str, Vec<(u64, f64)>)> = series
        .iter()
        .map(|(name, pts)| (*name, pts.iter().copied().filter(|(_, v)| v.is_finite()).collect()))
        .collect();
    let smoothed: Vec<Vec<(u64, f64)>> = clean.iter().map(|(_, pts)| smooth(pts)).collect();

    let all = || clean.iter().flat_map(|(_, p)| p.iter());
    let (x_lo, x_hi) = all().fold((u64::MAX, 0u64), |(lo, hi), (s, _)| (lo.min(*s), hi.max(*s)));
    // The y range follows the smoothed curves so a few spikes do not flatten everything.
    let ys = || smoothed.iter().flat_map(|p| p.iter().map(|(_, v)| *v));
    let (mut y_lo, mut y_hi) = ys().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let log = y_lo > 0.0 && y_hi / y_lo > 100.0;

    let (px0, py0) = (MARGIN_LEFT, MARGIN_TOP);
    let (px1, py1) = (WIDTH as i32 - MARGIN_RIGHT, HEIGHT as i32 - MARGIN_BOTTOM);
    let title = format!("{} {}VS STEP", what.to_uppercase(), if log { "(LOG SCALE) " } else { "" });
    draw_text(&mut img, px0, 8, &title, TEXT, 2);

    if x_lo > x_hi || !y_lo.is_finite() {
        draw_text(&mut img, px0 + 20, (py0 + py1) / 2, "NO DATA YET", TEXT, 2);
        draw_axes(&mut img, px0, py0, px1, py1);
        return img;
    }
    if y_hi - y_lo < 1e-12 {
        let pad = if y_lo.abs() > 1e-12 { y_lo.abs() * 0.05 } else { 1.0 };
        y_lo -= pad;
        y_hi += pad;
        if log && y_lo <= 0.0 {
            y_lo = y_hi / 10.0;
        }
    }
    let tf = |v: f64| if log { v.max(f64::MIN_POSITIVE).log10() } else { v };
    let (t_lo, t_hi) = (tf(y_lo), tf(y_hi));
    let x_span = (x_hi - x_lo).max(1) as f64;
    let to_px = |s: u64, v: f64| -> (i32, i32) {
        let fx = (s - x_lo) as f64 / x_span;
        let fy = ((tf(v) - t_lo) / (t_hi - t_lo)).clamp(-0.02, 1.02);
        (px0 + (fx * (px1 - px0) as f64).round() as i32, py1 - (fy * (py1 - py0) as f64).round() as i32)
    };

    // Grid: quarter lines.
    for i in 1..4 {
        let y = py0 + (py1 - py0) * i / 4;
        hline(&mut img, px0, px1, y, GRID);
        let x = px0 + (px1 - px0) * i / 4;
        vline(&mut img, x, py0, py1, GRID);
    }

    for (k, ((_, raw), sm)) in clean.iter().zip(&smoothed).enumerate() {
        let c = PALETTE[k % PALETTE.len()];
        let faint = Rgb(c.map(|v| (v as u16 + 3 * 255).div_ceil(4) as u8));
        if sm.len() != raw.len() || raw.iter().zip(sm).any(|(a, b)| a.1 != b.1) {
            polyline(&mut img, raw.iter().map(|(s, v)| to_px(*s, *v)), faint, 1, (px0, py0, px1, py1));
        }
        polyline(&mut img, sm.iter().map(|(s, v)| to_px(*s, *v)), Rgb(c), 2, (px0, py0, px1, py1));
    }
    draw_axes(&mut img, px0, py0, px1, py1);

    // Axis labels: y max / min at the left, x min / max below.
    let y_max_label = fmt_value(y_hi);
    let y_min_label = fmt_value(y_lo);
    draw_text(&mut img, px0 - 6 - text_width(&y_max_label, 1), py0 - 3, &y_max_label, TEXT, 1);
    draw_text(&mut img, px0 - 6 - text_width(&y_min_label, 1), py1 - 3, &y_min_label, TEXT, 1);
    let x_min_label = x_lo.to_string();
    let x_max_label = x_hi.to_string();
    draw_text(&mut img, px0, py1 + 6, &x_min_label, TEXT, 1);
    draw_text(&mut img, px1 - text_width(&x_max_label, 1), py1 + 6, &x_max_label, TEXT, 1);
    draw_text(&mut img, (px0 + px1) / 2 - text_width("STEP", 2) / 2, py1 + 16, "STEP", TEXT, 2);

    // Legend, top right inside the plot.
    let entries: Vec<String> = clean
        .iter()
        .zip(&smoothed)
        .map(|((name, _), sm)| match sm.last() {
            Some((_, v)) => format!("{name} {}", fmt_value(*v)),
            None => format!("{name} -"),
        })
        .collect();
    let legend_w = entries.iter().map(|e| text_width(e, 1)).max().unwrap_or(0) + 24;
    let lx = px1 - legend_w - 6;
    let mut ly = py0 + 6;
    fill_rect(&mut img, lx - 4, ly - 4, legend_w + 8, entries.len() as i32 * 12 + 6, BACKGROUND);
    for (k, e) in entries.iter().enumerate() {
        let c = Rgb(PALETTE[k % PALETTE.len()]);
        fill_rect(&mut img, lx, ly + 1, 14, 5, c);
        draw_text(&mut img, lx + 20, ly, e, TEXT, 1);
        ly += 12;
    }
    img
}

/// Writes rows of tiles (e.g. input | output | teacher) with 2-px gaps on a dark background.
/// Tiles should all have the same size; smaller ones are placed top-left in their cell.
pub fn sample_grid_png(path: &Path, rows: &[Vec<RgbImage>]) -> anyhow::Result<()> {
    let img = sample_grid_image(rows);
    write_png(path, &img)
}

/// The image [`sample_grid_png`] writes.
pub fn sample_grid_image(rows: &[Vec<RgbImage>]) -> RgbImage {
    const GAP: u32 = 2;
    let tiles = || rows.iter().flat_map(|r| r.iter());
    let tw = tiles().map(|t| t.width()).max().unwrap_or(1).max(1);
    let th = tiles().map(|t| t.height()).max().unwrap_or(1).max(1);
    let cols = rows.iter().map(|r| r.len()).max().unwrap_or(1).max(1) as u32;
    let nrows = rows.len().max(1) as u32;
    let mut img = RgbImage::from_pixel(cols * tw + (cols + 1) * GAP, nrows * th + (nrows + 1) * GAP, Rgb([32, 32, 32]));
    for (r, row) in rows.iter().enumerate() {
        for (c, tile) in row.iter().enumerate() {
            let x = GAP + c as u32 * (tw + GAP);
            let y = GAP + r as u32 * (th + GAP);
            image::imageops::replace(&mut img, tile, x as i64, y as i64);
        }
    }
    img
}

/// One bar chart: a bar per `(label, value)` in [`PALETTE`] order (so the same model has the
/// same colour in every chart of a report), its value printed above it, an optional dashed
/// `target` line, and `title` on top. Non-finite values are drawn as "n/a". The y axis starts
/// at 0 (or at the lowest value when some are negative) so bar lengths compare honestly.
pub fn bar_chart_image(title: &str, bars: &[(&str, f64)], target: Option<f64>) -> RgbImage {
    const W: u32 = 360;
    const H: u32 = 220;
    let mut img = RgbImage::from_pixel(W, H, BACKGROUND);
    draw_text(&mut img, 8, 6, title, TEXT, 1);
    let (px0, py0, px1, py1) = (60, 34, W as i32 - 10, H as i32 - 16);
    let finite = || bars.iter().map(|(_, v)| *v).chain(target).filter(|v| v.is_finite());
    let lo = finite().fold(0.0f64, f64::min);
    let hi = finite().fold(0.0f64, f64::max);
    let hi = if hi - lo < 1e-12 { lo + 1.0 } else { hi + 0.12 * (hi - lo) };
    let y_of = |v: f64| py1 - ((v - lo) / (hi - lo) * (py1 - py0) as f64).round() as i32;
    draw_axes(&mut img, px0, py0, px1, py1);
    for v in [lo, hi] {
        let label = fmt_value(v);
        draw_text(&mut img, px0 - 6 - text_width(&label, 1), y_of(v) - 3, &label, TEXT, 1);
    }
    if lo < 0.0 {
        hline(&mut img, px0, px1, y_of(0.0), AXIS);
    }
    let n = bars.len().max(1) as i32;
    let slot = (px1 - px0) / n;
    let bar_w = (slot * 2 / 3).max(2);
    for (i, (_, v)) in bars.iter().enumerate() {
        let x = px0 + i as i32 * slot + (slot - bar_w) / 2;
        let label = if v.is_finite() { fmt_value(*v) } else { "n/a".to_string() };
        let ty = if v.is_finite() {
            let (a, b) = (y_of(0.0f64.max(lo)), y_of(*v));
            let c = PALETTE[i % PALETTE.len()];
            fill_rect(&mut img, x, a.min(b), bar_w, (a - b).abs().max(1), Rgb(c));
            a.min(b) - 10
        } else {
            py1 - 10
        };
        draw_text(&mut img, x + (bar_w - text_width(&label, 1)) / 2, ty, &label, TEXT, 1);
    }
    if let Some(t) = target.filter(|t| t.is_finite()) {
        let y = y_of(t);
        for x in (px0..px1).step_by(8) {
            hline(&mut img, x, (x + 4).min(px1), y, Rgb([200, 0, 0]));
        }
        draw_text(&mut img, px1 - text_width("GOAL", 1), y - 9, "GOAL", Rgb([200, 0, 0]), 1);
    }
    img
}

/// A legend strip: a colour swatch per label, in [`PALETTE`] order (see [`bar_chart_image`]).
pub fn legend_image(labels: &[&str], width: u32) -> RgbImage {
    let rows = labels.len().max(1) as u32;
    let mut img = RgbImage::from_pixel(width, 8 + 14 * rows, BACKGROUND);
    for (i, label) in labels.iter().enumerate() {
        let y = 6 + 14 * i as i32;
        fill_rect(&mut img, 8, y, 16, 9, Rgb(PALETTE[i % PALETTE.len()]));
        draw_text(&mut img, 32, y + 1, label, TEXT, 1);
    }
    img
}

/// Writes `img` as a PNG at `path`, atomically.
pub fn save_png(path: &Path, img: &RgbImage) -> anyhow::Result<()> {
    write_png(path, img)
}

fn write_png(path: &Path, img: &RgbImage) -> anyhow::Result<()> {
    let mut buf = Cursor::new(Vec::new());
    img.write_to(&mut buf, ImageFormat::Png).context("encoding PNG")?;
    write_atomic(path, buf.get_ref())
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}; choose a writable path", path.display()))
}

/// Centred moving average with a window of ~2% of the points (odd, at least 1); short series
/// are returned as they are.
fn smooth(pts: &[(u64, f64)]) -> Vec<(u64, f64)> {
    let half = pts.len() / 100;
    if half == 0 {
        return pts.to_vec();
    }
    let mut prefix = vec![0.0; pts.len() + 1];
    for (i, (_, v)) in pts.iter().enumerate() {
        prefix[i + 1] = prefix[i] + v;
    }
    (0..pts.len())
        .map(|i| {
            let lo = i.saturating_sub(half);
            let hi = (i + half + 1).min(pts.len());
            (pts[i].0, (prefix[hi] - prefix[lo]) / (hi - lo) as f64)
        })
        .collect()
}

fn fmt_value(v: f64) -> String {
    let a = v.abs();
    if a != 0.0 && !(1e-3..1e5).contains(&a) {
        format!("{v:.2e}")
    } else if a >= 100.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.4}")
    }
}

fn put(img: &mut RgbImage, x: i32, y: i32, c: Rgb<u8>) {
    if x >= 0 && y >= 0 && (x as u32) < img.width() && (y as u32) < img.height() {
        img.put_pixel(x as u32, y as u32, c);
    }
}

fn fill_rect(img: &mut RgbImage, x: i32, y: i32, w: i32, h: i32, c: Rgb<u8>) {
    for yy in y..y + h {
        for xx in x..x + w {
            put(img, xx, yy, c);
        }
    }
}

fn hline(img: &mut RgbImage, x0: i32, x1: i32, y: i32, c: Rgb<u8>) {
    for x in x0..=x1 {
        put(img, x, y, c);
    }
}

fn vline(img: &mut RgbImage, x: i32, y0: i32, y1: i32, c: Rgb<u8>) {
    for y in y0..=y1 {
        put(img, x, y, c);
    }
}

fn draw_axes(img: &mut RgbImage, px0: i32, py0: i32, px1: i32, py1: i32) {
    hline(img, px0, px1, py1, AXIS);
    vline(img, px0, py0, py1, AXIS);
    for (x, y) in [(px0 - 4, py0), (px0 - 4, py1)] {
        hline(img, x, px0, y, AXIS);
    }
    for x in [px0, px1] {
        vline(img, x, py1, py1 + 4, AXIS);
    }
}

/// Connected line through `pts`, `thick` pixels wide, clipped to `clip = (x0, y0, x1, y1)`.
fn polyline(
    img: &mut RgbImage,
    pts: impl Iterator<Item = (i32, i32)>,
    c: Rgb<u8>,
    thick: i32,
    clip: (i32, i32, i32, i32),
) {
    let mut prev: Option<(i32, i32)> = None;
    for p in pts {
        let from = prev.unwrap_or(p);
        line(img, from, p, c, thick, clip);
        prev = Some(p);
    }
}

fn line(
    img: &mut RgbImage,
    (mut x0, mut y0): (i32, i32),
    (x1, y1): (i32, i32),
    c: Rgb<u8>,
    thick: i32,
    clip: (i32, i32, i32, i32),
) {
    let dx = (x1 - x0).abs();
    let dy = -(y1 - y0).abs();
    let sx = if x0 < x1 { 1 } else { -1 };
    let sy = if y0 < y1 { 1 } else { -1 };
    let mut err = dx + dy;
    loop {
        for t in 0..thick {
            let (x, y) = (x0, y0 + t);
            if x >= clip.0 && x <= clip.2 && y >= clip.1 && y <= clip.3 {
                put(img, x, y, c);
            }
        }
        if x0 == x1 && y0 == y1 {
            break;
        }
        let e2 = 2 * err;
        if e2 >= dy {
            err += dy;
            x0 += sx;
        }
        if e2 <= dx {
            err += dx;
            y0 += sy;
        }
    }
}

fn text_width(s: &str, scale: i32) -> i32 {
    s.chars().count() as i32 * 6 * scale
}

/// Draws `s` (upper-cased; unknown characters as `?`) with its top-left corner at `(x, y)`.
fn draw_text(img: &mut RgbImage, x: i32, y: i32, s: &str, c: Rgb<u8>, scale: i32) {
    for (i, ch) in s.chars().enumerate() {
        let rows = glyph(ch.to_ascii_uppercase());
        let gx = x + i as i32 * 6 * scale;
        for (ry, bits) in rows.iter().enumerate() {
            for rx in 0..5 {
                if bits & (0b10000 >> rx) != 0 {
                    fill_rect(img, gx + rx * scale, y + ry as i32 * scale, scale, scale, c);
                }
            }
        }
    }
}

/// 5×7 glyphs, one `u8` per row, bit 4 = leftmost column.
fn glyph(c: char) -> [u8; 7] {
    match c {
        ' ' => [0; 7],
        '0' => [0b01110, 0b10001, 0b10011, 0b10101, 0b11001, 0b10001, 0b01110],
        '1' => [0b00100, 0b01100, 0b00100, 0b00100, 0b00100, 0b00100, 0b01110],
        '2' => [0b01110, 0b10001, 0b00001, 0b00010, 0b00100, 0b01000, 0b11111],
        '3' => [0b11111, 0b00010, 0b00100, 0b00010, 0b00001, 0b10001, 0b01110],
        '4' => [0b00010, 0b00110, 0b01010, 0b10010, 0b11111, 0b00010, 0b00010],
        '5' => [0b11111, 0b10000, 0b11110, 0b00001, 0b00001, 0b10001, 0b01110],
        '6' => [0b00110, 0b01000, 0b10000, 0b11110, 0b10001, 0b10001, 0b01110],
        '7' => [0b11111, 0b00001, 0b00010, 0b00100, 0b01000, 0b01000, 0b01000],
        '8' => [0b01110, 0b10001, 0b10001, 0b01110, 0b10001, 0b10001, 0b01110],
        '9' => [0b01110, 0b10001, 0b10001, 0b01111, 0b00001, 0b00010, 0b01100],
        'A' => [0b01110, 0b10001, 0b10001, 0b11111, 0b10001, 0b10001, 0b10001],
        'B' => [0b11110, 0b10001, 0b10001, 0b11110, 0b10001, 0b10001, 0b11110],
        'C' => [0b01110, 0b10001, 0b10000, 0b10000, 0b10000, 0b10001, 0b01110],
        'D' => [0b11100, 0b10010, 0b10001, 0b10001, 0b10001, 0b10010, 0b11100],
        'E' => [0b11111, 0b10000, 0b10000, 0b11110, 0b10000, 0b10000, 0b11111],
        'F' => [0b11111, 0b10000, 0b10000, 0b11110, 0b10000, 0b10000, 0b10000],
        'G' => [0b01110, 0b10001, 0b10000, 0b10111, 0b10001, 0b10001, 0b01111],
        'H' => [0b10001, 0b10001, 0b10001, 0b11111, 0b10001, 0b10001, 0b10001],
        'I' => [0b01110, 0b00100, 0b00100, 0b00100, 0b00100, 0b00100, 0b01110],
        'J' => [0b00111, 0b00010, 0b00010, 0b00010, 0b00010, 0b10010, 0b01100],
        'K' => [0b10001, 0b10010, 0b10100, 0b11000, 0b10100, 0b10010, 0b10001],
        'L' => [0b10000, 0b10000, 0b10000, 0b10000, 0b10000, 0b10000, 0b11111],
        'M' => [0b10001, 0b11011, 0b10101, 0b10101, 0b10001, 0b10001, 0b10001],
        'N' => [0b10001, 0b10001, 0b11001, 0b10101, 0b10011, 0b10001, 0b10001],
        'O' => [0b01110, 0b10001, 0b10001, 0b10001, 0b10001, 0b10001, 0b01110],
        'P' => [0b11110, 0b10001, 0b10001, 0b11110, 0b10000, 0b10000, 0b10000],
        'Q' => [0b01110, 0b10001, 0b10001, 0b10001, 0b10101, 0b10010, 0b01101],
        'R' => [0b11110, 0b10001, 0b10001, 0b11110, 0b10100, 0b10010, 0b10001],
        'S' => [0b01111, 0b10000, 0b10000, 0b01110, 0b00001, 0b00001, 0b11110],
        'T' => [0b11111, 0b00100, 0b00100, 0b00100, 0b00100, 0b00100, 0b00100],
        'U' => [0b10001, 0b10001, 0b10001, 0b10001, 0b10001, 0b10001, 0b01110],
        'V' => [0b10001, 0b10001, 0b10001, 0b10001, 0b10001, 0b01010, 0b00100],
        'W' => [0b10001, 0b10001, 0b10001, 0b10101, 0b10101, 0b10101, 0b01010],
        'X' => [0b10001, 0b10001, 0b01010, 0b00100, 0b01010, 0b10001, 0b10001],
        'Y' => [0b10001, 0b10001, 0b10001, 0b01010, 0b00100, 0b00100, 0b00100],
        'Z' => [0b11111, 0b00001, 0b00010, 0b00100, 0b01000, 0b10000, 0b11111],
        '.' => [0, 0, 0, 0, 0, 0b01100, 0b01100],
        ',' => [0, 0, 0, 0, 0b01100, 0b00100, 0b01000],
        '-' => [0, 0, 0, 0b11111, 0, 0, 0],
        '+' => [0, 0b00100, 0b00100, 0b11111, 0b00100, 0b00100, 0],
        ':' => [0, 0b01100, 0b01100, 0, 0b01100, 0b01100, 0],
        '_' => [0, 0, 0, 0, 0, 0, 0b11111],
        '=' => [0, 0, 0b11111, 0, 0b11111, 0, 0],
        '(' => [0b00010, 0b00100, 0b01000, 0b01000, 0b01000, 0b00100, 0b00010],
        ')' => [0b01000, 0b00100, 0b00010, 0b00010, 0b00010, 0b00100, 0b01000],
        '[' => [0b01110, 0b01000, 0b01000, 0b01000, 0b01000, 0b01000, 0b01110],
        ']' => [0b01110, 0b00010, 0b00010, 0b00010, 0b00010, 0b00010, 0b01110],
        '/' => [0, 0b00001, 0b00010, 0b00100, 0b01000, 0b10000, 0],
        '%' => [0b11000, 0b11001, 0b00010, 0b00100, 0b01000, 0b10011, 0b00011],
        '|' => [0b00100; 7],
        _ => [0b01110, 0b10001, 0b00001, 0b00010, 0b00100, 0, 0b00100],
    }
}
