//! Writes a before/after PNG of one frame of a video: the original on the left, the
//! `animestyle` result (default properties unless given) on the right.
//!
//! ```text
//! cargo run --release --example before_after -- INPUT OUTPUT.png [FRAME] [element properties…]
//! cargo run --release --example before_after -- vtest.avi out.png 120 strength=0.8
//! ```

use gst::prelude::*;

fn pull_rgbx(sink: &gst_app::AppSink) -> Result<(gst::Buffer, gst_video::VideoInfo), String> {
    let sample = sink.pull_sample().map_err(|_| "the video ended before that frame".to_string())?;
    let caps = sample.caps().ok_or("sample without caps")?;
    let info = gst_video::VideoInfo::from_caps(caps).map_err(|e| e.to_string())?;
    Ok((sample.buffer_owned().ok_or("sample without buffer")?, info))
}

fn run() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, output, rest @ ..] = args.as_slice() else {
        return Err("usage: before_after INPUT OUTPUT.png [FRAME] [property=value …]".into());
    };
    let (frame_index, props) = match rest.first().and_then(|f| f.parse::<usize>().ok()) {
        Some(n) => (n, &rest[1..]),
        None => (60, rest),
    };
    gst::init().map_err(|e| e.to_string())?;
    gstanimestyle::plugin_register_static().map_err(|e| e.to_string())?;
    let description = format!(
        "filesrc location=\"{input}\" ! decodebin ! videoconvert ! video/x-raw,format=RGBx ! tee name=t \
         t. ! queue ! appsink name=before sync=false \
         t. ! queue ! animestyle {} ! appsink name=after sync=false",
        props.join(" ")
    );
    let pipeline = gst::parse::launch(&description).map_err(|e| e.to_string())?.downcast::<gst::Pipeline>().unwrap();
    let sink = |name: &str| pipeline.by_name(name).unwrap().downcast::<gst_app::AppSink>().unwrap();
    let (before, after) = (sink("before"), sink("after"));
    pipeline.set_state(gst::State::Playing).map_err(|e| format!("{e}: see the bus error above"))?;
    let mut frames = None;
    for _ in 0..=frame_index {
        frames = Some((pull_rgbx(&before)?, pull_rgbx(&after)?));
    }
    pipeline.set_state(gst::State::Null).map_err(|e| e.to_string())?;
    let ((a, info), (b, _)) = frames.expect("at least one frame");
    let (w, h) = (info.width() as usize, info.height() as usize);
    let stride = info.stride()[0] as usize;
    let (a, b) = (a.map_readable().unwrap(), b.map_readable().unwrap());
    let mut side_by_side = vec![0u8; w * 2 * h * 4];
    for y in 0..h {
        let row = &mut side_by_side[y * w * 8..(y + 1) * w * 8];
        row[..w * 4].copy_from_slice(&a[y * stride..y * stride + w * 4]);
        row[w * 4..].copy_from_slice(&b[y * stride..y * stride + w * 4]);
    }
    let out_info = gst_video::VideoInfo::builder(gst_video::VideoFormat::Rgbx, (w * 2) as u32, h as u32)
        .fps(gst::Fraction::new(1, 1))
        .build()
        .unwrap();
    let encode =
        gst::parse::launch(&format!("appsrc name=src ! videoconvert ! pngenc ! filesink location=\"{output}\""))
            .map_err(|e| e.to_string())?
            .downcast::<gst::Pipeline>()
            .unwrap();
    let src = encode.by_name("src").unwrap().downcast::<gst_app::AppSrc>().unwrap();
    src.set_caps(Some(&out_info.to_caps().unwrap()));
    encode.set_state(gst::State::Playing).map_err(|e| e.to_string())?;
    src.push_buffer(gst::Buffer::from_mut_slice(side_by_side)).map_err(|e| e.to_string())?;
    src.end_of_stream().map_err(|e| e.to_string())?;
    for msg in encode.bus().unwrap().iter_timed(gst::ClockTime::from_seconds(30)) {
        match msg.view() {
            gst::MessageView::Eos(..) => break,
            gst::MessageView::Error(e) => return Err(e.error().to_string()),
            _ => {}
        }
    }
    encode.set_state(gst::State::Null).map_err(|e| e.to_string())?;
    println!("wrote {output}: frame {frame_index} of {input}, {w}x{h}, original | animestyle");
    Ok(())
}

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
