//! Where the networks run: the burn device of a [`Backend`], or an error that says what to
//! install or which backend to pick instead.

use anyhow::bail;
use burn::tensor::{Device, Tensor};

use crate::config::Backend;

/// Runs a tiny computation on a GPU `device`: the GPU runtimes panic (in their own threads)
/// when no adapter or driver is found, which must become an error that says what to do.
#[allow(dead_code)] // only the GPU features call it
fn probe(device: Device, backend: Backend) -> anyhow::Result<Device> {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _ = Tensor::<1>::zeros([1], &device).into_data();
    }));
    std::panic::set_hook(hook);
    match result {
        Ok(()) => Ok(device),
        Err(payload) => {
            let why = payload
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| payload.downcast_ref::<&str>().copied())
                .unwrap_or("no details");
            bail!(
                "the {} backend has no usable device ({why}); install the GPU driver (and for cuda the CUDA \
                 runtime), or train on the CPU with --backend flex",
                backend.name()
            )
        }
    }
}

impl Backend {
    /// The device (without autodiff) of this backend, or why it is not available.
    pub fn device(self) -> anyhow::Result<Device> {
        match self {
            Backend::Flex => Ok(Device::flex()),
            #[cfg(feature = "cuda")]
            Backend::Cuda => probe(Device::cuda(0), self),
            #[cfg(feature = "wgpu")]
            Backend::Wgpu => probe(Device::wgpu(Default::default()), self),
            #[cfg(feature = "vulkan")]
            Backend::Vulkan => probe(Device::vulkan(Default::default()), self),
            #[allow(unreachable_patterns)]
            other => bail!(
                "this animestyle-train was built without the {0} backend; rebuild it with \
                 `cargo build --release -p animestyle-train --features {0}` or use --backend flex",
                other.name()
            ),
        }
    }
}
