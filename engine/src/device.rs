//! Device choice: the only code that knows about the `cuda` feature.

/// The tensor device (re-exported so callers need no direct candle dependency).
pub use candle_core::Device;

use crate::error::{EngineError, Result};

/// Where heavy math should run (`TOPICD_DEVICE=auto|cpu|cuda:N`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DevicePreference {
    /// The GPU when built with `cuda` and one answers, else the CPU.
    #[default]
    Auto,
    /// Always the CPU.
    Cpu,
    /// This CUDA device; an error if it cannot be opened.
    Cuda(usize),
}

impl std::str::FromStr for DevicePreference {
    type Err = EngineError;
    fn from_str(s: &str) -> Result<Self> {
        let s = s.trim().to_ascii_lowercase();
        match s.as_str() {
            "auto" | "" => Ok(Self::Auto),
            "cpu" => Ok(Self::Cpu),
            "cuda" | "gpu" => Ok(Self::Cuda(0)),
            other => match other.strip_prefix("cuda:").map(str::parse::<usize>) {
                Some(Ok(n)) => Ok(Self::Cuda(n)),
                _ => Err(EngineError::param(
                    "device",
                    format!("expected auto, cpu or cuda:N, got {s:?}"),
                )),
            },
        }
    }
}

/// Opens the preferred device. `Auto` falls back to the CPU (with a log line) when the build has
/// no `cuda` feature or no GPU answers.
pub fn select(pref: DevicePreference) -> Result<Device> {
    match pref {
        DevicePreference::Cpu => Ok(Device::Cpu),
        DevicePreference::Cuda(n) => open_cuda(n),
        DevicePreference::Auto => match open_cuda(0) {
            Ok(d) => {
                tracing::info!(device = "cuda:0", "using GPU");
                Ok(d)
            }
            Err(e) => {
                tracing::info!(reason = %e, "no usable GPU, using CPU");
                Ok(Device::Cpu)
            }
        },
    }
}

/// A short name for logs and health output ("cpu", "cuda:0").
pub fn name(device: &Device) -> String {
    match device {
        Device::Cpu => "cpu".to_string(),
        Device::Cuda(_) => "cuda".to_string(),
        Device::Metal(_) => "metal".to_string(),
    }
}

#[cfg(feature = "cuda")]
fn open_cuda(n: usize) -> Result<Device> {
    Device::new_cuda(n).map_err(EngineError::from)
}

#[cfg(not(feature = "cuda"))]
fn open_cuda(n: usize) -> Result<Device> {
    Err(EngineError::param(
        "device",
        format!("cuda:{n} requested but topic-engine was built without the `cuda` feature"),
    ))
}
