//! placeholder
pub mod config;
pub mod crc64;
pub mod credentials;
#[cfg(feature = "emulator")]
pub mod emulator;
pub mod signer;

pub use config::Config;
