//! The ONNX Runtime session: loading a model into ONNX Runtime, resolving its contract, and
//! running one image through it (the tensor packing itself is [`crate::tensor_io`]'s).

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use animestyle_model::contract::{Dim, ModelDescription};
use animestyle_model::{ContractOverrides, ModelContract, TensorType};
use ort::ep::ExecutionProvider;
use ort::session::Session as OrtSession;
use ort::session::builder::{GraphOptimizationLevel, SessionBuilder};
use ort::value::{TensorElementType, TensorRef, ValueType};

use crate::frame_io::Planes;
use crate::providers::{self, Provider, Selection};
use crate::runtime;
use crate::tensor_io::{self, RgbSource, TensorElement};

/// The model embedded in the plugin, used when the `model` property is empty: the bundled cel
/// model trained by `animestyle-train` (see models/MODELS.md; `scripts/train-bundled.sh`
/// reproduces it). It asks for inference at long side 384 in its metadata.
pub const EMBEDDED_MODEL: &[u8] = include_bytes!("../models/animestyle-cel.onnx");
/// What the embedded model is called in logs and `stats`.
pub const EMBEDDED_MODEL_NAME: &str = "embedded:animestyle-cel.onnx";

/// The looks embedded in the plugin, chosen by the `style` property while `model` is empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Bundled {
    /// `models/animestyle-cel.onnx`, the default.
    #[default]
    Cel,
    /// `models/animestyle-painted.onnx`: anime mode on the Ren'Py drawings (models/MODELS.md).
    Painted,
}

impl Bundled {
    pub fn bytes(self) -> &'static [u8] {
        match self {
            Bundled::Cel => EMBEDDED_MODEL,
            Bundled::Painted => include_bytes!("../models/animestyle-painted.onnx"),
        }
    }

    /// What the model is called in logs and `stats`.
    pub fn name(self) -> &'static str {
        match self {
            Bundled::Cel => EMBEDDED_MODEL_NAME,
            Bundled::Painted => "embedded:animestyle-painted.onnx",
        }
    }
}

/// Where the model comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelSource {
    Embedded(Bundled),
    File(PathBuf),
}

impl ModelSource {
    /// The `model` and `style` properties' values: an empty `model` means the bundled `style`.
    pub fn from_properties(path: &str, style: Bundled) -> Self {
        if path.is_empty() { ModelSource::Embedded(style) } else { ModelSource::File(PathBuf::from(path)) }
    }

    /// The `model` property's value alone: empty means the default bundled look.
    pub fn from_property(path: &str) -> Self {
        Self::from_properties(path, Bundled::default())
    }
}

impl fmt::Display for ModelSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ModelSource::Embedded(bundled) => f.write_str(bundled.name()),
            ModelSource::File(p) => write!(f, "{}", p.display()),
        }
    }
}

/// Session settings taken from element properties.
#[derive(Debug, Clone, Default)]
pub struct SessionSettings {
    pub ort_library: Option<String>,
    /// Intra-op threads; 0 = one per core.
    pub threads: usize,
    pub provider: providers::Request,
    pub provider_strict: bool,
    pub gpu: providers::GpuOptions,
    pub overrides: ContractOverrides,
}

/// Which part of loading failed, so the element can pick the right error domain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadErrorKind {
    /// ONNX Runtime itself could not be loaded.
    Runtime,
    /// The model file does not exist or cannot be read.
    NotFound,
    /// The file is not a model ONNX Runtime can load.
    NotOnnx,
    /// The model loads but is not an image-to-image generator we can drive.
    Contract,
    /// The requested execution provider could not be used and strict mode is on.
    Provider,
}

#[derive(Debug, Clone)]
pub struct LoadError {
    pub kind: LoadErrorKind,
    pub message: String,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

fn load_error(kind: LoadErrorKind, message: impl Into<String>) -> LoadError {
    LoadError { kind, message: message.into() }
}

/// A model loaded into ONNX Runtime, ready to run frames.
pub struct Session {
    session: OrtSession,
    pub contract: ModelContract,
    pub selection: Selection,
    pub runtime_path: PathBuf,
    pub source: ModelSource,
    input_f32: Vec<f32>,
    input_u8: Vec<u8>,
}

fn tensor_type(ty: TensorElementType) -> Option<TensorType> {
    match ty {
        TensorElementType::Float32 => Some(TensorType::F32),
        TensorElementType::Uint8 => Some(TensorType::U8),
        _ => None,
    }
}

fn describe(session: &OrtSession) -> Result<ModelDescription, String> {
    let io = |outlets: &[ort::value::Outlet], what: &str| -> Result<(Vec<Dim>, TensorElementType), String> {
        let first = outlets.first().ok_or_else(|| format!("the model has no {what}"))?;
        match first.dtype() {
            ValueType::Tensor { ty, shape, .. } => {
                Ok((shape.iter().map(|d| if *d > 0 { Some(*d) } else { None }).collect(), *ty))
            }
            other => Err(format!("the model's {what} '{}' is a {other:?}, not a tensor", first.name())),
        }
    };
    let (input_shape, input_ty) = io(session.inputs(), "input")?;
    let (output_shape, output_ty) = io(session.outputs(), "output")?;
    let mut metadata = HashMap::new();
    if let Ok(md) = session.metadata() {
        for key in md.custom_keys().unwrap_or_default() {
            if let Some(value) = md.custom(&key) {
                metadata.insert(key, value);
            }
        }
    }
    Ok(ModelDescription {
        input_shape,
        output_shape,
        input_type: tensor_type(input_ty),
        output_type: tensor_type(output_ty),
        input_type_name: format!("{input_ty:?}"),
        output_type_name: format!("{output_ty:?}"),
        metadata,
    })
}

fn register(builder: &mut SessionBuilder, provider: Provider, gpu: &providers::GpuOptions) -> Result<(), String> {
    let available = match provider {
        Provider::Cpu => return Ok(()),
        Provider::Cuda => ort::ep::CUDA::is_available(),
        Provider::TensorRt => ort::ep::TensorRT::is_available(),
        Provider::OpenVino => ort::ep::OpenVINO::is_available(),
    };
    if !available.unwrap_or(false) {
        return Err(format!("this ONNX Runtime build has no {}", provider.ort_name()));
    }
    let result = match provider {
        Provider::Cpu => Ok(()),
        Provider::Cuda => ort::ep::CUDA::default().with_device_id(gpu.device_id).register(builder),
        Provider::TensorRt => {
            let mut trt = ort::ep::TensorRT::default().with_device_id(gpu.device_id).with_fp16(gpu.tensorrt_fp16);
            if let Some(dir) = &gpu.tensorrt_engine_cache {
                trt = trt.with_engine_cache(true).with_engine_cache_path(dir.display());
            }
            trt.register(builder)
        }
        Provider::OpenVino => ort::ep::OpenVINO::default().register(builder),
    };
    result.map_err(|e| e.to_string())
}

impl Session {
    pub fn load(source: &ModelSource, settings: &SessionSettings) -> Result<Self, LoadError> {
        let file_bytes;
        let bytes: &[u8] = match source {
            ModelSource::Embedded(bundled) => bundled.bytes(),
            ModelSource::File(path) => {
                file_bytes = read_model_file(path)?;
                &file_bytes
            }
        };
        let built = runtime::with_environment(settings.ort_library.as_deref(), |env, path| {
            let threads = if settings.threads == 0 {
                std::thread::available_parallelism().map_or(1, |n| n.get())
            } else {
                settings.threads
            };
            let mut builder = OrtSession::builder(env)
                .and_then(|b| b.with_optimization_level(GraphOptimizationLevel::All).map_err(Into::into))
                .and_then(|b| b.with_intra_threads(threads).map_err(Into::into))
                .and_then(|b| b.with_inter_threads(1).map_err(Into::into))
                // Spinning threads would compete with pre/post on the same cores for no gain.
                .and_then(|b| b.with_intra_op_spinning(false).map_err(Into::into))
                .map_err(|e| load_error(LoadErrorKind::Runtime, format!("could not configure ONNX Runtime: {e}")))?;
            let selection = providers::select(settings.provider, settings.provider_strict, |p| {
                register(&mut builder, p, &settings.gpu)
            })
            .map_err(|e| load_error(LoadErrorKind::Provider, e))?;
            let session = builder.commit_from_memory(bytes).map_err(|e| {
                load_error(
                    LoadErrorKind::NotOnnx,
                    format!(
                        "model '{source}' could not be loaded by ONNX Runtime: {e}. Set the `model` property to an \
                         ONNX image-to-image generator (such as one exported by animestyle-train), or leave it \
                         empty for the embedded model"
                    ),
                )
            })?;
            Ok::<_, LoadError>((session, selection, path.to_path_buf()))
        })
        .map_err(|e| load_error(LoadErrorKind::Runtime, e))??;
        let (session, selection, runtime_path) = built;
        let desc =
            describe(&session).map_err(|e| load_error(LoadErrorKind::Contract, format!("model '{source}': {e}")))?;
        let contract = ModelContract::resolve(&desc, &settings.overrides).map_err(|e| {
            load_error(LoadErrorKind::Contract, format!("model '{source}' is not usable as an image generator: {e}"))
        })?;
        Ok(Session {
            session,
            contract,
            selection,
            runtime_path,
            source: source.clone(),
            input_f32: Vec::new(),
            input_u8: Vec::new(),
        })
    }

    /// Runs `input` (already at the network's content size) padded to `canvas`, and writes the
    /// part of the output that corresponds to the content into `output`. Returns the time
    /// ONNX Runtime itself took (tensor packing and unpacking excluded).
    pub fn run(&mut self, input: &RgbSource, canvas: (usize, usize), output: &mut Planes) -> Result<Duration, String> {
        let (cw, ch) = canvas;
        let shape: [usize; 4] = match self.contract.layout {
            animestyle_model::Layout::Nchw => [1, 3, ch, cw],
            animestyle_model::Layout::Nhwc => [1, ch, cw, 3],
        };
        match self.contract.input_type {
            TensorType::F32 => {
                run_typed(&mut self.session, &self.contract, &mut self.input_f32, input, shape, canvas, output)
            }
            TensorType::U8 => {
                run_typed(&mut self.session, &self.contract, &mut self.input_u8, input, shape, canvas, output)
            }
        }
    }
}

/// Packs `input` into `buffer` as a tensor of element type `T`, runs the session and reads the
/// output; returns ONNX Runtime's own time.
fn run_typed<T: TensorElement + ort::value::PrimitiveTensorElementType + std::fmt::Debug>(
    session: &mut OrtSession,
    contract: &ModelContract,
    buffer: &mut Vec<T>,
    input: &RgbSource,
    shape: [usize; 4],
    canvas: (usize, usize),
    output: &mut Planes,
) -> Result<Duration, String> {
    tensor_io::pack_tensor(input, contract, canvas, buffer);
    let tensor = TensorRef::from_array_view((shape, buffer.as_slice())).map_err(|e| e.to_string())?;
    let started = Instant::now();
    let outputs = session.run(ort::inputs![tensor]).map_err(|e| e.to_string())?;
    let elapsed = started.elapsed();
    read_output(&outputs[0], contract, canvas, input.size(), output).map(|()| elapsed)
}

fn read_model_file(path: &Path) -> Result<Vec<u8>, LoadError> {
    std::fs::read(path).map_err(|e| {
        let kind = if e.kind() == std::io::ErrorKind::NotFound { "does not exist" } else { "cannot be read" };
        load_error(
            LoadErrorKind::NotFound,
            format!(
                "model file '{}' {kind} ({e}). Set the `model` property to an existing .onnx file, or leave it empty \
                 for the embedded model",
                path.display()
            ),
        )
    })
}

fn read_output(
    value: &ort::value::DynValue,
    contract: &ModelContract,
    canvas: (usize, usize),
    content: (usize, usize),
    output: &mut Planes,
) -> Result<(), String> {
    match contract.output_type {
        TensorType::F32 => unpack_output::<f32>(value, contract, canvas, content, output),
        TensorType::U8 => unpack_output::<u8>(value, contract, canvas, content, output),
    }
}

fn unpack_output<T: TensorElement + ort::value::PrimitiveTensorElementType>(
    value: &ort::value::DynValue,
    contract: &ModelContract,
    canvas: (usize, usize),
    content: (usize, usize),
    output: &mut Planes,
) -> Result<(), String> {
    let (shape, data) = value.try_extract_tensor::<T>().map_err(|e| format!("reading the model output: {e}"))?;
    let dims: Vec<usize> = shape.iter().map(|d| (*d).max(0) as usize).collect();
    let (oh, ow, channels) = match (contract.layout, dims.as_slice()) {
        (animestyle_model::Layout::Nchw, [1, c, h, w]) => (*h, *w, *c),
        (animestyle_model::Layout::Nhwc, [1, h, w, c]) => (*h, *w, *c),
        _ => {
            return Err(format!(
                "the model returned a tensor of shape {dims:?}; expected one {} image",
                contract.layout
            ));
        }
    };
    if channels != 3 || ow == 0 || oh == 0 {
        return Err(format!("the model returned a tensor of shape {dims:?}; expected 3 colour channels"));
    }
    // A generator may change the size (e.g. upscale ×2): its content area scales with it.
    let scaled = |v: usize, out: usize, inp: usize| ((v * out + inp / 2) / inp).clamp(1, out);
    let out_content = (scaled(content.0, ow, canvas.0), scaled(content.1, oh, canvas.1));
    tensor_io::unpack_tensor(data, contract, (ow, oh), out_content, output);
    Ok(())
}
