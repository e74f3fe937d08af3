//! placeholder
pub mod body;
pub mod client;
pub mod config;
pub mod crc64;
pub mod credentials;
#[cfg(feature = "emulator")]
pub mod emulator;
pub(crate) mod endpoint;
pub mod error;
pub mod mime;
pub mod put_object;
pub mod signer;
pub(crate) mod validate;

pub use body::Body;
pub use client::Client;
pub use config::Config;
pub use error::{ErrorKind, OperationError, ServiceError};
pub use put_object::{PutObjectRequest, PutObjectResult};
