//! Device choice: the only code that knows about the `cuda` feature.
//!
//! [`Device`] is the engine's own choice (`auto`, `cpu`, `cuda:N`); what [`crate::fit`] takes.
//! The opened tensor device ([`TensorDevice`]) is only needed by code that drives the tensor
//! backend directly (the local encoder); [`select`] opens one, once per process and device.

use std::collections::BTreeMap;
use std::sync::{Mutex, OnceLock};

use crate::error::{EngineError, Result};

/// An opened tensor device of the backend (candle's), for the local encoder.
pub use candle_core::Device as TensorDevice;

/// Where heavy math should run (`TOPICD_DEVICE=auto|cpu|cuda:N`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Device {
    /// The GPU when built with `cuda` and one answers, else the CPU.
    #[default]
    Auto,
    /// Always the CPU.
    Cpu,
    /// This CUDA device; an error if it cannot be opened.
    Cuda(usize),
}

/// The former name of [`Device`].
pub type DevicePreference = Device;

impl std::str::FromStr for Device {
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

impl std::fmt::Display for Device {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Device::Auto => f.write_str("auto"),
            Device::Cpu => f.write_str("cpu"),
            Device::Cuda(n) => write!(f, "cuda:{n}"),
        }
    }
}

impl Device {
    /// The choice that reopens `opened` (a device from [`select`]): `Cpu` or `Cuda(n)`.
    pub fn of(opened: &TensorDevice) -> Self {
        match opened.location() {
            candle_core::DeviceLocation::Cuda { gpu_id } => Device::Cuda(gpu_id),
            _ => Device::Cpu,
        }
    }
}

/// Opens the preferred device. `Auto` falls back to the CPU (with a log line) when the build has
/// no `cuda` feature or no GPU answers. A CUDA device is opened once per process and shared.
pub fn select(pref: Device) -> Result<TensorDevice> {
    match pref {
        Device::Cpu => Ok(TensorDevice::Cpu),
        Device::Cuda(n) => open_cuda_cached(n),
        Device::Auto => {
            static AUTO: OnceLock<TensorDevice> = OnceLock::new();
            if let Some(d) = AUTO.get() {
                return Ok(d.clone());
            }
            let d = match open_cuda_cached(0) {
                Ok(d) => {
                    tracing::info!(device = "cuda:0", "using GPU");
                    d
                }
                Err(e) => {
                    tracing::info!(reason = %e, "no usable GPU, using CPU");
                    TensorDevice::Cpu
                }
            };
            Ok(AUTO.get_or_init(|| d).clone())
        }
    }
}

/// A short name for logs and health output ("cpu", "cuda:0").
pub fn name(device: &TensorDevice) -> String {
    match device.location() {
        candle_core::DeviceLocation::Cpu => "cpu".to_string(),
        candle_core::DeviceLocation::Cuda { gpu_id } => format!("cuda:{gpu_id}"),
        candle_core::DeviceLocation::Metal { gpu_id } => format!("metal:{gpu_id}"),
    }
}

/// CUDA devices opened so far, by ordinal (opening one creates a context: do it once).
fn open_cuda_cached(n: usize) -> Result<TensorDevice> {
    static OPENED: OnceLock<Mutex<BTreeMap<usize, TensorDevice>>> = OnceLock::new();
    let opened = OPENED.get_or_init(|| Mutex::new(BTreeMap::new()));
    let mut opened = opened.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(d) = opened.get(&n) {
        return Ok(d.clone());
    }
    let d = open_cuda(n)?;
    opened.insert(n, d.clone());
    Ok(d)
}

#[cfg(feature = "cuda")]
fn open_cuda(n: usize) -> Result<TensorDevice> {
    TensorDevice::new_cuda(n).map_err(EngineError::from)
}

#[cfg(not(feature = "cuda"))]
fn open_cuda(n: usize) -> Result<TensorDevice> {
    Err(EngineError::param(
        "device",
        format!("cuda:{n} requested but topic-engine was built without the `cuda` feature"),
    ))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints() {
        for (s, d) in [("auto", Device::Auto), ("CPU", Device::Cpu), ("cuda:2", Device::Cuda(2))] {
            let parsed: Device = s.parse().unwrap();
            assert_eq!(parsed, d);
            assert_eq!(parsed.to_string().parse::<Device>().unwrap(), d);
        }
        assert!("tpu".parse::<Device>().is_err());
        assert_eq!(Device::of(&select(Device::Cpu).unwrap()), Device::Cpu);
        assert_eq!(name(&TensorDevice::Cpu), "cpu");
    }
}
