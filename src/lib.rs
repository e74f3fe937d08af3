//! placeholder
pub mod body;
pub mod client;
pub mod config;
pub mod credentials;
pub mod crc64;
pub(crate) mod endpoint;
pub mod error;
pub mod put_object;
pub mod signer;
pub mod mime;
pub(crate) mod validate;
#[cfg(feature = "emulator")]
pub mod emulator;

pub use body::Body;
pub use client::Client;
pub use config::Config;
pub use error::{ErrorKind, OperationError, ServiceError};
pub use put_object::{PutObjectRequest, PutObjectResult};
