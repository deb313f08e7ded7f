//! The decisions of `realtime-policy=latest`, apart from the threads and clocks that carry them
//! out: how long a frame may wait for its own stylization, whether a stylization that arrived is
//! the frame's own or an earlier one reused, and when the element is so far behind the live
//! timeline that frames repeat the last stylized image until the overrun is paid back.
//!
//! Every method takes the times it needs (durations measured by the caller), so the decisions
//! are tested here on made-up times, without sleeping or reading a clock.

use std::time::Duration;

/// What became of one frame's stylization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    /// Stylized from this frame.
    Stylized,
    /// The input did not change: the last stylization was reused without inference.
    Skipped,
    /// `latest`: this frame's stylization was not ready in time; the most recent was reused.
    Reused,
    /// `latest`, behind the live timeline: the last stylized image was written again as it is.
    Repeated,
    /// `latest`: no stylization exists at all (every run so far failed); the frame went out
    /// unchanged.
    PassedThrough,
}

/// The `latest` policy's bookkeeping for one stream.
#[derive(Debug, Default, Clone)]
pub struct LatestScheduler {
    /// The id of the newest job submitted (0: none yet).
    last_job: u64,
    /// The job whose inference time is already in the statistics.
    counted_job: u64,
    /// A stylization exists to reuse (otherwise a frame waits for its own).
    have_stylization: bool,
    /// How much more time (ms) the frames took than their periods allowed, summed and floored
    /// at zero. While positive, frames repeat the last stylized image (the cheapest output) so
    /// the element keeps the input rate.
    overrun_ms: f64,
    /// Smoothed time (ms) from having a stylization to the frame leaving, kept out of the time
    /// a frame may wait for its own stylization.
    finish_ms: f64,
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

impl LatestScheduler {
    /// True when this frame should repeat the last stylized image: the element is behind the
    /// live timeline and has an image to repeat.
    pub fn repeat_last(&self) -> bool {
        self.overrun_ms > 0.0 && self.have_stylization
    }

    /// A frame repeated the last image in `took` out of its `period`.
    pub fn repeated(&mut self, took: Duration, period: Duration) {
        self.overrun_ms = (self.overrun_ms + ms(took) - ms(period)).max(0.0);
    }

    /// The id for the next job handed to the worker.
    pub fn next_job(&mut self) -> u64 {
        self.last_job += 1;
        self.last_job
    }

    /// How long after its arrival a frame may wait for its own stylization: what is left of its
    /// `period` after the usual time from stylization to leaving. `None`: no limit — the very
    /// first frame (nothing to reuse) waits for its own.
    pub fn wait_limit(&self, period: Duration) -> Option<Duration> {
        self.have_stylization.then(|| period.saturating_sub(Duration::from_secs_f64(self.finish_ms / 1000.0)))
    }

    /// A stylization became available (from now on a frame never waits without limit), and
    /// whether its inference time is new to the statistics (`Some(inference_ms)` once per job).
    pub fn got_stylization(&mut self, id: u64, inference_ms: f64) -> Option<f64> {
        self.have_stylization = true;
        (id != self.counted_job).then(|| {
            self.counted_job = id;
            inference_ms
        })
    }

    /// What the frame got: its own stylization (`submitted` is the job it handed in and `ready`
    /// the one that came back), a skip (nothing submitted: the input was unchanged), or an
    /// earlier stylization reused.
    pub fn fate(submitted: Option<u64>, ready: u64) -> Fate {
        match submitted {
            Some(id) if id == ready => Fate::Stylized,
            None => Fate::Skipped,
            Some(_) => Fate::Reused,
        }
    }

    /// The frame left: `finish` after its stylization was there, `took` after it arrived, of a
    /// `period`. The first frame's wait for its own stylization is a start-up cost, not an
    /// overrun.
    pub fn finished(&mut self, fate: Fate, finish: Duration, took: Duration, period: Duration) {
        let finish = ms(finish);
        self.finish_ms = if self.finish_ms == 0.0 { finish } else { 0.8 * self.finish_ms + 0.2 * finish };
        if fate != Fate::Stylized || self.last_job > 1 {
            self.overrun_ms = (self.overrun_ms + ms(took) - ms(period)).max(0.0);
        }
    }

    /// Nothing from before may be reused (a seek, new caps): the next frame waits for its own.
    pub fn forget_stylization(&mut self) {
        self.have_stylization = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PERIOD: Duration = Duration::from_micros(16_667);

    fn millis(ms: u64) -> Duration {
        Duration::from_millis(ms)
    }

    /// A scheduler past its first frame: one stylized job, `finish` from result to leaving.
    fn running(finish: Duration) -> LatestScheduler {
        let mut s = LatestScheduler::default();
        let id = s.next_job();
        assert_eq!(s.got_stylization(id, 40.0), Some(40.0));
        s.finished(LatestScheduler::fate(Some(id), id), finish, millis(50), PERIOD);
        s
    }

    #[test]
    fn the_first_frame_waits_for_its_own_stylization_without_limit() {
        let s = LatestScheduler::default();
        assert_eq!(s.wait_limit(PERIOD), None);
        assert!(!s.repeat_last(), "nothing to repeat yet");
    }

    #[test]
    fn the_first_frames_wait_is_start_up_not_overrun() {
        // 50 ms for a 16.7 ms period, but it was the first frame waiting for its own result.
        let s = running(millis(4));
        assert!(!s.repeat_last());
    }

    #[test]
    fn later_frames_wait_only_what_their_period_leaves_after_finishing() {
        let s = running(millis(4));
        assert_eq!(s.wait_limit(PERIOD), Some(PERIOD - millis(4)));
        // Finishing takes longer than the period: no wait at all.
        let s = running(millis(30));
        assert_eq!(s.wait_limit(PERIOD), Some(Duration::ZERO));
    }

    #[test]
    fn finish_time_is_smoothed() {
        let mut s = running(millis(10));
        let id = s.next_job();
        s.finished(Fate::Stylized, millis(20), millis(12), PERIOD);
        // 0.8 × 10 + 0.2 × 20 = 12 ms.
        let limit = s.wait_limit(PERIOD).unwrap();
        assert!((limit.as_secs_f64() * 1000.0 - (16.667 - 12.0)).abs() < 1e-6, "{limit:?} (job {id})");
    }

    #[test]
    fn overruns_add_up_repeat_the_last_image_and_are_paid_back() {
        let mut s = running(millis(2));
        s.next_job();
        // 10 ms over the period: behind the live timeline.
        s.finished(Fate::Reused, millis(2), PERIOD + millis(10), PERIOD);
        assert!(s.repeat_last());
        // Repeats cost 1.667 ms less than the period each: 6 of them pay 10 ms back.
        let quick = PERIOD - Duration::from_micros(1_667);
        for _ in 0..5 {
            s.repeated(quick, PERIOD);
            assert!(s.repeat_last());
        }
        s.repeated(quick, PERIOD);
        assert!(!s.repeat_last(), "paid back: stylize again");
        // Frames faster than their period never build credit below zero.
        s.repeated(Duration::ZERO, PERIOD);
        s.finished(Fate::Reused, millis(1), PERIOD + millis(1), PERIOD);
        assert!(s.repeat_last(), "1 ms over after a zero-floored balance is an overrun");
    }

    #[test]
    fn fates() {
        assert_eq!(LatestScheduler::fate(Some(3), 3), Fate::Stylized);
        assert_eq!(LatestScheduler::fate(Some(4), 3), Fate::Reused);
        assert_eq!(LatestScheduler::fate(None, 3), Fate::Skipped);
    }

    #[test]
    fn each_jobs_inference_time_is_counted_once() {
        let mut s = LatestScheduler::default();
        assert_eq!(s.got_stylization(1, 40.0), Some(40.0));
        assert_eq!(s.got_stylization(1, 40.0), None, "the same result reused");
        assert_eq!(s.got_stylization(2, 35.0), Some(35.0));
    }

    #[test]
    fn forgetting_the_stylization_stops_repeats_and_waits_for_the_next() {
        let mut s = running(millis(2));
        s.next_job();
        s.finished(Fate::Reused, millis(2), PERIOD * 2, PERIOD);
        assert!(s.repeat_last());
        s.forget_stylization();
        assert!(!s.repeat_last(), "nothing from before the seek may be shown");
        assert_eq!(s.wait_limit(PERIOD), None);
    }
}
