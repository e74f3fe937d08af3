//! placeholder
pub mod config;
pub mod credentials;
pub mod signer;
pub mod crc64;
pub mod mime;
pub(crate) mod validate;
#[cfg(feature = "emulator")]
pub mod emulator;

pub use config::Config;
