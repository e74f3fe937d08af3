//! From a [`Config`] and a bucket/key to the URL on the wire; pure.
//!
//! Rules (as the official SDKs): a region gives `oss-<region>.aliyuncs.com` (or the internal,
//! dual-stack or accelerate host); an explicit endpoint wins and only gets a scheme when it
//! has none; the bucket goes into the host (virtual-hosted, the default), into the path
//! (path style, forced for IP-address endpoints), or nowhere (CNAME).

use crate::config::Config;
use crate::signer::escape_path;

/// Where requests go, resolved once per client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Endpoint {
    /// `http` or `https`.
    pub scheme: String,
    /// Host with an optional `:port`, e.g. `oss-cn-hangzhou.aliyuncs.com`, `127.0.0.1:9000`.
    pub authority: String,
    /// How the bucket is addressed.
    pub style: AddressStyle,
}

/// How the bucket appears in the URL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AddressStyle {
    /// `https://<bucket>.<host>/<key>`
    VirtualHosted,
    /// `https://<host>/<bucket>/<key>`
    Path,
    /// `https://<custom domain>/<key>`
    Cname,
}

/// The region and product that go into the V4 signing scope.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SigningScope {
    pub region: String,
    pub product: String,
}

fn is_region_id(region: &str) -> bool {
    !region.is_empty()
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// Resolves the endpoint; the error names the field and what to set.
pub(crate) fn resolve(cfg: &Config) -> Result<Endpoint, String> {
    let default_scheme = if cfg.disable_ssl { "http" } else { "https" };
    let (scheme, authority) = match cfg.endpoint.as_deref().map(str::trim) {
        Some(endpoint) if !endpoint.is_empty() => split_endpoint(endpoint, default_scheme)?,
        _ => {
            let region = cfg.region.as_deref().unwrap_or("");
            if !is_region_id(region) {
                return Err(missing_region_message(region));
            }
            // Python's priority: dual-stack, then internal, then accelerate.
            let host = if cfg.use_dualstack_endpoint {
                format!("{region}.oss.aliyuncs.com")
            } else if cfg.use_internal_endpoint {
                format!("oss-{region}-internal.aliyuncs.com")
            } else if cfg.use_accelerate_endpoint {
                "oss-accelerate.aliyuncs.com".to_string()
            } else {
                format!("oss-{region}.aliyuncs.com")
            };
            (default_scheme.to_string(), host)
        }
    };
    let style = if cfg.use_cname {
        AddressStyle::Cname
    } else if cfg.use_path_style || is_ip_literal(&authority) {
        AddressStyle::Path
    } else {
        AddressStyle::VirtualHosted
    };
    Ok(Endpoint {
        scheme,
        authority,
        style,
    })
}

/// The region and product to sign with. The region is required even with an explicit
/// endpoint, since it is part of every V4 signature.
pub(crate) fn signing_scope(cfg: &Config) -> Result<SigningScope, String> {
    if let Some(id) = cfg.cloud_box_id.as_deref().filter(|id| !id.is_empty()) {
        return Ok(SigningScope {
            region: id.to_string(),
            product: "oss-cloudbox".to_string(),
        });
    }
    match cfg.region.as_deref().map(str::trim) {
        Some(region) if !region.is_empty() => Ok(SigningScope {
            region: region.to_string(),
            product: crate::signer::DEFAULT_PRODUCT.to_string(),
        }),
        _ => Err(missing_region_message("")),
    }
}

fn missing_region_message(region: &str) -> String {
    if region.is_empty() {
        "invalid field, region: no region is set; set Config::region to the bucket's region id, \
         e.g. \"cn-hangzhou\" (also needed with an explicit endpoint: it is part of the signature)"
            .to_string()
    } else {
        format!(
            "invalid field, region: {region:?} is not a region id (lowercase letters, digits and \
             hyphens, e.g. \"cn-hangzhou\"), or set Config::endpoint"
        )
    }
}

fn split_endpoint(endpoint: &str, default_scheme: &str) -> Result<(String, String), String> {
    let (scheme, rest) = match endpoint.split_once("://") {
        Some((scheme, rest)) => (scheme.to_ascii_lowercase(), rest),
        None => (default_scheme.to_string(), endpoint),
    };
    if scheme != "http" && scheme != "https" {
        return Err(format!(
            "invalid field, endpoint: {endpoint:?} has scheme {scheme:?}; use http or https"
        ));
    }
    let (authority, path) = match rest.find(['/', '?', '#']) {
        Some(i) => (rest.get(..i).unwrap_or(""), rest.get(i..).unwrap_or("")),
        None => (rest, ""),
    };
    if !path.is_empty() && path != "/" {
        return Err(format!(
            "invalid field, endpoint: {endpoint:?} has a path or query; give only the host \
             (and port), e.g. \"oss-cn-hangzhou.aliyuncs.com\""
        ));
    }
    let valid_char = |c: char| c.is_ascii_alphanumeric() || "-._:[]".contains(c);
    if authority.is_empty() || !authority.chars().all(valid_char) {
        return Err(format!(
            "invalid field, endpoint: {endpoint:?} is not a host name, IP address or host:port"
        ));
    }
    Ok((scheme, authority.to_ascii_lowercase()))
}

/// True for `1.2.3.4`, `1.2.3.4:80`, `[::1]` and `[::1]:80`.
fn is_ip_literal(authority: &str) -> bool {
    if authority.starts_with('[') {
        return true;
    }
    let host = authority
        .rsplit_once(':')
        .map_or(authority, |(host, _port)| host);
    host.parse::<std::net::Ipv4Addr>().is_ok()
}

impl Endpoint {
    /// The URL of an object (or of the bucket when `key` is `None`), without a query.
    pub(crate) fn url(&self, bucket: &str, key: Option<&str>) -> String {
        let key = key.map(escape_path).unwrap_or_default();
        match self.style {
            AddressStyle::VirtualHosted => {
                format!("{}://{bucket}.{}/{key}", self.scheme, self.authority)
            }
            AddressStyle::Path => {
                format!("{}://{}/{bucket}/{key}", self.scheme, self.authority)
            }
            AddressStyle::Cname => format!("{}://{}/{key}", self.scheme, self.authority),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn url_shapes_match_the_official_sdk() {
        let case = crate::test_vectors::behaviour("url-shapes");
        let mut checked = 0;
        for shape in case["cases"].as_array().unwrap() {
            let mut cfg = Config::load_default().region(shape["region"].as_str().unwrap());
            for (name, value) in shape["config"].as_object().unwrap() {
                cfg = match (name.as_str(), value) {
                    ("endpoint", Value::String(e)) => cfg.endpoint(e.as_str()),
                    ("use_internal_endpoint", Value::Bool(b)) => cfg.use_internal_endpoint(*b),
                    ("use_accelerate_endpoint", Value::Bool(b)) => cfg.use_accelerate_endpoint(*b),
                    ("use_dualstack_endpoint", Value::Bool(b)) => cfg.use_dualstack_endpoint(*b),
                    ("disable_ssl", Value::Bool(b)) => cfg.disable_ssl(*b),
                    ("use_path_style", Value::Bool(b)) => cfg.use_path_style(*b),
                    ("use_cname", Value::Bool(b)) => cfg.use_cname(*b),
                    other => panic!("unknown config in vector: {other:?}"),
                };
            }
            let endpoint = resolve(&cfg).unwrap();
            let url = endpoint.url("examplebucket", Some("dir/a b.txt"));
            assert_eq!(
                url,
                shape["url"].as_str().unwrap(),
                "config {}",
                shape["config"]
            );
            let scope = signing_scope(&cfg).unwrap();
            let expected_scope = format!(
                "20231203/{}/{}/aliyun_v4_request",
                scope.region, scope.product
            );
            assert_eq!(expected_scope, shape["scope"].as_str().unwrap());
            checked += 1;
        }
        assert!(checked >= 10, "only {checked} url shapes checked");
    }

    #[test]
    fn missing_region_is_a_clear_error() {
        let err = resolve(&Config::load_default()).unwrap_err();
        assert!(
            err.contains("region") && err.contains("cn-hangzhou"),
            "{err}"
        );
        let err =
            signing_scope(&Config::load_default().endpoint("http://127.0.0.1:1")).unwrap_err();
        assert!(err.contains("region"), "{err}");
        let err = resolve(&Config::load_default().region("CN Hangzhou")).unwrap_err();
        assert!(err.contains("not a region id"), "{err}");
    }

    #[test]
    fn endpoint_forms() {
        let cfg = |e: &str| Config::load_default().region("cn-hangzhou").endpoint(e);
        let ep = resolve(&cfg("http://127.0.0.1:9000/")).unwrap();
        assert_eq!(
            (ep.scheme.as_str(), ep.authority.as_str()),
            ("http", "127.0.0.1:9000")
        );
        assert_eq!(ep.style, AddressStyle::Path);
        let ep = resolve(&cfg("[::1]:9000")).unwrap();
        assert_eq!(ep.style, AddressStyle::Path);
        assert_eq!(ep.url("b", Some("k")), "https://[::1]:9000/b/k");
        let ep = resolve(&cfg("oss-cn-hangzhou.aliyuncs.com:8443")).unwrap();
        assert_eq!(ep.style, AddressStyle::VirtualHosted);
        assert_eq!(
            ep.url("b", Some("a+b/c")),
            "https://b.oss-cn-hangzhou.aliyuncs.com:8443/a%2Bb/c"
        );
        let ep = resolve(&cfg("oss-cn-hangzhou.aliyuncs.com").disable_ssl(true)).unwrap();
        assert_eq!(ep.scheme, "http");
        for bad in [
            "ftp://host",
            "http://host/path",
            "http://",
            "bad host",
            "http://h?x=1",
        ] {
            let err = resolve(&cfg(bad)).unwrap_err();
            assert!(err.starts_with("invalid field, endpoint"), "{bad}: {err}");
        }
    }

    #[test]
    fn cname_wins_over_path_style_and_cloud_box_changes_the_scope() {
        let cfg = Config::load_default()
            .region("cn-hangzhou")
            .endpoint("static.example.com")
            .use_cname(true)
            .use_path_style(true);
        assert_eq!(resolve(&cfg).unwrap().style, AddressStyle::Cname);
        let scope = signing_scope(&cfg.cloud_box_id("cb-123")).unwrap();
        assert_eq!(
            (scope.region.as_str(), scope.product.as_str()),
            ("cb-123", "oss-cloudbox")
        );
    }
}
