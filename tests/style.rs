//! The bundled looks and the `style` property: both load with no other property set, they look
//! different, and `style` switches between them while playing without losing a frame.

mod common;

use common::*;
use gst::prelude::*;
use gst_video::VideoFormat;

const W: u32 = 96;
const H: u32 = 64;

fn stylized(props: &[(&str, glib::Value)]) -> (Vec<[u8; 4]>, gst::Structure) {
    let mut h = harness(props, VideoFormat::Rgbx, W, H);
    let out = h.push_and_pull(frame(VideoFormat::Rgbx, W, H, |x, y| natural(x, y, W, H))).expect("a frame comes out");
    let stats = h.element().unwrap().property::<gst::Structure>("stats");
    (FrameReader::new(out, VideoFormat::Rgbx, W, H).pixels(), stats)
}

fn mean_abs_diff(a: &[[u8; 4]], b: &[[u8; 4]]) -> f64 {
    let sum: u64 = a
        .iter()
        .zip(b)
        .map(|(p, q)| (0..3).map(|c| (p[c] as i32 - q[c] as i32).unsigned_abs() as u64).sum::<u64>())
        .sum();
    sum as f64 / (a.len() * 3) as f64
}

#[test]
fn both_bundled_styles_load_with_no_other_property_and_look_different() {
    init();
    let input =
        FrameReader::new(frame(VideoFormat::Rgbx, W, H, |x, y| natural(x, y, W, H)), VideoFormat::Rgbx, W, H).pixels();
    let (cel, stats) = stylized(&[every_frame()]);
    assert_eq!(stats.get::<String>("model").unwrap(), "embedded:animestyle-cel.onnx", "cel is the default");
    let (painted, stats) = stylized(&[every_frame(), ("style", enum_value("style", "painted"))]);
    assert_eq!(stats.get::<String>("model").unwrap(), "embedded:animestyle-painted.onnx");
    // Each changes the picture, and the two differ from each other by a visible amount (more
    // than 4 levels on average; JPEG-level noise is ~1).
    for (name, out) in [("cel", &cel), ("painted", &painted)] {
        assert!(mean_abs_diff(out, &input) > 4.0, "{name} barely changed the frame");
    }
    let between = mean_abs_diff(&cel, &painted);
    assert!(between > 4.0, "cel and painted differ by only {between:.2} levels");
    // A model file wins over the style.
    let handmade = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models/animestyle-handmade.onnx");
    let (_, stats) = stylized(&[every_frame(), ("style", enum_value("style", "painted")), model_prop(&handmade)]);
    assert_eq!(stats.get::<String>("model").unwrap(), handmade.display().to_string());
}

/// `style` set while playing: the switch comes between two frames, every frame comes out with
/// its timestamp, and the application is told which model runs now.
#[test]
fn style_switches_while_playing_without_losing_a_frame() {
    let mut h = harness(&[every_frame(), ("temporal-smoothing", 0.0f64.to_value())], VideoFormat::Rgbx, W, H);
    let bus = gst::Bus::new();
    h.element().unwrap().set_bus(Some(&bus));
    let input = frame(VideoFormat::Rgbx, W, H, |x, y| natural(x, y, W, H));
    let mut outputs = Vec::new();
    let mut push = |h: &mut gst_check::Harness, i: u64| {
        let mut buffer = input.copy();
        buffer.get_mut().unwrap().set_pts(gst::ClockTime::from_mseconds(33 * i));
        let out = h.push_and_pull(buffer).expect("every frame comes out");
        assert_eq!(out.pts(), Some(gst::ClockTime::from_mseconds(33 * i)));
        outputs.push(FrameReader::new(out, VideoFormat::Rgbx, W, H).pixels());
    };
    for i in 0..3 {
        push(&mut h, i);
    }
    h.element().unwrap().set_property("style", enum_value("style", "painted"));
    let mut i = 3;
    let switched = |bus: &gst::Bus| {
        std::iter::from_fn(|| bus.pop()).find(|m| m.structure().is_some_and(|s| s.name() == "animestyle-model-changed"))
    };
    let mut message = None;
    while message.is_none() && i < 2000 {
        push(&mut h, i);
        i += 1;
        message = switched(&bus);
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    push(&mut h, i);
    i += 1;
    let message = message.expect("an animestyle-model-changed message");
    assert_eq!(message.structure().unwrap().get::<String>("model").unwrap(), "embedded:animestyle-painted.onnx");
    assert_eq!(outputs.len() as u64, i, "one output per input");
    // The same input throughout: the first frames are cel's, the last painted's.
    assert!(mean_abs_diff(&outputs[0], &outputs[2]) < 0.5, "cel is stable");
    assert!(mean_abs_diff(&outputs[0], &outputs[outputs.len() - 1]) > 4.0, "the last frame is painted");
    let stats = h.element().unwrap().property::<gst::Structure>("stats");
    assert_eq!(stats.get::<String>("model").unwrap(), "embedded:animestyle-painted.onnx");
    let style = h.element().unwrap().property_value("style");
    assert_eq!(
        glib::EnumValue::from_value(&style).map(|(_, v)| v.nick()),
        Some("painted"),
        "the property keeps the new style"
    );
}
