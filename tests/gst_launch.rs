//! The built plugin as users meet it: found through GST_PLUGIN_PATH by `gst-inspect-1.0` and
//! `gst-launch-1.0`, and a real transcode with `pipelines/transcode.sh`.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use gst::prelude::*;

const VTEST: &str = "/usr/share/doc/opencv-doc/examples/data/vtest.avi";

/// The folder holding the `libgstanimestyle.so` cargo built alongside this test binary.
fn plugin_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(Path::parent).expect("target/<profile>").to_path_buf();
    assert!(dir.join("libgstanimestyle.so").exists(), "libgstanimestyle.so not built in {}", dir.display());
    dir
}

/// Runs a GStreamer tool against the built plugin with a registry of its own.
fn gst_tool(tool: &str, args: &[&str], registry: &Path) -> Output {
    Command::new(tool)
        .args(args)
        .env("GST_PLUGIN_PATH", plugin_dir())
        .env("GST_REGISTRY", registry)
        .output()
        .unwrap_or_else(|e| panic!("{tool} runs: {e}"))
}

#[test]
fn gst_inspect_shows_the_element_and_its_properties() {
    let dir = tempfile::tempdir().unwrap();
    let out = gst_tool("gst-inspect-1.0", &["animestyle"], &dir.path().join("registry.bin"));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    for needle in [
        "Filter/Effect/Video",
        "model",
        "ort-library",
        "execution-provider",
        "threads",
        "inference-size",
        "strength",
        "stats",
        "RGBx",
        "ABGR",
    ] {
        assert!(text.contains(needle), "gst-inspect output lacks {needle}:\n{text}");
    }
}

#[test]
fn gst_launch_runs_the_default_pipeline_shape() {
    let dir = tempfile::tempdir().unwrap();
    let out = gst_tool(
        "gst-launch-1.0",
        &[
            "videotestsrc",
            "num-buffers=10",
            "!",
            "video/x-raw,width=320,height=180",
            "!",
            "videoconvert",
            "!",
            "animestyle",
            "!",
            "videoconvert",
            "!",
            "fakesink",
        ],
        &dir.path().join("registry.bin"),
    );
    assert!(
        out.status.success(),
        "gst-launch failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Video frames (or encoded video access units) reaching `description`'s element named
/// `sink`, and their span: first PTS to the end of the last frame. (An MP4 from an encoder
/// with B-frames starts at a PTS of a few frames, so the span is what a player shows.)
fn count_frames(description: &str) -> (u64, Option<gst::ClockTime>) {
    common::init();
    let pipeline = gst::parse::launch(description).unwrap().downcast::<gst::Pipeline>().unwrap();
    let sink = pipeline.by_name("sink").unwrap();
    let count = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let span = std::sync::Arc::new(std::sync::Mutex::new(None::<(gst::ClockTime, gst::ClockTime)>));
    let (c, l) = (count.clone(), span.clone());
    sink.static_pad("sink").unwrap().add_probe(gst::PadProbeType::BUFFER, move |_, info| {
        if let Some(buf) = info.buffer() {
            c.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            if let (Some(pts), Some(d)) = (buf.pts(), buf.duration()) {
                let mut l = l.lock().unwrap();
                *l = Some(l.map_or((pts, pts + d), |(a, b)| (a.min(pts), b.max(pts + d))));
            }
        }
        gst::PadProbeReturn::Ok
    });
    pipeline.set_state(gst::State::Playing).unwrap();
    for msg in pipeline.bus().unwrap().iter_timed(gst::ClockTime::from_seconds(300)) {
        match msg.view() {
            gst::MessageView::Eos(..) => break,
            gst::MessageView::Error(e) => panic!("{description}: {}", e.error()),
            _ => {}
        }
    }
    pipeline.set_state(gst::State::Null).unwrap();
    let n = count.load(std::sync::atomic::Ordering::SeqCst);
    let span = span.lock().unwrap().map(|(a, b)| b - a);
    (n, span)
}

#[test]
fn transcode_script_keeps_every_frame_of_a_real_clip() {
    assert!(Path::new(VTEST).exists(), "{VTEST} missing: run `make setup` (Debian package opencv-doc)");
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("vtest-anime.mp4");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("pipelines/transcode.sh");
    let out = Command::new("bash")
        .arg(&script)
        .args(["--quiet", VTEST])
        .arg(&out_path)
        .env("GST_PLUGIN_PATH", plugin_dir())
        .env("GST_REGISTRY", dir.path().join("registry.bin"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "transcode.sh failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let (frames_in, duration_in) = count_frames(&format!("filesrc location={VTEST} ! decodebin ! fakesink name=sink"));
    let (frames_out, duration_out) =
        count_frames(&format!("filesrc location={} ! qtdemux ! h264parse ! fakesink name=sink", out_path.display()));
    assert!(frames_in > 700, "vtest.avi decodes to {frames_in} frames");
    assert_eq!(frames_out, frames_in, "every input frame is in the MP4");
    let (a, b) = (duration_in.unwrap(), duration_out.unwrap());
    assert!(a.nseconds().abs_diff(b.nseconds()) <= gst::ClockTime::from_mseconds(101).nseconds(), "{a} vs {b}");
}

#[test]
fn transcode_script_rejects_bad_arguments_clearly() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("pipelines/transcode.sh");
    let out = Command::new("bash").arg(&script).args(["/nonexistent.avi", "/tmp/x.mp4"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read input '/nonexistent.avi'"));
    let out = Command::new("bash").arg(&script).args([VTEST, "/nonexistent-dir/x.mp4"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot write to '/nonexistent-dir'"));
}

fn script(name: &str, args: &[&str]) -> Output {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("pipelines").join(name);
    Command::new("bash").arg(&path).args(args).output().unwrap()
}

/// The live scripts' pipelines, with the camera replaced by a 30-frame test source and the
/// window / v4l2loopback device by a fakesink (no camera or loopback module here), run to EOS
/// through the built plugin; and their argument errors.
#[test]
fn webcam_and_virtual_camera_pipelines_run_with_stand_ins() {
    let dir = tempfile::tempdir().unwrap();
    let registry = dir.path().join("registry.bin");
    for (name, camera, sink) in [
        ("webcam.sh", "v4l2src device=/dev/video0", "autovideosink sync=false"),
        ("virtual-camera.sh", "v4l2src device=/dev/video0", "v4l2sink device=/dev/video10 sync=false"),
    ] {
        let help = script(name, &["--help"]);
        assert!(help.status.success() && String::from_utf8_lossy(&help.stdout).contains("--device"), "{name} --help");
        let printed = script(name, &["--size", "320x180", "--fps", "15", "--view", "split", "--print"]);
        let pipeline = String::from_utf8_lossy(&printed.stdout).trim().to_string();
        assert!(pipeline.contains(camera) && pipeline.contains(sink), "{name}: {pipeline}");
        assert!(pipeline.contains("width=320,height=180") && pipeline.contains("view=split"), "{name}: {pipeline}");
        let stand_in = pipeline.replace(camera, "videotestsrc num-buffers=30").replace(sink, "fakesink name=out");
        let args: Vec<&str> = std::iter::once("-q").chain(stand_in.split_whitespace()).collect();
        let out = gst_tool("gst-launch-1.0", &args, &registry);
        assert!(out.status.success(), "{name}: {stand_in}\n{}", String::from_utf8_lossy(&out.stderr));
        if name == "virtual-camera.sh" {
            assert!(pipeline.contains("format=YUY2"), "browsers and OBS take YUY2: {pipeline}");
        }

        let bad = script(name, &["--device", "/dev/no-such-camera"]);
        assert!(!bad.status.success());
        assert!(String::from_utf8_lossy(&bad.stderr).contains("no camera at /dev/no-such-camera"), "{name}");
        let bad = script(name, &["--size", "big"]);
        assert_eq!(bad.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&bad.stderr).contains("--size must look like 1280x720"), "{name}");
    }
    let missing = script("virtual-camera.sh", &["--test-source", "--output", "/dev/video99"]);
    assert!(!missing.status.success());
    let text = String::from_utf8_lossy(&missing.stderr);
    assert!(
        text.contains("no v4l2loopback device at /dev/video99") && text.contains("modprobe v4l2loopback"),
        "{text}"
    );
}
