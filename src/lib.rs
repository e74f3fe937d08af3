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
//! How a request flows, for every operation: the request type (e.g. [`PutObjectRequest`]) is
//! checked and turned into headers (nothing is sent on bad input) → one pipeline prepares the
//! URL once, then per attempt fetches credentials, signs ([`signer`], pure functions) and
//! streams the body through a tracker that computes the CRC-64 ([`crc64`]) and reports
//! progress in the same pass → the operation checks the answer (ETag, CRC-64, 203) → one
//! retry table decides whether to try again → the result (e.g. [`PutObjectResult`]) or an
//! [`OperationError`], whose `{:#}` form prints each cause once.
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

mod append_file;
mod body;
mod callback;
mod client;
mod config;
pub mod crc64;
pub mod credentials;
#[cfg(feature = "emulator")]
pub mod emulator;
mod endpoint;
mod error;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod headers;
mod json;
mod mime;
mod ops;
mod options;
mod pipeline;
mod presign;
mod retry;
pub mod signer;
#[cfg(test)]
mod test_vectors;
mod transport;
mod uploader;
mod validate;

pub use append_file::{AppendFile, DEFAULT_APPEND_THRESHOLD};
pub use body::{Body, ProgressFn, PROGRESS_MAX_CHUNK};
pub use callback::Callback;
pub use client::Client;
pub use config::SignatureVersion;
pub use config::{
    Config, DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_ATTEMPTS, DEFAULT_MAX_IDLE_CONNECTIONS_PER_HOST,
    DEFAULT_READWRITE_TIMEOUT, DEFAULT_RETRY_BASE_DELAY, DEFAULT_RETRY_MAX_BACKOFF,
};
pub use error::{ErrorKind, OperationError, ServiceError, BAD_ERROR_RESPONSE};
pub use headers::Headers;
pub use mime::{content_type_for_key, DEFAULT_CONTENT_TYPE};
pub use ops::append_object::{AppendObjectRequest, AppendObjectResult};
pub use ops::get_object::GetObjectRequest;
pub use ops::head_object::{HeadObjectRequest, HeadObjectResult};
pub use ops::multipart::abort::{AbortMultipartUploadRequest, AbortMultipartUploadResult};
pub use ops::multipart::complete::{
    CompleteMultipartUploadRequest, CompleteMultipartUploadResult, CompletedPart,
};
pub use ops::multipart::initiate::{InitiateMultipartUploadRequest, InitiateMultipartUploadResult};
pub use ops::multipart::list_parts::{ListPartsRequest, ListPartsResult, ListedPart};
pub use ops::multipart::list_uploads::{
    ListMultipartUploadsRequest, ListMultipartUploadsResult, MultipartUpload,
};
pub use ops::multipart::upload_part::{UploadPartRequest, UploadPartResult};
pub use ops::multipart::{
    MAX_LIST_PAGE, MAX_PART_NUMBER, MAX_PART_SIZE, MIN_PART_NUMBER, MIN_PART_SIZE,
};
pub use ops::put_object::{PutObjectRequest, PutObjectResult};
pub use ops::shared::{MAX_TRAFFIC_LIMIT, MIN_TRAFFIC_LIMIT};
pub use options::{
    ObjectAcl, ParseOptionError, ServerSideEncryption, StorageClass, Tagging, MAX_METADATA_BYTES,
    MAX_TAGS, MAX_TAG_KEY_CHARS, MAX_TAG_VALUE_CHARS, METADATA_PREFIX,
};
pub use presign::{Presignable, PresignedRequest};
pub use uploader::{
    UploadResult, Uploader, DEFAULT_UPLOAD_PARALLEL, DEFAULT_UPLOAD_PART_SIZE, MAX_UPLOAD_PARALLEL,
};
