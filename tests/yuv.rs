//! YUV frames (YUY2, UYVY, NV12, NV21, I420, YV12) straight through `animestyle`: the same
//! picture as the `videoconvert` sandwich, the colours the caps' colorimetry promises,
//! bit-exact passthrough at strength 0, renegotiation between RGB and YUV mid-stream, and the
//! design line `v4l2src ! animestyle ! autovideosink` with stand-ins.

mod common;

use animestyle_model::fixtures::{self, PermuteInvert, permute_invert_pixel};
use common::*;
use gst::prelude::*;
use gst_video::VideoFormat;
use gst_video::prelude::*;

const YUV_FORMATS: [VideoFormat; 6] =
    [VideoFormat::Yuy2, VideoFormat::Uyvy, VideoFormat::Nv12, VideoFormat::Nv21, VideoFormat::I420, VideoFormat::Yv12];

/// The samples of every component of a frame, component by component (Y, U, V), each at its
/// own size: what PSNR and colour checks read, whatever the layout.
fn components(buffer: &gst::Buffer, info: &gst_video::VideoInfo) -> [Vec<u8>; 3] {
    let frame = gst_video::VideoFrameRef::from_buffer_ref_readable(buffer.as_ref(), info).expect("map");
    let finfo = frame.format_info();
    std::array::from_fn(|c| {
        let (w, h) = (finfo.scale_width(c as u8, info.width()), finfo.scale_height(c as u8, info.height()));
        let plane = finfo.plane()[c];
        let data = frame.plane_data(plane).expect("plane");
        let stride = frame.plane_stride()[plane as usize] as usize;
        let (off, step) = (finfo.poffset()[c] as usize, finfo.pixel_stride()[c] as usize);
        (0..h as usize).flat_map(|y| (0..w as usize).map(move |x| data[y * stride + off + x * step])).collect()
    })
}

fn psnr(a: &[u8], b: &[u8]) -> f64 {
    assert_eq!(a.len(), b.len());
    let mse = a.iter().zip(b).map(|(x, y)| (*x as f64 - *y as f64).powi(2)).sum::<f64>() / a.len() as f64;
    if mse == 0.0 { f64::INFINITY } else { 10.0 * (255.0f64 * 255.0 / mse).log10() }
}

/// Runs one RGBx frame of `natural` through `chain` (gst-launch syntax, RGBx caps in) and
/// returns the output buffer.
fn through(chain: &str, (w, h): (u32, u32)) -> gst::Buffer {
    init();
    let mut harness = gst_check::Harness::new_parse(chain);
    harness.set_src_caps(caps(VideoFormat::Rgbx, w, h));
    harness
        .push_and_pull(frame(VideoFormat::Rgbx, w, h, |x, y| natural(x, y, w, h)))
        .unwrap_or_else(|e| panic!("{chain}: no frame came out: {e}"))
}

/// The YUV path against the sandwich the element needed before: the same YUV frame through
/// `animestyle` directly, and through `videoconvert → RGBx → animestyle → videoconvert`.
///
/// The per-pixel fixture model at the frame's own size isolates what the formats change: the
/// two paths differ only in where chroma is resampled and rounded (the sandwich rounds to 8-bit
/// RGB before the network and after it, and converts chroma with videoconvert's filters; the
/// element converts in float and resamples chroma bilinearly). One rounding step is ±0.5 of a
/// level, a uniform error of RMS 0.29; a few such steps on each side and chroma filters that
/// differ at the shapes' edges stay near 1 level RMS, i.e. PSNR ≈ 48 dB; 38 dB (RMS 3.2
/// levels) leaves room for the edges of the flat shapes, where 4:2:0 chroma differs by filter
/// choice, and still fails a wrong matrix, range, chroma siting by a whole sample, or a swapped
/// U/V (each of which costs 10+ dB on this image).
#[test]
fn every_yuv_format_and_size_matches_the_videoconvert_sandwich() {
    let model = model_file(&PermuteInvert::default().model());
    let props =
        format!("model={} inference-size=0 temporal-smoothing=0 realtime-policy=every-frame", model.path.display());
    // The ink lines (`line-strength`) are a steep function of edges: they turn the two paths'
    // rounding differences into differences of line darkness (−1 dB on a 37×23 I420 frame,
    // which is all edges and odd-sized chroma). The formats are compared without them, and
    // with them at 720p, where the frame is mostly not edges; that RGB and YUV frames get the
    // same lines is asserted in `lines::tests` and tests/lines.rs.
    let cases = [
        ((1280, 720), " line-strength=0"),
        ((1280, 720), ""),
        ((37, 23), " line-strength=0"),
        ((1, 1), " line-strength=0"),
    ];
    for format in YUV_FORMATS {
        let name = format.to_str();
        for (size, lines) in cases {
            let props = format!("{props}{lines}");
            let to_yuv = format!("videoconvert ! capsfilter caps=video/x-raw,format={name}");
            let direct = through(&format!("{to_yuv} ! animestyle {props}"), size);
            let sandwich = through(
                &format!(
                    "{to_yuv} ! videoconvert ! capsfilter caps=video/x-raw,format=RGBx ! animestyle {props} ! videoconvert ! capsfilter caps=video/x-raw,format={name}"
                ),
                size,
            );
            let info = gst_video::VideoInfo::builder(format, size.0, size.1).build().unwrap();
            let (a, b) = (components(&direct, &info), components(&sandwich, &info));
            for (c, component) in ["Y", "U", "V"].iter().enumerate() {
                let db = psnr(&a[c], &b[c]);
                println!("{name} {}x{}{lines} {component}: {db:.1} dB", size.0, size.1);
                assert!(
                    db >= 38.0,
                    "{name} {size:?}{lines} {component}: PSNR {db:.1} dB against the videoconvert sandwich"
                );
            }
        }
    }
}

/// A flat colour patch encoded by the standard equations (written out here, independently of
/// the element's code) for `matrix`'s `kr`, `kb`, limited range.
fn encode(rgb: [f64; 3], (kr, kb): (f64, f64)) -> [u8; 3] {
    let [r, g, b] = rgb.map(|v| v / 255.0);
    let y = kr * r + (1.0 - kr - kb) * g + kb * b;
    let (pb, pr) = ((b - y) / (2.0 * (1.0 - kb)), (r - y) / (2.0 * (1.0 - kr)));
    [16.0 + 219.0 * y, 128.0 + 224.0 * pb, 128.0 + 224.0 * pr].map(|v| v.round() as u8)
}

fn decode(yuv: [u8; 3], (kr, kb): (f64, f64)) -> [f64; 3] {
    let y = (yuv[0] as f64 - 16.0) / 219.0;
    let (pb, pr) = ((yuv[1] as f64 - 128.0) / 224.0, (yuv[2] as f64 - 128.0) / 224.0);
    let (r, b) = (y + 2.0 * (1.0 - kr) * pr, y + 2.0 * (1.0 - kb) * pb);
    let g = (y - kr * r - kb * b) / (1.0 - kr - kb);
    [r, g, b].map(|v| v * 255.0)
}

/// An NV12 frame of one colour with `colorimetry` in its caps, through the per-pixel model:
/// the network must see the colour the caps mean, and its answer must be encoded the same way.
#[test]
fn bt709_and_bt601_caps_give_the_colours_each_promises() {
    init();
    let model = model_file(&PermuteInvert::default().model());
    let (w, h) = (64, 48);
    let patch = [200.0, 40.0, 90.0];
    let mut outputs = Vec::new();
    for (colorimetry, k) in [("bt709", (0.2126, 0.0722)), ("bt601", (0.299, 0.114))] {
        let codes = encode(patch, k);
        let caps = gst::Caps::builder("video/x-raw")
            .field("format", "NV12")
            .field("width", w)
            .field("height", h)
            .field("framerate", gst::Fraction::new(30, 1))
            .field("colorimetry", colorimetry)
            .build();
        let info = gst_video::VideoInfo::from_caps(&caps).unwrap();
        let mut buffer = gst::Buffer::with_size(info.size()).unwrap();
        {
            let b = buffer.get_mut().unwrap();
            let mut f = gst_video::VideoFrameRef::from_buffer_ref_writable(b, &info).unwrap();
            f.plane_data_mut(0).unwrap().fill(codes[0]);
            for pair in f.plane_data_mut(1).unwrap().chunks_exact_mut(2) {
                pair.copy_from_slice(&codes[1..]);
            }
        }
        let mut harness = gst_check::Harness::with_element(
            &element(&[model_prop(&model.path), ("inference-size", 0i32.to_value()), every_frame()]),
            Some("sink"),
            Some("src"),
        );
        harness.set_src_caps(caps);
        let out = harness.push_and_pull(buffer).expect("a frame comes out");
        let [y, u, v] = components(&out, &info);
        let middle =
            [y[(h / 2 * w + w / 2) as usize], u[(h / 4 * w / 2 + w / 4) as usize], v[(h / 4 * w / 2 + w / 4) as usize]];
        let got = decode(middle, k);
        let want = permute_invert_pixel(patch.map(|v| v as u8)).map(|v| v as f64);
        for c in 0..3 {
            // 8-bit codes in and out: about one level of error each way, amplified up to ~1.8×
            // by the matrix on the way back.
            assert!(
                (got[c] - want[c]).abs() <= 3.0,
                "{colorimetry}: out {middle:?} decodes to {got:?}, expected {want:?}"
            );
        }
        outputs.push(middle);
    }
    assert_ne!(outputs[0], outputs[1], "BT.709 and BT.601 must encode the same colour differently");
}

#[test]
fn strength_zero_is_bit_exact_passthrough_for_yuv() {
    for format in YUV_FORMATS {
        let name = format.to_str();
        let input = through(&format!("videoconvert ! capsfilter caps=video/x-raw,format={name}"), (37, 23));
        let mut harness =
            gst_check::Harness::with_element(&element(&[("strength", 0.0f64.to_value())]), Some("sink"), Some("src"));
        harness.set_src_caps(caps(format, 37, 23));
        let out = harness.push_and_pull(input.clone()).expect("a frame comes out");
        // Every byte of every plane, padding included (the bytes between planes belong to none).
        let info = gst_video::VideoInfo::builder(format, 37, 23).build().unwrap();
        let (a, b) = (
            gst_video::VideoFrameRef::from_buffer_ref_readable(input.as_ref(), &info).unwrap(),
            gst_video::VideoFrameRef::from_buffer_ref_readable(out.as_ref(), &info).unwrap(),
        );
        for p in 0..a.n_planes() {
            assert_eq!(a.plane_data(p).unwrap(), b.plane_data(p).unwrap(), "{name} plane {p}");
        }
    }
}

/// RGBx, then NV12, then YUY2 on one running element: each frame comes out stylized in its
/// own format (a flat-colour model: every output pixel is that colour).
#[test]
fn renegotiation_between_rgb_and_yuv_mid_stream() {
    const GREEN: [u8; 3] = [40, 200, 90];
    let model = model_file(&fixtures::flat_colour(GREEN, 0));
    let mut harness = harness(&[model_prop(&model.path), every_frame()], VideoFormat::Rgbx, 64, 36);
    let out = harness.push_and_pull(frame(VideoFormat::Rgbx, 64, 36, |x, y| natural(x, y, 64, 36))).unwrap();
    let pixels = FrameReader::new(out, VideoFormat::Rgbx, 64, 36).pixels();
    assert!(pixels.iter().all(|p| (0..3).all(|c| (p[c] as i32 - GREEN[c] as i32).abs() <= 1)), "RGBx: {:?}", pixels[0]);
    // GStreamer's default colorimetry for these sizes is BT.601, limited range.
    let green = encode(GREEN.map(|v| v as f64), (0.299, 0.114));
    for (format, size) in [(VideoFormat::Nv12, (48, 30)), (VideoFormat::Yuy2, (64, 36))] {
        harness.set_src_caps(caps(format, size.0, size.1));
        let input = through(&format!("videoconvert ! capsfilter caps=video/x-raw,format={}", format.to_str()), size);
        let out = harness.push_and_pull(input).unwrap_or_else(|e| panic!("{format:?}: {e}"));
        let info = gst_video::VideoInfo::builder(format, size.0, size.1).build().unwrap();
        let got = components(&out, &info);
        for c in 0..3 {
            assert!(
                got[c].iter().all(|v| (*v as i32 - green[c] as i32).abs() <= 1),
                "{format:?} component {c}: {:?}… expected {}",
                &got[c][..4],
                green[c]
            );
        }
    }
}

/// The design line with a stand-in camera: YUY2 straight from the source into `animestyle`
/// and on to the sink, no `videoconvert` (`videotestsrc` for `v4l2src`, `fakesink` for the
/// window), with the embedded model.
#[test]
fn the_design_line_runs_on_yuy2_without_conversions() {
    run_pipeline(
        "videotestsrc num-buffers=5 ! video/x-raw,format=YUY2,width=640,height=480,framerate=30/1 ! animestyle ! fakesink",
    )
    .expect("YUY2 camera stand-in → animestyle → sink");
}

/// The Y, U, V codes of `rgb` under GStreamer's default colorimetry for small frames (BT.601,
/// limited range).
fn bt601(rgb: [u8; 3]) -> [u8; 3] {
    encode(rgb.map(|v| v as f64), (0.299, 0.114))
}

/// True when every sample of every component of `buffer` is within 1 of `codes`.
fn is_flat(buffer: &gst::Buffer, info: &gst_video::VideoInfo, codes: [u8; 3]) -> bool {
    components(buffer, info).iter().zip(codes).all(|(c, v)| c.iter().all(|s| (*s as i32 - v as i32).abs() <= 1))
}

/// Under `latest` (a harness looks live, so `auto` picks it) a YUY2 stream keeps every frame and
/// its timestamp, and every frame shows a stylization.
#[test]
fn latest_keeps_every_yuy2_frame_and_its_timestamp() {
    init();
    const GREEN: [u8; 3] = [40, 200, 90];
    let model = model_file(&fixtures::flat_colour(GREEN, 0));
    let (w, h) = (64, 48);
    let info = gst_video::VideoInfo::builder(VideoFormat::Yuy2, w, h).build().unwrap();
    let input = through("videoconvert ! capsfilter caps=video/x-raw,format=YUY2", (w, h));
    let mut harness = harness(&[model_prop(&model.path)], VideoFormat::Yuy2, w, h);
    for i in 0..20u64 {
        let mut buffer = input.copy();
        let b = buffer.get_mut().unwrap();
        b.set_pts(gst::ClockTime::from_mseconds(33 * i));
        b.set_duration(gst::ClockTime::from_mseconds(33));
        let out = harness.push_and_pull(buffer).expect("every frame comes out");
        assert_eq!(out.pts(), Some(gst::ClockTime::from_mseconds(33 * i)), "frame {i} keeps its timestamp");
        assert!(is_flat(&out, &info, bt601(GREEN)), "frame {i} is stylized");
    }
    let stats = harness.element().unwrap().property::<gst::Structure>("stats");
    assert!(stats.get::<String>("realtime-policy").unwrap().starts_with("latest"), "{stats}");
    assert_eq!(stats.get::<u64>("frames").unwrap(), 20);
}

/// `model` set while an NV12 stream plays, with default smoothing: the switch comes between two
/// frames, each frame is wholly the old model's or the new one's (the temporal filter does not
/// fade one into the other), and none is lost.
#[test]
fn hot_swap_on_an_nv12_stream_loses_no_frame() {
    init();
    const RED: [u8; 3] = [220, 30, 30];
    const BLUE: [u8; 3] = [30, 40, 220];
    let (red, blue) = (model_file(&fixtures::flat_colour(RED, 0)), model_file(&fixtures::flat_colour(BLUE, 0)));
    let (w, h) = (48, 32);
    let info = gst_video::VideoInfo::builder(VideoFormat::Nv12, w, h).build().unwrap();
    let input = through("videoconvert ! capsfilter caps=video/x-raw,format=NV12", (w, h));
    let mut harness = harness(&[model_prop(&red.path), every_frame()], VideoFormat::Nv12, w, h);
    let push = |harness: &mut gst_check::Harness, colours: &mut Vec<Option<[u8; 3]>>| {
        let out = harness.push_and_pull(input.clone()).expect("every frame comes out");
        colours.push([RED, BLUE].into_iter().find(|c| is_flat(&out, &info, bt601(*c))));
    };
    let mut colours = Vec::new();
    for _ in 0..3 {
        push(&mut harness, &mut colours);
    }
    harness.element().unwrap().set_property("model", blue.path.to_str().unwrap());
    let mut pushed = 3;
    while pushed < 2000 && !colours.contains(&Some(BLUE)) {
        push(&mut harness, &mut colours);
        pushed += 1;
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    push(&mut harness, &mut colours);
    pushed += 1;
    let first_blue = colours.iter().position(|c| *c == Some(BLUE)).expect("the new model takes over");
    assert!(colours[..first_blue].iter().all(|c| *c == Some(RED)), "{colours:?}");
    assert!(colours[first_blue..].iter().all(|c| *c == Some(BLUE)), "{colours:?}");
    assert_eq!(colours.len(), pushed);
}

/// `view=split` on I420: the left half is the original's samples, a white divider, the right
/// half stylized; in luma and in chroma.
#[test]
fn split_view_on_i420_keeps_the_left_half_original() {
    init();
    const GREEN: [u8; 3] = [40, 200, 90];
    let model = model_file(&fixtures::flat_colour(GREEN, 0));
    let (w, h) = (64, 36);
    let info = gst_video::VideoInfo::builder(VideoFormat::I420, w, h).build().unwrap();
    let input = through("videoconvert ! capsfilter caps=video/x-raw,format=I420", (w, h));
    let props = [model_prop(&model.path), every_frame(), ("view", enum_value("view", "split"))];
    let mut harness = harness(&props, VideoFormat::I420, w, h);
    let out = harness.push_and_pull(input.clone()).expect("a frame comes out");
    let (before, after) = (components(&input, &info), components(&out, &info));
    let green = bt601(GREEN);
    for (c, width) in [(0, w as usize), (1, w as usize / 2), (2, w as usize / 2)] {
        let middle = width / 2;
        for (row_in, row_out) in before[c].chunks(width).zip(after[c].chunks(width)) {
            let divider = if c == 0 { 235 } else { 128 };
            assert_eq!(row_out[..middle - 1], row_in[..middle - 1], "component {c}: left half original");
            assert_eq!(row_out[middle - 1..=middle], [divider, divider], "component {c}: divider");
            assert!(
                row_out[middle + 1..].iter().all(|v| (*v as i32 - green[c] as i32).abs() <= 1),
                "component {c}: right half stylized"
            );
        }
    }
}
