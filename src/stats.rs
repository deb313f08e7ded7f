//! Running statistics the element reports through its `stats` property.

use std::collections::VecDeque;
use std::time::Instant;

/// How many recent frames the means and p95 are computed over.
const WINDOW: usize = 256;

#[derive(Debug, Default, Clone)]
pub struct Stats {
    frames: u64,
    dropped: u64,
    skipped: u64,
    reused: u64,
    /// Frames in `processing_ms` recorded since the latency was last re-measured.
    latency_frames: u64,
    inference_ms: VecDeque<f64>,
    upsampling_ms: VecDeque<f64>,
    /// Per stage of the frame path outside inference and upsampling: see [`StageTimes`].
    prepare_ms: VecDeque<f64>,
    lines_ms: VecDeque<f64>,
    smoothing_ms: VecDeque<f64>,
    write_ms: VecDeque<f64>,
    processing_ms: VecDeque<f64>,
    first_frame: Option<Instant>,
    last_frame: Option<Instant>,
    pub execution_provider: String,
    pub model: String,
    /// The ink lines the model in use asks for (`line-strength`'s value at its default).
    pub model_line_strength: f32,
    /// The cel shading the model in use asks for (`cel-shading`'s value at its default).
    pub model_cel_shading: f32,
    /// The real-time policy in effect (`auto` resolved).
    pub realtime_policy: String,
}

/// A copy of the figures at one moment.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    pub frames: u64,
    pub dropped: u64,
    /// Frames that reused the last stylization (nothing changed; no inference).
    pub skipped: u64,
    /// `latest` policy: frames whose own stylization was not ready in time, so the most recent
    /// one was reused (guided by the frame itself and blended by the temporal filter).
    pub reused: u64,
    /// ONNX Runtime's own time per inference (tensor packing excluded).
    pub inference_mean_ms: f64,
    pub inference_p95_ms: f64,
    /// Time scaling the stylized image back to the frame size (0 when inference runs at frame size).
    pub upsampling_mean_ms: f64,
    /// Reading the frame and bringing it to the network's size and colours.
    pub prepare_mean_ms: f64,
    /// Drawing ink lines at frame size.
    pub lines_mean_ms: f64,
    /// Temporal smoothing at frame size.
    pub smoothing_mean_ms: f64,
    /// Blending and writing the output frame.
    pub write_mean_ms: f64,
    /// Time the element spent on a frame, inference included.
    pub processing_mean_ms: f64,
    /// 95th percentile of it: the latency the element reports.
    pub processing_p95_ms: f64,
    /// Frames leaving the element per second of wall time, first to last frame.
    pub fps: f64,
}

/// Time (ms) one frame spent in the stages around inference and upsampling.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StageTimes {
    /// Reading the frame, scaling it to the network's size (and for YUV, converting to RGB there).
    pub prepare_ms: f64,
    /// Drawing ink lines on the frame-sized stylized image.
    pub lines_ms: f64,
    /// Temporal smoothing of the stylized image.
    pub smoothing_ms: f64,
    /// Blending over the original and writing the output frame.
    pub write_ms: f64,
}

fn push_window(window: &mut VecDeque<f64>, value: f64) {
    if window.len() == WINDOW {
        window.pop_front();
    }
    window.push_back(value);
}

fn mean(window: &VecDeque<f64>) -> f64 {
    if window.is_empty() { 0.0 } else { window.iter().sum::<f64>() / window.len() as f64 }
}

fn p95(window: &VecDeque<f64>) -> f64 {
    if window.is_empty() {
        return 0.0;
    }
    let mut sorted: Vec<f64> = window.iter().copied().collect();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    sorted[((n as f64 * 0.95).ceil() as usize).clamp(1, n) - 1]
}

impl Stats {
    /// A frame left the element after `processing_ms` in it; `inference_ms` / `upsampling_ms`
    /// are `None` when no inference / upsampling ran for it.
    pub fn record_frame(&mut self, processing_ms: f64, inference_ms: Option<f64>, upsampling_ms: Option<f64>) {
        let now = Instant::now();
        self.first_frame.get_or_insert(now);
        self.last_frame = Some(now);
        self.frames += 1;
        self.latency_frames += 1;
        push_window(&mut self.processing_ms, processing_ms);
        if let Some(ms) = inference_ms {
            push_window(&mut self.inference_ms, ms);
        }
        if let Some(ms) = upsampling_ms {
            push_window(&mut self.upsampling_ms, ms);
        }
    }

    /// The stage times of a frame that went through the whole path.
    pub fn record_stages(&mut self, t: StageTimes) {
        push_window(&mut self.prepare_ms, t.prepare_ms);
        push_window(&mut self.lines_ms, t.lines_ms);
        push_window(&mut self.smoothing_ms, t.smoothing_ms);
        push_window(&mut self.write_ms, t.write_ms);
    }

    pub fn record_dropped(&mut self) {
        self.dropped += 1;
    }

    pub fn record_skipped(&mut self) {
        self.skipped += 1;
    }

    pub fn record_reused(&mut self) {
        self.reused += 1;
    }

    /// Starts measuring the per-frame time afresh (the real-time policy changed, so the old
    /// times say nothing about the latency now).
    pub fn restart_latency_window(&mut self) {
        self.processing_ms.clear();
        self.latency_frames = 0;
    }

    /// Frames measured since the latency window was (re)started.
    pub fn latency_frames(&self) -> u64 {
        self.latency_frames
    }

    /// p95 of the per-frame time, leaving out the stream's first `warmup` frames while they
    /// are still in the window (ONNX Runtime's first runs allocate and are several times slower).
    pub fn processing_p95_after(&self, warmup: usize) -> f64 {
        let seen_all = self.latency_frames as usize <= WINDOW;
        let skip = if seen_all { warmup.min(self.processing_ms.len()) } else { 0 };
        p95(&self.processing_ms.iter().skip(skip).copied().collect())
    }

    pub fn snapshot(&self) -> Snapshot {
        let fps = match (self.first_frame, self.last_frame) {
            (Some(a), Some(b)) if self.frames > 1 && b > a => (self.frames - 1) as f64 / (b - a).as_secs_f64(),
            _ => 0.0,
        };
        Snapshot {
            frames: self.frames,
            dropped: self.dropped,
            skipped: self.skipped,
            reused: self.reused,
            inference_mean_ms: mean(&self.inference_ms),
            inference_p95_ms: p95(&self.inference_ms),
            upsampling_mean_ms: mean(&self.upsampling_ms),
            prepare_mean_ms: mean(&self.prepare_ms),
            lines_mean_ms: mean(&self.lines_ms),
            smoothing_mean_ms: mean(&self.smoothing_ms),
            write_mean_ms: mean(&self.write_ms),
            processing_mean_ms: mean(&self.processing_ms),
            processing_p95_ms: p95(&self.processing_ms),
            fps,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn means_and_p95_over_recorded_frames() {
        let mut s = Stats::default();
        for ms in 1..=100 {
            s.record_frame(ms as f64 + 2.0, Some(ms as f64), Some(1.0));
        }
        s.record_frame(1.0, None, None);
        s.record_stages(StageTimes { prepare_ms: 2.0, lines_ms: 3.0, smoothing_ms: 4.0, write_ms: 1.0 });
        s.record_stages(StageTimes { prepare_ms: 4.0, lines_ms: 1.0, smoothing_ms: 0.0, write_ms: 1.0 });
        s.record_dropped();
        let snap = s.snapshot();
        assert_eq!((snap.frames, snap.dropped), (101, 1));
        assert!((snap.inference_mean_ms - 50.5).abs() < 1e-9);
        assert_eq!(snap.inference_p95_ms, 95.0);
        assert_eq!(snap.upsampling_mean_ms, 1.0);
        assert_eq!(
            (snap.prepare_mean_ms, snap.lines_mean_ms, snap.smoothing_mean_ms, snap.write_mean_ms),
            (3.0, 2.0, 2.0, 1.0)
        );
        assert!((snap.processing_mean_ms - (52.5 * 100.0 + 1.0) / 101.0).abs() < 1e-9);
    }

    #[test]
    fn window_keeps_only_recent_frames() {
        let mut s = Stats::default();
        for _ in 0..WINDOW {
            s.record_frame(100.0, Some(100.0), None);
        }
        for _ in 0..WINDOW {
            s.record_frame(10.0, Some(10.0), None);
        }
        assert_eq!(s.snapshot().inference_mean_ms, 10.0);
        assert_eq!(s.snapshot().frames, 2 * WINDOW as u64);
    }

    #[test]
    fn latency_p95_leaves_out_warm_up_frames() {
        let mut s = Stats::default();
        s.record_frame(300.0, Some(290.0), None);
        s.record_frame(250.0, Some(240.0), None);
        for _ in 0..20 {
            s.record_frame(30.0, Some(20.0), None);
        }
        assert_eq!(s.processing_p95_after(2), 30.0);
        assert!(s.snapshot().processing_p95_ms > 200.0);
    }

    #[test]
    fn restarting_the_latency_window_forgets_earlier_times() {
        let mut s = Stats::default();
        for _ in 0..20 {
            s.record_frame(200.0, Some(190.0), None);
        }
        s.restart_latency_window();
        assert_eq!(s.latency_frames(), 0);
        for _ in 0..20 {
            s.record_frame(20.0, None, None);
        }
        s.record_reused();
        assert_eq!(s.latency_frames(), 20);
        assert_eq!(s.processing_p95_after(3), 20.0);
        assert_eq!((s.snapshot().frames, s.snapshot().reused), (40, 1));
    }

    #[test]
    fn empty_stats_are_zero() {
        let snap = Stats::default().snapshot();
        assert_eq!((snap.frames, snap.inference_mean_ms, snap.inference_p95_ms, snap.fps), (0, 0.0, 0.0, 0.0));
    }
}
