//! Choosing the ONNX Runtime execution provider.
//!
//! `auto` tries CUDA, then OpenVINO, then uses the CPU. TensorRT is only used when asked for:
//! it builds an engine per input size on first use, which takes minutes and would stall a
//! live pipeline the user did not expect to stall. A provider that was asked for but cannot
//! be registered falls back to the CPU with a warning, or fails the start when strict.

use std::fmt;

/// An execution provider the element knows how to register.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Provider {
    Cpu,
    Cuda,
    TensorRt,
    OpenVino,
}

impl Provider {
    /// The name ONNX Runtime uses for it.
    pub fn ort_name(self) -> &'static str {
        match self {
            Provider::Cpu => "CPUExecutionProvider",
            Provider::Cuda => "CUDAExecutionProvider",
            Provider::TensorRt => "TensorrtExecutionProvider",
            Provider::OpenVino => "OpenVINOExecutionProvider",
        }
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Provider::Cpu => "cpu",
            Provider::Cuda => "cuda",
            Provider::TensorRt => "tensorrt",
            Provider::OpenVino => "openvino",
        })
    }
}

/// Options of the GPU providers (`device-id`, `tensorrt-fp16`, `tensorrt-engine-cache`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GpuOptions {
    /// CUDA / TensorRT device index.
    pub device_id: i32,
    /// TensorRT: build fp16 engines (about twice as fast on GPUs with tensor cores).
    pub tensorrt_fp16: bool,
    /// TensorRT: where built engines are cached, so only the first start per input size pays the
    /// minutes-long engine build; `None` = no cache.
    pub tensorrt_engine_cache: Option<std::path::PathBuf>,
}

impl Default for GpuOptions {
    fn default() -> Self {
        GpuOptions { device_id: 0, tensorrt_fp16: true, tensorrt_engine_cache: None }
    }
}

/// What the user asked for: one provider, or `None` for automatic selection.
pub type Request = Option<Provider>;

/// Order tried by `auto`.
pub const AUTO_ORDER: [Provider; 2] = [Provider::Cuda, Provider::OpenVino];

/// The outcome of selection: the provider in use and, for each one that was tried and could
/// not be used, why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    pub provider: Provider,
    pub rejected: Vec<(Provider, String)>,
}

impl Selection {
    /// A warning for the user when an explicitly requested provider could not be used.
    pub fn warning(&self, request: Request) -> Option<String> {
        let wanted = request.filter(|p| *p != Provider::Cpu)?;
        if self.provider == wanted {
            return None;
        }
        let why = self.rejected.iter().find(|(p, _)| *p == wanted).map_or("unknown reason", |(_, w)| w.as_str());
        Some(format!(
            "execution provider '{wanted}' was requested but cannot be used ({why}); running on '{}' instead. \
             Install onnxruntime-gpu and the matching CUDA/TensorRT/OpenVINO libraries, or set \
             execution-provider=cpu to silence this",
            self.provider
        ))
    }
}

/// Picks a provider. `try_register` attempts to register one on the session being built and
/// says why it could not; the CPU provider always works and is never passed to it.
pub fn select(
    request: Request,
    strict: bool,
    mut try_register: impl FnMut(Provider) -> Result<(), String>,
) -> Result<Selection, String> {
    let candidates: Vec<Provider> = match request {
        None => AUTO_ORDER.to_vec(),
        Some(Provider::Cpu) => Vec::new(),
        Some(p) => vec![p],
    };
    let mut rejected = Vec::new();
    for p in candidates {
        match try_register(p) {
            Ok(()) => {
                return Ok(Selection { provider: p, rejected });
            }
            Err(why) => rejected.push((p, why)),
        }
    }
    let selection = Selection { provider: Provider::Cpu, rejected };
    if strict && let Some(warning) = selection.warning(request) {
        return Err(format!("{warning} (provider-strict is set, so the element does not start)"));
    }
    Ok(selection)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_takes_the_first_that_registers() {
        let s = select(None, false, |p| if p == Provider::OpenVino { Ok(()) } else { Err("no GPU".into()) }).unwrap();
        assert_eq!(s.provider, Provider::OpenVino);
        assert_eq!(s.rejected, vec![(Provider::Cuda, "no GPU".to_string())]);
        assert_eq!(s.warning(None), None, "auto falling through is not a warning");
    }

    #[test]
    fn auto_without_accelerators_is_cpu_and_never_tries_tensorrt() {
        let mut tried = Vec::new();
        let s = select(None, false, |p| {
            tried.push(p);
            Err("not built in".into())
        })
        .unwrap();
        assert_eq!(s.provider, Provider::Cpu);
        assert_eq!(tried, AUTO_ORDER.to_vec());
    }

    #[test]
    fn requested_provider_that_fails_warns_and_falls_back() {
        let s = select(Some(Provider::Cuda), false, |_| Err("libcudart.so.12: cannot open".into())).unwrap();
        assert_eq!(s.provider, Provider::Cpu);
        let w = s.warning(Some(Provider::Cuda)).unwrap();
        assert!(w.contains("'cuda' was requested") && w.contains("libcudart") && w.contains("'cpu'"), "{w}");
    }

    #[test]
    fn strict_request_fails_with_the_reason() {
        let e = select(Some(Provider::TensorRt), true, |_| Err("not compiled in".into())).unwrap_err();
        assert!(
            e.contains("'tensorrt' was requested") && e.contains("not compiled in") && e.contains("provider-strict")
        );
    }

    #[test]
    fn cpu_request_registers_nothing() {
        let s = select(Some(Provider::Cpu), true, |_| panic!("must not be called")).unwrap();
        assert_eq!((s.provider, s.warning(Some(Provider::Cpu))), (Provider::Cpu, None));
    }
}
