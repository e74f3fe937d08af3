//! placeholder
pub mod config;
pub mod credentials;
pub mod signer;
pub mod crc64;
pub mod mime;
#[cfg(feature = "emulator")]
pub mod emulator;

pub use config::Config;
