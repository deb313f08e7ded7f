//! The inference worker behind `realtime-policy=latest`: the network runs on its own thread, on
//! the newest image submitted only, while the streaming thread keeps every frame moving and
//! reuses the most recent stylization when the next one is not ready in time.
//!
//! The worker is generic over what it runs (a closure), so its scheduling is tested here with
//! a closure the test controls, without ONNX Runtime or GStreamer.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Instant;

use crate::frame_io::Planes;
use crate::lock::{lock, unpoisoned};

/// One image for the network: the frame already scaled to the network's content size.
#[derive(Debug, Default)]
pub struct Job {
    /// Increasing per submission; results carry it, so the caller knows which frame they are of.
    pub id: u64,
    pub input: Planes,
    /// The frame's size and the `inference-size` setting the input was scaled for; a model
    /// switched in meanwhile may want another network size, and the runner rescales to it.
    pub frame_size: (u32, u32),
    pub inference_size: i32,
}

/// A finished stylization: what the network saw and what it returned (both at network size),
/// and `M`, the model that made it (the element's [`crate::engine::ModelInfo`]).
#[derive(Debug)]
pub struct Stylization<M> {
    pub id: u64,
    pub input: Planes,
    pub output: Planes,
    pub inference_ms: f64,
    pub model: M,
}

/// Runs one job into the output planes and returns (inference ms, the model that ran). It may
/// replace `job.input` by what the network really saw (rescaled for a new model).
pub type Runner<M> = Box<dyn FnMut(&mut Job, &mut Planes) -> Result<(f64, M), String> + Send>;

struct Slot<M> {
    /// The newest job not started yet; a newer submission replaces it.
    queued: Option<Job>,
    running: bool,
    latest: Option<Arc<Stylization<M>>>,
    error: Option<String>,
    quit: bool,
}

struct Shared<M> {
    slot: Mutex<Slot<M>>,
    changed: Condvar,
}

impl<M> Shared<M> {
    fn lock(&self) -> MutexGuard<'_, Slot<M>> {
        lock(&self.slot)
    }
}

pub struct InferenceWorker<M> {
    shared: Arc<Shared<M>>,
    thread: Option<JoinHandle<()>>,
}

impl<M: Send + Sync + 'static> InferenceWorker<M> {
    pub fn spawn(mut runner: Runner<M>) -> std::io::Result<Self> {
        let slot = Slot { queued: None, running: false, latest: None, error: None, quit: false };
        let shared = Arc::new(Shared { slot: Mutex::new(slot), changed: Condvar::new() });
        let worker_shared = shared.clone();
        let thread = std::thread::Builder::new().name("animestyle-inference".into()).spawn(move || {
            let shared = worker_shared;
            loop {
                let mut job = {
                    let mut slot = shared.lock();
                    loop {
                        if slot.quit {
                            return;
                        }
                        if let Some(job) = slot.queued.take() {
                            slot.running = true;
                            break job;
                        }
                        slot = unpoisoned(shared.changed.wait(slot));
                    }
                };
                let mut output = Planes::default();
                // A panic in the runner must not take the streaming thread down with it: it
                // becomes an error the element reports.
                let result = catch_unwind(AssertUnwindSafe(|| runner(&mut job, &mut output)))
                    .unwrap_or_else(|_| Err("the inference thread panicked".into()));
                let mut slot = shared.lock();
                slot.running = false;
                match result {
                    Ok((inference_ms, model)) => {
                        slot.latest =
                            Some(Arc::new(Stylization { id: job.id, input: job.input, output, inference_ms, model }))
                    }
                    Err(e) => slot.error = Some(e),
                }
                shared.changed.notify_all();
            }
        })?;
        Ok(InferenceWorker { shared, thread: Some(thread) })
    }

    /// Queues `job` for the network. A job queued earlier and not started yet is replaced (only
    /// the newest frame is worth stylizing); its id is returned.
    pub fn submit(&self, job: Job) -> Option<u64> {
        let mut slot = self.shared.lock();
        let replaced = slot.queued.replace(job).map(|j| j.id);
        self.shared.changed.notify_all();
        replaced
    }

    /// Waits until the worker is idle (the last job submitted is finished) or `deadline`
    /// passes (`None`: no limit), then returns the newest stylization there is, or the error
    /// a run returned.
    pub fn wait(&self, deadline: Option<Instant>) -> Result<Option<Arc<Stylization<M>>>, String> {
        let mut slot = self.shared.lock();
        while slot.error.is_none() && (slot.running || slot.queued.is_some()) {
            slot = match deadline {
                None => unpoisoned(self.shared.changed.wait(slot)),
                Some(deadline) => {
                    let Some(left) = deadline.checked_duration_since(Instant::now()).filter(|d| !d.is_zero()) else {
                        break;
                    };
                    unpoisoned(self.shared.changed.wait_timeout(slot, left)).0
                }
            };
        }
        match slot.error.take() {
            Some(e) => Err(e),
            None => Ok(slot.latest.clone()),
        }
    }

    /// Forgets the last stylization (a new stream, or a caps change) and any queued job.
    pub fn clear(&self) {
        let mut slot = self.shared.lock();
        slot.queued = None;
        slot.latest = None;
    }
}

impl<M> Drop for InferenceWorker<M> {
    fn drop(&mut self) {
        self.shared.lock().quit = true;
        self.shared.changed.notify_all();
        if let Some(thread) = self.thread.take() {
            // The thread finishes the run in progress (one inference) and exits.
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::time::Duration;

    impl<M: Send + Sync + 'static> InferenceWorker<M> {
        /// True while a job is queued or running.
        fn busy(&self) -> bool {
            let slot = self.shared.lock();
            slot.running || slot.queued.is_some()
        }
    }

    fn job(id: u64) -> Job {
        Job { id, input: Planes { width: 1, height: 1, data: vec![id as f32; 3] }, ..Job::default() }
    }

    /// A worker whose runs block until the test releases them, reporting each job id it starts.
    fn gated() -> (InferenceWorker<u64>, mpsc::Receiver<u64>, mpsc::Sender<()>) {
        let (started_tx, started_rx) = mpsc::channel();
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let release_rx = Mutex::new(release_rx);
        let worker = InferenceWorker::spawn(Box::new(move |job: &mut Job, out: &mut Planes| {
            started_tx.send(job.id).unwrap();
            release_rx.lock().unwrap().recv().map_err(|e| e.to_string())?;
            out.resize(1, 1);
            out.data.fill(job.id as f32 * 10.0);
            Ok((1.0, 7))
        }))
        .unwrap();
        (worker, started_rx, release_tx)
    }

    #[test]
    fn only_the_newest_queued_job_runs() {
        let (worker, started, release) = gated();
        worker.submit(job(1));
        assert_eq!(started.recv().unwrap(), 1);
        // While job 1 runs, 2 and then 3 are queued: 3 replaces 2.
        assert_eq!(worker.submit(job(2)), None);
        assert_eq!(worker.submit(job(3)), Some(2));
        release.send(()).unwrap();
        assert_eq!(started.recv().unwrap(), 3);
        release.send(()).unwrap();
        let done = worker.wait(None).unwrap().unwrap();
        assert_eq!((done.id, done.output.data[0], done.model), (3, 30.0, 7));
        assert!(!worker.busy());
    }

    #[test]
    fn a_deadline_returns_the_previous_stylization_while_the_next_runs() {
        let (worker, started, release) = gated();
        worker.submit(job(1));
        started.recv().unwrap();
        release.send(()).unwrap();
        assert_eq!(worker.wait(None).unwrap().unwrap().id, 1);
        worker.submit(job(2));
        started.recv().unwrap();
        // Job 2 is held: a bounded wait gives job 1's result back, and the worker is still busy.
        let got = worker.wait(Some(Instant::now() + Duration::from_millis(5))).unwrap().unwrap();
        assert_eq!(got.id, 1);
        assert!(worker.busy());
        release.send(()).unwrap();
        assert_eq!(worker.wait(None).unwrap().unwrap().id, 2);
    }

    #[test]
    fn clear_forgets_the_last_stylization() {
        let (worker, started, release) = gated();
        worker.submit(job(1));
        started.recv().unwrap();
        release.send(()).unwrap();
        assert!(worker.wait(None).unwrap().is_some());
        worker.clear();
        assert!(worker.wait(None).unwrap().is_none(), "a seek or new caps: nothing from before is reused");
    }

    #[test]
    fn errors_and_panics_reach_the_caller() {
        let worker = InferenceWorker::<u64>::spawn(Box::new(|job: &mut Job, _: &mut Planes| match job.id {
            1 => Err("model failed".into()),
            _ => panic!("runner bug"),
        }))
        .unwrap();
        worker.submit(job(1));
        assert_eq!(worker.wait(None).unwrap_err(), "model failed");
        worker.submit(job(2));
        assert_eq!(worker.wait(None).unwrap_err(), "the inference thread panicked");
    }
}
