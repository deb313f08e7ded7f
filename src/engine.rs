//! The running model, shared by the streaming thread and the inference worker, and hot-swap:
//! [`Engine::load_in_background`] loads a new model on its own thread, warms it up at the size
//! frames have, and offers it; the model in use is switched before the next inference (between
//! two frames), and a newer request supersedes one still loading.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use animestyle_model::ModelContract;

use crate::frame_io::Planes;
use crate::lock::lock;
use crate::resample::Resampler;
use crate::session::{ModelSource, Session, SessionSettings};
use crate::tensor_io::RgbSource;

/// What the application is told about the model in use.
#[derive(Debug, Clone)]
pub struct ModelInfo {
    /// 1 for the model loaded at start, +1 for each model switched in.
    pub serial: u64,
    pub name: String,
    pub execution_provider: String,
    pub contract: ModelContract,
}

/// `(content, canvas)` for a `frame`-sized frame under the `inference-size` setting (-1 = the
/// model's recommended size, 0 = the frame's own size): see [`ModelContract::network_size`].
pub fn network_size(
    contract: &ModelContract,
    frame: (u32, u32),
    inference_size: i32,
) -> ((usize, usize), (usize, usize)) {
    let inference_size = match inference_size {
        -1 => contract.recommended_inference_size.unwrap_or(0),
        n => n.max(0) as u32,
    };
    let (content, canvas) = contract.network_size(frame, inference_size);
    ((content.0 as usize, content.1 as usize), (canvas.0 as usize, canvas.1 as usize))
}

/// `image` scaled to the network's `content` size into `network_in`: the one way a frame (or a
/// job made for a model switched out since) becomes the network's input.
pub fn to_network_input(
    resampler: &mut Option<Resampler>,
    image: &Planes,
    content: (usize, usize),
    network_in: &mut Planes,
) {
    Resampler::scale_cached(resampler, image, network_in, content);
}

/// One inference: ONNX Runtime's time and the model that ran.
pub struct Ran {
    pub inference: Duration,
    pub model: Arc<ModelInfo>,
}

/// How a background load ended (see [`Engine::load_in_background`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadOutcome {
    /// Loaded, warmed up and offered: it takes over before the next inference.
    Ready,
    /// Not loaded, or failed its first inference: the running model stays. Says why.
    Failed(String),
    /// A newer request (or [`Engine::cancel_loads`]) came first: nothing was offered.
    Superseded,
}

pub struct Engine {
    session: Mutex<Session>,
    model: Mutex<Arc<ModelInfo>>,
    waiting: Mutex<Option<Session>>,
    /// Counts load requests; a load finishing after a newer request is dropped.
    load_requests: AtomicU64,
    /// The last frame size seen, `width << 32 | height` (0: none yet), for warming up.
    frame_size: AtomicU64,
}

fn info(session: &Session, serial: u64) -> Arc<ModelInfo> {
    Arc::new(ModelInfo {
        serial,
        name: session.source.to_string(),
        execution_provider: session.selection.provider.to_string(),
        contract: session.contract.clone(),
    })
}

impl Engine {
    pub fn new(session: Session) -> Arc<Self> {
        Arc::new(Engine {
            model: Mutex::new(info(&session, 1)),
            session: Mutex::new(session),
            waiting: Mutex::new(None),
            load_requests: AtomicU64::new(0),
            frame_size: AtomicU64::new(0),
        })
    }

    /// Records the size of the frames coming in, so a model loaded later warms up at it.
    pub fn note_frame_size(&self, (width, height): (u32, u32)) {
        self.frame_size.store(u64::from(width) << 32 | u64::from(height), Ordering::Relaxed);
    }

    /// Hot-swap: loads `source` with `settings` on a background thread and warms it up at the
    /// last frame size seen and `inference_size`; if that worked, offers it to replace the
    /// running model before the next inference, then reports to `done` (on that thread), so
    /// the first frame processed after `done(Ready)` already runs it. A request made while
    /// another is loading supersedes it. Errs only when the thread cannot be started.
    pub fn load_in_background(
        self: &Arc<Self>,
        source: ModelSource,
        settings: SessionSettings,
        inference_size: i32,
        done: impl FnOnce(LoadOutcome) + Send + 'static,
    ) -> std::io::Result<()> {
        let request = self.load_requests.fetch_add(1, Ordering::AcqRel) + 1;
        let packed = self.frame_size.load(Ordering::Relaxed);
        let frame = ((packed >> 32) as u32, packed as u32);
        let engine = self.clone();
        std::thread::Builder::new().name("animestyle-load".into()).spawn(move || {
            let loaded = Session::load(&source, &settings).map_err(|e| e.message).and_then(|mut session| {
                if frame.0 > 0 && frame.1 > 0 {
                    warm_up(&mut session, frame, inference_size)
                        .map_err(|e| format!("model '{source}' failed its first inference: {e}"))?;
                }
                Ok(session)
            });
            let outcome = match loaded {
                // Offered before it is reported: whoever hears `Ready` finds it waiting.
                Ok(session) => match engine.offer_if_current(request, session) {
                    true => LoadOutcome::Ready,
                    false => LoadOutcome::Superseded,
                },
                Err(_) if engine.load_requests.load(Ordering::Acquire) != request => LoadOutcome::Superseded,
                Err(why) => LoadOutcome::Failed(why),
            };
            done(outcome)
        })?;
        Ok(())
    }

    /// Drops every load still in progress (the element stops): none will be offered.
    pub fn cancel_loads(&self) {
        let _waiting = lock(&self.waiting);
        self.load_requests.fetch_add(1, Ordering::AcqRel);
    }

    /// Offers `session` (replacing a model offered earlier and not switched in yet) unless a
    /// newer request (or a cancel) came after `request`. Checked
    /// under the offer's lock, so an older load can never replace a newer one's model.
    fn offer_if_current(&self, request: u64, session: Session) -> bool {
        let mut waiting = lock(&self.waiting);
        let current = self.load_requests.load(Ordering::Acquire) == request;
        if current {
            *waiting = Some(session);
        }
        current
    }

    /// The model in use now.
    pub fn model(&self) -> Arc<ModelInfo> {
        lock(&self.model).clone()
    }

    /// True while an offered model waits to be switched in.
    pub fn switch_waiting(&self) -> bool {
        lock(&self.waiting).is_some()
    }

    /// Switches to the offered model, if any. Returns the new model's description.
    pub fn switch_if_offered(&self) -> Option<Arc<ModelInfo>> {
        let mut session = lock(&self.session);
        self.switch_locked(&mut session)
    }

    fn switch_locked(&self, session: &mut Session) -> Option<Arc<ModelInfo>> {
        let new = lock(&self.waiting).take()?;
        let old = std::mem::replace(session, new);
        let serial = lock(&self.model).serial + 1;
        let model = info(session, serial);
        *lock(&self.model) = model.clone();
        // Releasing a session frees its memory arena; keep that off the frame's time.
        let _ = std::thread::Builder::new().name("animestyle-release".into()).spawn(move || drop(old));
        Some(model)
    }

    /// Runs `input` through the model padded to `canvas` (both from [`network_size`] for the
    /// model in use: call [`Self::switch_if_offered`] before computing them).
    pub fn run(&self, input: &RgbSource, canvas: (usize, usize), output: &mut Planes) -> Result<Ran, String> {
        let session = &mut *lock(&self.session);
        let inference = session.run(input, canvas, output)?;
        Ok(Ran { inference, model: self.model() })
    }

    /// The inference worker's run: switches in an offered model, then runs `input` (made for a
    /// `frame`-sized frame at `inference_size`), first rescaling it if the model now in use wants
    /// another network size; `input` is left as what the network saw.
    pub fn switch_and_run(
        &self,
        input: &mut Planes,
        frame: (u32, u32),
        inference_size: i32,
        rescale: &mut Option<Resampler>,
        output: &mut Planes,
    ) -> Result<Ran, String> {
        let session = &mut *lock(&self.session);
        self.switch_locked(session);
        let (content, canvas) = network_size(&session.contract, frame, inference_size);
        if content != (input.width, input.height) {
            let mut fitted = Planes::default();
            to_network_input(rescale, input, content, &mut fitted);
            *input = fitted;
        }
        let inference = session.run(&RgbSource::Planes(input), canvas, output)?;
        Ok(Ran { inference, model: self.model() })
    }
}

/// Runs `session` twice on a mid-grey `frame`-sized image at the network size the element
/// uses, so the first frames after a hot-swap do not pay ONNX Runtime's first-run setup
/// (several times a normal inference) in the streaming thread.
pub fn warm_up(session: &mut Session, frame: (u32, u32), inference_size: i32) -> Result<(), String> {
    let (content, canvas) = network_size(&session.contract, frame, inference_size);
    let grey = Planes { width: content.0, height: content.1, data: vec![127.5; content.0 * content.1 * 3] };
    let mut output = Planes::default();
    for _ in 0..2 {
        session.run(&RgbSource::Planes(&grey), canvas, &mut output)?;
    }
    Ok(())
}
