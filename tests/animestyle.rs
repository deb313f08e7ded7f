//! Behaviour of the `animestyle` element that users rely on: formats and sizes, the model
//! contract, strength, alpha, timestamps, renegotiation, stats and error messages.

mod common;

use animestyle_model::fixtures::{self, FixtureSize, PermuteInvert, permute_invert_pixel};
use animestyle_model::{ChannelOrder, TensorType, ValueRange};
use common::*;
use gst::prelude::*;
use gst_video::VideoFormat;

const FORMATS: [VideoFormat; 10] = [
    VideoFormat::Rgb,
    VideoFormat::Bgr,
    VideoFormat::Rgbx,
    VideoFormat::Bgrx,
    VideoFormat::Xrgb,
    VideoFormat::Xbgr,
    VideoFormat::Rgba,
    VideoFormat::Bgra,
    VideoFormat::Argb,
    VideoFormat::Abgr,
];

fn varied(x: u32, y: u32) -> [u8; 4] {
    [(x * 37 + y * 11) as u8, (x * 5 + y * 71) as u8, (x * 113 + y * 3) as u8, (x * 7 + y * 29) as u8]
}

/// Pushes one frame of `pixel` through a harness and returns the output pixels.
fn stylize(
    props: &[(&str, glib::Value)],
    format: VideoFormat,
    (w, h): (u32, u32),
    pixel: impl Fn(u32, u32) -> [u8; 4],
) -> (Vec<[u8; 4]>, Vec<[u8; 4]>) {
    let mut harness = harness(props, format, w, h);
    let input = frame(format, w, h, pixel);
    let expected_in = FrameReader::new(input.clone(), format, w, h).pixels();
    let out = harness.push_and_pull(input).expect("a frame comes out");
    (expected_in, FrameReader::new(out, format, w, h).pixels())
}

/// A fixture model whose exact per-pixel output a test checks: the `model` property, with the
/// ink lines off. The lines are a separate stage drawn on the stylized image's borders after
/// the model (`line-strength`; by default what the model's metadata asks for, which for these
/// fixtures is none; its behaviour is tested in tests/lines.rs), so with them on, the pixels
/// along every edge are the model's output plus a line. Off explicitly, so these tests keep
/// checking the model's pixels whatever the default.
fn exact_model(path: &std::path::Path) -> [(&'static str, glib::Value); 2] {
    [model_prop(path), ("line-strength", 0.0f64.to_value())]
}

fn assert_permute_inverted(input: &[[u8; 4]], output: &[[u8; 4]], tolerance: i32, what: &str) {
    assert_eq!(input.len(), output.len());
    for (i, (a, b)) in input.iter().zip(output).enumerate() {
        let want = permute_invert_pixel([a[0], a[1], a[2]]);
        for c in 0..3 {
            assert!(
                (want[c] as i32 - b[c] as i32).abs() <= tolerance,
                "{what}: pixel {i}: input {a:?} gave {b:?}, expected {want:?}"
            );
        }
        assert_eq!(a[3], b[3], "{what}: pixel {i}: alpha/padding byte changed");
    }
}

#[test]
fn every_format_and_odd_size_gives_exact_pixels_and_keeps_alpha() {
    let model = model_file(
        &PermuteInvert { tensor_type: TensorType::U8, range: ValueRange::ZeroTo255, ..Default::default() }.model(),
    );
    for format in FORMATS {
        for size in [(1, 1), (37, 23), (1280, 720)] {
            let (input, output) = stylize(&exact_model(&model.path), format, size, varied);
            assert_permute_inverted(&input, &output, 0, &format!("{format:?} {size:?}"));
        }
    }
}

#[test]
fn embedded_model_changes_pixels_with_no_properties() {
    for format in [VideoFormat::Rgbx, VideoFormat::Bgra, VideoFormat::Rgb] {
        let (w, h) = (160, 120);
        let (input, output) = stylize(&[], format, (w, h), |x, y| natural(x, y, w, h));
        let changed = input.iter().zip(&output).filter(|(a, b)| a[..3] != b[..3]).count();
        assert!(changed > input.len() / 4, "{format:?}: only {changed} of {} pixels changed", input.len());
        assert!(input.iter().zip(&output).all(|(a, b)| a[3] == b[3]), "{format:?}: alpha changed");
    }
}

/// Held-out photos (OpenCV sample data, installed by `make setup`; never trained on).
const HELD_OUT_PHOTOS: [&str; 2] =
    ["/usr/share/doc/opencv-doc/examples/data/fruits.jpg", "/usr/share/doc/opencv-doc/examples/data/building.jpg"];

/// With zero properties the embedded model turns a photo into a cel look: flatter regions and
/// dark lines along the edges. Measured on the element's output at the photo's own size
/// (default inference size and guided upsampling). Thresholds: the teacher filter the model
/// imitates scores texture ratio 0.08–0.80 and edge luma change −10 to −27 on the held-out set,
/// the bundled model 0.09–0.40 and −11 to −23 (models/MODELS.md; here 0.24 / −12 on fruits.jpg
/// and 0.28 / −23 on building.jpg); a texture ratio under 0.75
/// and edges at least 8 levels darker leave room for decoder and platform differences while
/// failing for the identity, a blur (darkens nothing) or a sharpen/brighten (adds texture).
#[test]
fn embedded_model_makes_photos_flatter_with_darker_edges() {
    use gstanimestyle::metrics::{Rgb8, cel_effect};
    for path in HELD_OUT_PHOTOS {
        let img =
            image::open(path).unwrap_or_else(|e| panic!("{path}: {e} (install opencv-doc: make setup)")).to_rgb8();
        let (w, h) = img.dimensions();
        let (input, output) = stylize(&[], VideoFormat::Rgbx, (w, h), |x, y| {
            let [r, g, b] = img.get_pixel(x, y).0;
            [r, g, b, 255]
        });
        let rgb = |px: &[[u8; 4]]| px.iter().flat_map(|p| [p[0], p[1], p[2]]).collect::<Vec<u8>>();
        let (inp, out) = (rgb(&input), rgb(&output));
        let e = cel_effect(Rgb8::new(w as usize, h as usize, &inp), Rgb8::new(w as usize, h as usize, &out));
        eprintln!("{path}: {e:?}");
        assert!(e.texture_ratio < 0.75, "{path}: regions not flatter: {e:?}");
        assert!(e.edge_luma_change < -8.0, "{path}: edges not darker: {e:?}");
    }
}

/// A regression toward a photo fails: with no property but the style, each bundled style turns
/// a held-out photo into a frame whose drawn-ness measures (`metrics::drawn`, the ones
/// `evaluate` reports) lie well above the photo's own. On the corpus a drawing has about 20
/// times a photo's strong/weak edge ratio and 4 times its share of thin dark strokes
/// (models/MODELS.md); we ask for 1.5 times the photo's on each. Measured here (fruits.jpg,
/// building.jpg): cel 2.6× / 1.85× crisper with 1.9× / 2.4× the ink, painted 2.3× / 1.9× and
/// 2.0× / 2.3×; the default before the cel stage was 1.09× / 1.43× crisper (fails), and either
/// style without its ink lines has 0.3× / 0.5× the ink (fails).
const CRISPNESS_GAIN: f64 = 1.5;
const INK_GAIN: f64 = 1.5;

#[test]
fn both_styles_make_held_out_photos_read_as_drawn() {
    use gstanimestyle::metrics::{Rgb8, drawn::drawnness};
    for path in HELD_OUT_PHOTOS {
        let img =
            image::open(path).unwrap_or_else(|e| panic!("{path}: {e} (install opencv-doc: make setup)")).to_rgb8();
        let (w, h) = img.dimensions();
        let photo = drawnness(Rgb8::new(w as usize, h as usize, img.as_raw()));
        for style in ["cel", "painted"] {
            let props = [("style", enum_value("style", style))];
            let (_, output) = stylize(&props, VideoFormat::Rgbx, (w, h), |x, y| {
                let [r, g, b] = img.get_pixel(x, y).0;
                [r, g, b, 255]
            });
            let out: Vec<u8> = output.iter().flat_map(|p| [p[0], p[1], p[2]]).collect();
            let d = drawnness(Rgb8::new(w as usize, h as usize, &out));
            eprintln!("{path} {style}: photo {photo:?}, stylized {d:?}");
            assert!(
                d.crispness > CRISPNESS_GAIN * photo.crispness,
                "{path}, style {style}: strong/weak edge ratio {:.3}, the photo's {:.3}: not {CRISPNESS_GAIN}x crisper",
                d.crispness,
                photo.crispness
            );
            assert!(
                d.ink_share > INK_GAIN * photo.ink_share,
                "{path}, style {style}: thin dark strokes on {:.2}% of pixels, the photo's {:.2}%: not {INK_GAIN}x",
                100.0 * d.ink_share,
                100.0 * photo.ink_share
            );
        }
    }
}

#[test]
fn strength_zero_is_the_input_and_half_is_halfway() {
    let model = model_file(&PermuteInvert::default().model());
    let (w, h) = (37, 23);
    let (input, output) = stylize(&[("strength", 0.0f64.to_value())], VideoFormat::Bgrx, (w, h), varied);
    assert_eq!(input, output, "embedded model, strength 0");
    let (input, output) = stylize(
        &[exact_model(&model.path).as_slice(), &[("strength", 0.5f64.to_value())]].concat(),
        VideoFormat::Rgba,
        (w, h),
        varied,
    );
    for (a, b) in input.iter().zip(&output) {
        let inv = permute_invert_pixel([a[0], a[1], a[2]]);
        for c in 0..3 {
            let want = (a[c] as f32 + inv[c] as f32) / 2.0;
            assert!((b[c] as f32 - want).abs() <= 1.0, "{a:?} -> {b:?}, want ~{want}");
        }
        assert_eq!(a[3], b[3]);
    }
}

/// The overrides a model without metadata needs so the element reads it as the variant says.
fn overrides_for(v: &PermuteInvert) -> Vec<(&'static str, glib::Value)> {
    let mut props = Vec::new();
    if v.with_metadata {
        return props;
    }
    if v.channel_order == ChannelOrder::Bgr {
        props.push(("channel-order", "bgr".to_value()));
    }
    let nick = match v.range {
        ValueRange::MinusOneToOne => "minus-one-one",
        ValueRange::ZeroToOne => "zero-one",
        ValueRange::ZeroTo255 => "zero-255",
    };
    if v.tensor_type == TensorType::F32 && v.range != ValueRange::MinusOneToOne {
        props.push(("input-range", nick.to_value()));
        props.push(("output-range", nick.to_value()));
    }
    props
}

fn set_enum_props(props: Vec<(&'static str, glib::Value)>) -> Vec<(&'static str, glib::Value)> {
    // Enum properties are given by nick; convert to the element's enum values.
    props
        .into_iter()
        .map(|(name, v)| match v.get::<&str>() {
            Ok(nick) => (name, enum_value(name, nick)),
            Err(_) => (name, v),
        })
        .collect()
}

#[test]
fn every_contract_variant_gives_the_same_correct_pixels() {
    let variants = PermuteInvert::all();
    assert!(variants.len() >= 48, "fixtures cover the contract space");
    for v in variants {
        let model = model_file(&v.model());
        let mut props = set_enum_props(overrides_for(&v));
        props.extend(exact_model(&model.path));
        props.push(("inference-size", 0i32.to_value()));
        let tolerance = if v.tensor_type == TensorType::U8 { 0 } else { 1 };
        match v.size {
            FixtureSize::Fixed { width, height } => {
                // At the model's own size nothing is resampled: exact.
                let (input, output) = stylize(&props, VideoFormat::Rgbx, (width, height), varied);
                assert_permute_inverted(&input, &output, tolerance, &v.name());
                // Any other size is resized to the model's and back: a flat colour survives that.
                let (input, output) = stylize(&props, VideoFormat::Rgbx, (37, 23), |_, _| [200, 90, 30, 77]);
                assert_permute_inverted(&input, &output, tolerance, &format!("{} resized", v.name()));
            }
            FixtureSize::Dynamic { .. } => {
                // 37×23 is not a multiple of 16: the element pads and crops.
                let (input, output) = stylize(&props, VideoFormat::Rgbx, (37, 23), varied);
                assert_permute_inverted(&input, &output, tolerance, &v.name());
            }
        }
    }
}

#[test]
fn reduced_inference_size_keeps_frame_size_and_flat_colours() {
    let model = model_file(&PermuteInvert::default().model());
    let (w, h) = (640, 360);
    let props = [model_prop(&model.path), ("inference-size", 160i32.to_value())];
    let (input, output) =
        stylize(&props, VideoFormat::Rgbx, (w, h), |x, _| if x < w / 2 { [250, 10, 10, 1] } else { [10, 10, 250, 2] });
    // Away from the one edge, the scaled-down-and-up result is exact.
    for (i, (a, b)) in input.iter().zip(&output).enumerate() {
        let x = i as u32 % w;
        if x.abs_diff(w / 2) > 8 {
            assert_eq!(&b[..3], &permute_invert_pixel([a[0], a[1], a[2]]), "pixel {i}");
        }
        assert_eq!(a[3], b[3]);
    }
}

#[test]
fn timestamps_durations_offsets_and_frame_count_are_preserved() {
    let model = model_file(&PermuteInvert::default().model());
    let mut h = harness(&[model_prop(&model.path)], VideoFormat::Rgbx, 64, 48);
    let n = 12u64;
    for i in 0..n {
        let mut buf = frame(VideoFormat::Rgbx, 64, 48, varied);
        let b = buf.get_mut().unwrap();
        b.set_pts(gst::ClockTime::from_mseconds(1000 + i * 33));
        b.set_duration(gst::ClockTime::from_mseconds(33));
        b.set_offset(i);
        assert_eq!(h.push(buf), Ok(gst::FlowSuccess::Ok));
    }
    for i in 0..n {
        let out = h.pull().expect("one output per input");
        assert_eq!(out.pts(), Some(gst::ClockTime::from_mseconds(1000 + i * 33)));
        assert_eq!(out.duration(), Some(gst::ClockTime::from_mseconds(33)));
        assert_eq!(out.offset(), i);
    }
    assert!(h.try_pull().is_none(), "no extra frames");
    let stats = h.element().unwrap().property::<gst::Structure>("stats");
    assert_eq!(stats.get::<u64>("frames").unwrap(), n);
    assert_eq!(stats.get::<u64>("dropped").unwrap(), 0);
    assert_eq!(stats.get::<&str>("execution-provider").unwrap(), "cpu");
    assert!(stats.get::<f64>("inference-mean-ms").unwrap() > 0.0);
    assert!(stats.get::<f64>("inference-p95-ms").unwrap() >= stats.get::<f64>("inference-mean-ms").unwrap() * 0.5);
}

#[test]
fn renegotiation_mid_stream_changes_size() {
    let model = model_file(&PermuteInvert::default().model());
    let mut h = harness(&exact_model(&model.path), VideoFormat::Rgbx, 320, 240);
    let out = h.push_and_pull(frame(VideoFormat::Rgbx, 320, 240, varied)).unwrap();
    let input = FrameReader::new(frame(VideoFormat::Rgbx, 320, 240, varied), VideoFormat::Rgbx, 320, 240).pixels();
    assert_permute_inverted(&input, &FrameReader::new(out, VideoFormat::Rgbx, 320, 240).pixels(), 1, "320x240");

    h.set_src_caps(caps(VideoFormat::Bgra, 640, 360));
    let out = h.push_and_pull(frame(VideoFormat::Bgra, 640, 360, varied)).unwrap();
    let input = FrameReader::new(frame(VideoFormat::Bgra, 640, 360, varied), VideoFormat::Bgra, 640, 360).pixels();
    assert_eq!(out.size(), 640 * 360 * 4);
    assert_permute_inverted(&input, &FrameReader::new(out, VideoFormat::Bgra, 640, 360).pixels(), 1, "640x360");
    let caps = h.sinkpad().unwrap().current_caps().unwrap();
    let s = caps.structure(0).unwrap();
    assert_eq!((s.get::<i32>("width").unwrap(), s.get::<i32>("height").unwrap()), (640, 360));
}

fn start_error(props: &str) -> String {
    run_pipeline(&format!(
        "videotestsrc num-buffers=2 ! video/x-raw,width=64,height=48 ! videoconvert ! animestyle {props} ! fakesink"
    ))
    .expect_err("the element must fail")
}

#[test]
fn missing_model_file_is_a_clear_error() {
    let e = start_error("model=/nonexistent/dir/style.onnx");
    assert!(e.contains("model file '/nonexistent/dir/style.onnx' does not exist"), "{e}");
    assert!(e.contains("Set the `model` property"), "{e}");
}

#[test]
fn bad_models_are_clear_errors() {
    let cases: [(Vec<u8>, &[&str]); 4] = [
        (fixtures::not_onnx(), &["could not be loaded by ONNX Runtime", "ONNX image-to-image generator"]),
        (fixtures::rank3_input(), &["not usable as an image generator", "rank 3"]),
        (fixtures::one_channel(), &["not usable as an image generator", "3 colour channels"]),
        (fixtures::int64_input(), &["not usable as an image generator", "Int64", "float32 or uint8"]),
    ];
    for (bytes, needles) in cases {
        let model = model_file(&bytes);
        let e = start_error(&format!("model={}", model.path.display()));
        for n in needles {
            assert!(e.contains(n), "expected '{n}' in: {e}");
        }
    }
}

#[test]
fn inference_failure_is_an_element_error_not_a_crash() {
    let model = model_file(&fixtures::fails_at_run());
    let e = start_error(&format!("model={} inference-size=0", model.path.display()));
    assert!(e.contains("Inference failed on a 64x48 frame"), "{e}");
    assert!(e.contains("size-multiple or inference-size"), "{e}");
}

#[test]
fn unavailable_gpu_provider_falls_back_to_cpu_with_a_warning_or_fails_when_strict() {
    let model = model_file(&PermuteInvert::default().model());
    let el = element(&[model_prop(&model.path), ("execution-provider", provider_value("cuda"))]);
    let pipeline = gst::Pipeline::new();
    let src = gst::ElementFactory::make("videotestsrc").property("num-buffers", 2).build().unwrap();
    let sink = gst::ElementFactory::make("fakesink").build().unwrap();
    pipeline.add_many([&src, &el, &sink]).unwrap();
    gst::Element::link_many([&src, &el, &sink]).unwrap();
    pipeline.set_state(gst::State::Playing).unwrap();
    let bus = pipeline.bus().unwrap();
    let mut warning = None;
    for msg in bus.iter_timed(gst::ClockTime::from_seconds(60)) {
        match msg.view() {
            gst::MessageView::Warning(w) => warning = Some(w.error().to_string()),
            gst::MessageView::Eos(..) => break,
            gst::MessageView::Error(e) => panic!("unexpected error: {}", e.error()),
            _ => {}
        }
    }
    pipeline.set_state(gst::State::Null).unwrap();
    let warning = warning.expect("a warning on the bus");
    assert!(warning.contains("'cuda' was requested") && warning.contains("'cpu' instead"), "{warning}");
    assert_eq!(el.property::<gst::Structure>("stats").get::<&str>("execution-provider").unwrap(), "cpu");

    let e = start_error(&format!("model={} execution-provider=cuda provider-strict=true", model.path.display()));
    assert!(e.contains("'cuda' was requested") && e.contains("provider-strict"), "{e}");
}

fn provider_value(nick: &str) -> glib::Value {
    enum_value("execution-provider", nick)
}

#[test]
fn every_property_has_a_nick_and_blurb() {
    let el = element(&[]);
    for pspec in el.list_properties().iter().filter(|p| p.owner_type() == el.type_()) {
        assert!(!pspec.nick().is_empty() && pspec.nick() != pspec.name(), "{} has no nick", pspec.name());
        assert!(pspec.blurb().is_some_and(|b| b.len() > 20), "{} has no blurb", pspec.name());
    }
}

/// At a reduced inference size, the default guided upsampling gives back a step edge at
/// frame sharpness; `upsampling=bilinear` smears it over several pixels.
#[test]
fn guided_upsampling_keeps_a_step_edge_sharper_than_bilinear() {
    let model = model_file(&PermuteInvert::default().model());
    let (w, h) = (640, 360);
    let edge = 333; // not on the 4× low-resolution grid
    let pixel = |x: u32, _y: u32| if x < edge { [60, 60, 60, 0] } else { [210, 210, 210, 0] };
    // Pixels strictly between 10% and 90% of the step, on one row.
    let transition = |upsampling: &str| {
        let mut props = set_enum_props(vec![("upsampling", upsampling.to_value())]);
        props.extend(exact_model(&model.path));
        props.push(("inference-size", 160i32.to_value()));
        let (_, output) = stylize(&props, VideoFormat::Rgbx, (w, h), pixel);
        let row = &output[(h / 2 * w) as usize..((h / 2 + 1) * w) as usize];
        // permute-invert maps grey 60 → 195 and 210 → 45.
        let between = |v: u8| v > 45 + 15 && v < 195 - 15;
        (row.iter().filter(|p| between(p[0])).count(), row[edge as usize - 1][0], row[edge as usize][0])
    };
    let (guided, before, after) = transition("guided");
    let (bilinear, ..) = transition("bilinear");
    assert!(guided <= 1, "guided: {guided} px in transition ({before} | {after} at the edge)");
    assert!(bilinear >= 4, "bilinear: only {bilinear} px in transition");
    assert!(before >= 180 && after <= 60, "guided edge pixels {before} | {after}, want ~195 | ~45");
}

/// `view=original` passes the frame through; `view=split` shows the original on the left, the
/// stylized frame on the right and a white divider between them, alpha untouched.
#[test]
fn view_original_and_split() {
    let (w, h) = (64u32, 36u32);
    let pixel = |x: u32, y: u32| natural(x, y, w, h);
    let view = |nick: &str| set_enum_props(vec![("view", nick.to_value())]);
    let (input, original) = stylize(&view("original"), VideoFormat::Rgba, (w, h), pixel);
    assert_eq!(input, original);
    let (_, stylized) = stylize(&view("stylized"), VideoFormat::Rgba, (w, h), pixel);
    assert_ne!(input, stylized);
    let (input, split) = stylize(&view("split"), VideoFormat::Rgba, (w, h), pixel);
    for (i, (p, (a, b))) in split.iter().zip(input.iter().zip(&stylized)).enumerate() {
        let x = i as u32 % w;
        let want = match x {
            x if x < w / 2 - 1 => *a,
            x if x <= w / 2 => [255, 255, 255, a[3]],
            _ => *b,
        };
        assert_eq!(*p, want, "pixel ({x}, {})", i as u32 / w);
    }
}

/// At start the element posts which provider it got (and why others were not used) on the
/// bus: here CUDA is asked for on a machine without it, so the message says cpu and why.
#[test]
fn start_message_names_the_provider_in_use() {
    init();
    let pipeline =
        gst::parse::launch("videotestsrc num-buffers=2 ! video/x-raw,width=64,height=48 ! videoconvert ! animestyle execution-provider=cuda ! fakesink")
            .unwrap();
    let bus = pipeline.bus().unwrap();
    pipeline.set_state(gst::State::Playing).unwrap();
    let mut started = None;
    for msg in bus.iter_timed(gst::ClockTime::from_seconds(60)) {
        match msg.view() {
            gst::MessageView::Element(e) if e.structure().is_some_and(|s| s.name() == "animestyle-started") => {
                started = e.structure().map(|s| s.to_owned());
            }
            gst::MessageView::Eos(..) => break,
            gst::MessageView::Error(e) => panic!("{}", e.error()),
            _ => {}
        }
    }
    pipeline.set_state(gst::State::Null).unwrap();
    let s = started.expect("an animestyle-started message");
    assert_eq!(s.get::<String>("execution-provider").unwrap(), "cpu", "{s}");
    assert!(s.get::<String>("rejected-providers").unwrap().contains("cuda"), "{s}");
    assert!(s.get::<String>("model").unwrap().contains("animestyle-cel.onnx"), "{s}");
}

/// In a live pipeline the element answers the LATENCY query with upstream's latency plus its
/// own measured processing time, and posts a LATENCY message once it has measured it.
#[test]
fn latency_query_adds_the_measured_processing_time() {
    init();
    let pipeline = gst::parse::launch(
        "videotestsrc is-live=true num-buffers=40 pattern=ball ! video/x-raw,width=320,height=180,framerate=30/1 ! \
         videoconvert ! animestyle name=style ! fakesink sync=false",
    )
    .unwrap()
    .downcast::<gst::Pipeline>()
    .unwrap();
    let style = pipeline.by_name("style").unwrap();
    let bus = pipeline.bus().unwrap();
    pipeline.set_state(gst::State::Playing).unwrap();
    let mut latency_messages = 0;
    let mut answer = None;
    for msg in bus.iter_timed(gst::ClockTime::from_seconds(60)) {
        match msg.view() {
            gst::MessageView::Latency(..) if msg.src().is_some_and(|s| s == &style) => {
                latency_messages += 1;
                let mut q = gst::query::Latency::new();
                assert!(style.static_pad("src").unwrap().query(&mut q));
                answer = Some(q.result());
            }
            gst::MessageView::Eos(..) => break,
            gst::MessageView::Error(e) => panic!("{}", e.error()),
            _ => {}
        }
    }
    let stats = style.property::<gst::Structure>("stats");
    pipeline.set_state(gst::State::Null).unwrap();
    assert!(latency_messages >= 1, "a LATENCY message once measured");
    let (live, min, _) = answer.unwrap();
    assert!(live);
    let frame = gst::ClockTime::from_mseconds(33);
    let ours = min.checked_sub(frame).expect("upstream's one frame is included");
    let mean_ms = stats.get::<f64>("processing-mean-ms").unwrap();
    assert!(ours.nseconds() > 0 && ours.mseconds() as f64 >= 0.3 * mean_ms, "ours {ours}, mean {mean_ms} ms");
}
