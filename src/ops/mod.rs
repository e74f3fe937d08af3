//! The operations, one file each. An operation file owns its request type, the mapping of its
//! options to headers and query parameters, its success check and the parsing of its answer;
//! everything else (signing, sending, retries) is the pipeline's.

pub(crate) mod append_object;
pub(crate) mod get_object;
pub(crate) mod head_object;
pub(crate) mod multipart;
pub(crate) mod put_object;
pub(crate) mod shared;
