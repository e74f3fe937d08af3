//! # oss-blocking
//!
//! A small, blocking Alibaba Cloud OSS upload SDK: no async runtime, one connection pool per
//! [`Client`], every upload verified end to end with CRC-64, and a built-in local OSS emulator
//! (feature `emulator`) to test against without an account.
//!
//! The API follows the official SDK v2 page "Simple upload", in Rust idiom:
//!
//! ```
//! use oss_blocking as oss;
//! # let emu = oss::emulator::Emulator::start().unwrap();
//! let cfg = oss::Config::load_default()
//!     .credentials_provider(oss::credentials::EnvironmentVariableCredentialsProvider::new())
//!     .region("cn-hangzhou");
//! # let cfg = emu.config(); // the doctest talks to the local emulator instead
//! let client = oss::Client::new(cfg);
//!
//! let result = client.put_object(
//!     oss::PutObjectRequest::new("examplebucket", "exampledir/exampleobject.txt")
//!         .body("Hello, OSS!")
//!         .forbid_overwrite(true),
//! )?;
//! println!("ETag: {:?}, Request ID: {}", result.etag, result.request_id);
//! # Ok::<(), oss::OperationError>(())
//! ```
//!
//! How an upload flows, one way: [`PutObjectRequest`] → validation (nothing is sent on bad
//! input) → endpoint and URL → credentials → V4 signature ([`signer`], pure functions) → the
//! body streamed through a tracker that computes the CRC-64 ([`crc64`]) and reports progress
//! in the same pass → [`PutObjectResult`] or [`OperationError`].
// The lints (missing_docs, no unwrap/expect/panic, no panicking index or arithmetic) are set
// for the whole library in Cargo.toml's [lints]; unit tests may index, unwrap and panic.
#![cfg_attr(
    test,
    allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing,
        clippy::arithmetic_side_effects
    )
)]

pub mod body;
pub mod callback;
pub mod client;
pub mod config;
pub mod crc64;
pub mod credentials;
#[cfg(feature = "emulator")]
pub mod emulator;
pub(crate) mod endpoint;
pub mod error;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod headers;
pub mod mime;
pub mod options;
pub mod put_object;
pub mod signer;
#[cfg(test)]
mod test_vectors;
pub(crate) mod validate;

pub use body::Body;
pub use callback::Callback;
pub use client::Client;
pub use config::Config;
pub use error::{ErrorKind, OperationError, ServiceError};
pub use headers::Headers;
pub use options::{ObjectAcl, ParseOptionError, ServerSideEncryption, StorageClass, Tagging};
pub use put_object::{PutObjectRequest, PutObjectResult};
