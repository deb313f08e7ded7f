//! Gallery and quality figures for a model on held-out images, through the element's own frame
//! path (`gstanimestyle`: area downscale → ONNX Runtime → guided or bilinear upsampling).
//!
//! Every image is centre-cropped to 16:9 and resized to a 1280×720 "frame". Per image it
//! prints PSNR/SSIM of the model against the teacher filter, both at the network's size (what
//! the model was trained to imitate), and the edge sharpness of guided vs bilinear upsampling:
//! the mean squared gradient of the 1280×720 output at the frame's strongest edges (top 5% of
//! its gradient magnitude). It also prints how much flatter, darker-lined and fewer-coloured the
//! model's 720p result is than the frame, next to the same figures for the teacher (see
//! `gstanimestyle::metrics::cel_effect`). The PNG has one row per image:
//! `input | teacher | model (network size) | crop at 1:1 of the 720p result: guided | bilinear`.
//!
//! ```text
//! cargo run --release -p animestyle-train --example gallery -- \
//!     --model models/animestyle-cel.onnx --out docs/gallery.png data/held-out/*
//! ```
//! (`scripts/gallery.sh` also extracts the `vtest.avi` frames and passes them.)

use std::path::PathBuf;

use animestyle_train::teacher::{self, TeacherParams};
use anyhow::{Context, bail};
use gstanimestyle::frame_io::Planes;
use gstanimestyle::guided::GuidedUpsampler;
use gstanimestyle::metrics::{self, Rgb8};
use gstanimestyle::resample::Resampler;
use gstanimestyle::session::{Bundled, ModelSource, Session, SessionSettings};
use gstanimestyle::tensor_io::RgbSource;
use image::{Rgb, RgbImage, imageops};

const FRAME: (usize, usize) = (1280, 720);
const TILE: (u32, u32) = (320, 180);
const GAP: u32 = 4;

struct Options {
    model: Option<PathBuf>,
    out: PathBuf,
    inference_size: u32,
    images: Vec<PathBuf>,
}

fn parse() -> anyhow::Result<Options> {
    let mut o = Options { model: None, out: "docs/gallery.png".into(), inference_size: 0, images: Vec::new() };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--model" => o.model = Some(args.next().context("--model PATH")?.into()),
            "--out" => o.out = args.next().context("--out PATH")?.into(),
            "--inference-size" => o.inference_size = args.next().context("--inference-size N")?.parse()?,
            _ => o.images.push(a.into()),
        }
    }
    if o.images.is_empty() {
        bail!("no images given: pass held-out images (e.g. data/held-out/*, after scripts/fetch-data.sh)");
    }
    Ok(o)
}

fn to_planes(img: &RgbImage) -> Planes {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let mut p = Planes::default();
    p.resize(w, h);
    for (i, px) in img.pixels().enumerate() {
        for c in 0..3 {
            p.data[c * w * h + i] = px.0[c] as f32;
        }
    }
    p
}

fn to_image(p: &Planes) -> RgbImage {
    let n = p.width * p.height;
    RgbImage::from_fn(p.width as u32, p.height as u32, |x, y| {
        let i = y as usize * p.width + x as usize;
        Rgb(std::array::from_fn(|c| p.data[c * n + i].round().clamp(0.0, 255.0) as u8))
    })
}

fn resample(src: &Planes, size: (usize, usize)) -> Planes {
    let mut dst = Planes::default();
    Resampler::new((src.width, src.height), size).resample_planes(src, &mut dst);
    dst
}

/// Centre crop to 16:9, then resize to [`FRAME`].
fn frame_of(img: &RgbImage) -> RgbImage {
    let (w, h) = img.dimensions();
    let (cw, ch) = if w * 9 > h * 16 { (h * 16 / 9, h) } else { (w, w * 9 / 16) };
    let crop = imageops::crop_imm(img, (w - cw) / 2, (h - ch) / 2, cw, ch).to_image();
    to_image(&resample(&to_planes(&crop), FRAME))
}

fn rgb8(img: &RgbImage) -> Rgb8<'_> {
    Rgb8::new(img.width() as usize, img.height() as usize, img.as_raw())
}

/// The `TILE.0 / 2 × TILE.1` window of the frame with the most edge pixels (coarse search).
fn busiest_window(mask: &[bool]) -> (u32, u32) {
    let (cw, ch) = (TILE.0 as usize / 2, TILE.1 as usize);
    let mut best = (0, (0, 0));
    for y in (0..=FRAME.1 - ch).step_by(20) {
        for x in (0..=FRAME.0 - cw).step_by(20) {
            let count = (y..y + ch)
                .map(|yy| mask[yy * FRAME.0 + x..yy * FRAME.0 + x + cw].iter().filter(|m| **m).count())
                .sum();
            if count > best.0 {
                best = (count, (x as u32, y as u32));
            }
        }
    }
    best.1
}

fn main() -> anyhow::Result<()> {
    let o = parse()?;
    let source = o.model.clone().map_or(ModelSource::Embedded(Bundled::Cel), ModelSource::File);
    let mut session = Session::load(&source, &SessionSettings::default()).map_err(|e| anyhow::anyhow!("{e}"))?;
    let contract = session.contract.clone();
    let inference_size = match o.inference_size {
        0 => contract.recommended_inference_size.unwrap_or(384),
        n => n,
    };
    let (content, canvas) = contract.network_size((FRAME.0 as u32, FRAME.1 as u32), inference_size);
    let (content, canvas) = ((content.0 as usize, content.1 as usize), (canvas.0 as usize, canvas.1 as usize));
    println!("model {source}, frame {}x{}, network {}x{}", FRAME.0, FRAME.1, content.0, content.1);
    println!();
    println!(
        "| image | PSNR vs teacher (dB) | SSIM vs teacher | edge energy guided / bilinear | texture ratio \
         model (teacher) | edge luma change model (teacher) | colour ratio model (teacher) |"
    );
    println!("|---|---|---|---|---|---|---|");

    let rows = o.images.len() as u32;
    let width = 4 * TILE.0 + 3 * GAP;
    let mut sheet = RgbImage::from_pixel(width, rows * TILE.1 + (rows - 1) * GAP, Rgb([255, 255, 255]));
    let (mut psnr_sum, mut ssim_sum, mut ratio_sum) = (0.0, 0.0, 0.0);
    let mut guided = GuidedUpsampler::default();
    for (row, path) in o.images.iter().enumerate() {
        let img = image::open(path).with_context(|| format!("reading {}", path.display()))?.to_rgb8();
        let frame = frame_of(&img);
        let frame_planes = to_planes(&frame);
        let small = resample(&frame_planes, content);
        let small_img = to_image(&small);
        let teacher = teacher::apply_rgb8(&small_img, &TeacherParams::default());
        let mut out_low = Planes::default();
        session.run(&RgbSource::Planes(&small), canvas, &mut out_low).map_err(anyhow::Error::msg)?;
        let model_img = to_image(&out_low);
        let mut up_guided = Planes::default();
        guided.upsample(&small, &out_low, &frame_planes, &mut up_guided);
        let (guided_img, bilinear_img) = (to_image(&up_guided), to_image(&resample(&out_low, FRAME)));

        let (p, s) = (metrics::psnr(rgb8(&model_img), rgb8(&teacher)), metrics::ssim(rgb8(&model_img), rgb8(&teacher)));
        let mask = metrics::edge_mask(rgb8(&frame), 5);
        let ratio = metrics::edge_energy(rgb8(&guided_img), &mask) / metrics::edge_energy(rgb8(&bilinear_img), &mask);
        let name = path.file_name().map_or(String::new(), |n| n.to_string_lossy().into_owned());
        let m = metrics::cel_effect(rgb8(&frame), rgb8(&guided_img));
        let t = metrics::cel_effect(rgb8(&small_img), rgb8(&teacher));
        println!(
            "| {name} | {p:.2} | {s:.3} | {ratio:.2} | {:.2} ({:.2}) | {:+.1} ({:+.1}) | {:.2} ({:.2}) |",
            m.texture_ratio, t.texture_ratio, m.edge_luma_change, t.edge_luma_change, m.colour_ratio, t.colour_ratio
        );
        psnr_sum += p;
        ssim_sum += s;
        ratio_sum += ratio;

        let y = row as u32 * (TILE.1 + GAP);
        let tile = |img: &RgbImage| imageops::resize(img, TILE.0, TILE.1, imageops::FilterType::Triangle);
        imageops::replace(&mut sheet, &tile(&frame), 0, y as i64);
        imageops::replace(&mut sheet, &tile(&teacher), (TILE.0 + GAP) as i64, y as i64);
        imageops::replace(&mut sheet, &tile(&model_img), (2 * (TILE.0 + GAP)) as i64, y as i64);
        let (cx, cy) = busiest_window(&mask);
        let half = TILE.0 / 2;
        let x3 = 3 * (TILE.0 + GAP);
        imageops::replace(
            &mut sheet,
            &imageops::crop_imm(&guided_img, cx, cy, half, TILE.1).to_image(),
            x3 as i64,
            y as i64,
        );
        imageops::replace(
            &mut sheet,
            &imageops::crop_imm(&bilinear_img, cx, cy, half, TILE.1).to_image(),
            (x3 + half) as i64,
            y as i64,
        );
    }
    let n = o.images.len() as f64;
    println!("| **mean** | {:.2} | {:.3} | {:.2} | | | |", psnr_sum / n, ssim_sum / n, ratio_sum / n);
    if let Some(dir) = o.out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    sheet.save(&o.out).with_context(|| format!("writing {}", o.out.display()))?;
    println!();
    println!("wrote {}", o.out.display());
    Ok(())
}
