//! What `evaluate` measures on: held-out photos and video stills framed like a camera's frames,
//! and the style set as it is.

use std::path::Path;

use anyhow::{Context, anyhow, bail};
use gst::prelude::*;
use gst_app::AppSink;
use image::RgbImage;
use image::imageops::{self, FilterType};

use crate::data;

/// One evaluation image: a name for the report and the frame the element is given.
#[derive(Clone)]
pub struct Still {
    pub name: String,
    pub frame: RgbImage,
}

/// Centre-crops `img` to the aspect of `size` and resizes it to exactly `size` (Catmull-Rom),
/// the way a camera's 16:9 frame shows a scene.
pub fn frame_to(img: &RgbImage, (width, height): (u32, u32)) -> RgbImage {
    let (w, h) = img.dimensions();
    let target = width as f64 / height as f64;
    let (cw, ch) = if w as f64 / h as f64 > target {
        (((h as f64 * target).round() as u32).clamp(1, w), h)
    } else {
        (w, ((w as f64 / target).round() as u32).clamp(1, h))
    };
    let crop = imageops::crop_imm(img, (w - cw) / 2, (h - ch) / 2, cw, ch).to_image();
    imageops::resize(&crop, width, height, FilterType::CatmullRom)
}

/// `img` resized (Catmull-Rom) so its short side is `short` px, keeping its aspect: how the
/// style set is measured beside `short`-high frames.
pub fn short_side_to(img: &RgbImage, short: u32) -> RgbImage {
    let (w, h) = img.dimensions();
    let s = short as f64 / w.min(h).max(1) as f64;
    let size = |v: u32| ((v as f64 * s).round() as u32).max(1);
    imageops::resize(img, size(w), size(h), FilterType::CatmullRom)
}

/// Every image under `dir` (recursively, sorted), decoded; `what` names the set in errors
/// ("photo", "style"), `flatten` lays transparent images on white (style sprites). An empty
/// folder and a file that does not decode are errors naming the folder or the file.
pub fn load_folder(dir: &Path, what: &str, flatten: bool) -> anyhow::Result<Vec<(String, RgbImage)>> {
    if !dir.is_dir() {
        bail!("{what} folder {} does not exist", dir.display());
    }
    let files = data::scan(dir)?;
    if files.is_empty() {
        bail!(
            "{what} folder {} holds no images (looked for {} files, recursively)",
            dir.display(),
            data::EXTENSIONS.map(|e| format!(".{e}")).join("/")
        );
    }
    files
        .iter()
        .map(|path| {
            let img = decode(path, flatten)
                .map_err(|e| anyhow!("cannot read {what} image {}: {e}; remove it or convert it", path.display()))?;
            let name = path.strip_prefix(dir).unwrap_or(path).to_string_lossy().into_owned();
            Ok((name, img))
        })
        .collect()
}

/// Decodes `path`; style images with transparency (character sprites) are cropped to their
/// visible pixels and laid on white, as training sees them ([`data::to_rgb_flattened`]).
fn decode(path: &Path, flatten: bool) -> Result<RgbImage, String> {
    let reader = image::ImageReader::open(path).map_err(|e| e.to_string())?;
    let img = reader.with_guessed_format().map_err(|e| e.to_string())?.decode().map_err(|e| e.to_string())?;
    if flatten { data::to_rgb_flattened(img) } else { Ok(img.to_rgb8()) }
}

/// `count` stills spread evenly over the video at `path` (at 1/(count+1), 2/(count+1), …) and
/// `run` consecutive frames from its middle (for temporal measures), all framed to `size`.
pub fn video_frames(
    path: &Path,
    count: usize,
    run: usize,
    size: (u32, u32),
) -> anyhow::Result<(Vec<Still>, Vec<RgbImage>)> {
    if !path.is_file() {
        bail!("video file {} does not exist", path.display());
    }
    let total = decode_video(path, &mut |_, _| Ok(()))?;
    if total == 0 {
        bail!("{} has no video frames", path.display());
    }
    let stills: Vec<usize> = (1..=count).map(|k| k * total / (count + 1)).collect();
    let run_start = total.saturating_sub(run) / 2;
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "video".into());
    let mut picked = Vec::new();
    let mut sequence = Vec::new();
    decode_video(path, &mut |i, img| {
        if stills.contains(&i) {
            picked.push(Still { name: format!("{stem} frame {i}"), frame: frame_to(&img, size) });
        }
        if (run_start..run_start + run).contains(&i) {
            sequence.push(frame_to(&img, size));
        }
        Ok(())
    })?;
    Ok((picked, sequence))
}

/// Decodes every video frame of `path` to RGB, calling `each(index, frame)`; returns the count.
fn decode_video(path: &Path, each: &mut dyn FnMut(usize, RgbImage) -> anyhow::Result<()>) -> anyhow::Result<usize> {
    super::element::init()?;
    let pipeline = gst::parse::launch(
        "filesrc name=src ! decodebin ! videoconvert ! video/x-raw,format=RGB ! appsink name=sink sync=false",
    )
    .context("video decoding pipeline (needs gstreamer1.0-plugins-base and -libav: run `make setup`)")?
    .downcast::<gst::Pipeline>()
    .map_err(|_| anyhow!("not a pipeline"))?;
    let src = pipeline.by_name("src").context("filesrc")?;
    src.set_property("location", path.to_string_lossy().as_ref());
    let sink = pipeline.by_name("sink").context("appsink")?.downcast::<AppSink>().map_err(|_| anyhow!("appsink"))?;
    let bus = pipeline.bus().context("bus")?;
    let result = (|| {
        pipeline.set_state(gst::State::Playing).map_err(|_| anyhow!("cannot decode {}", path.display()))?;
        let (mut n, mut idle) = (0, 0);
        loop {
            if let Some(sample) = sink.try_pull_sample(gst::ClockTime::from_mseconds(100)) {
                idle = 0;
                let caps = sample.caps().context("caps")?;
                let info = gst_video::VideoInfo::from_caps(caps).context("video caps")?;
                let buffer = sample.buffer().context("buffer")?;
                let map = buffer.map_readable().context("map")?;
                let (w, h, stride) = (info.width() as usize, info.height() as usize, info.stride()[0] as usize);
                let mut rgb = Vec::with_capacity(3 * w * h);
                for y in 0..h {
                    rgb.extend_from_slice(&map[y * stride..y * stride + 3 * w]);
                }
                each(n, RgbImage::from_raw(w as u32, h as u32, rgb).context("frame")?)?;
                n += 1;
                continue;
            }
            if sink.is_eos() {
                return Ok(n);
            }
            if let Some(msg) = bus.pop_filtered(&[gst::MessageType::Error])
                && let gst::MessageView::Error(e) = msg.view()
            {
                bail!("cannot decode {}: {}", path.display(), e.error());
            }
            idle += 1;
            if idle > 300 {
                bail!("decoding {} stalled for 30 s", path.display());
            }
        }
    })();
    let _ = pipeline.set_state(gst::State::Null);
    result
}
