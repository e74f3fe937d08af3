//! Upload with every common option at once ("Simple upload": common options combined):
//! content type, ACL, storage class, encryption, tags, metadata, caching headers and no
//! overwrite.
//!
//!     cargo run --example put_all_options

mod common;

use oss_blocking as oss;

fn main() -> std::process::ExitCode {
    common::main_with(run)
}

fn run() -> Result<(), String> {
    let target = common::target()?;
    let key = format!("exampledir/all-options-{}.json", std::process::id());
    let request = oss::PutObjectRequest::new(&target.bucket, &key)
        .body(r#"{"hello":"oss"}"#)
        .content_type("application/json")
        .acl(oss::ObjectAcl::Private)
        .storage_class(oss::StorageClass::Standard)
        .server_side_encryption(oss::ServerSideEncryption::Aes256)
        .tagging(
            oss::Tagging::new()
                .tag("env", "prod")
                .tag("team", "backend"),
        )
        .metadata("author", "alice")
        .metadata("source", "put_all_options example")
        .cache_control("no-cache")
        .content_disposition("attachment; filename=\"hello.json\"")
        .forbid_overwrite(true);
    let result = target
        .client
        .put_object(request)
        .map_err(|e| format!("upload failed: {e:#}"))?;
    common::print_result(&result);
    common::show_stored(&target, &key);
    Ok(())
}
