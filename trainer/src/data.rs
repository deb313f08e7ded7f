//! Image folders → augmented, deterministic training batches.
//!
//! [`Dataset::open`] scans folders recursively for `.jpg`/`.jpeg`/`.png`/`.webp`, decodes them,
//! flattens style frames that have an alpha channel ([`flatten_alpha`]: crop to the visible
//! pixels, composite over white; photos keep dropping their alpha channel as they always did, so
//! the bundled model's training data is unchanged), skips (with one warning line each) files
//! that do not decode, are fully transparent style frames or are smaller than [`MIN_SIDE`] px on
//! the short side, downscales big images to [`LOAD_MAX_SIDE`] px on the long side, and
//! precomputes per image what the batches need:
//!
//! - `teacher` mode: nothing; the teacher filter ([`crate::teacher`]) runs on each augmented
//!   crop in [`Dataset::batch`], at the scale the generator sees it, so target lines are as wide
//!   (in generator pixels) as the teacher draws them at inference size — filtering the full
//!   photo first and then downscaling the crop would thin them below a pixel;
//! - `anime` mode: the edge-smoothed twin of each style frame (CartoonGAN, Chen et al. 2018:
//!   edges → dilate 5×5 → Gaussian blur of only the edge pixels; here the edges are a Sobel
//!   gradient-magnitude threshold, standing in for Canny(100, 200)).
//!
//! [`Dataset::batch`] is a pure function of `(seed, step)`: which images, scale jitter, crop
//! position and horizontal flip all come from one ChaCha8 stream seeded with both.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::bail;
use image::imageops::FilterType;
use image::{DynamicImage, Rgb, RgbImage, RgbaImage};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::config::Mode;
use crate::teacher::{self, TeacherParams};

/// Images smaller than this on their short side are skipped.
pub const MIN_SIDE: u32 = 64;
/// Images are downscaled at load so their long side is at most this (bounds memory).
pub const LOAD_MAX_SIDE: u32 = 1024;
/// Held-out photos are resized (short side) and centre-cropped to this square size, a multiple
/// of the generator's size multiple, so they tile a sample grid directly.
pub const HELD_OUT_SIZE: u32 = 256;
/// File extensions read (case-insensitive).
pub const EXTENSIONS: [&str; 4] = ["jpg", "jpeg", "png", "webp"];
/// Transparent margin (px) kept around the visible pixels when [`flatten_alpha`] crops an image
/// with an alpha channel, so outlines do not touch the border.
pub const ALPHA_MARGIN: u32 = 8;

/// One training batch. Images are NCHW float RGB in `[-1, 1]`, `n × 3 × size × size`,
/// row-major, all the same size.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    pub n: usize,
    pub size: usize,
    /// Photo crops (generator input).
    pub photos: Vec<f32>,
    /// `teacher` mode: the teacher filter applied to each photo crop (same crop, same
    /// augmentation). Empty otherwise.
    pub teacher: Vec<f32>,
    /// `anime` mode: style-frame crops. Empty otherwise.
    pub style: Vec<f32>,
    /// `anime` mode: the same style crops with their edges blurred (CartoonGAN's
    /// edge-smoothed negatives). Empty otherwise.
    pub style_smoothed: Vec<f32>,
}

/// What was loaded from one folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FolderSummary {
    pub path: String,
    /// Image files found (by extension).
    pub found: usize,
    pub used: usize,
    pub skipped: usize,
}

/// A file that was not used, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SkippedFile {
    pub path: String,
    pub reason: String,
}

/// Where the training data came from; written to the run directory as JSON.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DataSummary {
    pub mode: Mode,
    pub photo_folders: Vec<FolderSummary>,
    /// Empty in `teacher` mode (style folders are not read there).
    pub style_folders: Vec<FolderSummary>,
    /// Photos batches are drawn from.
    pub training_photos: usize,
    /// Style frames batches are drawn from (`anime` mode).
    pub training_style: usize,
    pub skipped: Vec<SkippedFile>,
    /// Held-out photos (paths), used for sample grids.
    pub held_out: Vec<String>,
    /// `true` when there were too few photos to hold some out exclusively: the held-out photos
    /// are then also trained on.
    pub held_out_also_trained: bool,
    /// Teacher parameters (`teacher` mode).
    pub teacher: Option<TeacherParams>,
    pub min_side: u32,
    pub load_max_side: u32,
}

impl DataSummary {
    /// Usable photos loaded (training and held-out).
    pub fn photos_used(&self) -> usize {
        self.photo_folders.iter().map(|f| f.used).sum()
    }

    /// Usable style frames loaded (`anime` mode; 0 otherwise).
    pub fn style_used(&self) -> usize {
        self.style_folders.iter().map(|f| f.used).sum()
    }
}

/// An image and, in `anime` mode for style frames, its pixel-aligned edge-smoothed twin.
#[derive(Debug, Clone)]
struct Pair {
    image: RgbImage,
    twin: Option<RgbImage>,
}

/// Teacher targets of `n` NCHW `[-1, 1]` crops (`crop × crop`), computed per crop, in parallel.
fn teacher_targets(photos: &[f32], n: usize, crop: usize, params: &TeacherParams) -> Vec<f32> {
    let plane = 3 * crop * crop;
    let crops: Vec<RgbImage> = (0..n).map(|i| from_nchw(&photos[i * plane..(i + 1) * plane], crop, crop)).collect();
    par_map(&crops, |img| to_nchw(&teacher::apply_rgb8(img, params))).concat()
}

/// Loaded, preprocessed training data. See the module docs.
#[derive(Debug, Clone)]
pub struct Dataset {
    mode: Mode,
    /// `teacher` mode: the filter applied to each crop.
    teacher: Option<TeacherParams>,
    photos: Vec<Pair>,
    style: Vec<Pair>,
    held_out: Vec<RgbImage>,
    held_out_teacher: Vec<RgbImage>,
    held_out_names: Vec<String>,
}

fn is_image(path: &Path) -> bool {
    path.extension().and_then(|e| e.to_str()).is_some_and(|e| EXTENSIONS.iter().any(|x| x.eq_ignore_ascii_case(e)))
}

/// Image files under `dir`, recursively, sorted.
pub fn scan(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = std::fs::read_dir(&d)
            .map_err(|e| anyhow::anyhow!("cannot read folder {}: {e}; check its permissions", d.display()))?;
        for entry in entries.flatten() {
            let p = entry.path();
            // Follows symlinks; a broken one is simply not an image.
            if p.is_dir() {
                stack.push(p);
            } else if p.is_file() && is_image(&p) {
                out.push(p);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Decodes `path`, checks its size and downscales it to [`LOAD_MAX_SIDE`]. `flatten`: an alpha
/// channel is flattened ([`to_rgb_flattened`]; style frames) instead of dropped (photos).
fn load_image(path: &Path, flatten: bool) -> Result<RgbImage, String> {
    let reader = image::ImageReader::open(path).map_err(|e| e.to_string())?;
    let reader = reader.with_guessed_format().map_err(|e| e.to_string())?;
    let decoded = reader.decode().map_err(|e| e.to_string())?;
    let img = if flatten { to_rgb_flattened(decoded)? } else { decoded.to_rgb8() };
    let (w, h) = img.dimensions();
    if w.min(h) < MIN_SIDE {
        return Err(format!("{w}×{h} is smaller than {MIN_SIDE} px on the short side"));
    }
    Ok(downscale_to(img, LOAD_MAX_SIDE))
}

/// A decoded image as RGB: images without an alpha channel are converted as they are; images
/// with one go through [`flatten_alpha`] with [`ALPHA_MARGIN`]. Fully transparent images are an
/// error.
pub fn to_rgb_flattened(img: DynamicImage) -> Result<RgbImage, String> {
    if !img.color().has_alpha() {
        return Ok(img.to_rgb8());
    }
    flatten_alpha(&img.to_rgba8(), ALPHA_MARGIN).ok_or_else(|| "every pixel is fully transparent".to_string())
}

/// Crops `img` to the bounding box of its pixels with alpha > 0, grown by `margin` px on each
/// side (within the image), and composites it over flat white: `c' = (c·a + 255·(255 − a)) / 255`.
/// `None` when every pixel is fully transparent.
///
/// Why: character sprites (Ren'Py's `eileen *`, `sylvie *`, …) and clip art are drawn on
/// transparency, and whatever RGB sits under alpha 0 is arbitrary (often black), so dropping the
/// alpha channel would train on black silhouettes and empty canvas. Cropping keeps the crops on
/// the drawing; white is a neutral paper colour that the drawn outlines stand out against. A
/// fully opaque image comes out unchanged (same size, same pixels).
pub fn flatten_alpha(img: &RgbaImage, margin: u32) -> Option<RgbImage> {
    let (w, h) = img.dimensions();
    let (mut x0, mut y0, mut x1, mut y1) = (u32::MAX, u32::MAX, 0, 0);
    for (x, y, p) in img.enumerate_pixels() {
        if p.0[3] > 0 {
            (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x), y1.max(y));
        }
    }
    if x0 > x1 {
        return None;
    }
    let (x0, y0) = (x0.saturating_sub(margin), y0.saturating_sub(margin));
    let (x1, y1) = (x1.saturating_add(margin).min(w - 1), y1.saturating_add(margin).min(h - 1));
    Some(RgbImage::from_fn(x1 - x0 + 1, y1 - y0 + 1, |x, y| {
        let [r, g, b, a] = img.get_pixel(x0 + x, y0 + y).0;
        let a = a as u32;
        Rgb([r, g, b].map(|c| ((c as u32 * a + 255 * (255 - a) + 127) / 255) as u8))
    }))
}

/// Shrinks `img` so its long side is at most `max_side` (aspect kept); never enlarges.
fn downscale_to(img: RgbImage, max_side: u32) -> RgbImage {
    let (w, h) = img.dimensions();
    let long = w.max(h);
    if long <= max_side {
        return img;
    }
    let s = max_side as f64 / long as f64;
    let (nw, nh) = (((w as f64 * s).round() as u32).max(1), ((h as f64 * s).round() as u32).max(1));
    image::imageops::resize(&img, nw, nh, FilterType::Triangle)
}

/// Resizes the short side to `size` and centre-crops a `size × size` square.
fn square_tile(img: &RgbImage, size: u32) -> RgbImage {
    let (w, h) = img.dimensions();
    let s = size as f64 / w.min(h) as f64;
    let (nw, nh) = (((w as f64 * s).round() as u32).max(size), ((h as f64 * s).round() as u32).max(size));
    let r = image::imageops::resize(img, nw, nh, FilterType::Triangle);
    image::imageops::crop_imm(&r, (nw - size) / 2, (nh - size) / 2, size, size).to_image()
}

/// Runs `f` over `items` on all cores, keeping the order.
fn par_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(items.len().max(1));
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<R>>> = Mutex::new((0..items.len()).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= items.len() {
                        break;
                    }
                    let r = f(&items[i]);
                    results.lock().unwrap()[i] = Some(r);
                }
            });
        }
    });
    results.into_inner().unwrap().into_iter().map(|r| r.expect("every item processed")).collect()
}

/// Loads every folder of one kind (`what`: "photo" / "style"; style frames' alpha channels are
/// flattened, see [`load_image`]); returns the images (with their paths) in folder, then path
/// order.
fn load_folders(
    dirs: &[PathBuf],
    what: &str,
    summaries: &mut Vec<FolderSummary>,
    skipped: &mut Vec<SkippedFile>,
) -> anyhow::Result<Vec<(PathBuf, RgbImage)>> {
    let mut all = Vec::new();
    for dir in dirs {
        if !dir.exists() {
            bail!("{what} folder {} does not exist; pass an existing folder of JPEG/PNG/WebP images", dir.display());
        }
        if !dir.is_dir() {
            bail!("{what} folder {} is not a folder; pass the folder that contains the images", dir.display());
        }
        let files = scan(dir)?;
        if files.is_empty() {
            bail!(
                "no images in {what} folder {} (looked for .jpg/.jpeg/.png/.webp, recursively); add JPEG/PNG/WebP \
                 images at least {MIN_SIDE} px on the short side",
                dir.display()
            );
        }
        let loaded = par_map(&files, |p| load_image(p, what == "style"));
        let mut used = 0;
        let mut n_skipped = 0;
        for (path, r) in files.iter().zip(loaded) {
            match r {
                Ok(img) => {
                    used += 1;
                    all.push((path.clone(), img));
                }
                Err(reason) => {
                    eprintln!("warning: skipping {}: {reason}", path.display());
                    n_skipped += 1;
                    skipped.push(SkippedFile { path: path.display().to_string(), reason });
                }
            }
        }
        if used == 0 {
            bail!(
                "no usable images in {}: {n_skipped} files skipped (unreadable or smaller than {MIN_SIDE} px); add \
                 JPEG/PNG/WebP photos at least {MIN_SIDE} px on the short side",
                dir.display()
            );
        }
        summaries.push(FolderSummary { path: dir.display().to_string(), found: files.len(), used, skipped: n_skipped });
    }
    Ok(all)
}

impl Dataset {
    /// Loads and preprocesses the data (see the module docs). `held_out` photos, chosen by
    /// `seed`, are kept for sample grids (as [`HELD_OUT_SIZE`]² tiles) and not trained on —
    /// unless there are not more photos than that, in which case they are trained on too.
    pub fn open(
        photo_dirs: &[PathBuf],
        style_dirs: &[PathBuf],
        mode: Mode,
        teacher: &TeacherParams,
        held_out: usize,
        seed: u64,
    ) -> anyhow::Result<(Dataset, DataSummary)> {
        if photo_dirs.is_empty() {
            bail!("no photo folder given; pass at least one folder of JPEG/PNG/WebP photos");
        }
        if mode == Mode::Anime && style_dirs.is_empty() {
            bail!(
                "anime mode needs style frames: pass at least one folder of anime frames as a style folder, or use \
                 teacher mode, which needs none"
            );
        }
        let mut skipped = Vec::new();
        let mut photo_folders = Vec::new();
        let photos = load_folders(photo_dirs, "photo", &mut photo_folders, &mut skipped)?;
        let mut style_folders = Vec::new();
        let style = if mode == Mode::Anime {
            load_folders(style_dirs, "style", &mut style_folders, &mut skipped)?
        } else {
            Vec::new()
        };

        // Held-out choice: a seeded shuffle of the photo indices.
        let mut order: Vec<usize> = (0..photos.len()).collect();
        order.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
        let n_held = held_out.min(photos.len());
        let also_trained = n_held > 0 && n_held >= photos.len();
        let mut held_idx: Vec<usize> = order[..n_held].to_vec();
        held_idx.sort();
        let held_out_imgs: Vec<RgbImage> = held_idx.iter().map(|&i| square_tile(&photos[i].1, HELD_OUT_SIZE)).collect();
        let held_out_names: Vec<String> = held_idx.iter().map(|&i| photos[i].0.display().to_string()).collect();

        let train_photos: Vec<&RgbImage> = photos
            .iter()
            .enumerate()
            .filter(|(i, _)| also_trained || !held_idx.contains(i))
            .map(|(_, (_, img))| img)
            .collect();
        let photo_pairs: Vec<Pair> =
            train_photos.iter().map(|img| Pair { image: (*img).clone(), twin: None }).collect();
        let style_pairs: Vec<Pair> =
            par_map(&style, |(_, img)| Pair { image: img.clone(), twin: Some(edge_smoothed(img)) });

        let mut summary = DataSummary {
            mode,
            photo_folders,
            style_folders,
            training_photos: photo_pairs.len(),
            training_style: style_pairs.len(),
            skipped,
            held_out: held_out_names.clone(),
            held_out_also_trained: also_trained,
            teacher: None,
            min_side: MIN_SIDE,
            load_max_side: LOAD_MAX_SIDE,
        };
        let mut ds = Dataset {
            mode,
            teacher: None,
            photos: photo_pairs,
            style: style_pairs,
            held_out: held_out_imgs,
            held_out_teacher: Vec::new(),
            held_out_names,
        };
        // Teacher mode always draws the teacher; anime mode only when asked (`enable_teacher`).
        if mode == Mode::Teacher {
            ds.enable_teacher(teacher, &mut summary);
        }
        Ok((ds, summary))
    }

    /// Draw the teacher filter's output for every photo crop and held-out tile, and record its
    /// parameters in `summary`: always in teacher mode ([`Dataset::open`] calls it), in anime
    /// mode with a teacher term (`--weight teacher_l1=W`).
    pub fn enable_teacher(&mut self, params: &TeacherParams, summary: &mut DataSummary) {
        self.held_out_teacher = par_map(&self.held_out, |img| teacher::apply_rgb8(img, params));
        self.teacher = Some(params.clone());
        summary.teacher = Some(params.clone());
    }

    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Photos batches are drawn from.
    pub fn photo_count(&self) -> usize {
        self.photos.len()
    }

    /// Style frames batches are drawn from (0 in `teacher` mode).
    pub fn style_count(&self) -> usize {
        self.style.len()
    }

    /// Held-out photos, each a [`HELD_OUT_SIZE`]² tile (resized short side, centre crop).
    pub fn held_out(&self) -> &[RgbImage] {
        &self.held_out
    }

    /// `teacher` mode: the teacher filter of each [`held_out`](Self::held_out) tile; empty otherwise.
    pub fn held_out_teacher(&self) -> &[RgbImage] {
        &self.held_out_teacher
    }

    /// Paths of the held-out photos.
    pub fn held_out_names(&self) -> &[String] {
        &self.held_out_names
    }

    /// Sample-grid rows, one per held-out photo: `[input, generated]`, plus the teacher's output
    /// in `teacher` mode. `generate(images, n, h, w)` maps an NCHW `[-1, 1]` batch to the
    /// generator's NCHW `[-1, 1]` output of the same shape; it is called once per held-out photo.
    pub fn sample_rows(&self, mut generate: impl FnMut(&[f32], usize, usize, usize) -> Vec<f32>) -> Vec<Vec<RgbImage>> {
        self.held_out
            .iter()
            .enumerate()
            .map(|(i, img)| {
                let (w, h) = (img.width() as usize, img.height() as usize);
                let out = generate(&to_nchw(img), 1, h, w);
                let mut row = vec![img.clone(), from_nchw(&out, w, h)];
                if let Some(t) = self.held_out_teacher.get(i) {
                    row.push(t.clone());
                }
                row
            })
            .collect()
    }

    /// `n` augmented `crop × crop` samples; a pure function of `(seed, step)` for a given dataset.
    ///
    /// Per sample: a random image, a scale so the crop covers about half the image's short side
    /// (never less than the whole crop) times a jitter in `[0.75, 1.25]`, a random crop position
    /// and a random horizontal flip; an edge-smoothed style twin gets exactly
    /// the same transform. Resampling is bilinear.
    pub fn batch(&self, seed: u64, step: u64, n: usize, crop: usize) -> Batch {
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ step.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let plane = 3 * crop * crop;
        let mut b = Batch {
            n,
            size: crop,
            photos: vec![0.0; n * plane],
            teacher: Vec::new(),
            style: Vec::new(),
            style_smoothed: Vec::new(),
        };
        for i in 0..n {
            let p = &self.photos[rng.random_range(0..self.photos.len())];
            let t = Transform::random(&mut rng, p.image.dimensions(), crop);
            t.write(&p.image, &mut b.photos[i * plane..(i + 1) * plane]);
        }
        if let Some(params) = &self.teacher {
            b.teacher = teacher_targets(&b.photos, n, crop, params);
        }
        if self.mode == Mode::Anime && !self.style.is_empty() {
            b.style = vec![0.0; n * plane];
            b.style_smoothed = vec![0.0; n * plane];
            for i in 0..n {
                let s = &self.style[rng.random_range(0..self.style.len())];
                let t = Transform::random(&mut rng, s.image.dimensions(), crop);
                t.write(&s.image, &mut b.style[i * plane..(i + 1) * plane]);
                let twin = s.twin.as_ref().expect("edge-smoothed twins are computed at load");
                t.write(twin, &mut b.style_smoothed[i * plane..(i + 1) * plane]);
            }
        }
        b
    }
}

/// An image as a `1 × 3 × h × w` tensor in `[-1, 1]`.
pub fn to_nchw(img: &RgbImage) -> Vec<f32> {
    let n = (img.width() * img.height()) as usize;
    let mut out = vec![0.0; 3 * n];
    for (i, p) in img.pixels().enumerate() {
        for c in 0..3 {
            out[c * n + i] = p.0[c] as f32 / 127.5 - 1.0;
        }
    }
    out
}

/// The first image of an NCHW `[-1, 1]` tensor of `w × h` images (values clamped).
pub fn from_nchw(data: &[f32], w: usize, h: usize) -> RgbImage {
    let n = w * h;
    RgbImage::from_fn(w as u32, h as u32, |x, y| {
        let i = y as usize * w + x as usize;
        Rgb(std::array::from_fn(|c| ((data[c * n + i] + 1.0) * 127.5).round().clamp(0.0, 255.0) as u8))
    })
}

/// Scale, crop and flip of one sample: output pixel `(x, y)` samples the source at
/// `((x0 + x') + 0.5) / scale − 0.5` etc., `x' = crop − 1 − x` when flipped.
#[derive(Debug, Clone, Copy)]
struct Transform {
    scale: f64,
    x0: f64,
    y0: f64,
    flip: bool,
    crop: usize,
}

impl Transform {
    fn random(rng: &mut ChaCha8Rng, (w, h): (u32, u32), crop: usize) -> Transform {
        let short = w.min(h) as f64;
        // Base: the crop covers half the short side (at most 1:1 for large images); jitter it;
        // never smaller than what the crop needs.
        let base = (2.0 * crop as f64 / short).min(1.0);
        let jitter: f64 = rng.random_range(0.75..1.25);
        let scale = (base * jitter).max(crop as f64 / short);
        let (sw, sh) = (w as f64 * scale, h as f64 * scale);
        let x0 = rng.random_range(0.0..=(sw - crop as f64).max(0.0)).floor();
        let y0 = rng.random_range(0.0..=(sh - crop as f64).max(0.0)).floor();
        let flip = rng.random_bool(0.5);
        Transform { scale, x0, y0, flip, crop }
    }

    /// Writes the transformed crop of `img` as CHW `[-1, 1]` into `out` (`3 × crop × crop`).
    fn write(&self, img: &RgbImage, out: &mut [f32]) {
        let c = self.crop;
        let (w, h) = img.dimensions();
        let raw = img.as_raw();
        let px = |x: usize, y: usize| -> &[u8] { &raw[(y * w as usize + x) * 3..][..3] };
        for y in 0..c {
            let sy = ((self.y0 + y as f64 + 0.5) / self.scale - 0.5).clamp(0.0, (h - 1) as f64);
            let (y1, fy) = (sy.floor() as usize, (sy - sy.floor()) as f32);
            let y2 = (y1 + 1).min(h as usize - 1);
            for x in 0..c {
                let xx = if self.flip { c - 1 - x } else { x };
                let sx = ((self.x0 + xx as f64 + 0.5) / self.scale - 0.5).clamp(0.0, (w - 1) as f64);
                let (x1, fx) = (sx.floor() as usize, (sx - sx.floor()) as f32);
                let x2 = (x1 + 1).min(w as usize - 1);
                let (a, b, cc, d) = (px(x1, y1), px(x2, y1), px(x1, y2), px(x2, y2));
                for ch in 0..3 {
                    let top = a[ch] as f32 + fx * (b[ch] as f32 - a[ch] as f32);
                    let bot = cc[ch] as f32 + fx * (d[ch] as f32 - cc[ch] as f32);
                    let v = top + fy * (bot - top);
                    out[(ch * c + y) * c + x] = v / 127.5 - 1.0;
                }
            }
        }
    }
}

/// Sobel gradient magnitude (on 0..255 luma) above which a pixel is an edge (between Canny's
/// 100 / 200 hysteresis thresholds of CartoonGAN's recipe).
pub const EDGE_THRESHOLD: f32 = 150.0;

/// CartoonGAN's edge-smoothed negative of a style frame: edge pixels (Sobel magnitude above
/// [`EDGE_THRESHOLD`]), dilated by a 5×5 square, are replaced by a Gaussian blur (5×5 kernel,
/// σ 1.1 — OpenCV's σ for that size) of the frame; other pixels are unchanged.
pub fn edge_smoothed(img: &RgbImage) -> RgbImage {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let lum: Vec<f32> =
        img.pixels().map(|p| 0.299 * p.0[0] as f32 + 0.587 * p.0[1] as f32 + 0.114 * p.0[2] as f32).collect();
    let at = |x: isize, y: isize| lum[y.clamp(0, h as isize - 1) as usize * w + x.clamp(0, w as isize - 1) as usize];
    let mut edge = vec![false; w * h];
    for y in 0..h as isize {
        for x in 0..w as isize {
            let gx = at(x + 1, y - 1) + 2.0 * at(x + 1, y) + at(x + 1, y + 1)
                - at(x - 1, y - 1)
                - 2.0 * at(x - 1, y)
                - at(x - 1, y + 1);
            let gy = at(x - 1, y + 1) + 2.0 * at(x, y + 1) + at(x + 1, y + 1)
                - at(x - 1, y - 1)
                - 2.0 * at(x, y - 1)
                - at(x + 1, y - 1);
            edge[y as usize * w + x as usize] = (gx * gx + gy * gy).sqrt() > EDGE_THRESHOLD;
        }
    }
    // Dilate 5×5 (separable max).
    let mut tmp = vec![false; w * h];
    for y in 0..h {
        for x in 0..w {
            tmp[y * w + x] = (x.saturating_sub(2)..(x + 3).min(w)).any(|xx| edge[y * w + xx]);
        }
    }
    let mut mask = vec![false; w * h];
    for y in 0..h {
        for x in 0..w {
            mask[y * w + x] = (y.saturating_sub(2)..(y + 3).min(h)).any(|yy| tmp[yy * w + x]);
        }
    }
    let planes: [Vec<f32>; 3] = std::array::from_fn(|c| img.pixels().map(|p| p.0[c] as f32).collect());
    let blurred: [Vec<f32>; 3] = std::array::from_fn(|c| gaussian5(&planes[c], w, h));
    let mut out = img.clone();
    for (i, p) in out.pixels_mut().enumerate() {
        if mask[i] {
            *p = Rgb(std::array::from_fn(|c| blurred[c][i].round().clamp(0.0, 255.0) as u8));
        }
    }
    out
}

/// 5-tap Gaussian blur, σ 1.1, edge replication.
fn gaussian5(src: &[f32], w: usize, h: usize) -> Vec<f32> {
    animestyle_model::blur::gaussian_blur(src, w, h, 1.1, 2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Rgba;

    #[test]
    fn flatten_alpha_crops_to_visible_pixels_and_composites_over_white() {
        // 7×6, transparent (with black, as sprites often have, under alpha 0) except an opaque
        // red pixel at (2, 1) and a half-transparent blue one at (3, 2).
        let mut img = RgbaImage::from_pixel(7, 6, Rgba([0, 0, 0, 0]));
        img.put_pixel(2, 1, Rgba([255, 0, 0, 255]));
        img.put_pixel(3, 2, Rgba([0, 0, 255, 128]));
        let out = flatten_alpha(&img, 1).expect("has visible pixels");
        // Bounding box x 2..=3, y 1..=2, grown by 1: x 1..=4, y 0..=3.
        assert_eq!(out.dimensions(), (4, 4));
        let white = Rgb([255, 255, 255]);
        for (x, y, p) in out.enumerate_pixels() {
            let want = match (x, y) {
                (1, 1) => Rgb([255, 0, 0]),
                // (0·128 + 255·127 + 127) / 255 = 127; (255·128 + 255·127 + 127) / 255 = 255.
                (2, 2) => Rgb([127, 127, 255]),
                _ => white,
            };
            assert_eq!(*p, want, "pixel ({x}, {y})");
        }
        // The margin stops at the image border.
        let mut corner = RgbaImage::from_pixel(5, 5, Rgba([9, 9, 9, 0]));
        corner.put_pixel(0, 4, Rgba([10, 20, 30, 255]));
        let out = flatten_alpha(&corner, 2).expect("has visible pixels");
        assert_eq!(out.dimensions(), (3, 3));
        assert_eq!(*out.get_pixel(0, 2), Rgb([10, 20, 30]));
        assert_eq!(*out.get_pixel(2, 0), white);
        // Fully transparent: nothing to use.
        assert_eq!(flatten_alpha(&RgbaImage::from_pixel(4, 4, Rgba([5, 5, 5, 0])), 2), None);
    }

    #[test]
    fn opaque_images_load_unchanged() {
        let rgb = RgbImage::from_fn(9, 5, |x, y| Rgb([(x * 20) as u8, (y * 40) as u8, 7]));
        // No alpha channel: converted as before.
        assert_eq!(to_rgb_flattened(DynamicImage::ImageRgb8(rgb.clone())).unwrap(), rgb);
        // An alpha channel that is opaque everywhere: same size, same pixels.
        let rgba = DynamicImage::ImageRgb8(rgb.clone()).to_rgba8();
        assert_eq!(to_rgb_flattened(DynamicImage::ImageRgba8(rgba)).unwrap(), rgb);
        let clear = RgbaImage::from_pixel(3, 3, Rgba([0, 0, 0, 0]));
        assert!(to_rgb_flattened(DynamicImage::ImageRgba8(clear)).is_err());
    }
}
